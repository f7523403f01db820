//! JSON response bodies serialised straight into one growing buffer.
//!
//! axum's `Json` starts from 128 bytes and writes through `BytesMut`'s `io::Write` adapter a
//! piece at a time, and `Value::to_string` goes through `fmt`'s machinery: on a 50-message
//! history page (~50 KB) those copies were about a tenth of the request's CPU. A `Vec` that
//! starts at a few KiB and doubles copies each byte about once.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Where a body's buffer starts: most single resources fit, a page doubles it a few times.
const START: usize = 4 * 1024;

/// `body` as JSON with `status` and `content_type`; an error (a map with a key that is not
/// text, a resource's own serialiser failing) for the caller to render in its face's shape.
pub(crate) fn json_response(
    status: StatusCode,
    content_type: &'static str,
    body: &impl Serialize,
) -> Result<Response, serde_json::Error> {
    let mut buf = Vec::with_capacity(START);
    serde_json::to_writer(&mut buf, body)?;
    let mut res = (status, Body::from(buf)).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(res)
}
