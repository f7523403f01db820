//! Platform API error bodies: `{"error","message","explanation","timestamp"}` (ApiError), and
//! RFC 6749/6750 `{"error","error_description"}` for the token endpoint and bearer failures.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use palaver_domain::time::{format_millis, now_millis};
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::ServiceError;
use serde_json::json;

/// An error answered through the platform API.
#[derive(Debug)]
pub struct ApiError(pub DomainError);

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError(e)
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        ApiError(e.into_domain())
    }
}

/// The short, fixed description of each status.
fn summary(status: u16) -> &'static str {
    match status {
        400 => "Client error",
        401 => "Unauthorized",
        403 => "Access is denied",
        404 => "Resource not found",
        405 => "Method not allowed",
        406 => "Not acceptable",
        409 => "Resource already exists",
        413 => "Payload too large",
        416 => "Range not satisfiable",
        429 => "Too many requests",
        503 => "Service unavailable",
        _ => "Server error",
    }
}

fn oauth_shaped(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::Unauthenticated
            | ErrorCode::InvalidBearer
            | ErrorCode::InvalidClient
            | ErrorCode::UnsupportedGrantType
            | ErrorCode::InvalidRequest
    )
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = e.code.status();
        let body = if oauth_shaped(e.code) {
            json!({ "error": e.code.platform_name(), "error_description": e.message })
        } else if status >= 500 {
            json!({
                "error": e.code.platform_name(),
                "message": summary(status),
                "timestamp": format_millis(now_millis()),
            })
        } else {
            json!({
                "error": e.code.platform_name(),
                "message": summary(status),
                "explanation": e.message,
                "timestamp": format_millis(now_millis()),
            })
        };
        let mut res = (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            axum::Json(body),
        )
            .into_response();
        let challenge = match e.code {
            ErrorCode::Unauthenticated => Some("Bearer realm=\"palaver\""),
            ErrorCode::InvalidBearer => Some("Bearer realm=\"palaver\", error=\"invalid_token\""),
            ErrorCode::InvalidClient => Some("Basic realm=\"palaver\""),
            _ => None,
        };
        if let Some(c) = challenge {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
        }
        if oauth_shaped(e.code) {
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        res
    }
}
