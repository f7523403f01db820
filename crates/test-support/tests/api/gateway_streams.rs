//! Upload streams, as `@chatkitty/core` uploads: a session relays its write grant
//! (`/application/user.write_file_access_grant.relay`), then POSTs a multipart form (a `file`
//! part, its other parts JSON-encoded) to a resource's `_streams` URL with the grant in a
//! `Grant` header; the answer is the created message or current user as the gateway writes it,
//! the message goes live on the channel's topic like any other, and its file downloads with a
//! read grant. And what is refused, in the gateway's error shape: no grant, a forged, expired or
//! ended one, a read grant, a channel the user may not write to, a file over the limit.

use std::collections::BTreeSet;
use std::time::Duration;

use palaver_gateway::destinations::Topic;
use palaver_gateway::frame::Command;
use palaver_test_support::stomp::{FrameExt, StompClient, WAIT};
use palaver_test_support::{Resp, TestApp};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::gateway::{action_result, channel, enable_guests, live, me, text, users, ERRORS};

const WRITE_GRANT: &str = "/application/user.write_file_access_grant.relay";
const READ_GRANT: &str = "/application/user.read_file_access_grant.relay";

/// `n` bytes that are not all alike.
fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

/// A form as the SDK's `uploadStream` builds it: the file, then each property
/// `JSON.stringify`-ed.
fn sdk_form(bytes: Vec<u8>, name: &str, mime: &str, properties: &[(&str, Value)]) -> Form {
    let file = Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str(mime)
        .unwrap();
    properties
        .iter()
        .fold(Form::new().part("file", file), |form, (k, v)| {
            form.text(k.to_string(), v.to_string())
        })
}

/// POSTs `form` to stream `url`, with `grant` in the `Grant` header when given.
async fn upload(app: &TestApp, url: &str, grant: Option<&str>, form: Form) -> Resp {
    let mut req = app
        .client
        .post(url)
        .header("Accept", "application/json, text/plain, */*")
        .multipart(form);
    if let Some(g) = grant {
        req = req.header("Grant", g);
    }
    TestApp::read(req.send().await.unwrap()).await
}

/// Checks an error in the gateway's shape (`{error, message, timestamp}`, nothing else);
/// returns its message.
fn assert_stream_error(r: &Resp, status: u16, kind: &str) -> String {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.body["error"], kind, "{}", r.text);
    let keys: BTreeSet<&str> = r
        .body
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        BTreeSet::from(["error", "message", "timestamp"]),
        "{}",
        r.text
    );
    text(&r.body["message"], "message").to_string()
}

/// A file's bytes, downloaded from `url` with read grant `grant` as the SDK appends it.
async fn download(app: &TestApp, url: &str, grant: &str) -> (u16, Vec<u8>) {
    let res = app
        .client
        .get(format!("{url}?grant={grant}"))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.bytes().await.unwrap().to_vec())
}

/// The keys of every object in the file storage.
async fn stored(app: &TestApp) -> Vec<String> {
    app.services.platform.file_store().keys("").await.unwrap()
}

/// A session of `name` as `connectApi` starts it: its user, the errors queue, and its two
/// grants (write, read).
struct Session {
    c: StompClient,
    me: Value,
    write: String,
    read: String,
}

async fn session(app: &TestApp, name: &str) -> Session {
    let mut c = StompClient::session(app, name).await;
    let me = me(&mut c).await;
    c.listen("errors", ERRORS).await;
    let write = c.relay(WRITE_GRANT, &[]).await;
    let read = c.relay(READ_GRANT, &[]).await;
    Session {
        c,
        me,
        write: text(&write["grant"], "write grant").to_string(),
        read: text(&read["grant"], "read grant").to_string(),
    }
}

/// Channel `id` as `c` relays it.
async fn channel_resource(c: &mut StompClient, id: i64) -> Value {
    c.relay(&format!("/application/channels/{id}.relay"), &[])
        .await
}

/// The bodies and types of a channel's messages as REST lists them.
async fn rest_messages(app: &TestApp, token: &str, channel: i64) -> Vec<Value> {
    let r = app
        .pget(&format!("/channels/{channel}/messages"), token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["_embedded"]["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// alice and bob in PRIVATE "secret" (alice made it) and PUBLIC "lobby" (alice only); carol in
/// neither.
struct Rooms {
    app: TestApp,
    token: String,
    secret: i64,
    lobby: i64,
}

async fn rooms_on(app: TestApp) -> Rooms {
    let token = app.platform_token().await;
    enable_guests(&app, &token).await;
    users(&app, &token, &["alice", "bob", "carol"]).await;
    let secret = channel(
        &app,
        &token,
        json!({"type": "PRIVATE", "name": "secret", "creator": {"username": "alice"},
               "members": [{"username": "bob"}]}),
    )
    .await;
    let lobby = channel(
        &app,
        &token,
        json!({"type": "PUBLIC", "name": "lobby", "creator": {"username": "alice"}}),
    )
    .await;
    Rooms {
        app,
        token,
        secret,
        lobby,
    }
}

async fn rooms() -> Rooms {
    rooms_on(crate::spawn().await).await
}

#[tokio::test]
async fn a_file_message_streams_to_a_channel_and_goes_live() {
    let r = rooms().await;
    let app = &r.app;
    let mut alice = session(app, "alice").await;
    let mut bob = session(app, "bob").await;
    let secret = channel_resource(&mut alice.c, r.secret).await;
    let url = text(&secret["_streams"]["messages"], "messages stream").to_string();
    assert_eq!(
        url,
        app.url(&format!("/rtm/streams/channels/{}/messages", r.secret))
    );
    bob.c
        .listen(
            "secret-messages",
            text(&secret["_topics"]["messages"], "messages topic"),
        )
        .await;

    let bytes = data(3000);
    // A `username` part cannot make the upload someone else's: the grant says whose it is.
    let form = sdk_form(
        bytes.clone(),
        "report.pdf",
        "application/pdf",
        &[
            ("groupTag", json!("reports")),
            ("properties", json!({"pages": 3})),
            ("username", json!("bob")),
        ],
    );
    let res = upload(app, &url, Some(&alice.write), form).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let m = &res.body;
    assert_eq!(m["type"], "FILE", "{m}");
    assert_eq!(m["channelId"], json!(r.secret), "{m}");
    assert_eq!(m["groupTag"], "reports", "{m}");
    assert_eq!(m["properties"], json!({"pages": 3}), "{m}");
    assert_eq!(m["user"]["name"], "alice", "{m}");
    assert_eq!(m["file"]["name"], "report.pdf", "{m}");
    assert_eq!(m["file"]["contentType"], "application/pdf", "{m}");
    assert_eq!(m["file"]["size"], json!(3000), "{m}");
    // The resource the app keeps using: its relays, actions and own stream.
    let id = m["id"].as_i64().unwrap();
    assert_eq!(
        m["_relays"]["self"],
        json!(format!("/application/messages/{id}.relay"))
    );
    assert!(m["_actions"]["reply"].is_string(), "{m}");
    assert_eq!(
        m["_streams"]["replies"],
        json!(app.url(&format!("/rtm/streams/messages/{id}/replies")))
    );

    // Live on the channel's topic, as any sent message.
    let f = bob
        .c
        .wait_for(|f| f.is_event("channel.message.created"))
        .await;
    assert_eq!(
        f.get("destination").map(str::to_string),
        Some(Topic::Channel(r.secret, "messages").destination())
    );
    let live = &f.json()["resource"];
    assert_eq!(live["id"], json!(id));
    assert_eq!(live["file"]["url"], m["file"]["url"]);

    // Downloaded back by another member with its read grant, as the SDK appends it.
    let file_url = text(&m["file"]["url"], "file url");
    assert!(file_url.starts_with(&app.url("/files/")), "{file_url}");
    assert_eq!(download(app, file_url, &bob.read).await, (200, bytes));

    // REST sees it, sent by alice.
    let rest = rest_messages(app, &r.token, r.secret).await;
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(rest[0]["user"]["name"], "alice");
    assert_eq!(rest[0]["group_tag"], "reports");
    assert_eq!(stored(app).await.len(), 1);
}

#[tokio::test]
async fn threads_and_replies_take_files_too() {
    let r = rooms().await;
    let app = &r.app;
    let mut alice = session(app, "alice").await;
    let secret = channel_resource(&mut alice.c, r.secret).await;
    alice
        .c
        .listen(
            "my-threads",
            text(&alice.me["_topics"]["threads"], "threads topic"),
        )
        .await;

    // A reply to a message, through the message's `replies` stream.
    let url = text(&secret["_streams"]["messages"], "messages stream").to_string();
    let form = sdk_form(data(10), "a.txt", "text/plain", &[]);
    let parent = upload(app, &url, Some(&alice.write), form).await;
    assert_eq!(parent.status, 200, "{}", parent.text);
    let parent_id = parent.body["id"].as_i64().unwrap();
    let replies = text(&parent.body["_streams"]["replies"], "replies stream");
    let form = sdk_form(data(20), "b.txt", "text/plain", &[]);
    let reply = upload(app, replies, Some(&alice.write), form).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.body["_relays"]["parent"],
        json!(format!("/application/messages/{parent_id}.relay")),
        "{}",
        reply.text
    );
    // The parent lists it among its replies.
    let listed = alice
        .c
        .relay(
            text(&parent.body["_relays"]["replies"], "replies relay"),
            &[],
        )
        .await;
    assert_eq!(
        listed["_embedded"]["messages"][0]["id"], reply.body["id"],
        "{listed}"
    );

    // A file in a thread made by the channel's `createThread` action, through its stream.
    let create = text(&secret["_actions"]["createThread"], "createThread").to_string();
    alice
        .c
        .send_action(&create, "thread-1", &json!({"name": "files"}))
        .await;
    let thread = action_result(&mut alice.c, "thread-1").await.json()["resource"].clone();
    let thread_id = thread["id"].as_i64().unwrap();
    let url = text(&thread["_streams"]["messages"], "thread stream").to_string();
    assert_eq!(
        url,
        app.url(&format!("/rtm/streams/threads/{thread_id}/messages"))
    );
    let form = sdk_form(data(30), "c.txt", "text/plain", &[]);
    let m = upload(app, &url, Some(&alice.write), form).await;
    assert_eq!(m.status, 200, "{}", m.text);
    assert_eq!(m.body["user"]["name"], "alice");
    let listed = app
        .pget(&format!("/threads/{thread_id}/messages"), &r.token)
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(
        listed.body["_embedded"]["messages"][0]["id"], m.body["id"],
        "{}",
        listed.text
    );
    assert_eq!(stored(app).await.len(), 3);
}

#[tokio::test]
async fn a_display_picture_streams_for_the_current_user() {
    let (app, token) = live().await;
    users(&app, &token, &["alice"]).await;
    let mut alice = session(&app, "alice").await;
    let url = text(&alice.me["_streams"]["displayPicture"], "displayPicture").to_string();
    assert_eq!(url, app.url("/rtm/streams/user/display-picture"));
    // The SDK turns a data URI into a File: a name and a type, nothing else in the form.
    let bytes = data(500);
    let form = sdk_form(bytes.clone(), "me.png", "image/png", &[]);
    let res = upload(&app, &url, Some(&alice.write), form).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let u = &res.body;
    assert_eq!(u["name"], "alice", "{u}");
    assert_eq!(u["id"], alice.me["id"], "{u}");
    assert!(u["_relays"]["writeFileAccessGrant"].is_string(), "{u}");
    assert_eq!(u["_streams"]["displayPicture"], json!(url));
    let picture = text(&u["displayPictureUrl"], "displayPictureUrl");
    assert!(picture.starts_with(&app.url("/files/")), "{picture}");
    assert_eq!(download(&app, picture, &alice.read).await, (200, bytes));

    // The session's user says so too, and so does REST.
    let again = me(&mut alice.c).await;
    assert_eq!(again["displayPictureUrl"], json!(picture));
    let id = alice.me["id"].as_i64().unwrap();
    let rest = app.pget(&format!("/users/{id}"), &token).await;
    assert_eq!(
        rest.body["display_picture_url"],
        json!(picture),
        "{}",
        rest.text
    );
    assert_eq!(stored(&app).await.len(), 1);
}

#[tokio::test]
async fn uploads_need_a_genuine_live_write_grant() {
    let r = rooms().await;
    let app = &r.app;
    let mut alice = session(app, "alice").await;
    let bob = session(app, "bob").await;
    let url = app.url(&format!("/rtm/streams/channels/{}/messages", r.secret));
    let picture = app.url("/rtm/streams/user/display-picture");
    let form = || sdk_form(data(10), "a.txt", "text/plain", &[]);

    // None at all.
    let res = upload(app, &url, None, form()).await;
    let message = assert_stream_error(&res, 403, "AccessDeniedError");
    assert!(message.contains("Grant"), "{message}");
    let res = upload(app, &url, Some(""), form()).await;
    assert_stream_error(&res, 403, "AccessDeniedError");
    let res = upload(app, &url, Some("nonsense"), form()).await;
    assert_stream_error(&res, 403, "AccessDeniedError");

    // alice's grant made out to bob: the signature no longer fits.
    let alice_id = alice.me["id"].as_i64().unwrap();
    let bob_id = bob.me["id"].as_i64().unwrap();
    let mut parts: Vec<String> = alice.write.split('.').map(str::to_string).collect();
    assert_eq!(parts.len(), 6, "{}", alice.write);
    assert_eq!(parts[2], alice_id.to_string());
    parts[2] = bob_id.to_string();
    let forged = parts.join(".");
    let message = assert_stream_error(
        &upload(app, &url, Some(&forged), form()).await,
        403,
        "AccessDeniedError",
    );
    assert!(message.contains("not valid"), "{message}");
    // A signature changed by one character.
    let mut tampered = alice.write.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let res = upload(app, &url, Some(&tampered), form()).await;
    assert_stream_error(&res, 403, "AccessDeniedError");

    // A read grant is no write grant, and a write grant no read grant.
    let res = upload(app, &url, Some(&alice.read), form()).await;
    assert_stream_error(&res, 403, "AccessDeniedError");
    let res = upload(app, &picture, Some(&alice.read), form()).await;
    assert_stream_error(&res, 403, "AccessDeniedError");
    let ok = upload(app, &url, Some(&alice.write), form()).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let file_url = text(&ok.body["file"]["url"], "file url").to_string();
    assert_eq!(download(app, &file_url, &alice.write).await.0, 403);
    assert_eq!(download(app, &file_url, &alice.read).await.0, 200);

    // Nothing was stored for the refused ones.
    assert_eq!(stored(app).await.len(), 1);
    assert_eq!(rest_messages(app, &r.token, r.secret).await.len(), 1);

    // Expired a day later; the session's next grant works again.
    app.advance_clock(Duration::from_secs(86_400 + 60));
    let res = upload(app, &url, Some(&alice.write), form()).await;
    let message = assert_stream_error(&res, 403, "AccessDeniedError");
    assert!(message.contains("expired"), "{message}");
    let fresh = alice.c.relay(WRITE_GRANT, &[]).await;
    let fresh = text(&fresh["grant"], "grant").to_string();
    let res = upload(app, &url, Some(&fresh), form()).await;
    assert_eq!(res.status, 200, "{}", res.text);

    // It ends with its session: alice says goodbye, her grant stops working.
    alice
        .c
        .send_frame(Command::Disconnect, &[("receipt", "close-0")], b"")
        .await;
    let f = alice.c.expect_frame("the RECEIPT of DISCONNECT").await;
    assert_eq!(f.command, Command::Receipt, "{}", f.describe());
    assert!(alice.c.is_closed(WAIT).await);
    let deadline = tokio::time::Instant::now() + WAIT;
    let message = loop {
        let res = upload(app, &picture, Some(&fresh), form()).await;
        if res.status == 403 {
            break assert_stream_error(&res, 403, "AccessDeniedError");
        }
        assert_eq!(res.status, 200, "{}", res.text);
        assert!(
            tokio::time::Instant::now() < deadline,
            "the grant outlived its session"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(message.contains("session"), "{message}");
}

#[tokio::test]
async fn only_those_who_may_write_there_upload_to_a_channel() {
    let r = rooms().await;
    let app = &r.app;
    let mut alice = session(app, "alice").await;
    let mut carol = session(app, "carol").await;
    let form = || sdk_form(data(10), "a.txt", "text/plain", &[]);

    // carol is no member of the PRIVATE channel: refused, nothing stored, nothing sent.
    let secret = channel_resource(&mut alice.c, r.secret).await;
    let url = text(&secret["_streams"]["messages"], "messages stream");
    let res = upload(app, url, Some(&carol.write), form()).await;
    assert_stream_error(&res, 403, "AccessDeniedError");
    assert!(stored(app).await.is_empty());
    assert!(rest_messages(app, &r.token, r.secret).await.is_empty());

    // Unknown channels, threads and messages.
    for path in [
        "/rtm/streams/channels/999999/messages",
        "/rtm/streams/threads/999999/messages",
        "/rtm/streams/messages/999999/replies",
        "/rtm/streams/channels/x/messages",
    ] {
        let res = upload(app, &app.url(path), Some(&carol.write), form()).await;
        assert_stream_error(&res, 404, "ResourceNotFoundError");
    }

    // In the PUBLIC channel she has not joined, the stream answers as the `message` action does.
    for topic in ["messages", "channels"] {
        let dest = text(&carol.me["_topics"][topic], topic).to_string();
        carol.c.listen(&format!("my-{topic}"), &dest).await;
    }
    let lobby = channel_resource(&mut carol.c, r.lobby).await;
    let action = text(&lobby["_actions"]["message"], "message").to_string();
    carol
        .c
        .send_action(&action, "say-1", &json!({"type": "TEXT", "body": "hi"}))
        .await;
    let f = carol
        .c
        .wait_for(|f| f.command == Command::Message && f.get("receipt-id") == Some("say-1"))
        .await;
    let action_refused = f.get("destination") == Some(ERRORS);
    let url = text(&lobby["_streams"]["messages"], "messages stream");
    let res = upload(app, url, Some(&carol.write), form()).await;
    if action_refused {
        let kind = f.json()["error"].as_str().unwrap().to_string();
        assert_stream_error(&res, 403, &kind);
        // After joining, both work.
        let join = text(&lobby["_actions"]["join"], "join").to_string();
        carol.c.send_action(&join, "join-1", &json!({})).await;
        action_result(&mut carol.c, "join-1").await;
        let res = upload(app, url, Some(&carol.write), form()).await;
        assert_eq!(res.status, 200, "{}", res.text);
    } else {
        assert_eq!(res.status, 200, "{}", res.text);
    }
}

#[tokio::test]
async fn uploads_over_the_limit_answer_413_and_bad_forms_400() {
    let r = rooms_on(crate::spawn_with(|c| c.max_upload_bytes = 1000).await).await;
    let app = &r.app;
    let alice = session(app, "alice").await;
    let url = app.url(&format!("/rtm/streams/channels/{}/messages", r.secret));
    let picture = app.url("/rtm/streams/user/display-picture");

    for n in [1001, 3_000_000] {
        let form = sdk_form(data(n), "big.bin", "application/octet-stream", &[]);
        let res = upload(app, &url, Some(&alice.write), form).await;
        let message = assert_stream_error(&res, 413, "PayloadTooLargeError");
        assert!(message.contains("1000"), "{message}");
        let form = sdk_form(data(n), "big.png", "image/png", &[]);
        let res = upload(app, &picture, Some(&alice.write), form).await;
        assert_stream_error(&res, 413, "PayloadTooLargeError");
    }
    assert!(stored(app).await.is_empty());
    assert!(rest_messages(app, &r.token, r.secret).await.is_empty());

    // No file part; not a form at all; properties that are not an object.
    let res = upload(
        app,
        &url,
        Some(&alice.write),
        Form::new().text("groupTag", "\"g\""),
    )
    .await;
    let message = assert_stream_error(&res, 400, "InvalidParameterError");
    assert!(message.contains("file"), "{message}");
    let res = app
        .client
        .post(&url)
        .header("Grant", &alice.write)
        .json(&json!({"type": "FILE"}))
        .send()
        .await
        .unwrap();
    let res = TestApp::read(res).await;
    let message = assert_stream_error(&res, 400, "InvalidParameterError");
    assert!(message.contains("multipart"), "{message}");
    let form = sdk_form(
        data(10),
        "a.txt",
        "text/plain",
        &[("properties", json!([1]))],
    );
    let res = upload(app, &url, Some(&alice.write), form).await;
    assert_stream_error(&res, 400, "InvalidParameterError");
    assert!(stored(app).await.is_empty());

    // The limit itself is allowed.
    let form = sdk_form(data(1000), "exact.bin", "application/octet-stream", &[]);
    let res = upload(app, &url, Some(&alice.write), form).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(stored(app).await.len(), 1);
}

#[tokio::test]
async fn streams_take_posts_from_any_origin_and_nothing_else() {
    let (app, _token) = live().await;
    let url = app.url("/rtm/streams/user/display-picture");
    // A browser's preflight from the app's own origin.
    let res = app
        .client
        .request(reqwest::Method::OPTIONS, &url)
        .header("Origin", "https://chat.example.com")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type,grant")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let h = res.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    let allowed = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(allowed.contains("grant"), "{allowed}");
    assert!(h.get("access-control-allow-credentials").is_none());

    let res = app.client.get(&url).send().await.unwrap();
    let res = TestApp::read(res).await;
    assert_stream_error(&res, 405, "MethodNotAllowedError");
}
