//! What every platform response depends on besides its data: the field naming the caller gets,
//! and the base URL its links start with (origin plus the path prefix the call came through).

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use palaver_domain::platform::naming::Naming;
use palaver_service::Services;
use palaver_views::LinkBase;

use super::error::ApiError;

/// ChatKitty's own media type: its clients want snake_case even under `/v1`.
const CHATKITTY_JSON: &str = "application/vnd.chatkitty+json";

/// Naming and link base of one request.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub naming: Naming,
    /// Where this request's links point (its origin and the prefix it came through).
    pub links: LinkBase,
}

/// A request's context is where its resources' links point, for the shared views.
impl std::ops::Deref for Ctx {
    type Target = LinkBase;

    fn deref(&self) -> &LinkBase {
        &self.links
    }
}

/// `/v1/applications/12/users/3` → `/v1/applications/12`; `/v1/users` → `/v1`; else "".
pub(crate) fn prefix_of(path: &str) -> String {
    let Some(rest) = path.strip_prefix("/v1") else {
        return String::new();
    };
    if let Some(after) = rest.strip_prefix("/applications/") {
        let id: String = after.chars().take_while(char::is_ascii_digit).collect();
        if !id.is_empty() {
            return format!("/v1/applications/{id}");
        }
    }
    "/v1".to_string()
}

/// Where the caller reached this server: the configured public URL, else the forwarded or
/// `Host` headers.
pub(super) fn origin(headers: &HeaderMap, public_url: Option<&str>) -> String {
    if let Some(u) = public_url {
        return u.trim_end_matches('/').to_string();
    }
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let proto = get("x-forwarded-proto")
        .and_then(|p| p.split(',').next())
        .unwrap_or("http");
    let host = get("x-forwarded-host")
        .and_then(|h| h.split(',').next())
        .or_else(|| get(header::HOST.as_str()))
        .unwrap_or("localhost");
    format!("{}://{}", proto.trim(), host.trim())
}

impl FromRequestParts<Services> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &Services) -> Result<Self, ApiError> {
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map(|u| u.0.path().to_string())
            .unwrap_or_else(|| parts.uri.path().to_string());
        let accept = parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let naming = if path.starts_with("/v1") && !accept.contains(CHATKITTY_JSON) {
            Naming::Camel
        } else {
            Naming::Snake
        };
        let origin = origin(&parts.headers, s.platform.config().public_url.as_deref());
        let prefix = prefix_of(&path);
        let app_scoped = prefix.starts_with("/v1/applications/");
        Ok(Ctx {
            naming,
            links: LinkBase {
                base: format!("{origin}{prefix}"),
                origin,
                app_scoped,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(prefix_of("/users"), "");
        assert_eq!(prefix_of("/v1/users/3"), "/v1");
        assert_eq!(
            prefix_of("/v1/applications/12/users"),
            "/v1/applications/12"
        );
        assert_eq!(prefix_of("/v1/application"), "/v1");
    }

    #[test]
    fn origin_prefers_configuration_then_forwarded_headers() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "internal:8080".parse().unwrap());
        assert_eq!(origin(&h, None), "http://internal:8080");
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        h.insert("x-forwarded-host", "chat.example.com".parse().unwrap());
        assert_eq!(origin(&h, None), "https://chat.example.com");
        assert_eq!(
            origin(&h, Some("https://api.example.com/")),
            "https://api.example.com"
        );
    }
}
