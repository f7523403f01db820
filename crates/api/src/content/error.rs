//! LoopBack's error body (strong-error-handler, production mode):
//! `{"error":{"statusCode","name","message","code"?,"details"?}}`; a 5xx says only its status's
//! text (`Internal Server Error`, `Service Unavailable`).

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use palaver_domain::DomainError;
use palaver_service::ServiceError;
use serde_json::{json, Map, Value};

/// An error answered through the content API.
#[derive(Debug)]
pub struct LbError(pub DomainError);

impl From<DomainError> for LbError {
    fn from(e: DomainError) -> Self {
        LbError(e)
    }
}

impl From<ServiceError> for LbError {
    fn from(e: ServiceError) -> Self {
        LbError(e.into_domain())
    }
}

/// The body for an error, in LoopBack's key order.
pub fn body(e: &DomainError) -> Value {
    let status = e.code.status();
    let mut inner = Map::new();
    inner.insert("statusCode".into(), json!(status));
    if status >= 500 {
        // As strong-error-handler in production mode: the status's own text, nothing more.
        let text = StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Internal Server Error");
        inner.insert("message".into(), json!(text));
        return json!({ "error": inner });
    }
    inner.insert("name".into(), json!(e.code.loopback_name()));
    inner.insert("message".into(), json!(e.message));
    if let Some(code) = e.code.loopback_code() {
        inner.insert("code".into(), json!(code));
    }
    if let Some(details) = &e.details {
        inner.insert("details".into(), details.clone());
    }
    json!({ "error": inner })
}

impl IntoResponse for LbError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = super::json_response(status, &body(&self.0));
        res.headers_mut().insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        res
    }
}
