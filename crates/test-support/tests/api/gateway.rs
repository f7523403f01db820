//! The real-time gateway over a real WebSocket: StompX sessions (`/rtm/websocket`), relays,
//! actions and topics as `@chatkitty/core` uses them, following the resources' `_relays`,
//! `_actions` and `_topics`; and what it refuses: bad keys, unknown users, frames out of order or
//! malformed, destinations and channels the session may not reach.

use palaver_gateway::destinations::Topic;
use palaver_gateway::frame::{Command, Frame};
use palaver_service::platform::Event;
use palaver_service::AppPrincipal;
use palaver_test_support::stomp::{FrameExt, StompClient, QUIET, SUBPROTOCOL, WAIT};
use palaver_test_support::TestApp;
use serde_json::{json, Value};

pub(crate) const ERRORS: &str = "/user/queue/errors";

/// A server whose application lets any username start a (guest) session, and its token.
pub(crate) async fn live() -> (TestApp, String) {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    enable_guests(&app, &token).await;
    (app, token)
}

pub(crate) async fn enable_guests(app: &TestApp, token: &str) {
    let r = app
        .pput(
            "/application/settings",
            token,
            json!({"guest_users": "ENABLED"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Creates chat users over REST.
pub(crate) async fn users(app: &TestApp, token: &str, names: &[&str]) {
    for name in names {
        app.create_chat_user(token, json!({"name": name})).await;
    }
}

/// Creates a channel over REST and returns its id.
pub(crate) async fn channel(app: &TestApp, token: &str, body: Value) -> i64 {
    let r = app.ppost("/channels", token, body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["id"].as_i64().expect("channel id")
}

/// Sends a TEXT message over REST as `user`.
pub(crate) async fn rest_message(app: &TestApp, token: &str, channel: i64, user: &str, body: &str) {
    let r = app
        .ppost(
            &format!("/channels/{channel}/messages"),
            token,
            json!({"type": "TEXT", "body": body, "user": {"username": user}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// The bodies of a channel's messages as REST lists them.
async fn rest_bodies(app: &TestApp, token: &str, channel: i64) -> Vec<String> {
    let r = app
        .pget(&format!("/channels/{channel}/messages"), token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut bodies: Vec<String> = r.body["_embedded"]["messages"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .filter_map(|m| m["body"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    bodies.sort();
    bodies
}

/// `HEAD /users?name=`: 200 when the application has a user of that name, else 404.
async fn user_status(app: &TestApp, token: &str, name: &str) -> u16 {
    app.pcall(
        "HEAD",
        &format!("/users?name={name}"),
        Some(token),
        &[],
        None,
    )
    .await
    .status
}

pub(crate) fn text<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {v}"))
}

/// The current user, the first thing the client relays.
pub(crate) async fn me(c: &mut StompClient) -> Value {
    c.relay("/application/user.relay", &[]).await
}

/// The current user's id, relayed again: the session still answers.
async fn me_again(c: &mut StompClient) -> Value {
    me(c).await["id"].clone()
}

/// The channel named `name` in the page a relay of the current user answers.
async fn channel_in(c: &mut StompClient, relay: &Value, name: &str) -> Value {
    let page = c.relay(text(relay, "relay"), &[]).await;
    page["_embedded"]["channels"]
        .as_array()
        .and_then(|cs| cs.iter().find(|ch| ch["name"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("no channel {name} in {page}"))
}

/// Checks a fatal STOMP ERROR of `kind`; returns its message.
pub(crate) fn assert_stomp_error(f: &Frame, kind: &str) -> String {
    assert_eq!(f.command, Command::Error, "{}", f.describe());
    assert_eq!(f.get("message"), Some(kind), "{}", f.describe());
    let body = f.json();
    assert_eq!(body["error"], kind, "{}", f.describe());
    text(&body["message"], "message").to_string()
}

/// Checks an error MESSAGE on `/user/queue/errors` of `kind` that answers `header: id`;
/// returns its message.
pub(crate) fn assert_queued_error(f: &Frame, header: &str, id: &str, kind: &str) -> String {
    assert_eq!(f.command, Command::Message, "{}", f.describe());
    assert_eq!(f.get("destination"), Some(ERRORS), "{}", f.describe());
    assert_eq!(f.get(header), Some(id), "{}", f.describe());
    let body = f.json();
    assert_eq!(body["error"], kind, "{}", f.describe());
    text(&body["message"], "message").to_string()
}

/// Waits for what answers `header: id` on the errors queue.
pub(crate) async fn error_for(c: &mut StompClient, header: &str, id: &str) -> Frame {
    c.wait_for(|f| f.get("destination") == Some(ERRORS) && f.get(header) == Some(id))
        .await
}

/// Waits for the MESSAGE that carries an action's result (`receipt-id`), and checks that the
/// action's RECEIPT came before it.
pub(crate) async fn action_result(c: &mut StompClient, receipt: &str) -> Frame {
    let frames = c
        .frames_until(
            |f| f.command == Command::Message && f.get("receipt-id") == Some(receipt),
            WAIT,
        )
        .await;
    let receipt_at = frames
        .iter()
        .position(|f| f.command == Command::Receipt && f.get("receipt-id") == Some(receipt));
    assert!(
        receipt_at.is_some(),
        "no RECEIPT before the result of {receipt}: {:#?}",
        frames.iter().map(FrameExt::describe).collect::<Vec<_>>()
    );
    frames.into_iter().last().expect("the result")
}

/// Waits for the next topic event of `kind`.
pub(crate) async fn event(c: &mut StompClient, kind: &str) -> Value {
    c.wait_for(|f| f.is_event(kind)).await.json()["resource"].clone()
}

pub(crate) fn principal(app: &TestApp) -> AppPrincipal {
    AppPrincipal {
        application_id: app.app_id,
        organisation_id: app.org_id.clone(),
    }
}

#[tokio::test]
async fn the_subprotocol_is_echoed_and_connect_starts_a_session() {
    let (app, _) = live().await;
    let mut c = StompClient::connect(&app, &app.api_key).await;
    assert_eq!(c.protocol.as_deref(), Some(SUBPROTOCOL));
    let f = c.connect_as("alice").await;
    assert_eq!(f.command, Command::Connected, "{}", f.describe());
    assert_eq!(f.get("version"), Some("1.2"));
    let session = f.get("session").expect("session header").to_string();
    assert!(!session.is_empty());
    let beats: Vec<u64> = f
        .get("heart-beat")
        .expect("heart-beat header")
        .split(',')
        .map(|n| n.parse().expect("heart-beat numbers"))
        .collect();
    assert_eq!(beats.len(), 2, "{}", f.describe());

    // A second CONNECT on a started session is refused, and ends it.
    let again = c.connect_as("alice").await;
    assert_stomp_error(&again, "InvalidFrameError");
    assert!(c.is_closed(WAIT).await);

    // A reconnecting client names its session and keeps its id (the SDK sends it back).
    let mut back = StompClient::connect(&app, &app.api_key).await;
    back.send_frame(
        Command::Connect,
        &[
            ("accept-version", "1.2"),
            ("heart-beat", "0,0"),
            ("StompX-User", "alice"),
            ("StompX-Auth-Session-ID", &session),
        ],
        b"",
    )
    .await;
    let f = back.expect_frame("CONNECTED").await;
    assert_eq!(f.command, Command::Connected, "{}", f.describe());
    assert_eq!(f.get("session"), Some(session.as_str()));
}

#[tokio::test]
async fn a_guest_session_relays_its_user_and_creates_it() {
    let (app, token) = live().await;
    assert_eq!(user_status(&app, &token, "guest-1").await, 404);

    let mut c = StompClient::session(&app, "guest-1").await;
    let me = me(&mut c).await;
    assert_eq!(me["name"], "guest-1");
    assert_eq!(me["presence"]["online"], true);
    assert_eq!(me["isGuest"], true);
    assert_eq!(me["_relays"]["self"], "/application/user.relay");
    for relay in ["channels", "channelsCount", "unreadMessagesCount"] {
        assert!(me["_relays"][relay].is_string(), "{relay} in {me}");
    }
    let topics = me["_topics"].as_object().expect("_topics");
    assert_eq!(topics.len(), 14, "{me}");
    for (name, dest) in topics {
        assert_eq!(dest, &json!(format!("/user/topic/{name}")));
    }
    assert_eq!(
        me["_actions"]["createChannel"],
        "/application/user/create_channel.action"
    );

    // The guest is a user of the application now, for REST as well.
    assert_eq!(user_status(&app, &token, "guest-1").await, 200);
    let r = app
        .pget_query("/users", &token, &[("name", "guest-1")])
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let listed = &r.body["_embedded"]["users"];
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{}", r.text);
    assert_eq!(listed[0]["id"], me["id"]);
    assert_eq!(listed[0]["isGuest"], true);

    // The same name again is the same user, not a second one.
    let mut again = StompClient::session(&app, "guest-1").await;
    let me_again = self::me(&mut again).await;
    assert_eq!(me_again["id"], me["id"]);
}

#[tokio::test]
async fn with_guests_disabled_a_session_is_refused() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    // An unknown username: refused, and no user is made.
    let mut c = StompClient::connect(&app, &app.api_key).await;
    let f = c.connect_as("stranger").await;
    assert_stomp_error(&f, "AccessDeniedError");
    assert!(c.is_closed(WAIT).await);
    assert_eq!(user_status(&app, &token, "stranger").await, 404);

    // A known user too: without a start-session function nobody decides to let it in.
    users(&app, &token, &["alice"]).await;
    let mut c = StompClient::connect(&app, &app.api_key).await;
    let f = c.connect_as("alice").await;
    assert_stomp_error(&f, "AccessDeniedError");
    assert!(c.is_closed(WAIT).await);

    // No username at all.
    let mut c = StompClient::connect(&app, &app.api_key).await;
    c.send_frame(Command::Connect, &[("accept-version", "1.2")], b"")
        .await;
    assert_stomp_error(&c.expect_frame("ERROR").await, "AccessDeniedError");
    assert!(c.is_closed(WAIT).await);
}

#[tokio::test]
async fn a_wrong_api_key_is_refused() {
    let (app, _) = live().await;
    for key in ["not-a-key", ""] {
        let mut c = StompClient::connect(&app, key).await;
        let f = c.connect_as("alice").await;
        assert_stomp_error(&f, "AccessDeniedError");
        assert!(c.is_closed(WAIT).await, "key {key:?}");
    }
}

#[tokio::test]
async fn frames_before_connect_are_refused() {
    let (app, _) = live().await;
    let mut c = StompClient::connect(&app, &app.api_key).await;
    c.send_action("/application/user/create_channel.action", "r-1", &json!({}))
        .await;
    let f = c.expect_frame("ERROR").await;
    let message = assert_stomp_error(&f, "AccessDeniedError");
    assert!(message.contains("CONNECT"), "{message}");
    assert!(c.is_closed(WAIT).await);

    let mut c = StompClient::connect(&app, &app.api_key).await;
    c.subscribe("sub-0", "/application/user.relay", &[]).await;
    assert_stomp_error(&c.expect_frame("ERROR").await, "AccessDeniedError");
    assert!(c.is_closed(WAIT).await);
}

#[tokio::test]
async fn a_malformed_frame_closes_the_connection() {
    let (app, _) = live().await;
    let mut c = StompClient::connect(&app, &app.api_key).await;
    c.raw("BOGUS\n\n\0").await;
    let message = assert_stomp_error(&c.expect_frame("ERROR").await, "InvalidFrameError");
    assert!(message.contains("BOGUS"), "{message}");
    assert!(c.is_closed(WAIT).await);

    // In a started session too: a header line without a colon.
    let mut c = StompClient::session(&app, "alice").await;
    c.raw("SEND\nno-colon-here\n\n\0").await;
    assert_stomp_error(&c.expect_frame("ERROR").await, "InvalidFrameError");
    assert!(c.is_closed(WAIT).await);

    // A server frame sent by the client.
    let mut c = StompClient::session(&app, "alice").await;
    c.send_frame(Command::Message, &[("destination", "/x")], b"")
        .await;
    assert_stomp_error(&c.expect_frame("ERROR").await, "InvalidFrameError");
    assert!(c.is_closed(WAIT).await);
}

#[tokio::test]
async fn an_oversize_frame_closes_the_connection() {
    let (app, token) = live().await;
    users(&app, &token, &["alice"]).await;
    let ch = channel(
        &app,
        &token,
        json!({"type": "PUBLIC", "name": "lobby", "creator": {"username": "alice"}}),
    )
    .await;
    let dest = format!("/application/channels/{ch}/message.action");
    let big = json!({"type": "TEXT", "body": "x".repeat(70 * 1024)}).to_string();

    // Announced by its content-length.
    let mut c = StompClient::session(&app, "alice").await;
    c.send_frame(
        Command::Send,
        &[("destination", &dest), ("receipt", "big-1")],
        big.as_bytes(),
    )
    .await;
    let message = assert_stomp_error(&c.expect_frame("ERROR").await, "InvalidFrameError");
    assert!(message.contains("65536"), "{message}");
    assert!(c.is_closed(WAIT).await);

    // Or only ended by its NUL.
    let mut c = StompClient::session(&app, "alice").await;
    c.raw(format!("SEND\ndestination:{dest}\n\n{big}\0")).await;
    let message = assert_stomp_error(&c.expect_frame("ERROR").await, "InvalidFrameError");
    assert!(message.contains("65536"), "{message}");
    assert!(c.is_closed(WAIT).await);

    assert!(rest_bodies(&app, &token, ch).await.is_empty());
}

#[tokio::test]
async fn counts_follow_unread_messages() {
    let (app, token) = live().await;
    users(&app, &token, &["alice", "bob"]).await;
    let ch = channel(
        &app,
        &token,
        json!({"type": "PRIVATE", "name": "pair", "creator": {"username": "bob"},
               "members": [{"username": "alice"}]}),
    )
    .await;
    let mut c = StompClient::session(&app, "alice").await;
    let me = me(&mut c).await;
    let channels_count = text(&me["_relays"]["channelsCount"], "channelsCount").to_string();
    let unread_messages = text(&me["_relays"]["unreadMessagesCount"], "count").to_string();
    assert_eq!(channels_count, "/application/user/channels.count.relay");
    assert_eq!(
        unread_messages,
        "/application/user/unread_messages.count.relay"
    );
    let unread = [("unread", "true")];

    assert_eq!(c.relay(&channels_count, &[]).await, json!({"count": 1}));
    assert_eq!(c.relay(&channels_count, &unread).await, json!({"count": 0}));
    assert_eq!(
        c.relay(&unread_messages, &unread).await,
        json!({"count": 0})
    );

    rest_message(&app, &token, ch, "bob", "are you there?").await;
    assert_eq!(c.relay(&channels_count, &unread).await, json!({"count": 1}));
    assert_eq!(
        c.relay(&unread_messages, &unread).await,
        json!({"count": 1})
    );
    // Her own messages are not unread to her.
    rest_message(&app, &token, ch, "alice", "yes").await;
    assert_eq!(
        c.relay(&unread_messages, &unread).await,
        json!({"count": 1})
    );
}

#[tokio::test]
async fn create_channel_answers_on_the_user_topic() {
    let (app, token) = live().await;
    let mut c = StompClient::session(&app, "alice").await;
    let me = me(&mut c).await;
    let topic = text(&me["_topics"]["channels"], "channels topic").to_string();
    assert_eq!(topic, "/user/topic/channels");
    c.listen("errors", ERRORS).await;
    c.listen("my-channels", &topic).await;
    let create = text(&me["_actions"]["createChannel"], "createChannel").to_string();
    c.send_action(&create, "create-1", &json!({"type": "PUBLIC", "name": "x"}))
        .await;
    let f = action_result(&mut c, "create-1").await;
    assert_eq!(f.get("destination"), Some(topic.as_str()));
    assert_eq!(f.get("subscription"), Some("my-channels"));
    let body = f.json();
    assert_eq!(body["type"], "user.channel.created", "{body}");
    let created = &body["resource"];
    assert_eq!(
        (&created["type"], &created["name"]),
        (&json!("PUBLIC"), &json!("x"))
    );
    // Its creator is a member: it may leave, not join.
    assert!(created["_actions"]["leave"].is_string(), "{created}");
    assert!(created["_actions"]["join"].is_null(), "{created}");

    let id = created["id"].as_i64().expect("id");
    let r = app.pget(&format!("/channels/{id}"), &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "x");
    assert_eq!(r.body["creator"]["name"], "alice");
    // And the relay of her channels lists it.
    let listed = channel_in(&mut c, &me["_relays"]["channels"], "x").await;
    assert_eq!(listed["id"], json!(id));

    // A channel the service refuses: the error answers the receipt, the session goes on.
    c.send_action(&create, "create-2", &json!({"type": "NOPE", "name": "y"}))
        .await;
    let f = error_for(&mut c, "receipt-id", "create-2").await;
    assert_queued_error(&f, "receipt-id", "create-2", "InvalidParameterError");
    assert_eq!(me_again(&mut c).await, me["id"]);
}

/// alice (creator) and bob (not yet a member) around the PUBLIC channel "lobby", both with a
/// session; alice listens to her messages topic and the channel's.
struct Lobby {
    app: TestApp,
    token: String,
    id: i64,
    alice: StompClient,
    bob: StompClient,
    /// The channel resource as alice relays it.
    channel: Value,
}

async fn lobby() -> Lobby {
    let (app, token) = live().await;
    users(&app, &token, &["alice", "bob"]).await;
    let id = channel(
        &app,
        &token,
        json!({"type": "PUBLIC", "name": "lobby", "creator": {"username": "alice"}}),
    )
    .await;
    let mut alice = StompClient::session(&app, "alice").await;
    let me = me(&mut alice).await;
    let channel = channel_in(&mut alice, &me["_relays"]["channels"], "lobby").await;
    alice.listen("errors", ERRORS).await;
    alice
        .listen("my-messages", text(&me["_topics"]["messages"], "messages"))
        .await;
    alice
        .listen(
            "lobby-messages",
            text(&channel["_topics"]["messages"], "channel messages"),
        )
        .await;
    let bob = StompClient::session(&app, "bob").await;
    Lobby {
        app,
        token,
        id,
        alice,
        bob,
        channel,
    }
}

impl Lobby {
    /// bob joins through the channel's `join` action and listens to its messages.
    async fn bob_joins(&mut self) {
        let bob = &mut self.bob;
        let me = me(bob).await;
        bob.listen("errors", ERRORS).await;
        bob.listen("my-channels", text(&me["_topics"]["channels"], "channels"))
            .await;
        let joinable = channel_in(bob, &me["_relays"]["joinableChannels"], "lobby").await;
        let join = text(&joinable["_actions"]["join"], "join").to_string();
        bob.send_action(&join, "join-1", &json!({})).await;
        let f = action_result(bob, "join-1").await;
        let body = f.json();
        assert_eq!(body["type"], "user.channel.joined", "{body}");
        assert_eq!(body["resource"]["id"], json!(self.id));
        assert!(body["resource"]["_actions"]["join"].is_null(), "{body}");
        bob.listen(
            "lobby-messages",
            text(&joinable["_topics"]["messages"], "channel messages"),
        )
        .await;
    }

    /// alice sends a TEXT message through the channel's `message` action; answers the result.
    async fn alice_says(&mut self, receipt: &str, body: &str) -> Value {
        let action = text(&self.channel["_actions"]["message"], "message").to_string();
        self.alice
            .send_action(&action, receipt, &json!({"type": "TEXT", "body": body}))
            .await;
        let f = action_result(&mut self.alice, receipt).await;
        let result = f.json();
        assert_eq!(result["type"], "user.message.created", "{result}");
        result["resource"].clone()
    }
}

#[tokio::test]
async fn two_sessions_chat_in_a_public_channel() {
    let mut l = lobby().await;
    l.bob_joins().await;
    let r = l
        .app
        .pget(&format!("/channels/{}/members", l.id), &l.token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("\"bob\""), "{}", r.text);

    let sent = l.alice_says("msg-1", "hi").await;
    assert_eq!(sent["body"], "hi");
    assert_eq!(sent["user"]["name"], "alice");
    let f = l
        .bob
        .wait_for(|f| f.is_event("channel.message.created"))
        .await;
    assert_eq!(
        f.get("destination").map(str::to_string),
        Some(Topic::Channel(l.id, "messages").destination())
    );
    assert_eq!(f.get("subscription"), Some("lobby-messages"));
    let got = &f.json()["resource"];
    assert_eq!(got["body"], "hi");
    assert_eq!(got["user"]["name"], "alice");
    assert_eq!(got["id"], sent["id"]);

    // A message sent over REST arrives live as well.
    rest_message(&l.app, &l.token, l.id, "alice", "from rest").await;
    let got = event(&mut l.bob, "channel.message.created").await;
    assert_eq!(got["body"], "from rest");

    // Several in a row arrive in the order they were sent.
    let action = text(&l.channel["_actions"]["message"], "message").to_string();
    let bodies: Vec<String> = (0..5).map(|i| format!("burst {i}")).collect();
    for (i, body) in bodies.iter().enumerate() {
        l.alice
            .send_action(
                &action,
                &format!("burst-{i}"),
                &json!({"type": "TEXT", "body": body}),
            )
            .await;
    }
    let mut arrived = Vec::new();
    while arrived.len() < bodies.len() {
        let got = event(&mut l.bob, "channel.message.created").await;
        arrived.push(text(&got["body"], "body").to_string());
    }
    assert_eq!(arrived, bodies);
    let mut stored = rest_bodies(&l.app, &l.token, l.id).await;
    stored.retain(|b| b.starts_with("burst"));
    assert_eq!(stored, bodies);
}

#[tokio::test]
async fn keystrokes_reach_the_channel_and_are_not_stored() {
    let mut l = lobby().await;
    l.bob_joins().await;
    l.bob
        .listen(
            "keystrokes",
            text(&l.channel["_topics"]["keystrokes"], "keystrokes"),
        )
        .await;
    l.bob
        .listen("typing", text(&l.channel["_topics"]["typing"], "typing"))
        .await;
    let before = l
        .app
        .services
        .platform
        .events_after(&principal(&l.app), 0, 1000)
        .await
        .map_err(|e| e.into_domain())
        .expect("events");

    let action = text(&l.channel["_actions"]["keystrokes"], "keystrokes").to_string();
    l.alice
        .send_action(&action, "keys-1", &json!({"keys": "hel"}))
        .await;
    let frames = l
        .bob
        .frames_until(|f| f.is_event("thread.typing.started"), WAIT)
        .await;
    let strokes = frames
        .iter()
        .find(|f| f.is_event("thread.keystrokes.created"))
        .unwrap_or_else(|| {
            let seen: Vec<String> = frames.iter().map(FrameExt::describe).collect();
            panic!("no keystrokes before typing: {seen:#?}")
        })
        .json();
    assert_eq!(strokes["resource"]["keys"], "hel");
    assert_eq!(strokes["resource"]["username"], "alice");
    let typing = frames.last().expect("typing").json();
    assert_eq!(typing["resource"]["name"], "alice");
    // alice's own answer: she does not listen to the keystrokes topic, so the result comes on
    // one of her own topics.
    let f = action_result(&mut l.alice, "keys-1").await;
    assert_eq!(f.get("subscription"), Some("my-messages"));
    assert_eq!(f.json()["type"], "thread.keystrokes.created");
    assert_eq!(f.json()["resource"]["keys"], "hel");

    let after = l
        .app
        .services
        .platform
        .events_after(&principal(&l.app), 0, 1000)
        .await
        .map_err(|e| e.into_domain())
        .expect("events");
    assert_eq!(after.len(), before.len());
    assert!(!after
        .iter()
        .any(|e| matches!(e.event, Event::Keystrokes { .. })));

    // Keystrokes without keys are refused.
    l.alice.send_action(&action, "keys-2", &json!({})).await;
    let f = error_for(&mut l.alice, "receipt-id", "keys-2").await;
    assert_queued_error(&f, "receipt-id", "keys-2", "InvalidParameterError");
}

#[tokio::test]
async fn a_private_channel_is_closed_to_non_members() {
    let (app, token) = live().await;
    users(&app, &token, &["alice", "carol"]).await;
    let secret = channel(
        &app,
        &token,
        json!({"type": "PRIVATE", "name": "secret", "creator": {"username": "alice"}}),
    )
    .await;
    let lobby = channel(
        &app,
        &token,
        json!({"type": "PUBLIC", "name": "lobby", "creator": {"username": "alice"}}),
    )
    .await;
    let mut carol = StompClient::session(&app, "carol").await;
    carol.listen("errors", ERRORS).await;

    // Its topics: refused on the errors queue, for that subscription.
    let secret_messages = Topic::Channel(secret, "messages").destination();
    carol.subscribe("s-secret", &secret_messages, &[]).await;
    let f = error_for(&mut carol, "subscription-id", "s-secret").await;
    assert_queued_error(&f, "subscription-id", "s-secret", "AccessDeniedError");
    // Its relay.
    carol
        .subscribe(
            "r-secret",
            &format!("/application/channels/{secret}.relay"),
            &[],
        )
        .await;
    let f = error_for(&mut carol, "subscription-id", "r-secret").await;
    assert_queued_error(&f, "subscription-id", "r-secret", "AccessDeniedError");

    // A PUBLIC channel may be listened to without joining...
    let lobby_messages = Topic::Channel(lobby, "messages").destination();
    carol.listen("s-lobby", &lobby_messages).await;
    // ...so a message there, sent after one in the secret channel, comes first: the secret
    // one never comes (the hub publishes events in order).
    rest_message(&app, &token, secret, "alice", "psst").await;
    rest_message(&app, &token, lobby, "alice", "sentinel").await;
    let f = carol.expect_frame("the sentinel").await;
    assert!(f.is_event("channel.message.created"), "{}", f.describe());
    assert_eq!(f.get("subscription"), Some("s-lobby"));
    assert_eq!(f.json()["resource"]["body"], "sentinel");

    // Writing: refused where she is no member, PUBLIC or not, and nothing is stored.
    for (ch, receipt) in [(secret, "w-secret"), (lobby, "w-lobby")] {
        carol
            .send_action(
                &format!("/application/channels/{ch}/message.action"),
                receipt,
                &json!({"type": "TEXT", "body": "intrusion"}),
            )
            .await;
        let f = error_for(&mut carol, "receipt-id", receipt).await;
        assert_queued_error(&f, "receipt-id", receipt, "AccessDeniedError");
    }
    carol
        .send_action(
            &format!("/application/channels/{secret}/keystrokes.action"),
            "k-secret",
            &json!({"keys": "x"}),
        )
        .await;
    let f = error_for(&mut carol, "receipt-id", "k-secret").await;
    assert_queued_error(&f, "receipt-id", "k-secret", "AccessDeniedError");
    // Joining a PRIVATE channel is no way in.
    carol
        .send_action(
            &format!("/application/channels/{secret}/join.action"),
            "j-secret",
            &json!({}),
        )
        .await;
    let f = error_for(&mut carol, "receipt-id", "j-secret").await;
    assert_queued_error(&f, "receipt-id", "j-secret", "AccessDeniedError");

    assert_eq!(rest_bodies(&app, &token, secret).await, ["psst"]);
    assert_eq!(rest_bodies(&app, &token, lobby).await, ["sentinel"]);
    let r = app
        .pget(&format!("/channels/{secret}/members"), &token)
        .await;
    assert!(!r.text.contains("\"carol\""), "{}", r.text);
}

#[tokio::test]
async fn a_removed_member_stops_hearing_a_private_channel() {
    let (app, token) = live().await;
    users(&app, &token, &["alice", "carol"]).await;
    let secret = channel(
        &app,
        &token,
        json!({"type": "PRIVATE", "name": "secret", "creator": {"username": "alice"},
               "members": [{"username": "carol"}]}),
    )
    .await;
    let lobby = channel(
        &app,
        &token,
        json!({"type": "PUBLIC", "name": "lobby", "creator": {"username": "alice"}}),
    )
    .await;
    let mut carol = StompClient::session(&app, "carol").await;
    let me = me(&mut carol).await;
    carol
        .listen("my-channels", text(&me["_topics"]["channels"], "channels"))
        .await;
    let mine = channel_in(&mut carol, &me["_relays"]["channels"], "secret").await;
    carol
        .listen(
            "s-secret",
            text(&mine["_topics"]["messages"], "channel messages"),
        )
        .await;
    carol
        .listen("s-lobby", &Topic::Channel(lobby, "messages").destination())
        .await;
    rest_message(&app, &token, secret, "alice", "while a member").await;
    assert_eq!(
        event(&mut carol, "channel.message.created").await["body"],
        "while a member"
    );

    let r = app
        .pdelete(&format!("/channels/{secret}/members/{}", me["id"]), &token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let left = event(&mut carol, "user.channel.left").await;
    assert_eq!(left["id"], json!(secret));
    // What is said there now is not hers to hear: the sentinel, said after it, comes first.
    rest_message(&app, &token, secret, "alice", "after she left").await;
    rest_message(&app, &token, lobby, "alice", "sentinel").await;
    let f = carol.expect_frame("the sentinel").await;
    assert_eq!(f.get("subscription"), Some("s-lobby"), "{}", f.describe());
    assert_eq!(f.json()["resource"]["body"], "sentinel");
}

#[tokio::test]
async fn another_applications_channel_is_out_of_reach() {
    let (app, token) = live().await;
    users(&app, &token, &["alice"]).await;
    let lobby = channel(
        &app,
        &token,
        json!({"type": "PUBLIC", "name": "lobby", "creator": {"username": "alice"}}),
    )
    .await;
    let other = app.other_application("acme").await;
    enable_guests(&app, &other.token).await;
    users(&app, &other.token, &["dave"]).await;
    let theirs = channel(
        &app,
        &other.token,
        json!({"type": "PUBLIC", "name": "lobby", "creator": {"username": "dave"}}),
    )
    .await;

    // dave, in the other application (its api key), listens to its channel.
    let mut dave = StompClient::connect(&app, &other.api_key).await;
    let f = dave.connect_as("dave").await;
    assert_eq!(f.command, Command::Connected, "{}", f.describe());
    dave.listen("theirs", &Topic::Channel(theirs, "messages").destination())
        .await;

    let mut alice = StompClient::session(&app, "alice").await;
    alice.listen("errors", ERRORS).await;
    alice
        .subscribe(
            "s-theirs",
            &Topic::Channel(theirs, "messages").destination(),
            &[],
        )
        .await;
    let f = error_for(&mut alice, "subscription-id", "s-theirs").await;
    assert_queued_error(&f, "subscription-id", "s-theirs", "ResourceNotFoundError");
    alice
        .subscribe(
            "r-theirs",
            &format!("/application/channels/{theirs}.relay"),
            &[],
        )
        .await;
    let f = error_for(&mut alice, "subscription-id", "r-theirs").await;
    assert_queued_error(&f, "subscription-id", "r-theirs", "ResourceNotFoundError");
    for (action, body) in [
        ("message", json!({"type": "TEXT", "body": "intrusion"})),
        ("join", json!({})),
    ] {
        let receipt = format!("a-{action}");
        alice
            .send_action(
                &format!("/application/channels/{theirs}/{action}.action"),
                &receipt,
                &body,
            )
            .await;
        let f = error_for(&mut alice, "receipt-id", &receipt).await;
        assert_queued_error(&f, "receipt-id", &receipt, "ResourceNotFoundError");
    }
    assert!(rest_bodies(&app, &other.token, theirs).await.is_empty());
    let r = app
        .pget(&format!("/channels/{theirs}/members"), &other.token)
        .await;
    assert!(!r.text.contains("\"alice\""), "{}", r.text);

    // A message there reaches dave and not alice: her first frame is the sentinel of her own
    // application, sent after it.
    alice
        .listen("lobby", &Topic::Channel(lobby, "messages").destination())
        .await;
    rest_message(&app, &other.token, theirs, "dave", "acme only").await;
    rest_message(&app, &token, lobby, "alice", "sentinel").await;
    assert_eq!(
        event(&mut dave, "channel.message.created").await["body"],
        "acme only"
    );
    let f = alice.expect_frame("the sentinel").await;
    assert_eq!(f.get("subscription"), Some("lobby"), "{}", f.describe());
    assert_eq!(f.json()["resource"]["body"], "sentinel");
}

#[tokio::test]
async fn unknown_destinations_and_bad_bodies_answer_errors() {
    let (app, _) = live().await;
    let mut c = StompClient::session(&app, "alice").await;
    let me = me(&mut c).await;
    c.listen("errors", ERRORS).await;

    for (sub, dest) in [
        ("s-1", "/topic/nope"),
        ("s-2", "/user/topic/nope"),
        ("s-3", "/application/user/nope.relay"),
        ("s-4", "/application/user/create_channel.action"),
    ] {
        c.subscribe(sub, dest, &[]).await;
        let f = error_for(&mut c, "subscription-id", sub).await;
        assert_queued_error(&f, "subscription-id", sub, "ResourceNotFoundError");
    }
    for (receipt, dest) in [
        ("r-1", "/application/user/nope.action"),
        ("r-2", "/somewhere/else"),
        ("r-3", "/application/user.relay"),
    ] {
        c.send_action(dest, receipt, &json!({})).await;
        let f = error_for(&mut c, "receipt-id", receipt).await;
        assert_queued_error(&f, "receipt-id", receipt, "ResourceNotFoundError");
    }

    let create = text(&me["_actions"]["createChannel"], "createChannel").to_string();
    c.send_frame(
        Command::Send,
        &[("destination", &create), ("receipt", "r-json")],
        b"{\"type\": \"PUBLIC\", ",
    )
    .await;
    let f = error_for(&mut c, "receipt-id", "r-json").await;
    assert_queued_error(&f, "receipt-id", "r-json", "MalformedRequestError");
    c.send_action(&create, "r-array", &json!([1, 2])).await;
    let f = error_for(&mut c, "receipt-id", "r-array").await;
    assert_queued_error(&f, "receipt-id", "r-array", "InvalidParameterError");

    // None of it ended the session.
    assert_eq!(me_again(&mut c).await, me["id"]);
    let mine = c
        .relay(text(&me["_relays"]["channels"], "channels"), &[])
        .await;
    assert_eq!(mine["page"]["totalElements"], 0, "{mine}");
}

#[tokio::test]
async fn a_failure_before_listening_for_errors_is_fatal() {
    let (app, _) = live().await;
    let mut c = StompClient::session(&app, "alice").await;
    c.send_action("/application/user/nope.action", "r-1", &json!({}))
        .await;
    let frames = c.frames_until(|f| f.command == Command::Error, WAIT).await;
    assert_stomp_error(frames.last().expect("ERROR"), "ResourceNotFoundError");
    assert!(c.is_closed(WAIT).await);
}

#[tokio::test]
async fn disconnect_with_a_receipt_closes() {
    let (app, _) = live().await;
    let mut c = StompClient::session(&app, "alice").await;
    c.send_frame(Command::Disconnect, &[("receipt", "close-0")], b"")
        .await;
    let f = c.expect_frame("RECEIPT close-0").await;
    assert_eq!(
        (f.command, f.get("receipt-id")),
        (Command::Receipt, Some("close-0"))
    );
    assert!(c.is_closed(WAIT).await);
    assert!(c.next_frame(QUIET).await.is_none());
}

#[tokio::test]
async fn own_messages_are_edited_and_deleted_others_are_not() {
    let mut l = lobby().await;
    l.bob_joins().await;
    let sent = l.alice_says("msg-1", "first draft").await;
    let id = sent["id"].as_i64().expect("message id");
    // bob sees it, with the actions every client is given...
    let seen = event(&mut l.bob, "channel.message.created").await;
    assert_eq!(seen["id"], json!(id));

    // ...which the server checks: not his message.
    let edit = text(&seen["_actions"]["edit"], "edit").to_string();
    let delete = text(&seen["_actions"]["delete"], "delete").to_string();
    l.bob
        .send_action(&edit, "bob-edit", &json!({"body": "hijacked"}))
        .await;
    let f = error_for(&mut l.bob, "receipt-id", "bob-edit").await;
    assert_queued_error(&f, "receipt-id", "bob-edit", "AccessDeniedError");
    l.bob.send_action(&delete, "bob-delete", &json!({})).await;
    let f = error_for(&mut l.bob, "receipt-id", "bob-delete").await;
    assert_queued_error(&f, "receipt-id", "bob-delete", "AccessDeniedError");
    let r = l.app.pget(&format!("/messages/{id}"), &l.token).await;
    assert_eq!((r.status, &r.body["body"]), (200, &json!("first draft")));

    // alice edits hers: her result, and the update on the channel's topic.
    assert_eq!(sent["_actions"]["edit"], json!(edit));
    l.alice
        .send_action(&edit, "edit-1", &json!({"body": "final"}))
        .await;
    let f = action_result(&mut l.alice, "edit-1").await;
    assert_eq!(f.json()["type"], "user.message.updated");
    assert_eq!(f.json()["resource"]["body"], "final");
    let updated = event(&mut l.bob, "channel.message.updated").await;
    assert_eq!(
        (&updated["id"], &updated["body"]),
        (&json!(id), &json!("final"))
    );
    let r = l.app.pget(&format!("/messages/{id}"), &l.token).await;
    assert_eq!(r.body["body"], "final", "{}", r.text);

    // And deletes it.
    l.alice.send_action(&delete, "delete-1", &json!({})).await;
    let f = action_result(&mut l.alice, "delete-1").await;
    assert_eq!(f.json()["type"], "user.message.deleted");
    let deleted = event(&mut l.bob, "channel.message.deleted").await;
    assert_eq!(deleted["id"], json!(id));
    let r = l.app.pget(&format!("/messages/{id}"), &l.token).await;
    assert_eq!(r.status, 404, "{}", r.text);
    // Gone, it cannot be edited any more.
    l.alice
        .send_action(&edit, "edit-2", &json!({"body": "again"}))
        .await;
    let f = error_for(&mut l.alice, "receipt-id", "edit-2").await;
    assert_queued_error(&f, "receipt-id", "edit-2", "ResourceNotFoundError");
}
