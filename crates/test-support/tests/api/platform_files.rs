//! Hosted files: display pictures and FILE messages uploaded as multipart forms, streamed into
//! the file storage under the upload limit, and downloaded back whole or by range with the
//! application's bearer token or a chat client's read grant; on a local folder and, for real, on
//! an S3-compatible server (moto, installed by the test into `target/moto-venv`).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use palaver_service::AppPrincipal;
use palaver_test_support::scripts::{target_dir, workspace_root};
use palaver_test_support::stomp::StompClient;
use palaver_test_support::{assert_platform_error, Resp, TestApp};
use reqwest::header::HeaderMap;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::platform_messages::chat;

/// `n` bytes that are not all alike, so that a misplaced range shows.
fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

fn file_part(bytes: Vec<u8>, name: &str, mime: Option<&str>) -> Part {
    let part = Part::bytes(bytes).file_name(name.to_string());
    match mime {
        Some(m) => part.mime_str(m).unwrap(),
        None => part,
    }
}

/// POSTs `form` to `path` with the bearer `token`.
async fn upload(app: &TestApp, path: &str, token: &str, form: Form) -> Resp {
    let res = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    TestApp::read(res).await
}

/// A download: status, headers and the body's bytes.
struct Got {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as a platform error response.
    fn resp(&self) -> Resp {
        let text = String::from_utf8_lossy(&self.body).into_owned();
        Resp {
            status: self.status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
            headers: self.headers.clone(),
        }
    }
}

async fn fetch(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    range: Option<&str>,
) -> Got {
    let mut req = client.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(r) = range {
        req = req.header("Range", r);
    }
    let res = req.send().await.unwrap();
    Got {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        body: res.bytes().await.unwrap().to_vec(),
    }
}

async fn get_file(app: &TestApp, url: &str, token: Option<&str>, range: Option<&str>) -> Got {
    fetch(&app.client, url, token, range).await
}

/// The keys of every object in the application's file storage.
async fn stored(app: &TestApp) -> Vec<String> {
    app.services.platform.file_store().keys("").await.unwrap()
}

fn principal(app: &TestApp) -> AppPrincipal {
    AppPrincipal {
        application_id: app.app_id,
        organisation_id: app.org_id.clone(),
    }
}

async fn read_grant(app: &TestApp, user: i64) -> String {
    app.services
        .platform
        .file_read_grant(&principal(app), user)
        .await
        .map_err(|e| e.into_domain())
        .unwrap()
}

/// The id at the end of a link (`…/threads/12`).
fn last_id(href: &Value) -> i64 {
    href.as_str()
        .and_then(|h| h.rsplit('/').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no id in {href}"))
}

#[tokio::test]
async fn a_display_picture_uploads_and_downloads_byte_for_byte() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let alice = app
        .create_chat_user(&token, json!({"name": "alice", "display_name": "Alice"}))
        .await;
    let id = alice["id"].as_i64().unwrap();
    let picture = data(70_000);
    let r = upload(
        &app,
        &format!("/users/{id}/display-picture"),
        &token,
        Form::new().part(
            "file",
            file_part(picture.clone(), "me.png", Some("image/png")),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let url = r.body["display_picture_url"].as_str().unwrap().to_string();
    let file_id = {
        let rest = url
            .strip_prefix(&format!("{}/files/", app.base))
            .unwrap_or_else(|| panic!("{url}"));
        assert!(rest.ends_with("/me.png"), "{url}");
        rest.split('/').next().unwrap().to_string()
    };
    // The user shows it from now on, in either naming.
    let again = app.pget(&format!("/v1/users/{id}"), &token).await;
    assert_eq!(again.body["displayPictureUrl"], url.as_str());

    let got = get_file(&app, &url, Some(&token), None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, picture);
    assert_eq!(got.header("content-type"), Some("image/png"));
    assert_eq!(got.header("content-length"), Some("70000"));
    assert_eq!(got.header("accept-ranges"), Some("bytes"));
    assert_eq!(got.header("x-content-type-options"), Some("nosniff"));
    assert!(got
        .header("content-disposition")
        .is_some_and(|d| d.contains("me.png")));
    // HEAD answers the same headers, no body.
    let head = app
        .client
        .head(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"].to_str().unwrap(), "70000");
    assert_eq!(stored(&app).await.len(), 1);

    // A new picture replaces the old one, whose file goes.
    let r = upload(
        &app,
        &format!("/users/{id}/display-picture"),
        &token,
        Form::new().part("file", file_part(b"GIF89a".to_vec(), "new.gif", None)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let new_url = r.body["display_picture_url"].as_str().unwrap().to_string();
    assert_ne!(new_url, url);
    let old = get_file(&app, &url, Some(&token), None).await;
    assert_platform_error(&old.resp(), 404, "ResourceNotFoundError");
    let new = get_file(&app, &new_url, Some(&token), None).await;
    assert_eq!((new.status, new.body.as_slice()), (200, &b"GIF89a"[..]));
    // No part Content-Type: guessed from the name.
    assert_eq!(new.header("content-type"), Some("image/gif"));
    assert_eq!(stored(&app).await.len(), 1);
    assert!(!new_url.contains(&format!("/files/{file_id}/")));

    // An external picture, as JSON, still works, and the hosted one goes.
    let r = app
        .ppost(
            &format!("/users/{id}/display-picture"),
            &token,
            json!({"url": "https://example.com/a.png", "name": "a.png",
                "content_type": "image/png", "size": 3}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["display_picture_url"], "https://example.com/a.png");
    assert!(stored(&app).await.is_empty());
    let gone = get_file(&app, &new_url, Some(&token), None).await;
    assert_eq!(gone.status, 404);

    // No such user: nothing is stored.
    let r = upload(
        &app,
        "/users/999999/display-picture",
        &token,
        Form::new().part("file", file_part(data(10), "x.png", None)),
    )
    .await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");
    assert!(stored(&app).await.is_empty());
}

#[tokio::test]
async fn file_messages_are_sent_as_multipart_to_channels_and_threads() {
    let c = chat().await;
    let app = &c.app;
    let body = b"hello, hosted file".to_vec();
    let form = Form::new()
        .part("file", file_part(body.clone(), "notes.txt", None))
        .text("groupTag", "gallery-1")
        .text("properties", r#"{"kind": "notes", "n": 1}"#)
        .text("username", "alice");
    let r = upload(
        app,
        &format!("/channels/{}/messages", c.general),
        &c.token,
        form,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let m = &r.body;
    assert_eq!(m["type"], "FILE");
    assert_eq!(m["group_tag"], "gallery-1");
    assert_eq!(m["properties"], json!({"kind": "notes", "n": 1}));
    assert_eq!(m["user"]["name"], "alice");
    let file = &m["file"];
    assert_eq!(file["type"], "HOSTED");
    assert_eq!(file["name"], "notes.txt");
    assert_eq!(file["content_type"], "text/plain");
    assert_eq!(file["size"], body.len());
    let url = file["url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(&format!("{}/files/", app.base)) && url.ends_with("/notes.txt"),
        "{url}"
    );
    let got = get_file(app, &url, Some(&c.token), None).await;
    assert_eq!(got.header("content-type"), Some("text/plain"));
    assert_eq!((got.status, got.body), (200, body.clone()));

    // The message reads back the same, camelCase under /v1.
    let id = m["id"].as_i64().unwrap();
    let again = app.pget(&format!("/v1/messages/{id}"), &c.token).await;
    assert_eq!(again.body["file"]["url"], url.as_str());
    assert_eq!(again.body["file"]["contentType"], "text/plain");
    assert_eq!(again.body["groupTag"], "gallery-1");

    // A reply in its thread, from the system, with a content type of its own.
    let thread = last_id(&m["_links"]["reply_thread"]["href"]);
    let pdf = data(4321);
    let form = Form::new().part(
        "file",
        file_part(pdf.clone(), "report.pdf", Some("application/pdf")),
    );
    let r = upload(app, &format!("/threads/{thread}/messages"), &c.token, form).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["type"], "SYSTEM_FILE");
    assert_eq!(r.body["nested_level"], 1);
    assert_eq!(r.body["file"]["content_type"], "application/pdf");
    assert_eq!(r.body["file"]["size"], 4321);
    let reply_url = r.body["file"]["url"].as_str().unwrap().to_string();
    let history = app
        .pget(&format!("/threads/{thread}/messages"), &c.token)
        .await;
    assert_eq!(history.status, 200, "{}", history.text);
    assert_eq!(
        history.body["_embedded"]["messages"][0]["file"]["url"],
        reply_url.as_str()
    );
    let got = get_file(app, &reply_url, Some(&c.token), None).await;
    assert_eq!((got.status, got.body), (200, pdf));
    assert_eq!(stored(app).await.len(), 2);

    // JSON sends on the same routes are as before.
    let r = app
        .ppost(
            &format!("/channels/{}/messages", c.general),
            &c.token,
            json!({"type": "TEXT", "body": "still JSON", "user": {"username": "bob"}}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["body"].clone()),
        (200, json!("still JSON"))
    );

    // Deleting the message (with its reply) makes their files unreachable at once; the
    // clean-up deletes their objects and rows.
    let r = app.pdelete(&format!("/messages/{id}"), &c.token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    for u in [&url, &reply_url] {
        let gone = get_file(app, u, Some(&c.token), None).await;
        assert_platform_error(&gone.resp(), 404, "ResourceNotFoundError");
    }
    let deleted = app
        .services
        .platform
        .delete_hosted_files(app.app_id)
        .await
        .map_err(|e| e.into_domain())
        .unwrap();
    assert_eq!(deleted, 2);
    assert!(stored(app).await.is_empty());
}

#[tokio::test]
async fn ranges_answer_206_and_unsatisfiable_ones_416() {
    let c = chat().await;
    let app = &c.app;
    let bytes = data(1000);
    let form = Form::new().part("file", file_part(bytes.clone(), "blob.bin", None));
    let r = upload(
        app,
        &format!("/channels/{}/messages", c.general),
        &c.token,
        form,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["file"]["content_type"], "application/octet-stream");
    let url = r.body["file"]["url"].as_str().unwrap().to_string();
    for (range, from, to) in [
        ("bytes=10-19", 10, 19),
        ("bytes=990-", 990, 999),
        ("bytes=-5", 995, 999),
        ("bytes=0-0", 0, 0),
        ("bytes=500-5000", 500, 999),
    ] {
        let got = get_file(app, &url, Some(&c.token), Some(range)).await;
        assert_eq!(got.status, 206, "{range}");
        assert_eq!(got.body, bytes[from..=to].to_vec(), "{range}");
        assert_eq!(
            got.header("content-range"),
            Some(format!("bytes {from}-{to}/1000").as_str()),
            "{range}"
        );
        assert_eq!(
            got.header("content-length"),
            Some((to - from + 1).to_string().as_str())
        );
    }
    for range in ["bytes=1000-", "bytes=2000-3000", "bytes=-0"] {
        let got = get_file(app, &url, Some(&c.token), Some(range)).await;
        assert_platform_error(&got.resp(), 416, "RangeNotSatisfiableError");
        assert_eq!(got.header("content-range"), Some("bytes */1000"), "{range}");
    }
    // Several ranges, or nonsense: the whole file.
    for range in ["bytes=0-1,5-6", "lines=1-2"] {
        let got = get_file(app, &url, Some(&c.token), Some(range)).await;
        assert_eq!((got.status, got.body.len()), (200, 1000), "{range}");
    }
}

#[tokio::test]
async fn downloads_need_the_applications_token_or_a_valid_grant() {
    let c = chat().await;
    let app = &c.app;
    let bytes = data(300);
    let form = Form::new().part(
        "file",
        file_part(bytes.clone(), "a b é.png", Some("image/png")),
    );
    let r = upload(
        app,
        &format!("/channels/{}/messages", c.general),
        &c.token,
        form,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let url = r.body["file"]["url"].as_str().unwrap().to_string();
    assert!(url.ends_with("/a%20b%20%C3%A9.png"), "{url}");
    assert_eq!(r.body["file"]["name"], "a b é.png");

    // No credentials, or a bad token: 401.
    let got = get_file(app, &url, None, None).await;
    assert_eq!(got.status, 401);
    assert_eq!(got.resp().body["error"], "unauthorized");
    let got = get_file(app, &url, Some("not-a-token"), None).await;
    assert_eq!(got.status, 401);
    // Another application's token: no such file there.
    let other = app.other_application("elsewhere").await;
    let got = get_file(app, &url, Some(&other.token), None).await;
    assert_platform_error(&got.resp(), 404, "ResourceNotFoundError");
    // No such file.
    let missing = get_file(app, &app.url("/files/999999/x.png"), Some(&c.token), None).await;
    assert_platform_error(&missing.resp(), 404, "ResourceNotFoundError");
    let junk = get_file(app, &app.url("/files/abc/x.png"), Some(&c.token), None).await;
    assert_platform_error(&junk.resp(), 404, "ResourceNotFoundError");

    // A chat client's read grant, appended to the URL as the official client does.
    let alice = c.users[0]["id"].as_i64().unwrap();
    let grant = read_grant(app, alice).await;
    let with = |g: &str| format!("{url}?grant={g}");
    let got = get_file(app, &with(&grant), None, Some("bytes=0-9")).await;
    assert_eq!(got.status, 206);
    assert_eq!(got.body, bytes[..10].to_vec());
    let got = get_file(app, &with(&grant), None, None).await;
    assert_eq!((got.status, got.body), (200, bytes.clone()));

    // Tampered with, malformed, or another application's: refused.
    let mut tampered = grant.clone().into_bytes();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let got = get_file(app, &with(&tampered), None, None).await;
    assert_platform_error(&got.resp(), 403, "AccessDeniedError");
    // Its fields changed (a later expiry) under the old signature.
    let parts: Vec<&str> = grant.split('.').collect();
    let forged = format!(
        "{}.{}.{}.{}.{}",
        parts[0],
        parts[1],
        parts[2],
        parts[3].parse::<i64>().unwrap() + 1000,
        parts[4]
    );
    let got = get_file(app, &with(&forged), None, None).await;
    assert_platform_error(&got.resp(), 403, "AccessDeniedError");
    let got = get_file(app, &with("nonsense"), None, None).await;
    assert_platform_error(&got.resp(), 403, "AccessDeniedError");
    let others = app
        .services
        .platform
        .file_read_grant(
            &AppPrincipal {
                application_id: other.app_id,
                organisation_id: other.org_id.clone(),
            },
            1,
        )
        .await
        .map_err(|e| e.into_domain())
        .unwrap();
    let got = get_file(app, &with(&others), None, None).await;
    assert_platform_error(&got.resp(), 404, "ResourceNotFoundError");

    // Expired a day later.
    app.advance_clock(Duration::from_secs(86_400 + 60));
    let got = get_file(app, &with(&grant), None, None).await;
    let explanation = assert_platform_error(&got.resp(), 403, "AccessDeniedError");
    assert!(explanation.contains("expired"), "{explanation}");
    // A new grant works again.
    let fresh = read_grant(app, alice).await;
    let got = get_file(app, &with(&fresh), None, None).await;
    assert_eq!(got.status, 200);
}

#[tokio::test]
async fn a_chat_clients_read_grant_from_the_gateway_downloads_files() {
    let (app, token) = crate::gateway::live().await;
    let mut alice = StompClient::session(&app, "alice").await;
    let r = app
        .ppost(
            "/channels",
            &token,
            json!({"type": "PUBLIC", "name": "pics"}),
        )
        .await;
    let channel = r.body["id"].as_i64().unwrap();
    let bytes = data(2048);
    let form = Form::new()
        .part("file", file_part(bytes.clone(), "cat.jpg", None))
        .text("username", "alice");
    let r = upload(&app, &format!("/channels/{channel}/messages"), &token, form).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["file"]["content_type"], "image/jpeg");
    let url = r.body["file"]["url"].as_str().unwrap().to_string();
    // As `@chatkitty/core` does: the relay's grant appended to every file URL.
    let relayed = alice
        .relay("/application/user.read_file_access_grant.relay", &[])
        .await;
    let grant = relayed["grant"].as_str().unwrap().to_string();
    let got = get_file(&app, &format!("{url}?grant={grant}"), None, None).await;
    assert_eq!((got.status, got.body), (200, bytes));
}

#[tokio::test]
async fn uploads_over_the_limit_answer_413_and_store_nothing() {
    let app = crate::spawn_with(|c| c.max_upload_bytes = 1000).await;
    let token = app.platform_token().await;
    let alice = app
        .create_chat_user(&token, json!({"name": "alice", "display_name": "Alice"}))
        .await;
    let id = alice["id"].as_i64().unwrap();
    let r = app
        .ppost(
            "/channels",
            &token,
            json!({"type": "PUBLIC", "name": "general"}),
        )
        .await;
    let channel = r.body["id"].as_i64().unwrap();

    for n in [1001, 3_000_000] {
        let form = Form::new().part("file", file_part(data(n), "big.bin", None));
        let r = upload(&app, &format!("/channels/{channel}/messages"), &token, form).await;
        let explanation = assert_platform_error(&r, 413, "PayloadTooLargeError");
        assert!(explanation.contains("1000"), "{explanation}");
        let form = Form::new().part("file", file_part(data(n), "big.png", None));
        let r = upload(&app, &format!("/users/{id}/display-picture"), &token, form).await;
        assert_platform_error(&r, 413, "PayloadTooLargeError");
    }
    assert!(stored(&app).await.is_empty());
    let history = app
        .pget(&format!("/channels/{channel}/messages"), &token)
        .await;
    assert_eq!(
        history.body["_embedded"]["messages"],
        json!([]),
        "{}",
        history.text
    );
    let user = app.pget(&format!("/users/{id}"), &token).await;
    assert!(user.body["display_picture_url"]
        .as_str()
        .unwrap()
        .ends_with("/avatars/alice.svg"));
    // The limit itself is allowed.
    let form = Form::new().part("file", file_part(data(1000), "exact.bin", None));
    let r = upload(&app, &format!("/channels/{channel}/messages"), &token, form).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(stored(&app).await.len(), 1);
}

#[tokio::test]
async fn malformed_forms_answer_400_and_store_nothing() {
    let c = chat().await;
    let app = &c.app;
    let path = format!("/channels/{}/messages", c.general);
    // No file part.
    let r = upload(app, &path, &c.token, Form::new().text("groupTag", "g")).await;
    let explanation = assert_platform_error(&r, 400, "InvalidParameterError");
    assert!(explanation.contains("file"), "{explanation}");
    let r = upload(
        app,
        &format!("/users/{}/display-picture", c.users[0]["id"]),
        &c.token,
        Form::new().text("name", "x"),
    )
    .await;
    assert_platform_error(&r, 400, "InvalidParameterError");
    // Properties that are not JSON, after the file was stored.
    let form = Form::new()
        .part("file", file_part(data(100), "a.txt", None))
        .text("properties", "{not json");
    let r = upload(app, &path, &c.token, form).await;
    assert_platform_error(&r, 400, "MalformedRequestError");
    // JSON, but not an object.
    let form = Form::new()
        .part("file", file_part(data(100), "a.txt", None))
        .text("properties", "[1, 2]");
    let r = upload(app, &path, &c.token, form).await;
    assert_platform_error(&r, 400, "InvalidParameterError");
    // A text part past 64 KiB, after the file or skipped.
    for name in ["properties", "unknown"] {
        let form = Form::new()
            .part("file", file_part(data(10), "a.txt", None))
            .text(name, "x".repeat(70_000));
        let r = upload(app, &path, &c.token, form).await;
        assert_platform_error(&r, 400, "InvalidParameterError");
    }
    // Two files.
    let form = Form::new()
        .part("file", file_part(data(10), "a.txt", None))
        .part("file", file_part(data(10), "b.txt", None));
    let r = upload(app, &path, &c.token, form).await;
    assert_platform_error(&r, 400, "InvalidParameterError");
    // A sender that may not write there (carol is no member of the PRIVATE channel).
    let form = Form::new()
        .part("file", file_part(data(10), "a.txt", None))
        .text("username", "carol");
    let r = upload(
        app,
        &format!("/channels/{}/messages", c.secret),
        &c.token,
        form,
    )
    .await;
    assert_platform_error(&r, 403, "AccessDeniedError");
    // No such channel or thread.
    for target in ["/channels/999999/messages", "/threads/999999/messages"] {
        let form = Form::new().part("file", file_part(data(10), "a.txt", None));
        let r = upload(app, target, &c.token, form).await;
        assert_platform_error(&r, 404, "ResourceNotFoundError");
    }
    // A body that is not multipart at all though it says so.
    let r = app
        .pcall(
            "POST",
            &path,
            Some(&c.token),
            &[("Content-Type", "multipart/form-data; boundary=xyz")],
            Some(json!("garbage")),
        )
        .await;
    assert_platform_error(&r, 400, "InvalidParameterError");
    // No token.
    let res = app
        .client
        .post(app.url(&path))
        .multipart(Form::new().part("file", file_part(data(10), "a.txt", None)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // Give the discarded uploads' deletes a moment (they are awaited; this is belt and braces).
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(stored(app).await.is_empty(), "{:?}", stored(app).await);
    let history = app.pget(&path, &c.token).await;
    assert_eq!(history.body["_embedded"]["messages"], json!([]));
}

// ---- S3, for real: a local moto server ----

/// `target/moto-venv` with the pinned moto, made once per test process (again only when the
/// pin changed); answers its interpreter.
async fn moto_python() -> PathBuf {
    static READY: tokio::sync::OnceCell<Result<PathBuf, String>> =
        tokio::sync::OnceCell::const_new();
    let venv = target_dir().join("moto-venv");
    let requirements = workspace_root().join("crates/test-support/tests/s3/requirements.txt");
    let result = READY
        .get_or_init(|| async {
            palaver_test_support::scripts::python_packages(&venv, &requirements, "the S3 test")
                .await
        })
        .await;
    match result {
        Ok(python) => python.clone(),
        Err(e) => panic!("installing moto failed: {e}"),
    }
}

/// A running moto server, killed when dropped (a failed test included).
struct Moto {
    child: std::process::Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_moto() -> Moto {
    let python = moto_python().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(python)
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto starts");
    let mut moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if client.get(&moto.endpoint).send().await.is_ok() {
            return moto;
        }
        if let Ok(Some(status)) = moto.child.try_wait() {
            panic!("moto exited: {status}");
        }
        assert!(Instant::now() < deadline, "moto did not answer in 60 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn s3_storage_uploads_downloads_ranges_and_deletes() {
    // Bounded as a whole: whatever hangs fails the test instead.
    tokio::time::timeout(Duration::from_secs(900), s3_story())
        .await
        .expect("the S3 story finished within 15 minutes");
}

async fn s3_story() {
    let moto = start_moto().await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let bucket = client
        .put(format!("{}/palaver-files", moto.endpoint))
        .send()
        .await
        .unwrap();
    assert!(bucket.status().is_success(), "bucket: {}", bucket.status());
    let endpoint = moto.endpoint.clone();
    let app = crate::spawn_with(move |c| {
        c.files_url = "s3://palaver-files/tenant/a".into();
        c.s3_endpoint = Some(endpoint);
        c.s3_region = Some("us-east-1".into());
        c.s3_access_key_id = Some("testing".into());
        c.s3_secret_access_key = Some("testing".into());
        c.s3_allow_http = true;
        c.max_upload_bytes = 8 * 1024 * 1024;
    })
    .await;
    let token = app.platform_token().await;
    let alice = app
        .create_chat_user(&token, json!({"name": "alice", "display_name": "Alice"}))
        .await;
    let alice_id = alice["id"].as_i64().unwrap();

    // Past one part (5 MiB): a multipart upload to S3.
    let picture = data(6 * 1024 * 1024 + 123);
    let r = upload(
        &app,
        &format!("/users/{alice_id}/display-picture"),
        &token,
        Form::new().part(
            "file",
            file_part(picture.clone(), "big.png", Some("image/png")),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let url = r.body["display_picture_url"].as_str().unwrap().to_string();
    let keys = stored(&app).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with(&format!("{}/", app.app_id)), "{keys:?}");
    // Stored under the prefix, in the bucket.
    let listing = client
        .get(format!("{}/palaver-files?prefix=tenant/a/", moto.endpoint))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        listing.contains(&format!("tenant/a/{}", keys[0])),
        "{listing}"
    );

    let got = fetch(&client, &url, Some(&token), None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body.len(), picture.len());
    assert!(got.body == picture, "the picture came back changed");
    let got = fetch(&client, &url, Some(&token), Some("bytes=5242870-5242889")).await;
    assert_eq!(got.status, 206);
    assert_eq!(got.body, picture[5_242_870..5_242_890].to_vec());
    assert_eq!(
        got.header("content-range"),
        Some(format!("bytes 5242870-5242889/{}", picture.len()).as_str())
    );

    // A grant is sent on to a presigned URL of the bucket, which serves the file itself.
    let grant = read_grant(&app, alice_id).await;
    let got = fetch(&client, &format!("{url}?grant={grant}"), None, None).await;
    assert_eq!(got.status, 302);
    let location = got.header("location").unwrap().to_string();
    assert!(
        location.starts_with(&format!("{}/palaver-files/tenant/a/", moto.endpoint)),
        "{location}"
    );
    let direct = fetch(&client, &location, None, Some("bytes=0-99")).await;
    assert_eq!(direct.status, 206);
    assert_eq!(direct.body, picture[..100].to_vec());
    let direct = fetch(&client, &location, None, None).await;
    assert!(direct.status == 200 && direct.body == picture);
    assert_eq!(direct.header("content-type"), Some("image/png"));
    let tampered = fetch(&client, &format!("{url}?grant={grant}x"), None, None).await;
    assert_platform_error(&tampered.resp(), 403, "AccessDeniedError");

    // A FILE message in a channel: one request to S3.
    let r = app
        .ppost(
            "/channels",
            &token,
            json!({"type": "PUBLIC", "name": "general", "creator": {"username": "alice"}}),
        )
        .await;
    let channel = r.body["id"].as_i64().unwrap();
    let note = b"a small note".to_vec();
    let form = Form::new()
        .part("file", file_part(note.clone(), "note.txt", None))
        .text("username", "alice");
    let r = upload(&app, &format!("/channels/{channel}/messages"), &token, form).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["file"]["type"], "HOSTED");
    let note_id = r.body["id"].as_i64().unwrap();
    let note_url = r.body["file"]["url"].as_str().unwrap().to_string();
    let got = fetch(&client, &note_url, Some(&token), Some("bytes=2-6")).await;
    assert_eq!((got.status, got.body), (206, b"small".to_vec()));
    assert_eq!(stored(&app).await.len(), 2);

    // Over the limit: refused, the multipart upload aborted, nothing left.
    let form = Form::new().part("file", file_part(data(9 * 1024 * 1024), "huge.bin", None));
    let r = upload(&app, &format!("/channels/{channel}/messages"), &token, form).await;
    assert_platform_error(&r, 413, "PayloadTooLargeError");
    assert_eq!(stored(&app).await.len(), 2);

    // Deleting the message, then cleaning up, deletes its object.
    let r = app.pdelete(&format!("/messages/{note_id}"), &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let gone = fetch(&client, &note_url, Some(&token), None).await;
    assert_eq!(gone.status, 404);
    let deleted = app
        .services
        .platform
        .delete_hosted_files(app.app_id)
        .await
        .map_err(|e| e.into_domain())
        .unwrap();
    assert_eq!(deleted, 1);
    let keys = stored(&app).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let picture_back = fetch(&client, &url, Some(&token), Some("bytes=-3")).await;
    assert_eq!(picture_back.body, picture[picture.len() - 3..].to_vec());
    // The server goes before the storage it uses.
    drop(app);
    drop(moto);
}
