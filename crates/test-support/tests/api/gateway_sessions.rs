//! Real-time sessions as the platform keeps them: a connection is an ACTIVE user session (its
//! user online) and a channel it opens an ACTIVE chat session (its user a participant), both
//! visible over REST and ended when the connection ends; an instance that stops renewing its
//! lease has its sessions ended by another.

use std::time::{Duration, Instant};

use palaver_gateway::frame::Command;
use palaver_service::AppPrincipal;
use palaver_test_support::stomp::{FrameExt, StompClient, WAIT};
use palaver_test_support::TestApp;
use serde_json::{json, Value};

use crate::gateway::{enable_guests, live};

/// GET `path` until `done` holds of its body, for at most [`WAIT`]: the end of a session is
/// written after the socket closes, on the server's own time.
async fn poll(app: &TestApp, token: &str, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let r = app.pget(path, token).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        if done(&r.body) || Instant::now() > deadline {
            return r.body;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn disconnect(c: &mut StompClient) {
    c.send_frame(Command::Disconnect, &[("receipt", "close-0")], b"")
        .await;
    assert!(
        c.is_closed(WAIT).await,
        "the server closes after DISCONNECT"
    );
}

fn total(page: &Value) -> i64 {
    page["page"]["total_elements"].as_i64().expect("total")
}

#[tokio::test]
async fn a_connection_is_a_user_session_and_an_open_channel_a_chat_session() {
    let (app, token) = live().await;
    for name in ["bob"] {
        app.create_chat_user(&token, json!({"name": name})).await;
    }
    let mut alice = StompClient::session(&app, "alice").await;
    let me = alice.relay("/application/user.relay", &[]).await;
    let alice_id = me["id"].as_i64().expect("id");
    assert_eq!(me["presence"]["online"], true);
    let active = app.pget("/user-sessions?state=ACTIVE", &token).await;
    assert_eq!(active.status, 200, "{}", active.text);
    assert_eq!(total(&active.body), 1);
    let s = &active.body["_embedded"]["sessions"][0];
    assert_eq!(s["state"], "ACTIVE");
    assert_eq!(s["user"]["name"], "alice");
    assert!(s.get("end_time").is_none());
    // Over REST too, alice is online and bob is not.
    let u = app.pget(&format!("/users/{alice_id}"), &token).await;
    assert_eq!(u.body["presence"]["online"], true, "{}", u.text);
    let bob = app.pget("/users?name=bob", &token).await;
    assert_eq!(
        bob.body["_embedded"]["users"][0]["presence"]["online"],
        false
    );

    // Bob watches the channel's participants; alice opens the channel.
    let ch = app
        .ppost(
            "/channels",
            &token,
            json!({"type": "PUBLIC", "name": "room", "creator": {"username": "alice"},
                   "members": [{"username": "bob"}]}),
        )
        .await;
    assert_eq!(ch.status, 200, "{}", ch.text);
    let id = ch.body["id"].as_i64().expect("id");
    let mut bob = StompClient::session(&app, "bob").await;
    bob.listen("p", &format!("/topic/channels/{id}/participants"))
        .await;
    alice
        .listen("self", &format!("/topic/channels/{id}/self"))
        .await;
    let entered = bob
        .wait_for(|f| f.is_event("channel.participant.active"))
        .await;
    assert_eq!(entered.json()["resource"]["name"], "alice");
    let parts = app
        .pget(&format!("/channels/{id}/participants"), &token)
        .await;
    let names: Vec<&str> = parts.body["_embedded"]["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["name"].as_str())
        .collect();
    assert_eq!(names, ["alice"], "{}", parts.text);
    let chats = app.pget("/chat-sessions?state=ACTIVE", &token).await;
    assert_eq!(total(&chats.body), 1, "{}", chats.text);
    let c = &chats.body["_embedded"]["sessions"][0];
    assert_eq!(c["session"]["user"]["name"], "alice");
    assert_eq!(c["state"], "ACTIVE");

    // Alice leaves: her sessions end, bob sees her go, REST shows her offline.
    disconnect(&mut alice).await;
    let left = bob
        .wait_for(|f| f.is_event("channel.participant.inactive"))
        .await;
    assert_eq!(left.json()["resource"]["name"], "alice");
    let ended = poll(&app, &token, "/user-sessions?state=ENDED", |b| {
        total(b) == 1
    })
    .await;
    assert_eq!(total(&ended), 1, "{ended}");
    let s = &ended["_embedded"]["sessions"][0];
    assert_eq!(s["state"], "ENDED");
    assert!(s["end_time"].is_string(), "{s}");
    let u = app.pget(&format!("/users/{alice_id}"), &token).await;
    assert_eq!(u.body["presence"]["online"], false, "{}", u.text);
    let chats = app.pget("/chat-sessions?state=ENDED", &token).await;
    assert_eq!(total(&chats.body), 1, "{}", chats.text);
    let parts = app
        .pget(&format!("/channels/{id}/participants"), &token)
        .await;
    assert_eq!(total(&parts.body), 0, "{}", parts.text);
    // Bob is still connected: one active session, his.
    let active = app.pget("/user-sessions?state=ACTIVE", &token).await;
    assert_eq!(total(&active.body), 1);
    assert_eq!(
        active.body["_embedded"]["sessions"][0]["user"]["name"],
        "bob"
    );
}

#[tokio::test]
async fn session_lists_refuse_an_unknown_state_and_sort() {
    let (app, token) = live().await;
    for path in ["/user-sessions?state=OPEN", "/chat-sessions?state=active"] {
        let r = app.pget(path, &token).await;
        assert_eq!(r.status, 400, "{path}: {}", r.text);
        assert_eq!(r.body["error"], "InvalidParameterError", "{}", r.text);
    }
    let r = app.pget("/user-sessions?sort=user,asc", &token).await;
    assert_eq!(r.status, 400, "{}", r.text);
    // Both namings: camelCase under /v1.
    let r = app.pget("/v1/user-sessions", &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["page"]["totalElements"], 0);
}

#[tokio::test]
async fn the_sessions_of_an_instance_whose_lease_ran_out_are_ended_by_another() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let carol = app.create_chat_user(&token, json!({"name": "carol"})).await;
    let p = AppPrincipal {
        application_id: app.app_id,
        organisation_id: app.org_id.clone(),
    };
    let platform = &app.services.platform;
    let user = platform
        .get_user(&p, carol["id"].as_i64().expect("id"))
        .await
        .expect("user");
    // An instance that took a session and then died: its lease is already over.
    platform
        .start_user_session(&p, &user, "dead-instance", Some("test"))
        .await
        .expect("session");
    platform
        .renew_lease("dead-instance", -1)
        .await
        .expect("lease");
    // A live instance with a lease of its own is left alone.
    platform
        .start_user_session(&p, &user, "live-instance", None)
        .await
        .expect("session");
    platform
        .renew_lease("live-instance", 60_000)
        .await
        .expect("lease");
    let active = app.pget("/user-sessions?state=ACTIVE", &token).await;
    assert_eq!(total(&active.body), 2);
    let ended = platform
        .reap_sessions("reaper", false)
        .await
        .expect("reaped");
    assert_eq!(ended, 1);
    let active = app.pget("/user-sessions?state=ACTIVE", &token).await;
    assert_eq!(total(&active.body), 1, "{}", active.text);
    assert_eq!(
        active.body["_embedded"]["sessions"][0]["user_agent"],
        Value::Null
    );
    // Still online through the live instance's session; reaping again ends nothing.
    let u = platform.get_user(&p, user.id).await.expect("user");
    assert!(u.online);
    assert_eq!(
        platform
            .reap_sessions("reaper", false)
            .await
            .expect("reaped"),
        0
    );
}

/// A session whose user entered channel `id` (created with `alice` and `bob` in it).
async fn room(app: &TestApp, token: &str) -> i64 {
    for name in ["alice", "bob", "carol"] {
        app.create_chat_user(token, json!({"name": name})).await;
    }
    let ch = app
        .ppost(
            "/channels",
            token,
            json!({"type": "PUBLIC", "name": "room", "creator": {"username": "alice"},
                   "members": [{"username": "bob"}, {"username": "carol"}]}),
        )
        .await;
    assert_eq!(ch.status, 200, "{}", ch.text);
    ch.body["id"].as_i64().expect("id")
}

/// Starts a session as `user`, naming an earlier session as the SDK does on a reconnect.
async fn reconnect(app: &TestApp, user: &str, session: &str) -> StompClient {
    let mut c = StompClient::connect(app, &app.api_key).await;
    c.send_frame(
        Command::Connect,
        &[
            ("accept-version", "1.2"),
            ("heart-beat", "0,0"),
            ("StompX-User", user),
            ("StompX-Auth-Session-ID", session),
        ],
        b"",
    )
    .await;
    let f = c.expect_frame("CONNECTED").await;
    assert_eq!(f.command, Command::Connected, "{}", f.describe());
    assert_eq!(f.get("session"), Some(session));
    c
}

fn ids(page: &Value) -> Vec<i64> {
    page["_embedded"]["sessions"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["id"].as_i64()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_dropped_connection_picks_up_its_sessions_again() {
    let (app, token) = live().await;
    let id = room(&app, &token).await;
    let mut bob = StompClient::session(&app, "bob").await;
    bob.listen("p", &format!("/topic/channels/{id}/participants"))
        .await;
    let mut alice = StompClient::connect(&app, &app.api_key).await;
    let connected = alice.connect_as("alice").await;
    let session = connected.get("session").expect("session id").to_string();
    let me = alice.relay("/application/user.relay", &[]).await;
    let me_id = me["id"].as_i64().expect("id");
    alice
        .listen("self", &format!("/topic/channels/{id}/self"))
        .await;
    let entered = bob
        .wait_for(|f| f.is_event("channel.participant.active"))
        .await;
    assert_eq!(entered.json()["resource"]["name"], "alice");
    let users_before = ids(&app.pget("/user-sessions?state=ACTIVE", &token).await.body);
    let chats_before = ids(&app.pget("/chat-sessions?state=ACTIVE", &token).await.body);

    // The socket drops without DISCONNECT; the client comes back naming its session.
    drop(alice);
    let mut alice = reconnect(&app, "alice", &session).await;
    alice
        .listen("self", &format!("/topic/channels/{id}/self"))
        .await;
    assert_eq!(
        ids(&app.pget("/user-sessions?state=ACTIVE", &token).await.body),
        users_before,
        "the same user session goes on"
    );
    assert_eq!(
        ids(&app.pget("/chat-sessions?state=ACTIVE", &token).await.body),
        chats_before,
        "the same chat session goes on"
    );
    let u = app.pget(&format!("/users/{me_id}"), &token).await;
    assert_eq!(u.body["presence"]["online"], true);
    // Bob saw alice neither leave nor come back: the next participant event is carol's.
    let mut carol = StompClient::session(&app, "carol").await;
    carol
        .listen("self", &format!("/topic/channels/{id}/self"))
        .await;
    // (carol going online, then entering): nothing about alice came before.
    let next = bob.wait_for(|f| f.get("subscription") == Some("p")).await;
    assert_eq!(
        next.json()["resource"]["name"],
        "carol",
        "{}",
        next.describe()
    );
    let entered = bob
        .wait_for(|f| f.is_event("channel.participant.active"))
        .await;
    assert_eq!(entered.json()["resource"]["name"], "carol");

    // Someone else naming alice's session gets a session of its own.
    let mut other = reconnect(&app, "carol", &session).await;
    other.relay("/application/user.relay", &[]).await;
    let active = ids(&app.pget("/user-sessions?state=ACTIVE", &token).await.body);
    assert_eq!(active.len(), users_before.len() + 2, "{active:?}");
    disconnect(&mut alice).await;
}

#[tokio::test]
async fn an_unclaimed_dropped_session_ends_after_the_grace() {
    let app = crate::spawn_with(|c| c.session_resume_seconds = 1).await;
    let token = app.platform_token().await;
    enable_guests(&app, &token).await;
    let alice = StompClient::session(&app, "alice").await;
    drop(alice);
    // Still ACTIVE right after the drop, ENDED once the grace has run out.
    let active = app.pget("/user-sessions?state=ACTIVE", &token).await;
    assert_eq!(total(&active.body), 1, "{}", active.text);
    let ended = poll(&app, &token, "/user-sessions?state=ENDED", |b| {
        total(b) == 1
    })
    .await;
    assert_eq!(total(&ended), 1, "{ended}");
    let active = app.pget("/user-sessions?state=ACTIVE", &token).await;
    assert_eq!(total(&active.body), 0, "{}", active.text);
}
