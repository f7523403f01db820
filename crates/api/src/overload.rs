//! The answer to a request shed because the server has as many requests in flight as it takes:
//! 503 with `Retry-After`, in the error shape of the face the path belongs to.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use palaver_domain::{DomainError, ErrorCode};

use crate::content::LbError;
use crate::platform::ApiError;

/// 503 for a request to `path`, telling the client to retry after `retry_after_seconds`.
pub fn overloaded(path: &str, retry_after_seconds: u64) -> Response {
    let e = DomainError::new(
        ErrorCode::Overloaded,
        "The server is busy; retry the request shortly",
    );
    // The content API lives under /api; every other path is the platform API's.
    let mut res = if path == "/api" || path.starts_with("/api/") {
        LbError(e).into_response()
    } else {
        ApiError(e).into_response()
    };
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    // The bodies' shapes are checked over HTTP, in the server's connection tests.
    #[test]
    fn answers_503_with_retry_after() {
        for (path, secs) in [("/v1/applications/me", 1), ("/api/users/login", 2)] {
            let res = overloaded(path, secs);
            assert_eq!(res.status(), 503);
            assert_eq!(
                res.headers()[header::RETRY_AFTER],
                secs.to_string().as_str()
            );
        }
    }
}
