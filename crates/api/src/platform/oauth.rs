//! `POST /oauth/token`: the client credentials grant (RFC 6749 §4.4). The client authenticates
//! with HTTP Basic or with `client_id`/`client_secret` fields; the body may be urlencoded or
//! multipart (the official JavaScript clients send multipart), or JSON.

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::Services;
use serde_json::{json, Value};

use super::error::ApiError;
use super::extract::unreadable_body;

fn oauth(code: ErrorCode, description: &str) -> ApiError {
    DomainError::new(code, description).into()
}

/// A body that could not be read: 413 past the body limit, else `invalid_request`.
fn unreadable(status: StatusCode, description: &str) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        unreadable_body(status, description).into()
    } else {
        oauth(ErrorCode::InvalidRequest, description)
    }
}

/// The form fields, whatever the body's encoding.
pub(super) async fn fields(req: Request) -> Result<Vec<(String, String)>, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut form = Multipart::from_request(req, &())
            .await
            .map_err(|e| unreadable(e.status(), "The multipart body could not be read"))?;
        let mut out = Vec::new();
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| unreadable(e.status(), "The multipart body could not be read"))?
        {
            let name = field.name().unwrap_or_default().to_string();
            let value = field
                .text()
                .await
                .map_err(|e| unreadable(e.status(), "A multipart field could not be read"))?;
            out.push((name, value));
        }
        return Ok(out);
    }
    let bytes = axum::body::Bytes::from_request(req, &())
        .await
        .map_err(|e| unreadable(e.status(), "The body could not be read"))?;
    if content_type.contains("json") {
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|_| oauth(ErrorCode::InvalidRequest, "The body is not valid JSON"))?;
        let obj = v.as_object().cloned().unwrap_or_default();
        return Ok(obj
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
            .collect());
    }
    Ok(form_urlencoded::parse(&bytes).into_owned().collect())
}

/// Client id and secret from `Authorization: Basic` (form-urlencoded parts, RFC 6749 §2.3.1).
pub(super) fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let h = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, b64) = h.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

/// The endpoint. A script in a page (it says so with `X-Requested-With: XMLHttpRequest`, as the
/// API explorer's Authorize dialog does) is refused without the `Basic` challenge: a browser
/// answers that challenge with its own login prompt, in front of the page that asked.
pub(crate) async fn token(state: State<Services>, req: Request) -> Response {
    let scripted = req
        .headers()
        .get("x-requested-with")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"XMLHttpRequest"));
    let mut res = grant_token(state, req).await.into_response();
    if scripted {
        res.headers_mut().remove(header::WWW_AUTHENTICATE);
    }
    res
}

async fn grant_token(State(s): State<Services>, req: Request) -> Result<Response, ApiError> {
    let from_header = basic(req.headers());
    let fields = fields(req).await?;
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let grant = field("grant_type")
        .ok_or_else(|| oauth(ErrorCode::InvalidRequest, "grant_type is required"))?;
    if grant != "client_credentials" {
        return Err(oauth(
            ErrorCode::UnsupportedGrantType,
            "Only the client_credentials grant is supported",
        ));
    }
    let (client_id, client_secret) = match (from_header, field("client_id"), field("client_secret"))
    {
        (Some(creds), _, _) => creds,
        (None, Some(id), Some(secret)) => (id.to_string(), secret.to_string()),
        (None, Some(_), None) => {
            return Err(oauth(
                ErrorCode::InvalidRequest,
                "client_secret is required with client_id",
            ))
        }
        (None, None, _) => {
            return Err(oauth(
                ErrorCode::InvalidClient,
                "Client authentication is required",
            ))
        }
    };
    let grant = s.platform.grant(&client_id, &client_secret).await?;
    let mut res = Json(json!({
        "access_token": grant.access_token,
        "token_type": "bearer",
        "expires_in": grant.expires_in,
        "scope": grant.scope,
    }))
    .into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_decoded_and_unescaped() {
        let mut h = HeaderMap::new();
        let b64 = base64::engine::general_purpose::STANDARD.encode("my%20app:s%3Acret");
        h.insert(
            header::AUTHORIZATION,
            format!("Basic {b64}").parse().unwrap(),
        );
        assert_eq!(basic(&h), Some(("my app".into(), "s:cret".into())));
        h.insert(header::AUTHORIZATION, "Bearer x".parse().unwrap());
        assert_eq!(basic(&h), None);
    }
}
