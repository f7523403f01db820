//! The gateway's channel, message, thread and user relays and actions beyond chatting: replies
//! and threads, moderators, invites, changing and deleting channels, what a user sets for
//! itself (mute, hide, clear, delete for me), unread state, contacts, block records and block
//! lists, typing stops and rate limits; each followed through the resources' `_relays`,
//! `_actions` and `_topics`, with the refusals that go with them.

use palaver_gateway::destinations::Topic;
use palaver_gateway::frame::{Command, Frame};
use palaver_service::AppPrincipal;
use palaver_test_support::stomp::{FrameExt, StompClient, QUIET, WAIT};
use palaver_test_support::TestApp;
use serde_json::{json, Value};

const ERRORS: &str = "/user/queue/errors";

/// A server whose application lets any username start a session, and its token.
async fn live_with(adjust: impl FnOnce(&mut palaver::Config)) -> (TestApp, String) {
    let app = crate::spawn_with(adjust).await;
    let token = app.platform_token().await;
    guests(&app, &token).await;
    (app, token)
}

async fn live() -> (TestApp, String) {
    live_with(|_| {}).await
}

async fn guests(app: &TestApp, token: &str) {
    let r = app
        .pput(
            "/application/settings",
            token,
            json!({"guest_users": "ENABLED"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn users(app: &TestApp, token: &str, names: &[&str]) {
    for name in names {
        app.create_chat_user(token, json!({"name": name})).await;
    }
}

async fn channel(app: &TestApp, token: &str, body: Value) -> i64 {
    let r = app.ppost("/channels", token, body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["id"].as_i64().expect("channel id")
}

async fn rest_message(app: &TestApp, token: &str, channel: i64, user: &str, body: &str) -> i64 {
    let r = app
        .ppost(
            &format!("/channels/{channel}/messages"),
            token,
            json!({"type": "TEXT", "body": body, "user": {"username": user}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["id"].as_i64().expect("message id")
}

fn text<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {v}"))
}

/// One user's session: its client, its current user, and the errors queue listened to.
struct Person {
    c: StompClient,
    me: Value,
}

impl Person {
    async fn start(app: &TestApp, name: &str) -> Person {
        let mut c = StompClient::session(app, name).await;
        let me = c.relay("/application/user.relay", &[]).await;
        c.listen("errors", ERRORS).await;
        for t in [
            "channels",
            "messages",
            "users",
            "self",
            "threads",
            "readReceipts",
        ] {
            c.listen(&format!("me-{t}"), text(&me["_topics"][t], t))
                .await;
        }
        Person { c, me }
    }

    fn id(&self) -> i64 {
        self.me["id"].as_i64().expect("user id")
    }

    /// A relay of the current user.
    async fn mine(&mut self, relay: &str, headers: &[(&str, &str)]) -> Value {
        let dest = text(&self.me["_relays"][relay], relay).to_string();
        self.c.relay(&dest, headers).await
    }

    /// The channel `id` as this user relays it.
    async fn channel(&mut self, id: i64) -> Value {
        self.c
            .relay(&format!("/application/channels/{id}.relay"), &[])
            .await
    }

    /// Performs `action` of `resource`; answers the result event's body.
    async fn act(&mut self, resource: &Value, action: &str, receipt: &str, body: Value) -> Value {
        let dest = text(&resource["_actions"][action], action).to_string();
        self.c.send_action(&dest, receipt, &body).await;
        let frames = self
            .c
            .frames_until(
                |f| f.get("receipt-id") == Some(receipt) && f.command == Command::Message,
                WAIT,
            )
            .await;
        assert!(
            frames
                .iter()
                .any(|f| f.command == Command::Receipt && f.get("receipt-id") == Some(receipt)),
            "no RECEIPT for {receipt}"
        );
        let f = frames.last().expect("the result");
        assert_ne!(
            f.get("destination"),
            Some(ERRORS),
            "{action} failed: {}",
            f.describe()
        );
        f.json()
    }

    /// Performs `action` of `resource`, which must fail with `error`; answers the message.
    async fn refused(
        &mut self,
        resource: &Value,
        action: &str,
        receipt: &str,
        body: Value,
        error: &str,
    ) -> String {
        let dest = text(&resource["_actions"][action], action).to_string();
        self.c.send_action(&dest, receipt, &body).await;
        let f = self
            .c
            .wait_for(|f| {
                f.get("destination") == Some(ERRORS) && f.get("receipt-id") == Some(receipt)
            })
            .await;
        queued_error(&f, error)
    }

    /// A relay that must fail with `error`.
    async fn relay_refused(
        &mut self,
        dest: &str,
        headers: &[(&str, &str)],
        sub: &str,
        error: &str,
    ) {
        let mut h = vec![];
        h.extend_from_slice(headers);
        self.c.subscribe(sub, dest, &h).await;
        let f = self
            .c
            .wait_for(|f| {
                f.get("destination") == Some(ERRORS) && f.get("subscription-id") == Some(sub)
            })
            .await;
        queued_error(&f, error);
    }
}

fn queued_error(f: &Frame, error: &str) -> String {
    assert_eq!(f.command, Command::Message, "{}", f.describe());
    let body = f.json();
    assert_eq!(body["error"], error, "{}", f.describe());
    text(&body["message"], "message").to_string()
}

/// Waits for the next event of `kind`; answers its resource.
async fn event(c: &mut StompClient, kind: &str) -> Value {
    c.wait_for(|f| f.is_event(kind)).await.json()["resource"].clone()
}

fn items<'a>(page: &'a Value, name: &str) -> &'a Vec<Value> {
    page["_embedded"][name]
        .as_array()
        .unwrap_or_else(|| panic!("no {name} in {page}"))
}

fn ids(page: &Value, name: &str) -> Vec<i64> {
    items(page, name)
        .iter()
        .map(|v| v["id"].as_i64().expect("id"))
        .collect()
}

fn principal(app: &TestApp) -> AppPrincipal {
    AppPrincipal {
        application_id: app.app_id,
        organisation_id: app.org_id.clone(),
    }
}

/// alice (creator of the PUBLIC channel "club"), bob and carol (its members), dan (in no
/// channel), each with a session.
struct Club {
    app: TestApp,
    token: String,
    id: i64,
    alice: Person,
    bob: Person,
    carol: Person,
}

async fn club_with(adjust: impl FnOnce(&mut palaver::Config)) -> Club {
    let (app, token) = live_with(adjust).await;
    users(&app, &token, &["alice", "bob", "carol", "dan"]).await;
    let id = channel(
        &app,
        &token,
        json!({"type": "PUBLIC", "name": "club", "creator": {"username": "alice"},
               "members": [{"username": "bob"}, {"username": "carol"}]}),
    )
    .await;
    let alice = Person::start(&app, "alice").await;
    let bob = Person::start(&app, "bob").await;
    let carol = Person::start(&app, "carol").await;
    Club {
        app,
        token,
        id,
        alice,
        bob,
        carol,
    }
}

async fn club() -> Club {
    club_with(|_| {}).await
}

impl Club {
    /// `who` sends `body` to the club; answers the message.
    async fn says(who: &mut Person, channel: &Value, receipt: &str, body: &str) -> Value {
        let result = who
            .act(
                channel,
                "message",
                receipt,
                json!({"type": "TEXT", "body": body}),
            )
            .await;
        assert_eq!(result["type"], "user.message.created", "{result}");
        result["resource"].clone()
    }
}

#[tokio::test]
async fn replies_go_to_the_message_thread_and_are_listed_apart() {
    let mut k = club().await;
    let ch = k.alice.channel(k.id).await;
    k.bob
        .c
        .listen("club", text(&ch["_topics"]["messages"], "messages"))
        .await;
    let parent = Club::says(&mut k.alice, &ch, "m-1", "question?").await;
    let result = k
        .bob
        .act(
            &parent,
            "reply",
            "r-1",
            json!({"type": "TEXT", "body": "answer"}),
        )
        .await;
    assert_eq!(result["type"], "user.message.created");
    let reply = &result["resource"];
    assert_eq!(reply["nestedLevel"], 1, "{reply}");
    assert_eq!(reply["user"]["name"], "bob");
    let parent_relay = format!("/application/messages/{}.relay", parent["id"]);
    assert_eq!(reply["_relays"]["parent"], json!(parent_relay));

    // Listeners of the channel hear it as a thread message and as a reply naming its parent.
    let heard = event(&mut k.bob.c, "thread.message.created").await;
    assert_eq!(heard["id"], reply["id"]);
    let heard = k
        .bob
        .c
        .wait_for(|f| {
            f.is_event("channel.message.created") && f.json()["resource"]["id"] == reply["id"]
        })
        .await;
    assert_eq!(
        heard.json()["resource"]["_relays"]["parent"],
        json!(parent_relay)
    );
    assert_eq!(k.bob.c.relay(&parent_relay, &[]).await["body"], "question?");

    // The replies relay and count, and the parent's repliesCount.
    let replies = k
        .alice
        .c
        .relay(text(&parent["_relays"]["replies"], "replies"), &[])
        .await;
    assert_eq!(
        ids(&replies, "messages"),
        vec![reply["id"].as_i64().unwrap()]
    );
    let count = k
        .alice
        .c
        .relay(
            text(&parent["_relays"]["repliesCount"], "repliesCount"),
            &[],
        )
        .await;
    assert_eq!(count, json!({"count": 1}));
    assert_eq!(k.alice.c.relay(&parent_relay, &[]).await["repliesCount"], 1);

    // The channel's history: all of it, the MAIN thread only, or by type.
    let history = text(&ch["_relays"]["messages"], "messages").to_string();
    let all = k.alice.c.relay(&history, &[]).await;
    assert_eq!(items(&all, "messages").len(), 2, "{all}");
    assert_eq!(all["page"]["total"], 2, "{all}");
    let main = k.alice.c.relay(&history, &[("mainThread", "true")]).await;
    assert_eq!(ids(&main, "messages"), vec![parent["id"].as_i64().unwrap()]);
    assert_eq!(main["page"]["total"], 1, "{main}");
    assert_eq!(replies["page"]["total"], 1, "{replies}");
    let files = k.alice.c.relay(&history, &[("type", "FILE")]).await;
    assert!(items(&files, "messages").is_empty(), "{files}");

    // A reply to a reply: refused, as a body that is no message.
    let message = k
        .alice
        .refused(
            reply,
            "reply",
            "r-2",
            json!({"type": "TEXT", "body": "deeper"}),
            "InvalidParameterError",
        )
        .await;
    assert!(message.contains("reply"), "{message}");
    k.alice
        .refused(
            &parent,
            "reply",
            "r-3",
            json!({"type": "TEXT"}),
            "InvalidParameterError",
        )
        .await;
    // dan is no member: he cannot reply in the club.
    let mut dan = Person::start(&k.app, "dan").await;
    dan.refused(
        &parent,
        "reply",
        "r-4",
        json!({"type": "TEXT", "body": "me too"}),
        "AccessDeniedError",
    )
    .await;

    // REST sees the reply in the parent's thread.
    let thread = reply["_relays"]["parent"].clone();
    assert!(thread.is_string());
    let r = k
        .app
        .pget(&format!("/messages/{}", parent["id"]), &k.token)
        .await;
    assert_eq!(r.body["replies_count"], 1, "{}", r.text);
}

#[tokio::test]
async fn history_pages_follow_their_next_relay() {
    let mut k = club().await;
    let ch = k.alice.channel(k.id).await;
    for i in 0..5 {
        rest_message(&k.app, &k.token, k.id, "bob", &format!("m{i}")).await;
    }
    let history = text(&ch["_relays"]["messages"], "messages").to_string();
    let mut page = k.alice.c.relay(&history, &[("size", "2")]).await;
    let mut bodies = Vec::new();
    loop {
        // Every page counts the whole history, as the REST page does.
        assert_eq!(page["page"]["total"], 5, "{page}");
        for m in items(&page, "messages") {
            bodies.push(text(&m["body"], "body").to_string());
        }
        let Some(next) = page["_relays"]["next"].as_str() else {
            break;
        };
        assert!(bodies.len() < 10, "the listing ends");
        // The client sends the first request's headers again with the next relay.
        page = k.alice.c.relay(next, &[("size", "2")]).await;
    }
    assert_eq!(bodies, ["m4", "m3", "m2", "m1", "m0"]);
    let rest = k
        .app
        .pget_query(
            &format!("/channels/{}/messages", k.id),
            &k.token,
            &[("size", "2")],
        )
        .await;
    assert_eq!(rest.body["page"]["total"], 5, "{}", rest.text);
    // The user's own messages page: bob's.
    let mine = k.bob.mine("messages", &[("size", "2")]).await;
    assert_eq!(items(&mine, "messages").len(), 2);
    assert_eq!(mine["page"]["total"], 5, "{mine}");
    assert!(items(&k.alice.mine("messages", &[]).await, "messages").is_empty());
}

#[tokio::test]
async fn standalone_threads_are_created_listed_and_written_to() {
    let mut k = club().await;
    let ch = k.alice.channel(k.id).await;
    let result = k
        .alice
        .act(
            &ch,
            "createThread",
            "t-1",
            json!({"name": "plans", "properties": {"k": 1}}),
        )
        .await;
    assert_eq!(result["type"], "channel.thread.created");
    let thread = result["resource"].clone();
    assert_eq!(thread["type"], "STANDALONE");
    assert_eq!(thread["name"], "plans");
    assert_eq!(thread["properties"], json!({"k": 1}));
    assert_eq!(
        thread["_topics"]["messages"],
        json!(Topic::Channel(k.id, "messages").destination())
    );
    // bob writes in it through its own action; it is no MAIN-thread message.
    k.bob
        .c
        .listen("club", text(&ch["_topics"]["messages"], "messages"))
        .await;
    let sent = k
        .bob
        .act(
            &thread,
            "message",
            "t-2",
            json!({"type": "TEXT", "body": "in the thread"}),
        )
        .await;
    assert_eq!(sent["resource"]["nestedLevel"], 1);
    let heard = event(&mut k.bob.c, "thread.message.created").await;
    assert_eq!(heard["body"], "in the thread");
    let main = k
        .alice
        .c
        .relay(
            text(&ch["_relays"]["messages"], "messages"),
            &[("mainThread", "true")],
        )
        .await;
    assert!(items(&main, "messages").is_empty(), "{main}");

    let threads = text(&ch["_relays"]["threads"], "threads").to_string();
    let listed = k.alice.c.relay(&threads, &[]).await;
    let kinds: Vec<&str> = items(&listed, "threads")
        .iter()
        .map(|t| text(&t["type"], "type"))
        .collect();
    assert_eq!(kinds, ["MAIN", "STANDALONE"], "{listed}");
    let only = k.alice.c.relay(&threads, &[("standalone", "true")]).await;
    assert_eq!(ids(&only, "threads"), vec![thread["id"].as_i64().unwrap()]);
    let no_main = k
        .alice
        .c
        .relay(&threads, &[("includeMainThread", "false")])
        .await;
    assert_eq!(items(&no_main, "threads").len(), 1);
    // Its relays lead back to the channel.
    let back = k
        .alice
        .c
        .relay(text(&thread["_relays"]["channel"], "channel"), &[])
        .await;
    assert_eq!(back["id"], json!(k.id));

    // A thread needs a name; dan (no member) opens none.
    k.alice
        .refused(
            &ch,
            "createThread",
            "t-3",
            json!({"properties": {}}),
            "InvalidParameterError",
        )
        .await;
    let mut dan = Person::start(&k.app, "dan").await;
    dan.refused(
        &ch,
        "createThread",
        "t-4",
        json!({"name": "mine"}),
        "AccessDeniedError",
    )
    .await;
    // Reading a thread resolves on its RECEIPT, with a result too.
    let read = k.alice.act(&thread, "read", "t-5", json!({})).await;
    assert_eq!(read["resource"]["id"], thread["id"]);
}

#[tokio::test]
async fn moderators_change_and_delete_a_channel_and_nobody_else_does() {
    let mut k = club().await;
    let ch = k.bob.channel(k.id).await;
    let bob_ref = json!({"username": "bob"});

    // bob, a plain member, may do none of it.
    for (action, receipt, body) in [
        ("update", "u-1", json!({"displayName": "Bob's club"})),
        ("delete", "u-2", json!({})),
        ("addModerator", "u-3", bob_ref.clone()),
        ("block", "u-4", json!({"username": "carol"})),
    ] {
        let m = k
            .bob
            .refused(&ch, action, receipt, body, "AccessDeniedError")
            .await;
        assert!(m.contains("moderators"), "{m}");
    }

    // alice, its creator, makes him a moderator.
    let mine = k.alice.channel(k.id).await;
    let result = k
        .alice
        .act(&mine, "addModerator", "u-5", bob_ref.clone())
        .await;
    assert_eq!(result["type"], "channel.moderator.added");
    let moderators = k
        .bob
        .c
        .relay(text(&ch["_relays"]["moderators"], "moderators"), &[])
        .await;
    assert_eq!(
        items(&moderators, "users")[0]["name"],
        "bob",
        "{moderators}"
    );
    // Bad bodies and users that are no members.
    k.alice
        .refused(
            &mine,
            "addModerator",
            "u-6",
            json!([1]),
            "InvalidParameterError",
        )
        .await;
    k.alice
        .refused(
            &mine,
            "addModerator",
            "u-7",
            json!({"id": "x"}),
            "InvalidParameterError",
        )
        .await;
    k.alice
        .refused(
            &mine,
            "addModerator",
            "u-8",
            json!({"username": "dan"}),
            "InvalidParameterError",
        )
        .await;
    k.alice
        .refused(
            &mine,
            "addModerator",
            "u-9",
            json!({"username": "nobody"}),
            "ResourceNotFoundError",
        )
        .await;

    // Now he changes it, and carol's channel list hears of it.
    let result = k
        .bob
        .act(
            &ch,
            "update",
            "u-10",
            json!({"displayName": "Bob's club", "properties": {"topic": "x"}}),
        )
        .await;
    assert_eq!(result["type"], "user.channel.updated");
    assert_eq!(result["resource"]["displayName"], "Bob's club");
    let heard = event(&mut k.carol.c, "user.channel.updated").await;
    assert_eq!(heard["displayName"], "Bob's club");
    let r = k.app.pget(&format!("/channels/{}", k.id), &k.token).await;
    assert_eq!(r.body["display_name"], "Bob's club");
    assert_eq!(r.body["properties"], json!({"topic": "x"}));
    k.bob
        .refused(
            &ch,
            "update",
            "u-11",
            json!({"displayName": " "}),
            "InvalidParameterError",
        )
        .await;

    // alice takes it back; he may delete nothing.
    let result = k
        .alice
        .act(&mine, "deleteModerator", "u-12", bob_ref.clone())
        .await;
    assert_eq!(result["type"], "channel.moderator.deleted");
    k.alice
        .refused(
            &mine,
            "deleteModerator",
            "u-13",
            bob_ref,
            "ResourceNotFoundError",
        )
        .await;
    k.bob
        .refused(&ch, "delete", "u-14", json!({}), "AccessDeniedError")
        .await;

    // alice deletes it: the channel's topic and its members' lists are told.
    k.carol
        .c
        .listen("club-self", text(&mine["_topics"]["self"], "self"))
        .await;
    let result = k.alice.act(&mine, "delete", "u-15", json!({})).await;
    assert_eq!(result["type"], "user.channel.deleted");
    assert_eq!(result["resource"]["id"], json!(k.id));
    assert_eq!(
        event(&mut k.carol.c, "channel.self.deleted").await["id"],
        json!(k.id)
    );
    assert_eq!(
        event(&mut k.bob.c, "user.channel.deleted").await["id"],
        json!(k.id)
    );
    let r = k.app.pget(&format!("/channels/{}", k.id), &k.token).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn private_channels_take_invites_from_their_members() {
    let (app, token) = live().await;
    users(&app, &token, &["alice", "bob", "carol"]).await;
    let mut alice = Person::start(&app, "alice").await;
    let create = alice.me.clone();
    let made = alice
        .act(
            &create,
            "createChannel",
            "c-1",
            json!({"type": "PRIVATE", "name": "den"}),
        )
        .await;
    let den = made["resource"].clone();
    let id = den["id"].as_i64().unwrap();
    assert!(den["_actions"]["invite"].is_string(), "{den}");
    assert!(
        den["_actions"].get("join").is_none(),
        "a member joins nothing: {den}"
    );
    let mut bob = Person::start(&app, "bob").await;
    let result = alice
        .act(&den, "invite", "i-1", json!({"user": {"username": "bob"}}))
        .await;
    assert_eq!(result["resource"]["name"], "bob");
    // bob hears of it, with the channel as he may use it: he may join.
    let invited = event(&mut bob.c, "user.channel.invited").await;
    assert_eq!(invited["id"], json!(id));
    let r = app.pget(&format!("/channels/{id}/invites"), &token).await;
    assert!(
        r.text
            .contains(&format!("/users/{}", result["resource"]["id"])),
        "{}",
        r.text
    );
    alice
        .refused(
            &den,
            "invite",
            "i-2",
            json!({"user": "bob"}),
            "InvalidParameterError",
        )
        .await;
    alice
        .refused(&den, "invite", "i-3", json!({}), "InvalidParameterError")
        .await;

    // carol is no member: she invites nobody (nor reads the channel).
    let mut carol = Person::start(&app, "carol").await;
    carol
        .refused(
            &den,
            "invite",
            "i-4",
            json!({"user": {"username": "bob"}}),
            "AccessDeniedError",
        )
        .await;
    carol
        .relay_refused(
            &format!("/application/channels/{id}/messages.count.relay"),
            &[],
            "s-1",
            "AccessDeniedError",
        )
        .await;
    carol
        .refused(
            &den,
            "mute",
            "i-5",
            json!({"state": "ON"}),
            "AccessDeniedError",
        )
        .await;

    // Invited, bob joins: the invite becomes a membership. carol, not invited, may not.
    carol
        .refused(&invited, "join", "j-1", json!({}), "AccessDeniedError")
        .await;
    let joined = bob.act(&invited, "join", "j-2", json!({})).await;
    assert_eq!(joined["type"], "user.channel.joined");
    assert_eq!(joined["resource"]["id"], json!(id));
    let r = app.pget(&format!("/channels/{id}/invites"), &token).await;
    assert_eq!(r.body["page"]["total_elements"], 0, "{}", r.text);
    let r = app.pget(&format!("/channels/{id}/members"), &token).await;
    assert!(r.text.contains("\"name\":\"bob\""), "{}", r.text);

    // A PUBLIC channel takes no invites.
    let made = alice
        .act(
            &create,
            "createChannel",
            "c-2",
            json!({"type": "PUBLIC", "name": "hall"}),
        )
        .await;
    let mut hall = made["resource"].clone();
    hall["_actions"]["invite"] = json!(format!(
        "/application/channels/{}/invite.action",
        hall["id"]
    ));
    alice
        .refused(
            &hall,
            "invite",
            "i-6",
            json!({"user": {"username": "bob"}}),
            "InvalidParameterError",
        )
        .await;
}

#[tokio::test]
async fn mute_hide_and_clear_are_the_users_own() {
    let mut k = club().await;
    let p = principal(&k.app);
    let ch = k.alice.channel(k.id).await;
    let alice = k.alice.id();

    // Muted: the notifications its messages make for alice say so, and only hers.
    let result = k
        .alice
        .act(&ch, "mute", "x-1", json!({"state": "ON"}))
        .await;
    assert_eq!(result["type"], "user.channel.muted");
    rest_message(&k.app, &k.token, k.id, "bob", "while muted").await;
    k.app
        .services
        .platform
        .drain_notifications(&p)
        .await
        .map_err(|e| e.into_domain())
        .unwrap();
    let r = k
        .app
        .pget(&format!("/users/{alice}/notifications"), &k.token)
        .await;
    assert_eq!(
        r.body["_embedded"]["notifications"][0]["muted"], true,
        "{}",
        r.text
    );
    let carol = k.carol.id();
    let r = k
        .app
        .pget(&format!("/users/{carol}/notifications"), &k.token)
        .await;
    assert_eq!(
        r.body["_embedded"]["notifications"][0]["muted"], false,
        "{}",
        r.text
    );
    k.alice
        .act(&ch, "mute", "x-2", json!({"state": "OFF"}))
        .await;
    rest_message(&k.app, &k.token, k.id, "bob", "after").await;
    k.app
        .services
        .platform
        .drain_notifications(&p)
        .await
        .map_err(|e| e.into_domain())
        .unwrap();
    let r = k
        .app
        .pget(&format!("/users/{alice}/notifications"), &k.token)
        .await;
    assert_eq!(
        r.body["_embedded"]["notifications"][0]["muted"], false,
        "{}",
        r.text
    );
    for (receipt, body) in [
        ("x-3", json!({"state": "on"})),
        ("x-4", json!({})),
        ("x-5", json!("ON")),
    ] {
        k.alice
            .refused(&ch, "mute", receipt, body, "InvalidParameterError")
            .await;
    }

    // Hidden: gone from her list until the next message.
    let result = k.alice.act(&ch, "hide", "x-6", json!({})).await;
    assert_eq!(result["type"], "user.channel.hidden");
    assert!(items(&k.alice.mine("channels", &[]).await, "channels").is_empty());
    assert_eq!(
        k.alice.mine("channelsCount", &[]).await,
        json!({"count": 0})
    );
    assert_eq!(
        items(&k.bob.mine("channels", &[]).await, "channels").len(),
        1
    );
    rest_message(&k.app, &k.token, k.id, "bob", "back").await;
    // The message brings it back, and she is told so.
    let back = event(&mut k.alice.c, "user.channel.unhidden").await;
    assert_eq!(back["id"], json!(k.id));
    assert_eq!(
        ids(&k.alice.mine("channels", &[]).await, "channels"),
        vec![k.id]
    );

    // Cleared: the history so far is gone for her, read too; not for bob.
    let history = text(&ch["_relays"]["messages"], "messages").to_string();
    let result = k.alice.act(&ch, "clearHistory", "x-7", json!({})).await;
    assert_eq!(result["resource"]["id"], json!(k.id));
    let cleared = k.alice.c.relay(&history, &[]).await;
    assert!(items(&cleared, "messages").is_empty());
    assert_eq!(cleared["page"]["total"], 0, "{cleared}");
    let theirs = k.bob.c.relay(&history, &[]).await;
    assert_eq!(items(&theirs, "messages").len(), 3);
    assert_eq!(theirs["page"]["total"], 3, "{theirs}");
    let count = text(&ch["_relays"]["messagesCount"], "messagesCount").to_string();
    assert_eq!(k.alice.c.relay(&count, &[]).await, json!({"count": 0}));
    assert_eq!(
        k.alice.c.relay(&count, &[("unread", "true")]).await,
        json!({"count": 0})
    );
    assert_eq!(k.bob.c.relay(&count, &[]).await, json!({"count": 3}));

    // Deleted for her: gone from her history only.
    let m = Club::says(&mut k.bob, &ch, "x-8", "for both").await;
    assert_eq!(
        k.alice.c.relay(&count, &[("unread", "true")]).await,
        json!({"count": 1})
    );
    assert_eq!(k.alice.c.relay(&history, &[]).await["page"]["total"], 1);
    let result = k.alice.act(&m, "deleteForMe", "x-9", json!({})).await;
    assert_eq!(result["type"], "user.message.deleted");
    // Her total leaves it out; bob's does not.
    assert_eq!(k.alice.c.relay(&history, &[]).await["page"]["total"], 0);
    assert_eq!(k.bob.c.relay(&history, &[]).await["page"]["total"], 4);
    // A message deleted for oneself is not waiting to be read.
    assert_eq!(
        k.alice.c.relay(&count, &[("unread", "true")]).await,
        json!({"count": 0})
    );
    let alice = k.alice.me["id"].clone();
    let unread = k
        .app
        .pget_query(
            &format!("/users/{alice}/messages"),
            &k.token,
            &[("unread", "true")],
        )
        .await;
    assert_eq!(unread.status, 200, "{}", unread.text);
    assert!(
        unread.body["_embedded"]["messages"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "{}",
        unread.text
    );
    let readers = k
        .app
        .pget_query("/users", &k.token, &[("unread", "true")])
        .await;
    assert!(
        !readers.text.contains("\"name\":\"alice\""),
        "{}",
        readers.text
    );
    assert!(items(&k.alice.c.relay(&history, &[]).await, "messages").is_empty());
    assert_eq!(
        items(&k.bob.c.relay(&history, &[]).await, "messages").len(),
        4
    );
    let r = k
        .app
        .pget(&format!("/messages/{}", m["id"]), &k.token)
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn unread_state_last_messages_and_context() {
    let mut k = club().await;
    let ch = k.alice.channel(k.id).await;
    let unread = text(&ch["_relays"]["unread"], "unread").to_string();
    let count = text(&ch["_relays"]["messagesCount"], "messagesCount").to_string();
    assert_eq!(
        k.alice.c.relay(&unread, &[]).await,
        json!({"exists": false})
    );
    let last = text(&ch["_relays"]["lastReceivedMessage"], "lastReceivedMessage").to_string();
    k.alice
        .relay_refused(&last, &[], "s-1", "ResourceNotFoundError")
        .await;

    let first = rest_message(&k.app, &k.token, k.id, "bob", "one").await;
    let second = rest_message(&k.app, &k.token, k.id, "bob", "two").await;
    assert_eq!(k.alice.c.relay(&unread, &[]).await, json!({"exists": true}));
    assert_eq!(
        k.alice.c.relay(&count, &[("unread", "true")]).await,
        json!({"count": 2})
    );
    assert_eq!(k.alice.c.relay(&count, &[]).await, json!({"count": 2}));
    assert_eq!(
        k.bob.c.relay(&count, &[("unread", "true")]).await,
        json!({"count": 0})
    );
    assert_eq!(k.alice.c.relay(&last, &[]).await["id"], json!(second));
    let unread_channels = k.alice.mine("unreadChannels", &[]).await;
    assert_eq!(ids(&unread_channels, "channels"), vec![k.id]);
    assert_eq!(
        k.alice.mine("unreadChannelsCount", &[]).await,
        json!({"count": 1})
    );
    assert_eq!(
        k.alice
            .mine("channelsCount", &[("unread", "true"), ("type", "PRIVATE")])
            .await,
        json!({"count": 0})
    );

    // Read, then the last one marked unread again.
    let read_last = text(&ch["_relays"]["lastReadMessage"], "lastReadMessage").to_string();
    k.alice
        .relay_refused(
            &read_last,
            &[("username", "alice")],
            "s-2",
            "ResourceNotFoundError",
        )
        .await;
    k.alice.act(&ch, "read", "y-1", json!({})).await;
    assert_eq!(
        k.alice.c.relay(&unread, &[]).await,
        json!({"exists": false})
    );
    assert_eq!(
        k.alice.c.relay(&read_last, &[("username", "alice")]).await["id"],
        json!(second)
    );
    let m = k
        .alice
        .c
        .relay(&format!("/application/messages/{second}.relay"), &[])
        .await;
    let receipts = k
        .bob
        .c
        .relay(text(&m["_relays"]["readReceipts"], "readReceipts"), &[])
        .await;
    assert_eq!(
        items(&receipts, "receipts")[0]["user"]["name"],
        "alice",
        "{receipts}"
    );
    k.alice.act(&m, "unread", "y-2", json!({})).await;
    assert_eq!(
        k.alice.c.relay(&count, &[("unread", "true")]).await,
        json!({"count": 1})
    );
    assert_eq!(k.alice.c.relay(&read_last, &[]).await["id"], json!(first));
    assert!(items(
        &k.bob
            .c
            .relay(text(&m["_relays"]["readReceipts"], "r"), &[])
            .await,
        "receipts"
    )
    .is_empty());
    // bob reads whose cursor he likes, in a channel he is in.
    assert_eq!(
        k.bob.c.relay(&read_last, &[("username", "alice")]).await["id"],
        json!(first)
    );
    k.bob
        .relay_refused(
            &read_last,
            &[("username", "nobody")],
            "s-3",
            "ResourceNotFoundError",
        )
        .await;

    // The context: who read which of the newest messages.
    let context = k
        .bob
        .c
        .relay(text(&ch["_relays"]["context"], "context"), &[])
        .await;
    assert_eq!(
        context["readBy"][first.to_string()],
        json!([k.alice.id()]),
        "{context}"
    );
    assert_eq!(
        context["readBy"][second.to_string()],
        json!([]),
        "{context}"
    );
    assert_eq!(context["channel"]["id"], json!(k.id));
    assert_eq!(context["member"], true);

    // Membership of another user.
    let dan = k
        .app
        .pget_query("/users", &k.token, &[("name", "dan")])
        .await
        .body["_embedded"]["users"][0]["id"]
        .as_i64()
        .unwrap();
    let relay = format!("/application/users/{dan}/channel_member.relay");
    let id = k.id.to_string();
    assert_eq!(
        k.alice.c.relay(&relay, &[("channelId", &id)]).await,
        json!({"exists": false})
    );
    let bob = k.bob.id();
    let relay = format!("/application/users/{bob}/channel_member.relay");
    assert_eq!(
        k.alice.c.relay(&relay, &[("channelId", &id)]).await,
        json!({"exists": true})
    );
    k.alice
        .relay_refused(&relay, &[], "s-4", "InvalidParameterError")
        .await;
}

#[tokio::test]
async fn contacts_and_the_block_list() {
    let mut k = club().await;
    let contacts = k.alice.mine("contacts", &[]).await;
    let names: Vec<&str> = items(&contacts, "users")
        .iter()
        .map(|u| text(&u["name"], "name"))
        .collect();
    assert_eq!(names, ["bob", "carol"]);
    assert_eq!(
        k.alice.mine("contactsCount", &[]).await,
        json!({"count": 2})
    );
    let filtered = k.alice.mine("contacts", &[("displayName", "CAR")]).await;
    assert_eq!(items(&filtered, "users").len(), 1);
    let online = k.alice.mine("contactsCount", &[("online", "true")]).await;
    assert_eq!(online, json!({"count": 2}));

    // A DIRECT channel between alice and bob, then bob on alice's block list.
    let made = {
        let me = k.alice.me.clone();
        k.alice
            .act(
                &me,
                "createChannel",
                "b-1",
                json!({"type": "DIRECT", "members": [{"username": "bob"}]}),
            )
            .await
    };
    let direct = made["resource"].clone();
    let bob = k.bob.channel(direct["id"].as_i64().unwrap()).await;
    let bob_user = k
        .alice
        .c
        .relay(&format!("/application/users/{}.relay", k.bob.id()), &[])
        .await;
    let result = k.alice.act(&bob_user, "block", "b-2", json!({})).await;
    assert_eq!(result["type"], "user.user_blocklist_item.created");
    assert_eq!(result["resource"]["user"]["name"], "bob");
    let list = k.alice.mine("userBlockListItems", &[]).await;
    let item = items(&list, "items")[0].clone();
    assert_eq!(item["user"]["name"], "bob");
    // Neither writes to the other now; the club is not affected.
    k.bob
        .refused(
            &bob,
            "message",
            "b-3",
            json!({"type": "TEXT", "body": "hey"}),
            "AccessDeniedError",
        )
        .await;
    k.alice
        .refused(
            &direct,
            "message",
            "b-4",
            json!({"type": "TEXT", "body": "hey"}),
            "AccessDeniedError",
        )
        .await;
    let club = k.bob.channel(k.id).await;
    Club::says(&mut k.bob, &club, "b-5", "still here").await;

    // Unblocked through the item's delete action.
    let result = k.alice.act(&item, "delete", "b-6", json!({})).await;
    assert_eq!(result["type"], "user.user.unblocked");
    assert!(items(&k.alice.mine("userBlockListItems", &[]).await, "items").is_empty());
    Club::says(&mut k.bob, &bob, "b-7", "hey again").await;
    k.alice
        .refused(&item, "delete", "b-8", json!({}), "ResourceNotFoundError")
        .await;
    // Nobody blocks itself.
    let me = k
        .alice
        .c
        .relay(&format!("/application/users/{}.relay", k.alice.id()), &[])
        .await;
    k.alice
        .refused(&me, "block", "b-9", json!({}), "InvalidParameterError")
        .await;
}

#[tokio::test]
async fn block_records_keep_a_user_from_writing_to_a_channel() {
    let mut k = club().await;
    let ch = k.alice.channel(k.id).await;
    k.bob
        .c
        .listen(
            "club-blocks",
            text(&ch["_topics"]["blockRecords"], "blockRecords"),
        )
        .await;
    let result = k
        .alice
        .act(&ch, "block", "k-1", json!({"username": "carol"}))
        .await;
    assert_eq!(result["type"], "user.channel.block_record_created");
    let record = result["resource"].clone();
    assert_eq!(record["user"]["name"], "carol");
    assert_eq!(
        event(&mut k.bob.c, "channel.block_record.created").await["user"]["name"],
        "carol"
    );
    let records = k
        .bob
        .c
        .relay(text(&ch["_relays"]["blockRecords"], "blockRecords"), &[])
        .await;
    assert_eq!(items(&records, "records")[0]["user"]["name"], "carol");

    // carol still reads, and writes nothing.
    let carols = k.carol.channel(k.id).await;
    k.carol
        .refused(
            &carols,
            "message",
            "k-2",
            json!({"type": "TEXT", "body": "hi"}),
            "AccessDeniedError",
        )
        .await;
    k.carol.act(&carols, "read", "k-3", json!({})).await;
    // Nobody blocks the creator, or blocks as a plain member.
    let bobs = k.bob.channel(k.id).await;
    k.bob
        .refused(
            &bobs,
            "block",
            "k-4",
            json!({"username": "carol"}),
            "AccessDeniedError",
        )
        .await;
    let result = k
        .alice
        .act(&ch, "addModerator", "k-5", json!({"username": "bob"}))
        .await;
    assert_eq!(result["type"], "channel.moderator.added");
    k.bob
        .refused(
            &bobs,
            "block",
            "k-6",
            json!({"username": "alice"}),
            "AccessDeniedError",
        )
        .await;

    // The record's delete action lets her write again.
    let result = k.alice.act(&record, "delete", "k-7", json!({})).await;
    assert_eq!(result["type"], "channel.block_record.deleted");
    assert_eq!(
        event(&mut k.bob.c, "channel.block_record.deleted").await["user"]["name"],
        "carol"
    );
    Club::says(&mut k.carol, &carols, "k-8", "back").await;
}

#[tokio::test]
async fn a_user_deletes_itself_and_sets_its_picture() {
    let (app, token) = live().await;
    users(&app, &token, &["alice", "bob"]).await;
    let mut alice = Person::start(&app, "alice").await;
    let me = alice.me.clone();
    let url = "https://cdn.example.com/alice.png";
    let result = alice
        .act(
            &me,
            "updateDisplayPicture",
            "d-1",
            json!({"url": url, "name": "alice.png", "contentType": "image/png", "size": 10}),
        )
        .await;
    assert_eq!(result["type"], "user.self.updated");
    assert_eq!(result["resource"]["displayPictureUrl"], url);
    alice
        .refused(
            &me,
            "updateDisplayPicture",
            "d-2",
            json!({"url": "ftp://x", "name": "a", "contentType": "x", "size": 1}),
            "InvalidParameterError",
        )
        .await;
    // Another user is not hers to delete.
    let bob = app
        .pget_query("/users", &token, &[("name", "bob")])
        .await
        .body["_embedded"]["users"][0]["id"]
        .as_i64()
        .unwrap();
    let bob_user = alice
        .c
        .relay(&format!("/application/users/{bob}.relay"), &[])
        .await;
    alice
        .refused(&bob_user, "delete", "d-3", json!({}), "AccessDeniedError")
        .await;
    let result = alice.act(&me, "delete", "d-4", json!({})).await;
    assert_eq!(result["type"], "user.self.deleted");
    assert_eq!(result["resource"]["name"], "alice");
    let r = app.pget(&format!("/users/{}", alice.id()), &token).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn typing_stops_after_a_silence() {
    let mut k = club_with(|c| c.typing_timeout_millis = 150).await;
    let ch = k.alice.channel(k.id).await;
    k.bob
        .c
        .listen("typing", text(&ch["_topics"]["typing"], "typing"))
        .await;
    let keys = text(&ch["_actions"]["keystrokes"], "keystrokes").to_string();
    k.alice
        .c
        .send_action(&keys, "kb-1", &json!({"keys": "he"}))
        .await;
    assert_eq!(
        event(&mut k.bob.c, "thread.typing.started").await["name"],
        "alice"
    );
    assert_eq!(
        event(&mut k.bob.c, "thread.typing.stopped").await["name"],
        "alice"
    );
    // Once: nothing more follows the stop.
    no_typing(&mut k.bob.c).await;
}

#[tokio::test]
async fn typing_stops_when_the_message_is_sent() {
    let mut k = club_with(|c| c.typing_timeout_millis = 600_000).await;
    let ch = k.alice.channel(k.id).await;
    k.bob
        .c
        .listen("typing", text(&ch["_topics"]["typing"], "typing"))
        .await;
    let keys = text(&ch["_actions"]["keystrokes"], "keystrokes").to_string();
    k.alice
        .c
        .send_action(&keys, "kb-1", &json!({"keys": "hello"}))
        .await;
    assert_eq!(
        event(&mut k.bob.c, "thread.typing.started").await["name"],
        "alice"
    );
    Club::says(&mut k.alice, &ch, "m-1", "hello").await;
    assert_eq!(
        event(&mut k.bob.c, "thread.typing.stopped").await["name"],
        "alice"
    );
    // A message without typing first tells of no stop.
    Club::says(&mut k.alice, &ch, "m-2", "again").await;
    no_typing(&mut k.bob.c).await;
}

/// Nothing about typing comes within [`QUIET`].
async fn no_typing(c: &mut StompClient) {
    while let Some(f) = c.next_frame(QUIET).await {
        assert!(
            !f.is_event("thread.typing.stopped") && !f.is_event("thread.typing.started"),
            "{}",
            f.describe()
        );
    }
}

/// `PT<seconds>S`, as the client parses it.
fn cool_off_seconds(v: &Value) -> f64 {
    let d = text(v, "coolOffDuration");
    let secs = d
        .strip_prefix("PT")
        .and_then(|r| r.strip_suffix('S'))
        .unwrap_or_else(|| panic!("not PT…S: {d}"));
    assert!(secs.chars().all(|c| c.is_ascii_digit() || c == '.'), "{d}");
    secs.parse().unwrap_or_else(|_| panic!("not seconds: {d}"))
}

#[tokio::test]
async fn relays_and_actions_past_the_limit_are_rate_limited() {
    let (app, token) = live_with(|c| {
        c.gateway_action_limit = 2;
        c.gateway_relay_limit = 3;
        c.gateway_limit_window_seconds = 60;
    })
    .await;
    users(&app, &token, &["alice"]).await;
    // The session's start (before the errors queue is listened to) is not counted.
    let mut c = StompClient::session(&app, "alice").await;
    let me = c.relay("/application/user.relay", &[]).await;
    c.relay("/application/user.write_file_access_grant.relay", &[])
        .await;
    c.listen("errors", ERRORS).await;
    let count = text(&me["_relays"]["channelsCount"], "channelsCount").to_string();
    for _ in 0..3 {
        c.relay(&count, &[]).await;
    }
    c.subscribe("over", &count, &[]).await;
    let f = c.wait_for(|f| f.get("destination") == Some(ERRORS)).await;
    assert_eq!(f.get("subscription-id"), Some("over"), "{}", f.describe());
    queued_error(&f, "RateLimitedError");
    let wait = cool_off_seconds(&f.json()["coolOffDuration"]);
    assert!(wait > 0.0 && wait <= 20.0, "{wait}");

    let create = text(&me["_actions"]["createChannel"], "createChannel").to_string();
    for i in 0..2 {
        c.send_action(
            &create,
            &format!("c-{i}"),
            &json!({"type": "PUBLIC", "name": format!("n{i}")}),
        )
        .await;
        let f = c
            .wait_for(|f| {
                f.command == Command::Receipt && f.get("receipt-id") == Some(&format!("c-{i}"))
            })
            .await;
        assert_eq!(f.command, Command::Receipt);
    }
    c.send_action(&create, "c-over", &json!({"type": "PUBLIC", "name": "n3"}))
        .await;
    let f = c
        .wait_for(|f| f.get("destination") == Some(ERRORS) && f.get("receipt-id").is_some())
        .await;
    assert_eq!(f.get("receipt-id"), Some("c-over"), "{}", f.describe());
    queued_error(&f, "RateLimitedError");
    cool_off_seconds(&f.json()["coolOffDuration"]);
    // The refused action did nothing.
    let r = app.pget("/channels", &token).await;
    assert_eq!(r.body["page"]["total_elements"], 2, "{}", r.text);
}

#[tokio::test]
async fn another_applications_channels_and_messages_are_out_of_reach() {
    let mut k = club().await;
    let other = k.app.other_application("acme").await;
    guests(&k.app, &other.token).await;
    users(&k.app, &other.token, &["dave"]).await;
    let theirs = channel(
        &k.app,
        &other.token,
        json!({"type": "PUBLIC", "name": "club", "creator": {"username": "dave"}}),
    )
    .await;
    let message = rest_message(&k.app, &other.token, theirs, "dave", "acme only").await;
    let base = format!("/application/channels/{theirs}");
    for (i, relay) in [
        "threads",
        "messages.count",
        "unread",
        "context",
        "block_records",
        "last_received_message",
    ]
    .iter()
    .enumerate()
    {
        k.alice
            .relay_refused(
                &format!("{base}/{relay}.relay"),
                &[],
                &format!("s-{i}"),
                "ResourceNotFoundError",
            )
            .await;
    }
    for (i, relay) in ["replies", "replies.count", "read_receipts"]
        .iter()
        .enumerate()
    {
        k.alice
            .relay_refused(
                &format!("/application/messages/{message}/{relay}.relay"),
                &[],
                &format!("m-{i}"),
                "ResourceNotFoundError",
            )
            .await;
    }
    let fake = json!({"_actions": {
        "mute": format!("{base}/mute.action"),
        "hide": format!("{base}/hide.action"),
        "delete": format!("{base}/delete.action"),
        "block": format!("{base}/block.action"),
        "createThread": format!("{base}/create_thread.action"),
        "reply": format!("/application/messages/{message}/reply.action"),
        "deleteForMe": format!("/application/messages/{message}/delete_for_me.action"),
    }});
    for (i, (action, body)) in [
        ("mute", json!({"state": "ON"})),
        ("hide", json!({})),
        ("delete", json!({})),
        ("block", json!({"username": "alice"})),
        ("createThread", json!({"name": "x"})),
        ("reply", json!({"type": "TEXT", "body": "x"})),
        ("deleteForMe", json!({})),
    ]
    .into_iter()
    .enumerate()
    {
        k.alice
            .refused(
                &fake,
                action,
                &format!("a-{i}"),
                body,
                "ResourceNotFoundError",
            )
            .await;
    }
    // Unknown actions and relays of known owners answer as much.
    let ch = k.alice.channel(k.id).await;
    let mut nope = ch.clone();
    nope["_actions"]["nope"] = json!(format!("/application/channels/{}/nope.action", k.id));
    k.alice
        .refused(&nope, "nope", "a-x", json!({}), "ResourceNotFoundError")
        .await;
    k.alice
        .relay_refused(
            &format!("/application/channels/{}/nope.relay", k.id),
            &[],
            "s-x",
            "ResourceNotFoundError",
        )
        .await;
    let r = k
        .app
        .pget(&format!("/channels/{theirs}"), &other.token)
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn a_deleted_users_messages_are_announced_deleted_on_their_channels() {
    let mut k = club().await;
    let ch = k.alice.channel(k.id).await;
    let first = Club::says(&mut k.bob, &ch, "b-1", "one").await;
    let second = Club::says(&mut k.bob, &ch, "b-2", "two").await;
    Club::says(&mut k.carol, &ch, "c-1", "stays").await;
    k.alice
        .c
        .listen("club", text(&ch["_topics"]["messages"], "messages"))
        .await;
    let bob = k.bob.me["id"].clone();
    let r = k.app.pdelete(&format!("/users/{bob}"), &k.token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut gone = Vec::new();
    for _ in 0..2 {
        gone.push(event(&mut k.alice.c, "channel.message.deleted").await["id"].clone());
    }
    assert_eq!(gone, [first["id"].clone(), second["id"].clone()]);
    let history = text(&ch["_relays"]["messages"], "messages").to_string();
    let left = k.alice.c.relay(&history, &[]).await;
    let bodies: Vec<&str> = items(&left, "messages")
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["stays"]);
}

#[tokio::test]
async fn members_are_filtered_by_display_name_as_the_sdk_asks() {
    let mut k = club().await;
    let ch = k.alice.channel(k.id).await;
    // The SDK appends the sort to the relay and passes its filter as parameters.
    let members = format!(
        "{}user.displayName,asc",
        text(&ch["_relays"]["members"], "members")
    );
    let all = k.alice.c.relay(&members, &[]).await;
    assert_eq!(items(&all, "users").len(), 3, "{all}");
    // Display names are the names here; any case matches, anywhere in the name.
    let some = k.alice.c.relay(&members, &[("displayName", "AR")]).await;
    let names: Vec<&str> = items(&some, "users")
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["carol"]);
    assert_eq!(some["page"]["totalElements"], 1, "{some}");
    let none = k.alice.c.relay(&members, &[("displayName", "%")]).await;
    assert!(items(&none, "users").is_empty(), "{none}");
    let moderators = text(&ch["_relays"]["moderators"], "moderators").to_string();
    let mods = k.alice.c.relay(&moderators, &[("displayName", "b")]).await;
    assert!(
        mods["_embedded"]["users"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "{mods}"
    );
}

#[tokio::test]
async fn frame_size_and_heart_beats_follow_the_settings() {
    let (app, token) = live_with(|c| {
        c.gateway_max_frame_bytes = 4096;
        c.gateway_heartbeat_millis = 25_000;
    })
    .await;
    users(&app, &token, &["alice"]).await;
    let ch = channel(
        &app,
        &token,
        json!({"type": "PUBLIC", "name": "lobby", "creator": {"username": "alice"}}),
    )
    .await;

    // CONNECTED offers the configured interval both ways.
    let mut c = StompClient::connect(&app, &app.api_key).await;
    let f = c.connect_as("alice").await;
    assert_eq!(f.get("heart-beat"), Some("25000,25000"), "{}", f.describe());

    // A frame under the configured size passes (the default 64 KiB would pass both).
    let dest = format!("/application/channels/{ch}/message.action");
    c.listen("errors", ERRORS).await;
    let small = json!({"type": "TEXT", "body": "s".repeat(3000)}).to_string();
    c.send_frame(
        Command::Send,
        &[("destination", &dest), ("receipt", "small")],
        small.as_bytes(),
    )
    .await;
    let f = c.wait_for(|f| f.command == Command::Receipt).await;
    assert_eq!(f.get("receipt-id"), Some("small"), "{}", f.describe());

    // One over it is refused and closes the connection; nothing of it is stored.
    let big = json!({"type": "TEXT", "body": "b".repeat(5000)}).to_string();
    c.send_frame(
        Command::Send,
        &[("destination", &dest), ("receipt", "big")],
        big.as_bytes(),
    )
    .await;
    let f = c.wait_for(|f| f.command == Command::Error).await;
    let body = f.json();
    assert_eq!(body["error"], "InvalidFrameError", "{}", f.describe());
    let message = text(&body["message"], "message");
    assert!(message.contains("4096"), "{message}");
    assert!(c.is_closed(WAIT).await);
    let r = app.pget(&format!("/channels/{ch}/messages"), &token).await;
    let bodies: Vec<usize> = r.body["_embedded"]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["body"].as_str().map_or(0, str::len))
        .collect();
    assert_eq!(bodies, vec![3000], "{}", r.text);
}
