//! Fuzzes the form bodies: the token endpoint's fields (`POST /oauth/token`, urlencoded,
//! multipart or JSON), its `Authorization: Basic` credentials, and the content API's request
//! bodies (JSON or urlencoded). Any body is an error or fields, never a panic; fields written
//! urlencoded or as a plain multipart form read back as they were written.
//!
//! Input: a mode byte, a chunk-size byte, then by mode — `r`: a content type line and any body;
//! `u`: fields (urlencoded) sent urlencoded; `m`: a boundary line and fields (urlencoded) sent
//! as a multipart form; `b`: an `Authorization` value; `c` / `j`: a content API body sent
//! urlencoded / as JSON. Other mode bytes pick one of these.
#![no_main]

use axum::http::{header, HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use palaver_api::content::inputs as content;
use palaver_api::platform::inputs as platform;
use palaver_fuzz::bodies::{self, Part};
use palaver_fuzz::runtime::block_on;

const MODES: &[u8] = b"rumbcj";

fuzz_target!(|data: &[u8]| {
    let [mode, chunk, rest @ ..] = data else {
        return;
    };
    let mode = if MODES.contains(mode) {
        *mode
    } else {
        MODES[usize::from(*mode) % MODES.len()]
    };
    let chunk = bodies::chunk_size(*chunk);
    let (line, after) = match rest.iter().position(|b| *b == b'\n') {
        Some(i) => (
            String::from_utf8_lossy(&rest[..i]).into_owned(),
            &rest[i + 1..],
        ),
        None => (String::new(), rest),
    };
    let fields = |bytes: &[u8]| -> Vec<(String, String)> {
        form_urlencoded::parse(bytes).into_owned().collect()
    };
    match mode {
        b'r' => {
            if let Some(req) = bodies::request(&line, after.to_vec(), chunk) {
                let _ = block_on(platform::token_fields(req));
            }
        }
        b'u' => {
            let fields = fields(rest);
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&fields)
                .finish();
            let content_type = "application/x-www-form-urlencoded";
            let Some(req) = bodies::request(content_type, body.into_bytes(), chunk) else {
                return;
            };
            let read = block_on(platform::token_fields(req));
            assert_eq!(
                read.ok().as_ref(),
                Some(&fields),
                "urlencoded fields changed"
            );
        }
        b'm' => {
            let boundary = line;
            let fields = fields(after);
            let parts: Vec<Part> = fields
                .iter()
                .map(|(name, value)| Part {
                    name: name.clone(),
                    file_name: None,
                    content_type: None,
                    body: value.as_bytes().to_vec(),
                })
                .collect();
            let plain =
                bodies::is_boundary(&boundary) && parts.iter().all(|p| p.is_plain(&boundary));
            let content_type = format!("multipart/form-data; boundary={boundary}");
            let body = bodies::multipart(&boundary, &parts);
            let Some(req) = bodies::request(&content_type, body, chunk) else {
                return;
            };
            let read = block_on(platform::token_fields(req));
            if plain {
                assert_eq!(
                    read.ok().as_ref(),
                    Some(&fields),
                    "multipart fields changed"
                );
            }
        }
        b'b' => {
            let Ok(value) = HeaderValue::from_bytes(rest) else {
                return;
            };
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, value);
            let _ = platform::basic_credentials(&headers);
        }
        _ => {
            let form = mode == b'c';
            let read = content::body(form, rest);
            if form && !rest.iter().all(u8::is_ascii_whitespace) {
                let expected = content::query_string(&String::from_utf8_lossy(rest));
                assert_eq!(read.ok(), Some(serde_json::Value::Object(expected)));
            }
        }
    }
});
