//! Extractors of the platform API: the calling application (bearer token, and the `{app_id}`
//! of `/v1/applications/{app_id}/…` must be its own), JSON bodies of any JSON media type in
//! either field naming, query pairs, and page requests.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use palaver_domain::platform::naming;
use palaver_domain::platform::paging::PageRequest;
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::{AppPrincipal, Services};
use serde_json::Value;

use super::error::ApiError;
use super::in_process::InProcessCaller;
use super::rate_limit::ResolvedBearer;

/// The token of an `Authorization: Bearer …` header.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let h = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = h.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// The application the request's bearer token was granted to.
pub struct AppCaller(pub AppPrincipal);

impl FromRequestParts<Services> for AppCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &Services) -> Result<Self, ApiError> {
        let in_process = parts
            .extensions
            .get::<InProcessCaller>()
            .map(|c| c.0.clone());
        if let Some(p) = in_process {
            return own_application(parts, p);
        }
        let Some(token) = bearer_token(&parts.headers) else {
            return Err(DomainError::new(
                ErrorCode::Unauthenticated,
                "Full authentication is required to access this resource",
            )
            .into());
        };
        // The rate limit middleware has resolved the token already, as a rule.
        let resolved = match parts.extensions.get::<ResolvedBearer>() {
            Some(r) => r.0.clone(),
            None => s.platform.authenticate(&token).await?,
        };
        let Some(p) = resolved else {
            return Err(DomainError::new(
                ErrorCode::InvalidBearer,
                "Invalid or expired access token",
            )
            .into());
        };
        own_application(parts, p)
    }
}

/// `/v1/applications/{app_id}/…` only reaches the caller's own application, named exactly (no
/// `+1`, `01` or undecodable ids).
fn own_application(parts: &Parts, p: AppPrincipal) -> Result<AppCaller, ApiError> {
    let path = parts
        .extensions
        .get::<OriginalUri>()
        .map(|u| u.0.path().to_string())
        .unwrap_or_else(|| parts.uri.path().to_string());
    if let Some(rest) = path.strip_prefix("/v1/applications/") {
        let named = rest.split('/').next().unwrap_or_default();
        if named != p.application_id.to_string() {
            return Err(DomainError::new(
                ErrorCode::NotFound,
                format!("No application with id {named}"),
            )
            .into());
        }
    }
    Ok(AppCaller(p))
}

/// A JSON body, whatever JSON-ish media type it came with, read as snake_case. An empty body is
/// `null`.
pub struct PJson(pub Value);

impl<S: Send + Sync> FromRequest<S> for PJson {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let PJsonVerbatim(v) = PJsonVerbatim::from_request(req, state).await?;
        Ok(PJson(naming::read(v)))
    }
}

/// A JSON body as [`PJson`] reads it, but with its keys as sent: for bodies whose keys are the
/// caller's own names (environment variables), which no naming applies to.
pub struct PJsonVerbatim(pub Value);

impl<S: Send + Sync> FromRequest<S> for PJsonVerbatim {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| unreadable_body(e.status(), &e.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(PJsonVerbatim(Value::Null));
        }
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
            DomainError::new(
                ErrorCode::MalformedBody,
                format!("The request body is not valid JSON: {e}"),
            )
        })?;
        Ok(PJsonVerbatim(v))
    }
}

/// A body that could not be read: 413 when it was over the body limit (whether its length was
/// announced or it came chunked), 400 otherwise.
pub(crate) fn unreadable_body(status: StatusCode, why: &str) -> DomainError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        DomainError::new(
            ErrorCode::PayloadTooLarge,
            "The request body is larger than this server accepts",
        )
    } else {
        DomainError::new(
            ErrorCode::BadRequest,
            format!("The request body could not be read: {why}"),
        )
    }
}

/// The query string as ordered pairs (repeated keys kept, as `sort` needs).
pub struct QueryPairs(pub Vec<(String, String)>);

impl QueryPairs {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let q = parts.uri.query().unwrap_or_default();
        Ok(QueryPairs(
            form_urlencoded::parse(q.as_bytes()).into_owned().collect(),
        ))
    }
}

/// Reads `page`, `size` and `sort` for a collection sortable by `sortable`.
pub fn page_request(q: &QueryPairs, sortable: &[&str]) -> Result<PageRequest, ApiError> {
    Ok(PageRequest::from_query(&q.0, sortable)?)
}

/// A numeric path id; anything else names no resource.
/// A `true`/`false` query parameter (any case; empty is absent).
pub fn flag(q: &QueryPairs, name: &str) -> Result<Option<bool>, ApiError> {
    match q.get(name).map(str::to_ascii_lowercase).as_deref() {
        None | Some("") => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(v) => Err(DomainError::new(
            ErrorCode::InvalidParameter,
            format!("{name} must be true or false, not \"{v}\""),
        )
        .into()),
    }
}

pub fn id(raw: &str, what: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().map_err(|_| {
        DomainError::new(ErrorCode::NotFound, format!("No {what} with id {raw}")).into()
    })
}
