//! Platform messages and threads: TEXT and FILE messages from users and the system, who may
//! send where, mentions and links, reply threads, get/edit/delete one or all, at the three
//! prefixes.

use palaver_test_support::{assert_platform_error, TestApp};
use serde_json::{json, Value};

pub(crate) struct Chat {
    pub app: TestApp,
    pub token: String,
    pub users: Vec<Value>,
    /// PUBLIC "general" (alice creator, bob member) and PRIVATE "secret" (alice only).
    pub general: i64,
    pub secret: i64,
}

pub(crate) async fn chat() -> Chat {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let mut users = Vec::new();
    for name in ["alice", "bob", "carol"] {
        users.push(
            app.create_chat_user(
                &token,
                json!({"name": name, "display_name": name.to_uppercase()}),
            )
            .await,
        );
    }
    let mut ids = Vec::new();
    for body in [
        json!({"type": "PUBLIC", "name": "general", "creator": {"username": "alice"},
            "members": [{"username": "bob"}]}),
        json!({"type": "PRIVATE", "name": "secret", "creator": {"username": "alice"}}),
    ] {
        let r = app.ppost("/channels", &token, body).await;
        assert_eq!(r.status, 200, "{}", r.text);
        ids.push(r.body["id"].as_i64().expect("channel id"));
    }
    Chat {
        app,
        token,
        users,
        general: ids[0],
        secret: ids[1],
    }
}

impl Chat {
    pub async fn send(&self, channel: i64, body: Value) -> Value {
        let r = self
            .app
            .ppost(&format!("/channels/{channel}/messages"), &self.token, body)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }

    pub async fn text(&self, channel: i64, user: &str, body: &str) -> Value {
        self.send(
            channel,
            json!({"type": "TEXT", "body": body, "user": {"username": user}}),
        )
        .await
    }
}

/// The path part of a HAL link.
pub(crate) fn path_of(app: &TestApp, link: &Value) -> String {
    link["href"]
        .as_str()
        .and_then(|h| h.strip_prefix(&app.base))
        .unwrap_or_else(|| panic!("no link in {link}"))
        .to_string()
}

#[tokio::test]
async fn text_and_file_messages_from_users_and_the_system() {
    let c = chat().await;
    let m = c.text(c.general, "alice", "hello world").await;
    assert_eq!(m["type"], "TEXT");
    assert_eq!(m["body"], "hello world");
    assert_eq!(m["channel_id"], c.general);
    assert_eq!(m["user"]["name"], "alice");
    assert_eq!(m["nested_level"], 0);
    assert_eq!(m["replies_count"], 0);
    assert_eq!(m["properties"], json!({}));
    assert!(m["created_time"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(m.get("last_edited_time").is_none());
    let id = m["id"].as_i64().expect("id");
    assert_eq!(
        m["_links"]["self"]["href"],
        format!("{}/messages/{id}", c.app.base)
    );
    let sys = c
        .send(
            c.general,
            json!({"type": "TEXT", "body": "maintenance", "group_tag": "g1", "properties": {"k": 1}}),
        )
        .await;
    assert_eq!(sys["type"], "SYSTEM_TEXT");
    assert_eq!(sys["group_tag"], "g1");
    assert_eq!(sys["properties"], json!({"k": 1}));
    assert!(sys.get("user").is_none());
    let file = json!({"url": "https://example.com/a.png", "name": "a.png",
        "content_type": "image/png", "size": 123});
    let f = c
        .send(
            c.general,
            json!({"type": "FILE", "file": file, "user": {"username": "bob"}}),
        )
        .await;
    assert_eq!(f["type"], "FILE");
    assert_eq!(f["file"]["type"], "EXTERNAL");
    assert_eq!(f["file"]["size"], 123);
    assert_eq!(f["user"]["name"], "bob");
    assert!(f.get("body").is_none());
    let sf = c
        .send(c.general, json!({"type": "FILE", "file": file}))
        .await;
    assert_eq!(sf["type"], "SYSTEM_FILE");
    for bad in [
        json!({"type": "TEXT"}),
        json!({"type": "FILE", "file": {"url": "x"}}),
        json!({"type": "VIDEO", "body": "x"}),
        json!({"type": "TEXT", "body": "x", "properties": [1]}),
    ] {
        let r = c
            .app
            .ppost(&format!("/channels/{}/messages", c.general), &c.token, bad)
            .await;
        assert_platform_error(&r, 400, "InvalidParameterError");
    }
    let r = c
        .app
        .ppost(
            "/channels/999999/messages",
            &c.token,
            json!({"type": "TEXT", "body": "x"}),
        )
        .await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");
}

#[tokio::test]
async fn only_members_speak_in_private_channels() {
    let c = chat().await;
    // carol is no member of general, but it is PUBLIC.
    c.text(c.general, "carol", "hi all").await;
    let r = c
        .app
        .ppost(
            &format!("/channels/{}/messages", c.secret),
            &c.token,
            json!({"type": "TEXT", "body": "let me in", "user": {"username": "bob"}}),
        )
        .await;
    assert_platform_error(&r, 403, "AccessDeniedError");
    c.text(c.secret, "alice", "mine").await;
    // The system may always speak.
    c.send(c.secret, json!({"type": "TEXT", "body": "notice"}))
        .await;
    let r = c
        .app
        .ppost(
            &format!("/channels/{}/messages", c.general),
            &c.token,
            json!({"type": "TEXT", "body": "x", "user": {"username": "nobody"}}),
        )
        .await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");
}

#[tokio::test]
async fn mentions_and_links_are_parsed_with_positions() {
    let c = chat().await;
    let m = c
        .text(
            c.general,
            "alice",
            "@bob see https://example.com/x, @channel and @ghost",
        )
        .await;
    let mentions = m["mentions"].as_array().expect("mentions");
    assert_eq!(mentions.len(), 2, "{m}");
    assert_eq!(mentions[0]["type"], "USER");
    assert_eq!(mentions[0]["tag"], "bob");
    assert_eq!(mentions[0]["start_position"], 0);
    assert_eq!(mentions[0]["end_position"], 4);
    assert_eq!(mentions[0]["user"]["name"], "bob");
    assert_eq!(mentions[1]["type"], "CHANNEL");
    assert_eq!(mentions[1]["channel"]["id"], c.general);
    assert_eq!(mentions[1]["start_position"], 32);
    let links = m["links"].as_array().expect("links");
    assert_eq!(links.len(), 1);
    assert_eq!(links[0]["source"], "https://example.com/x");
    assert_eq!(links[0]["start_position"], 9);
    assert_eq!(links[0]["end_position"], 30);
}

#[tokio::test]
async fn messages_have_reply_threads_and_channels_a_main_thread() {
    let c = chat().await;
    let m = c.text(c.general, "alice", "question").await;
    let main_path = path_of(&c.app, &m["_links"]["thread"]);
    let main = c.app.pget(&main_path, &c.token).await;
    assert_eq!(main.status, 200, "{}", main.text);
    assert_eq!(main.body["type"], "MAIN");
    assert_eq!(main.body["properties"], json!({}));
    let thread_path = path_of(&c.app, &m["_links"]["reply_thread"]);
    let t = c.app.pget(&thread_path, &c.token).await;
    assert_eq!(t.body["type"], "MESSAGE");
    assert_eq!(
        t.body["_links"]["message"]["href"],
        m["_links"]["self"]["href"]
    );
    assert_eq!(
        path_of(&c.app, &m["_links"]["replies"]),
        format!("{thread_path}/messages")
    );
    let r = c
        .app
        .ppost(
            &format!("{thread_path}/messages"),
            &c.token,
            json!({"type": "TEXT", "body": "answer", "user": {"username": "bob"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["nested_level"], 1);
    assert!(r.body["_links"].get("reply_thread").is_none());
    let replies = c
        .app
        .pget(&format!("{thread_path}/messages"), &c.token)
        .await;
    assert_eq!(replies.body["_embedded"]["messages"][0]["body"], "answer");
    let again = c
        .app
        .pget(&path_of(&c.app, &m["_links"]["self"]), &c.token)
        .await;
    assert_eq!(again.body["replies_count"], 1);
    // A message sent to the MAIN thread is a top-level message of the channel.
    let r = c
        .app
        .ppost(
            &format!("{main_path}/messages"),
            &c.token,
            json!({"type": "TEXT", "body": "top", "user": {"username": "bob"}}),
        )
        .await;
    assert_eq!(r.body["nested_level"], 0);
    assert_platform_error(
        &c.app.pget("/threads/999999", &c.token).await,
        404,
        "ResourceNotFoundError",
    );
}

#[tokio::test]
async fn get_edit_and_delete_messages() {
    let c = chat().await;
    let m = c.text(c.general, "alice", "hello").await;
    let at = format!("/messages/{}", m["id"]);
    let got = c.app.pget(&at, &c.token).await;
    assert_eq!(got.body, m);
    let e = c
        .app
        .ppatch(
            &at,
            &c.token,
            json!({"body": "edited @bob", "properties": {"x": 1}}),
        )
        .await;
    assert_eq!(e.status, 200, "{}", e.text);
    assert_eq!(e.body["body"], "edited @bob");
    assert_eq!(e.body["properties"], json!({"x": 1}));
    assert_eq!(e.body["mentions"][0]["user"]["name"], "bob");
    assert!(e.body["last_edited_time"].as_str().is_some());
    let reply_thread = path_of(&c.app, &m["_links"]["reply_thread"]);
    let reply = c
        .app
        .ppost(
            &format!("{reply_thread}/messages"),
            &c.token,
            json!({"type": "TEXT", "body": "re", "user": {"username": "bob"}}),
        )
        .await;
    let d = c.app.pdelete(&at, &c.token).await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(d.body["type"], "MESSAGE");
    assert_eq!(path_of(&c.app, &d.body["_links"]["self"]), reply_thread);
    assert_platform_error(
        &c.app.pget(&at, &c.token).await,
        404,
        "ResourceNotFoundError",
    );
    // The replies went with it.
    let r = c
        .app
        .pget(&format!("/messages/{}", reply.body["id"]), &c.token)
        .await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");
    assert_platform_error(
        &c.app.pget(&reply_thread, &c.token).await,
        404,
        "ResourceNotFoundError",
    );
    // A message of a deleted channel is gone too.
    let n = c.text(c.secret, "alice", "soon gone").await;
    assert_eq!(
        c.app
            .pdelete(&format!("/channels/{}", c.secret), &c.token)
            .await
            .status,
        200
    );
    let r = c
        .app
        .pget(&format!("/messages/{}", n["id"]), &c.token)
        .await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");
}

#[tokio::test]
async fn deleting_all_messages_touches_only_the_callers_application() {
    let c = chat().await;
    c.text(c.general, "alice", "one").await;
    let other = c.app.other_application("other-org").await;
    c.app
        .create_chat_user(&other.token, json!({"name": "zed"}))
        .await;
    let ch = c
        .app
        .ppost(
            "/channels",
            &other.token,
            json!({"type": "PUBLIC", "name": "x"}),
        )
        .await;
    let theirs = c
        .app
        .ppost(
            &format!("/channels/{}/messages", ch.body["id"]),
            &other.token,
            json!({"type": "TEXT", "body": "theirs", "user": {"username": "zed"}}),
        )
        .await;
    assert_eq!(theirs.status, 200, "{}", theirs.text);
    // Another application's message is no message of ours.
    let at = format!("/messages/{}", theirs.body["id"]);
    assert_platform_error(
        &c.app.pget(&at, &c.token).await,
        404,
        "ResourceNotFoundError",
    );
    assert_platform_error(
        &c.app.pdelete(&at, &c.token).await,
        404,
        "ResourceNotFoundError",
    );
    let d = c.app.pdelete("/messages", &c.token).await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert!(d.body["key"].is_string(), "{}", d.text);
    let mine = c.app.pget("/messages", &c.token).await;
    assert_eq!(mine.body["_embedded"]["messages"], json!([]));
    assert_eq!(c.app.pget(&at, &other.token).await.status, 200);
}

#[tokio::test]
async fn messages_at_the_three_prefixes() {
    let c = chat().await;
    let app_prefix = format!("/v1/applications/{}", c.app.app_id);
    for prefix in ["", "/v1", app_prefix.as_str()] {
        let r = c
            .app
            .ppost(
                &format!("{prefix}/channels/{}/messages", c.general),
                &c.token,
                json!({
                    "type": "TEXT", "body": "hi @bob, see https://example.com", "group_tag": "t",
                    "properties": {"snake_key": 1}, "user": {"username": "alice"}
                }),
            )
            .await;
        assert_eq!(r.status, 200, "{prefix}: {}", r.text);
        let id = r.body["id"].as_i64().expect("id");
        let self_href = format!("{}{prefix}/messages/{id}", c.app.base);
        assert_eq!(r.body["_links"]["self"]["href"], self_href);
        let camel = !prefix.is_empty();
        let key = |snake: &str, camel_name: &str| {
            if camel {
                camel_name.to_string()
            } else {
                snake.to_string()
            }
        };
        assert_eq!(
            r.body[key("channel_id", "channelId")],
            c.general,
            "{prefix}"
        );
        assert_eq!(r.body[key("group_tag", "groupTag")], "t", "{prefix}");
        assert_eq!(r.body[key("nested_level", "nestedLevel")], 0, "{prefix}");
        // Nested resources are renamed too; user data (properties) and link relations are not.
        assert_eq!(r.body["properties"], json!({"snake_key": 1}), "{prefix}");
        let mention = &r.body["mentions"][0];
        assert_eq!(
            mention[key("start_position", "startPosition")],
            3,
            "{prefix}"
        );
        assert_eq!(mention["user"]["name"], "bob", "{prefix}");
        assert!(mention["user"][key("display_name", "displayName")].is_string());
        assert_eq!(mention["user"]["isGuest"], false, "{prefix}");
        assert_eq!(r.body["links"][0][key("end_position", "endPosition")], 32);
        assert!(r.body["_links"]["read_receipts"]["href"].is_string());
        let got = c
            .app
            .pget(&format!("{prefix}/messages/{id}"), &c.token)
            .await;
        assert_eq!(got.status, 200);
        assert_eq!(
            got.body, r.body,
            "{prefix}: a GET shows what the send answered"
        );
        let page = c
            .app
            .pget(
                &format!("{prefix}/channels/{}/messages", c.general),
                &c.token,
            )
            .await;
        assert_eq!(page.status, 200);
        assert_eq!(page.body["_embedded"]["messages"][0], r.body, "{prefix}");
        assert!(page.body["page"]["size"].is_number());
    }
}

#[tokio::test]
async fn typing_in_a_thread_is_echoed_and_checked() {
    let c = chat().await;
    let m = c.text(c.general, "alice", "question").await;
    let thread_path = path_of(&c.app, &m["_links"]["reply_thread"]);
    let r = c
        .app
        .ppost(
            &format!("{thread_path}/keystrokes"),
            &c.token,
            json!({"keys": "ans", "user": {"username": "bob"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"keys": "ans", "username": "bob"}));
    // Unknown thread, missing keys, unknown user.
    let r = c
        .app
        .ppost(
            "/threads/999999/keystrokes",
            &c.token,
            json!({"keys": "x", "user": {"username": "bob"}}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = c
        .app
        .ppost(
            &format!("{thread_path}/keystrokes"),
            &c.token,
            json!({"user": {"username": "bob"}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = c
        .app
        .ppost(
            &format!("{thread_path}/keystrokes"),
            &c.token,
            json!({"keys": "x", "user": {"username": "nobody"}}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[tokio::test]
async fn senders_and_mentions_are_named_in_the_callers_application_only() {
    let c = chat().await;
    let other = c.app.other_application("other-org").await;
    c.app
        .create_chat_user(&other.token, json!({"name": "zed"}))
        .await;
    let ch = c
        .app
        .ppost(
            "/channels",
            &other.token,
            json!({"type": "PUBLIC", "name": "x"}),
        )
        .await;
    let at = format!("/channels/{}/messages", ch.body["id"]);
    // alice is a user of the first application only: no sender here.
    let r = c
        .app
        .ppost(
            &at,
            &other.token,
            json!({"type": "TEXT", "body": "hi", "user": {"username": "alice"}}),
        )
        .await;
    let explanation = assert_platform_error(&r, 404, "ResourceNotFoundError");
    assert!(explanation.contains("alice"), "{explanation}");
    // ... and no mention either; zed, of this application, is one.
    let r = c
        .app
        .ppost(
            &at,
            &other.token,
            json!({"type": "TEXT", "body": "@alice @zed", "user": {"username": "zed"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let tags: Vec<&str> = r.body["mentions"]
        .as_array()
        .expect("mentions")
        .iter()
        .map(|m| m["tag"].as_str().expect("tag"))
        .collect();
    assert_eq!(tags, ["zed"], "{}", r.text);
    assert_eq!(r.body["mentions"][0]["user"]["name"], "zed");
}
