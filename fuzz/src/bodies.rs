//! Request bodies for the body extractors: multipart forms written from parts, and requests
//! whose bodies arrive in the chunks the fuzzer chose.

use arbitrary::Arbitrary;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;

/// Part content types that every reader spells back as they were written.
pub const TYPES: &[&str] = &[
    "text/plain",
    "application/json",
    "image/png",
    "application/octet-stream",
];

/// One part of a multipart form.
#[derive(Debug, Clone, Arbitrary)]
pub struct Part {
    pub name: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Part {
    /// Whether the form writer below writes this part so that a reader gets it back as it is:
    /// header values without quotes, backslashes or line breaks, a known content type, a body
    /// that does not hold the delimiter. Nor does a body start with a byte order mark: a text
    /// part is decoded as the Encoding Standard decodes text, which drops it.
    pub fn is_plain(&self, boundary: &str) -> bool {
        let plain = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\\' | ';'))
        };
        let delimiter = format!("\r\n--{boundary}");
        plain(&self.name)
            && self.file_name.as_deref().is_none_or(plain)
            && self
                .content_type
                .as_deref()
                .is_none_or(|t| TYPES.contains(&t))
            && !self.body.starts_with("\u{feff}".as_bytes())
            && !self
                .body
                .windows(delimiter.len())
                .any(|w| w == delimiter.as_bytes())
    }
}

/// A boundary a form may use unquoted in its `Content-Type`: 1 to 70 token characters.
pub fn is_boundary(b: &str) -> bool {
    (1..=70).contains(&b.len())
        && b.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"'+_-.".contains(&c))
}

/// A `multipart/form-data` body of `parts`, delimited by `boundary`.
pub fn multipart(boundary: &str, parts: &[Part]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", p.name);
        if let Some(f) = &p.file_name {
            disposition.push_str(&format!("; filename=\"{f}\""));
        }
        out.extend_from_slice(disposition.as_bytes());
        out.extend_from_slice(b"\r\n");
        if let Some(t) = &p.content_type {
            out.extend_from_slice(format!("Content-Type: {t}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&p.body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

/// A POST of `body` with `content_type`, streamed in chunks of `chunk` bytes (0: whole); None
/// when `content_type` is no header value.
pub fn request(content_type: &str, body: Vec<u8>, chunk: usize) -> Option<Request> {
    let mut chunks: Vec<Result<Bytes, std::io::Error>> = Vec::new();
    let mut rest = Bytes::from(body);
    while chunk > 0 && rest.len() > chunk {
        chunks.push(Ok(rest.split_to(chunk)));
    }
    if !rest.is_empty() {
        chunks.push(Ok(rest));
    }
    Request::builder()
        .method("POST")
        .uri("/")
        .header(CONTENT_TYPE, content_type)
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .ok()
}

/// A chunk size for a body, from a byte of the input: small ones often, to cut through
/// delimiters and headers.
pub fn chunk_size(byte: u8) -> usize {
    usize::from(byte % 16)
}
