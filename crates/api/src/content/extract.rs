//! Extractors of the content API: the caller (from the access token, wherever LoopBack looks for
//! it), the request body (JSON or urlencoded, errors in LoopBack's shape) and the `filter` and
//! `where` query parameters (JSON or bracket form), parsed once here and never in handlers.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use palaver_domain::filter::{parse_filter, parse_where, Filter, Where};
use palaver_domain::{DomainError, ErrorCode, Model};
use palaver_service::{token_from_authorization, Principal, Services};
use serde_json::{Map, Value};

use super::error::LbError;
use super::rate_limit::ResolvedCaller;
use crate::qs;

/// Where the token may travel, in LoopBack's search order (query first, then headers).
pub(crate) fn token_of(parts: &Parts) -> Option<String> {
    if let Some(t) = qs::scalar(parts.uri.query().unwrap_or_default(), "access_token") {
        return Some(t);
    }
    for name in ["ktl-access-token", "x-access-token"] {
        if let Some(v) = parts.headers.get(name).and_then(|v| v.to_str().ok()) {
            return Some(v.trim().to_string());
        }
    }
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(token_from_authorization)
}

/// The caller, when the request carries a live token.
pub struct MaybeCaller(pub Option<Principal>);

impl FromRequestParts<Services> for MaybeCaller {
    type Rejection = LbError;

    async fn from_request_parts(parts: &mut Parts, s: &Services) -> Result<Self, LbError> {
        // The rate limit middleware has resolved the token already, as a rule.
        if let Some(ResolvedCaller(p)) = parts.extensions.get::<ResolvedCaller>() {
            return Ok(MaybeCaller(p.clone()));
        }
        let Some(token) = token_of(parts) else {
            return Ok(MaybeCaller(None));
        };
        Ok(MaybeCaller(s.auth.authenticate(&token).await?))
    }
}

/// The caller; a request without a live token is refused with 401 `AUTHORIZATION_REQUIRED`.
pub struct Caller(pub Principal);

impl FromRequestParts<Services> for Caller {
    type Rejection = LbError;

    async fn from_request_parts(parts: &mut Parts, s: &Services) -> Result<Self, LbError> {
        match MaybeCaller::from_request_parts(parts, s).await?.0 {
            Some(p) => Ok(Caller(p)),
            None => Err(DomainError::authorization_required().into()),
        }
    }
}

/// A request body as JSON: `application/x-www-form-urlencoded` bodies are read as LoopBack
/// reads them; anything else must be JSON. An empty body is `{}`.
pub struct Body(pub Value);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = LbError;

    async fn from_request(req: Request, state: &S) -> Result<Self, LbError> {
        let form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                DomainError::new(ErrorCode::PayloadTooLarge, "request entity too large")
            } else {
                DomainError::new(
                    ErrorCode::BadRequest,
                    format!("The request body could not be read: {e}"),
                )
            }
        })?;
        Ok(Body(body_value(form, &bytes)?))
    }
}

/// A body's bytes as JSON: urlencoded (`form`) as LoopBack reads it, else JSON; blank is `{}`.
pub(crate) fn body_value(form: bool, bytes: &[u8]) -> Result<Value, DomainError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    if form {
        let text = String::from_utf8_lossy(bytes);
        return Ok(Value::Object(qs::parse(&text)));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        DomainError::new(
            ErrorCode::MalformedBody,
            format!("Unexpected token in JSON: {e}"),
        )
    })
}

/// The raw `filter` / `where` parameter of a query string before it meets a model.
pub(crate) fn param(query: &str, name: &str) -> Result<Value, DomainError> {
    // The usual form, one JSON text, is found without parsing the rest of the query.
    if let Some(s) = qs::scalar(query, name) {
        return json_param(&s);
    }
    match qs::parse(query).get(name) {
        None => Ok(Value::Null),
        Some(Value::String(s)) => json_param(s),
        Some(obj @ Value::Object(_)) => Ok(obj.clone()),
        Some(_) => Err(DomainError::bad_filter("Value is not an object.")),
    }
}

/// A plain parameter value: JSON when it looks like an object (strong-remoting's rule).
fn json_param(s: &str) -> Result<Value, DomainError> {
    let t = s.trim();
    if t.is_empty() || t == "null" {
        Ok(Value::Null)
    } else if t.starts_with('{') && t.ends_with('}') {
        serde_json::from_str(t)
            .map_err(|_| DomainError::bad_filter("Cannot parse JSON-encoded object value."))
    } else {
        Err(DomainError::bad_filter("Value is not an object."))
    }
}

/// The `filter` query parameter, unparsed until the handler names its model.
pub struct FilterParam(pub Value);

impl FilterParam {
    pub fn parse(&self, model: &'static Model) -> Result<Filter, LbError> {
        Ok(parse_filter(model, &self.0)?)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for FilterParam {
    type Rejection = LbError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, LbError> {
        Ok(FilterParam(param(
            parts.uri.query().unwrap_or_default(),
            "filter",
        )?))
    }
}

/// The `where` query parameter of `count` routes.
pub struct WhereParam(pub Value);

impl WhereParam {
    pub fn parse(&self, model: &'static Model) -> Result<Where, LbError> {
        Ok(parse_where(model, &self.0)?)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for WhereParam {
    type Rejection = LbError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, LbError> {
        Ok(WhereParam(param(
            parts.uri.query().unwrap_or_default(),
            "where",
        )?))
    }
}
