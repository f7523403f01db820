//! A handler that panics answers 500 in its face's shape, with nothing of the panic in the body
//! (the panic message goes to the log), instead of dropping the connection.

use std::any::Any;

use axum::body::Body;
use axum::http::{header, HeaderValue, Response, StatusCode};
use palaver_domain::time::{format_millis, now_millis};
use serde_json::json;

/// The 500 body of the content API (LoopBack) and of the platform API.
pub(crate) fn internal_error(content_api: bool) -> Response<Body> {
    let body = if content_api {
        json!({"error": {"statusCode": 500, "message": "Internal Server Error"}})
    } else {
        json!({"error": "InternalServerError", "message": "Server error", "timestamp": format_millis(now_millis())})
    };
    let mut res = Response::new(Body::from(body.to_string()));
    *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    res
}

/// What a panic in a content API route answers, after logging it.
pub(crate) fn content_answer(panic: Box<dyn Any + Send>) -> Response<Body> {
    log(panic.as_ref());
    internal_error(true)
}

/// What a panic in any other route answers, after logging it.
pub(crate) fn platform_answer(panic: Box<dyn Any + Send>) -> Response<Body> {
    log(panic.as_ref());
    internal_error(false)
}

/// Logs a caught panic once.
pub(crate) fn log(panic: &(dyn Any + Send)) {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = %what, "request handler panicked");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_bodies_say_only_that_the_server_failed() {
        let res = internal_error(true);
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "application/json; charset=utf-8"
        );
        let res = internal_error(false);
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
