//! Multipart bodies on the routes that stream them (FILE messages, imports, the token
//! endpoint): the multipart reader's fuzz seeds (`fuzz/corpus/multipart`), whole and cut short
//! at every few bytes, are each answered in the route's shape and never with a 5xx. The reader
//! itself is fuzzed in `fuzz/`; these routes stage into the file storage and the database,
//! which a fuzz target cannot hold, so the server meets the same bodies here.

use std::path::Path;

use palaver_test_support::{Resp, TestApp};

use crate::platform_messages::chat;

/// A seed of the multipart fuzz target: a chunk-size byte, a `Content-Type` line, a line
/// naming an upload stream's user, then the body.
struct Seed {
    name: String,
    content_type: String,
    body: Vec<u8>,
}

fn seeds() -> Vec<Seed> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/multipart");
    let mut seeds: Vec<Seed> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let mut lines = bytes[1..].splitn(3, |b| *b == b'\n');
            let content_type = String::from_utf8(lines.next().unwrap().to_vec()).unwrap();
            let _user = lines.next();
            Seed {
                name: path.file_name().unwrap().to_string_lossy().into_owned(),
                content_type,
                body: lines.next().unwrap_or_default().to_vec(),
            }
        })
        .collect();
    seeds.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(
        seeds.len() >= 10,
        "{} seeds in {}",
        seeds.len(),
        dir.display()
    );
    seeds
}

/// The lengths a body is cut to: none, every eighth of it, and whole.
fn cuts(len: usize) -> Vec<usize> {
    let step = (len / 8).max(1);
    let mut cuts: Vec<usize> = (0..len).step_by(step).collect();
    cuts.push(len);
    cuts
}

async fn post(app: &TestApp, path: &str, token: Option<&str>, kind: &str, body: &[u8]) -> Resp {
    let mut req = app
        .client
        .post(app.url(path))
        .header("Content-Type", kind)
        .body(body.to_vec());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    TestApp::read(req.send().await.unwrap()).await
}

/// A platform answer: a success, or a 4xx in the platform error shape.
fn assert_platform_answer(r: &Resp, what: &str) {
    assert!(r.status < 500, "{what}: {} {}", r.status, r.text);
    if r.status >= 400 {
        let keys: Vec<&str> = r
            .body
            .as_object()
            .unwrap_or_else(|| panic!("{what}: not a JSON object: {}", r.text))
            .keys()
            .map(String::as_str)
            .collect();
        for key in ["error", "message", "timestamp"] {
            assert!(keys.contains(&key), "{what}: no {key}: {}", r.text);
        }
    }
}

#[tokio::test]
async fn every_seed_body_whole_or_cut_short_is_answered_in_the_routes_shape() {
    let c = chat().await;
    let app = &c.app;
    let messages = format!("/channels/{}/messages", c.general);
    let mut refused = 0;
    let mut answered = 0;
    for seed in seeds() {
        for cut in cuts(seed.body.len()) {
            let body = &seed.body[..cut];
            let what = |route: &str| format!("{} cut at {cut} on {route}", seed.name);
            for route in [messages.as_str(), "/imports/users"] {
                let r = post(app, route, Some(&c.token), &seed.content_type, body).await;
                assert_platform_answer(&r, &what(route));
                answered += 1;
                refused += usize::from(r.status >= 400);
                if route == messages && cut == seed.body.len() {
                    let expected = if GOOD.contains(&seed.name.as_str()) {
                        200
                    } else if BAD.contains(&seed.name.as_str()) {
                        400
                    } else {
                        r.status
                    };
                    assert_eq!(r.status, expected, "{}: {}", what(route), r.text);
                }
            }
            // The token endpoint answers RFC 6749 errors.
            let r = post(app, "/oauth/token", None, &seed.content_type, body).await;
            assert!(
                r.status < 500,
                "{}: {} {}",
                what("/oauth/token"),
                r.status,
                r.text
            );
            assert!(
                r.body["error"].is_string(),
                "{}: {}",
                what("/oauth/token"),
                r.text
            );
        }
    }
    // Most cut bodies are broken: the routes read them to the cut, and refused them.
    assert!(refused > answered / 2, "{refused} of {answered} refused");
}

/// Seeds whose whole body is a FILE message the route sends.
const GOOD: &[&str] = &[
    "file_only",
    "file_group_tag_properties",
    "sdk_stream",
    "username",
    "other_parts",
    "preamble_epilogue",
];

/// Seeds whose whole body the route refuses with 400.
const BAD: &[&str] = &[
    "two_files",
    "no_file",
    "bad_properties",
    "not_utf8",
    "garbage",
    "no_closing",
    "no_boundary",
];
