//! Request body limits: a JSON body over the configured size answers 413 in the face's error
//! shape, whether its length was announced or it came chunked, on plain routes and on the routes
//! that also take uploads; a body under the limit is served, and uploads keep their own limit.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use palaver_api::{BodyLimitConfig, RateClock, RateLimitConfig};
use palaver_test_support::{assert_platform_error, Resp, TestApp};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

const LIMIT: usize = 2048;

/// JSON bodies of at most [`LIMIT`] bytes, no rate limits.
fn small_bodies(app: &TestApp) {
    app.limits.configure(
        &RateLimitConfig::off(),
        &BodyLimitConfig {
            max_json_bytes: LIMIT,
        },
        RateClock::manual(),
    );
}

/// A JSON object whose serialisation is over `n` bytes.
fn bigger_than(n: usize, mut base: Value) -> Value {
    base["padding"] = json!("x".repeat(n));
    base
}

/// Sends `body` with `Transfer-Encoding: chunked` (no `Content-Length`) in chunks of 512 bytes,
/// over a plain socket, and reads the whole answer.
async fn chunked(app: &TestApp, path: &str, headers: &[(&str, &str)], body: &Value) -> Resp {
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    for chunk in body.to_string().as_bytes().chunks(512) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let answer = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.write_all(&request).unwrap();
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).unwrap();
        answer
    })
    .await
    .unwrap();
    let text = String::from_utf8(answer).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    for line in head.lines().skip(1) {
        let (k, v) = line.split_once(':').unwrap();
        headers.append(
            reqwest::header::HeaderName::from_bytes(k.trim().as_bytes()).unwrap(),
            v.trim().parse().unwrap(),
        );
    }
    Resp {
        status,
        body: serde_json::from_str(body).unwrap_or(Value::Null),
        text: body.to_string(),
        headers,
    }
}

/// A content API 413: body-parser's error, in LoopBack's shape.
fn assert_content_413(r: &Resp) {
    assert_eq!(r.status, 413, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"error": {"statusCode": 413, "name": "PayloadTooLargeError",
                         "message": "request entity too large"}}),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn platform_json_bodies_over_the_limit_answer_413() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    small_bodies(&app);
    let user = json!({"name": "alice", "display_name": "Alice"});

    let r = app
        .ppost("/v1/users", &token, bigger_than(LIMIT, user.clone()))
        .await;
    let explanation = assert_platform_error(&r, 413, "PayloadTooLargeError");
    assert!(explanation.contains("larger"), "{explanation}");
    let bearer = format!("Bearer {token}");
    let r = chunked(
        &app,
        "/v1/users",
        &[("authorization", &bearer)],
        &bigger_than(LIMIT, user.clone()),
    )
    .await;
    assert_platform_error(&r, 413, "PayloadTooLargeError");
    // Nothing was created; a body under the limit is.
    let r = app.pget("/users", &token).await;
    assert_eq!(r.body["page"]["total_elements"], 0, "{}", r.text);
    let r = app
        .ppost("/v1/users", &token, bigger_than(LIMIT / 2, user))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "alice");
}

#[tokio::test]
async fn routes_that_take_uploads_keep_the_json_limit_and_their_upload_limit() {
    let app = crate::spawn_with(|c| c.max_upload_bytes = 100_000).await;
    let token = app.platform_token().await;
    let alice = app
        .create_chat_user(&token, json!({"name": "alice", "display_name": "Alice"}))
        .await;
    let r = app
        .ppost(
            "/channels",
            &token,
            json!({"type": "PUBLIC", "name": "general"}),
        )
        .await;
    let channel = r.body["id"].as_i64().unwrap();
    small_bodies(&app);
    let path = format!("/v1/channels/{channel}/messages");
    let text = json!({"type": "TEXT", "body": "hello", "user": {"username": "alice"}});

    let r = app
        .ppost(&path, &token, bigger_than(LIMIT, text.clone()))
        .await;
    assert_platform_error(&r, 413, "PayloadTooLargeError");
    let bearer = format!("Bearer {token}");
    let r = chunked(
        &app,
        &path,
        &[("authorization", &bearer)],
        &bigger_than(LIMIT, text.clone()),
    )
    .await;
    assert_platform_error(&r, 413, "PayloadTooLargeError");
    let r = app.ppost(&path, &token, text).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["body"], "hello");

    // Uploads far over the JSON limit still go through, up to the upload limit.
    let upload = |bytes: usize, name: &str| {
        Form::new().part(
            "file",
            Part::bytes(vec![7u8; bytes]).file_name(name.to_string()),
        )
    };
    let send = |path: String, form: Form| {
        let req = app
            .client
            .post(app.url(&path))
            .bearer_auth(&token)
            .multipart(form);
        async move { TestApp::read(req.send().await.unwrap()).await }
    };
    let id = alice["id"].as_i64().unwrap();
    let r = send(
        format!("/users/{id}/display-picture"),
        upload(50_000, "me.png"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = send(path.clone(), upload(50_000, "notes.bin")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Sent by the application itself, with no user named: a system file message.
    assert_eq!(r.body["type"], "SYSTEM_FILE", "{}", r.text);
    assert_eq!(r.body["file"]["size"], 50_000, "{}", r.text);
    let r = send(path, upload(100_001, "big.bin")).await;
    assert_platform_error(&r, 413, "PayloadTooLargeError");
}

#[tokio::test]
async fn content_json_bodies_over_the_limit_answer_413() {
    let app = crate::spawn().await;
    let token = app.admin_token().await;
    small_bodies(&app);
    let bot = json!({"name": "Newsy", "platform": "slack", "domain": "news"});

    let r = app
        .post("/api/bots", &token, bigger_than(LIMIT, bot.clone()))
        .await;
    assert_content_413(&r);
    let r = chunked(
        &app,
        "/api/bots",
        &[("ktl-access-token", &token)],
        &bigger_than(LIMIT, bot.clone()),
    )
    .await;
    assert_content_413(&r);
    let r = app.get("/api/bots", &token).await;
    assert_eq!(r.body, json!([]), "{}", r.text);
    let r = app.post("/api/bots", &token, bot).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "Newsy");
}

#[tokio::test]
async fn the_default_limit_refuses_a_five_megabyte_body_on_both_faces() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let admin = app.admin_token().await;
    let big = 5 * 1024 * 1024;
    let r = app
        .ppost("/v1/users", &token, bigger_than(big, json!({"name": "a"})))
        .await;
    assert_platform_error(&r, 413, "PayloadTooLargeError");
    let r = app
        .post("/api/bots", &admin, bigger_than(big, json!({"name": "b"})))
        .await;
    assert_content_413(&r);
}

#[tokio::test]
async fn a_token_request_over_the_limit_answers_413() {
    let app = crate::spawn().await;
    small_bodies(&app);
    let body = format!(
        "grant_type=client_credentials&client_id=x&client_secret={}",
        "s".repeat(LIMIT)
    );
    let r = app
        .send(
            "POST",
            "/oauth/token",
            &[("content-type", "application/x-www-form-urlencoded")],
            Some(&body),
        )
        .await;
    assert_platform_error(&r, 413, "PayloadTooLargeError");
}
