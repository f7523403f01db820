//! `GET /files/{id}/{name}`: a hosted file's bytes, whole or one `Range`, for the application's
//! bearer token or a chat client's read grant (`?grant=…`). With S3 storage a grant is sent on
//! to a short-lived presigned URL instead of streaming through this server.

use std::ops::Range;

use axum::body::Body;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::platform::{content_disposition, FileAccess};
use palaver_service::Services;

use super::error::ApiError;
use super::extract::{id, AppCaller, QueryPairs};
use crate::route_table::{get, RouteTable};

pub(super) fn routes() -> Router<Services> {
    table()
        .into_router()
        .method_not_allowed_fallback(super::method_not_allowed)
}

/// The downloads' URL table (root only).
pub(super) fn table() -> RouteTable<Services> {
    RouteTable::new().route("/files/{id}/{name}", get(download))
}

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    /// No range, or one this server answers whole (several ranges, other units, bad syntax):
    /// RFC 9110 lets a server ignore those.
    Whole,
    /// Bytes `start..end` (end exclusive).
    Part(Range<u64>),
    /// A range that selects none of the file.
    Unsatisfiable,
}

/// Reads `bytes=a-b`, `bytes=a-` and `bytes=-n` (RFC 9110 §14.1.2).
fn wanted(header: Option<&str>, size: u64) -> Wanted {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    let number = |s: &str| s.trim().parse::<u64>().ok();
    let (first, last) = (first.trim(), last.trim());
    let range = match (first.is_empty(), last.is_empty()) {
        // The last n bytes.
        (true, false) => match number(last) {
            Some(0) => return Wanted::Unsatisfiable,
            Some(n) => size.saturating_sub(n)..size,
            None => return Wanted::Whole,
        },
        (false, _) => {
            let Some(start) = number(first) else {
                return Wanted::Whole;
            };
            let end = if last.is_empty() {
                size
            } else {
                match number(last) {
                    Some(l) if l >= start => l.saturating_add(1).min(size),
                    _ => return Wanted::Whole,
                }
            };
            if start >= size {
                return Wanted::Unsatisfiable;
            }
            start..end
        }
        (true, true) => return Wanted::Whole,
    };
    if range.start >= range.end {
        Wanted::Unsatisfiable
    } else {
        Wanted::Part(range)
    }
}

fn header_value(v: String) -> Result<HeaderValue, ApiError> {
    HeaderValue::try_from(v).map_err(|e| {
        tracing::error!(error = %e, "a file header could not be written");
        ApiError(DomainError::internal())
    })
}

async fn download(
    State(s): State<Services>,
    Path((raw_id, _name)): Path<(String, String)>,
    q: QueryPairs,
    mut parts: Parts,
) -> Result<Response, ApiError> {
    let file_id = id(&raw_id, "file")?;
    let grant = q.get("grant").filter(|g| !g.is_empty());
    let file = match grant {
        Some(g) => {
            s.platform
                .readable_file(FileAccess::Grant(g), file_id)
                .await?
        }
        None => {
            let AppCaller(p) = AppCaller::from_request_parts(&mut parts, &s).await?;
            s.platform
                .readable_file(FileAccess::App(&p), file_id)
                .await?
        }
    };
    // Chat clients holding a grant fetch from the storage itself, when it can sign URLs.
    if grant.is_some() {
        if let Some(url) = s.platform.file_redirect(&file).await? {
            let mut res = StatusCode::FOUND.into_response();
            res.headers_mut()
                .insert(header::LOCATION, header_value(url)?);
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return Ok(res);
        }
    }
    let size = u64::try_from(file.size).unwrap_or_default();
    let range = parts
        .headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok());
    let (status, range) = match wanted(range, size) {
        Wanted::Whole => (StatusCode::OK, None),
        Wanted::Part(r) => (StatusCode::PARTIAL_CONTENT, Some(r)),
        Wanted::Unsatisfiable => {
            let mut res = ApiError(DomainError::new(
                ErrorCode::RangeNotSatisfiable,
                format!("The file has {size} bytes: the range asks for none of them"),
            ))
            .into_response();
            res.headers_mut().insert(
                header::CONTENT_RANGE,
                header_value(format!("bytes */{size}"))?,
            );
            return Ok(res);
        }
    };
    // An empty file has no bytes to ask the storage for.
    let body = if size == 0 {
        Body::empty()
    } else {
        let opened = s.platform.open_file(&file, range.clone()).await?;
        Body::from_stream(opened.stream)
    };
    let length = range.as_ref().map_or(size, |r| r.end - r.start);
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header_value(file.content_type.clone())?,
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(r) = &range {
        let content_range = format!("bytes {}-{}/{size}", r.start, r.end - 1);
        h.insert(header::CONTENT_RANGE, header_value(content_range)?);
    }
    h.insert(
        header::CONTENT_DISPOSITION,
        header_value(content_disposition(&file.name))?,
    );
    // Uploads are whatever users sent: never sniffed into something else, never run as a page
    // of this origin.
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let w = |h: &str| wanted(Some(h), 10);
        assert_eq!(wanted(None, 10), Wanted::Whole);
        assert_eq!(w("bytes=0-0"), Wanted::Part(0..1));
        assert_eq!(w("bytes=2-5"), Wanted::Part(2..6));
        assert_eq!(w("bytes=2-"), Wanted::Part(2..10));
        assert_eq!(w("bytes=5-100"), Wanted::Part(5..10));
        assert_eq!(w("bytes=-3"), Wanted::Part(7..10));
        assert_eq!(w("bytes=-30"), Wanted::Part(0..10));
        assert_eq!(w("bytes=10-"), Wanted::Unsatisfiable);
        assert_eq!(w("bytes=10-20"), Wanted::Unsatisfiable);
        assert_eq!(w("bytes=-0"), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-"), 0), Wanted::Unsatisfiable);
        for ignored in [
            "bytes=5-2",
            "bytes=0-1,3-4",
            "items=0-1",
            "bytes=x-1",
            "bytes=-",
        ] {
            assert_eq!(w(ignored), Wanted::Whole, "{ignored}");
        }
    }
}
