//! Fuzzes the upload forms: a FILE message's `multipart/form-data` body read as its route reads
//! it (axum's multipart reader under Palaver's part count, part size and encoding rules), in
//! chunks of any size. Any body is an error or a form, never a panic; a plain form with one
//! `file` part reads back with that file's bytes, name and type.
//!
//! Input: a chunk-size byte, then — when the next byte is 0 — a form built from parts (through
//! `arbitrary`); otherwise a `Content-Type` line, a line naming the upload stream's user (a
//! number) or none (anything else), and the body as it is, as the seeds are.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use palaver_api::platform::inputs;
use palaver_fuzz::bodies::{self, Part};
use palaver_fuzz::runtime::block_on;

/// Part names the upload routes read; others are skipped.
const NAMES: &[&str] = &[
    "file",
    "groupTag",
    "group_tag",
    "properties",
    "username",
    "user",
];

/// An upload limit small enough that fuzzed bodies reach it.
const MAX_UPLOAD: u64 = 1024;

#[derive(Debug, Arbitrary)]
struct Form {
    boundary: String,
    granted: Option<i64>,
    /// Parts, each named from [`NAMES`] or by its own name.
    parts: Vec<(Option<u8>, Part)>,
}

fuzz_target!(|data: &[u8]| {
    let [chunk, rest @ ..] = data else {
        return;
    };
    let chunk = bodies::chunk_size(*chunk);
    match rest {
        [0, structured @ ..] => {
            if let Ok(form) = Form::arbitrary_take_rest(Unstructured::new(structured)) {
                built(form, chunk);
            }
        }
        _ => raw(rest, chunk),
    }
});

fn raw(data: &[u8], chunk: usize) {
    let mut lines = data.splitn(3, |b| *b == b'\n');
    let content_type = String::from_utf8_lossy(lines.next().unwrap_or_default());
    let granted = std::str::from_utf8(lines.next().unwrap_or_default())
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok());
    let body = lines.next().unwrap_or_default().to_vec();
    let Some(req) = bodies::request(content_type.trim_end_matches('\r'), body, chunk) else {
        return;
    };
    if inputs::is_multipart(&req) {
        let _ = block_on(inputs::message_form(req, MAX_UPLOAD, granted));
    }
}

fn built(form: Form, chunk: usize) {
    let parts: Vec<Part> = form
        .parts
        .into_iter()
        .map(|(known, mut part)| {
            if let Some(i) = known {
                part.name = NAMES[usize::from(i) % NAMES.len()].to_string();
            }
            part
        })
        .collect();
    let boundary = form.boundary;
    let plain = bodies::is_boundary(&boundary) && parts.iter().all(|p| p.is_plain(&boundary));
    let body = bodies::multipart(&boundary, &parts);
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let Some(req) = bodies::request(&content_type, body, chunk) else {
        return;
    };
    let read = block_on(inputs::message_form(req, MAX_UPLOAD, form.granted));
    // Only a plain form with one file, and no other part the route reads, is sure to be read:
    // the others depend on the parts' contents (UTF-8, JSON) and sizes.
    let files: Vec<&Part> = parts.iter().filter(|p| p.name == "file").collect();
    let simple = plain
        && files.len() == 1
        && parts.len() <= 16
        && parts.iter().all(|p| {
            p.name == "file" || (!NAMES.contains(&p.name.as_str()) && p.body.len() <= 64 * 1024)
        });
    if simple {
        let read = match read {
            Ok(read) => read,
            Err(e) => panic!("a plain form is refused: {e:?}"),
        };
        let file = read.file.unwrap_or_else(|| panic!("the file part is lost"));
        assert_eq!(file.bytes, files[0].body, "the file's bytes changed");
        assert_eq!(
            file.meta.name, files[0].file_name,
            "the file's name changed"
        );
        assert_eq!(
            file.meta.content_type, files[0].content_type,
            "the file's type changed"
        );
    } else if let (true, Ok(read)) = (plain, read) {
        // A plain form read whole had its file, if it had one (more are refused).
        assert_eq!(
            read.file.is_some(),
            files.len() == 1,
            "file parts: {}",
            files.len()
        );
    }
}
