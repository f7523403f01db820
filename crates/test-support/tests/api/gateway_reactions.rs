//! Reactions and reports over the real-time gateway, following the message resources'
//! `_actions` (`react`, `removeReaction`, `report`, `removeReport`) and `_relays` (`reactions`,
//! `reports`, `reportCount`): results on the user's own topics, reactions live on the channel's
//! `reactions` topic, both shown by REST; and what is refused: unknown messages, another
//! application's, a private channel's to a non-member, bad bodies, removing what is not there,
//! reporting one's own message.

use palaver_gateway::destinations::Topic;
use palaver_test_support::stomp::{FrameExt, StompClient};
use palaver_test_support::TestApp;
use serde_json::{json, Value};

use crate::gateway::{
    action_result, assert_queued_error, channel, enable_guests, error_for, event, live, me,
    principal, text, users, ERRORS,
};

/// Sends a TEXT message over REST as `user`; answers its id.
async fn say(app: &TestApp, token: &str, channel: i64, user: &str, body: &str) -> i64 {
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

/// The names of the outbox's events, in order, of the given kinds.
async fn events_named(app: &TestApp, kinds: &[&str]) -> Vec<String> {
    app.services
        .platform
        .events_after(&principal(app), 0, 1000)
        .await
        .map_err(|e| e.into_domain())
        .expect("events")
        .iter()
        .map(|e| e.event.name())
        .filter(|n| kinds.contains(&n.as_str()))
        .collect()
}

/// A session of `name` listening, as the SDK's does, for errors and on its user's `messages`
/// and `reactions` topics (where the results of message actions come).
async fn session(app: &TestApp, name: &str) -> StompClient {
    let mut c = StompClient::session(app, name).await;
    c.listen("errors", ERRORS).await;
    for topic in ["messages", "reactions"] {
        c.listen(&format!("my-{topic}"), &Topic::User(topic).destination())
            .await;
    }
    c
}

/// alice and bob, members of PUBLIC "lobby" (alice made it) and PRIVATE "secret"; carol, who
/// is in neither. alice has said "hello" in the lobby and "psst" in the secret channel, bob
/// "mine" in the lobby. alice and bob have sessions.
struct Room {
    app: TestApp,
    token: String,
    lobby: i64,
    hello: i64,
    psst: i64,
    mine: i64,
    alice: StompClient,
    bob: StompClient,
}

async fn room() -> Room {
    let (app, token) = live().await;
    users(&app, &token, &["alice", "bob", "carol"]).await;
    let lobby = channel(
        &app,
        &token,
        json!({"type": "PUBLIC", "name": "lobby", "creator": {"username": "alice"},
               "members": [{"username": "bob"}]}),
    )
    .await;
    let secret = channel(
        &app,
        &token,
        json!({"type": "PRIVATE", "name": "secret", "creator": {"username": "alice"},
               "members": [{"username": "bob"}]}),
    )
    .await;
    let hello = say(&app, &token, lobby, "alice", "hello").await;
    let psst = say(&app, &token, secret, "alice", "psst").await;
    let mine = say(&app, &token, lobby, "bob", "mine").await;
    let alice = session(&app, "alice").await;
    let bob = session(&app, "bob").await;
    Room {
        app,
        token,
        lobby,
        hello,
        psst,
        mine,
        alice,
        bob,
    }
}

/// Message `id` as `c` relays it (the fixed-form message relay the resources point to).
async fn message(c: &mut StompClient, id: i64) -> Value {
    c.relay(&format!("/application/messages/{id}.relay"), &[])
        .await
}

/// Performs `action` of message resource `m` as `c`; answers the result event's body.
async fn perform(
    c: &mut StompClient,
    m: &Value,
    action: &str,
    receipt: &str,
    body: Value,
) -> Value {
    let dest = text(&m["_actions"][action], action).to_string();
    c.send_action(&dest, receipt, &body).await;
    action_result(c, receipt).await.json()
}

/// Performs `action` of message resource `m` as `c`, expecting the error `kind`.
async fn refused(
    c: &mut StompClient,
    m: &Value,
    action: &str,
    receipt: &str,
    body: Value,
    kind: &str,
) {
    let dest = text(&m["_actions"][action], action).to_string();
    c.send_action(&dest, receipt, &body).await;
    let f = error_for(c, "receipt-id", receipt).await;
    assert_queued_error(&f, "receipt-id", receipt, kind);
}

/// The emojis of a message's `reactions`, each with its count and users' names.
fn summary(m: &Value) -> Vec<(String, u64, Vec<String>)> {
    m["reactions"]
        .as_array()
        .unwrap_or_else(|| panic!("no reactions list: {m}"))
        .iter()
        .map(|r| {
            let users = r["users"]
                .as_array()
                .expect("users")
                .iter()
                .map(|u| text(&u["name"], "name").to_string())
                .collect();
            (
                text(&r["emoji"]["character"], "character").to_string(),
                r["count"].as_u64().expect("count"),
                users,
            )
        })
        .collect()
}

fn s(v: &str) -> String {
    v.to_string()
}

#[tokio::test]
async fn reactions_reach_the_channel_and_show_on_the_message() {
    let mut r = room().await;
    // alice listens to the lobby's reactions, as a chat session does.
    let lobby_reactions = Topic::Channel(r.lobby, "reactions").destination();
    r.alice.listen("lobby-reactions", &lobby_reactions).await;
    // The user's reactions topic is the one its resource names.
    let bob_me = me(&mut r.bob).await;
    assert_eq!(
        text(&bob_me["_topics"]["reactions"], "reactions"),
        Topic::User("reactions").destination()
    );
    let hello = message(&mut r.bob, r.hello).await;
    assert_eq!(hello["reactions"], json!([]), "{hello}");
    assert_eq!(hello["reportCount"], 0, "{hello}");

    // bob reacts: his result is the Reaction, on his own reactions topic.
    let result = perform(
        &mut r.bob,
        &hello,
        "react",
        "react-1",
        json!({"emoji": "👍"}),
    )
    .await;
    assert_eq!(result["type"], "message.reaction.created", "{result}");
    let reaction = &result["resource"];
    assert_eq!(
        reaction["emoji"],
        json!({"character": "👍", "description": "thumbs up",
               "aliases": ["+1", "thumbsup"], "tags": []})
    );
    assert_eq!(reaction["user"]["name"], "bob");
    assert!(
        reaction["user"]["_relays"]["self"].is_string(),
        "{reaction}"
    );
    assert!(reaction["createdTime"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    assert_eq!(reaction["_relays"]["message"], hello["_relays"]["self"]);
    // alice hears it on the channel, and the message it relays shows it.
    let heard = event(&mut r.alice, "message.reaction.created").await;
    assert_eq!(heard["emoji"]["character"], "👍");
    assert_eq!(heard["user"]["name"], "bob");
    let shown = r
        .alice
        .relay(text(&heard["_relays"]["message"], "message relay"), &[])
        .await;
    assert_eq!(summary(&shown), [(s("👍"), 1, vec![s("bob")])]);

    // Again, by shortcode: the same reaction, not a second one, and nobody is told.
    let again = perform(
        &mut r.bob,
        &hello,
        "react",
        "react-2",
        json!({"emoji": ":+1:"}),
    )
    .await;
    assert_eq!(again["resource"]["createdTime"], reaction["createdTime"]);
    // A second emoji is a reaction of its own: the next thing alice hears.
    perform(
        &mut r.bob,
        &hello,
        "react",
        "react-3",
        json!({"emoji": "heart"}),
    )
    .await;
    let heard = event(&mut r.alice, "message.reaction.created").await;
    assert_eq!(heard["emoji"]["character"], "❤\u{fe0f}", "{heard}");
    // alice reacts too (what the channel tells of it may come before or after her result).
    let alice_hello = message(&mut r.alice, r.hello).await;
    let mine = perform(
        &mut r.alice,
        &alice_hello,
        "react",
        "react-4",
        json!({"emoji": "👍"}),
    )
    .await;
    assert_eq!(mine["resource"]["user"]["name"], "alice");

    // Over REST: one summary per emoji, in first-use order, users in the order they reacted.
    let rest = r
        .app
        .pget(&format!("/messages/{}", r.hello), &r.token)
        .await;
    assert_eq!(rest.status, 200, "{}", rest.text);
    assert_eq!(
        summary(&rest.body),
        [
            (s("👍"), 2, vec![s("bob"), s("alice")]),
            (s("❤\u{fe0f}"), 1, vec![s("bob")]),
        ]
    );
    assert_eq!(
        rest.body["reactions"][0]["emoji"]["description"],
        "thumbs up"
    );
    assert_eq!(rest.body["reactions"][0]["users"][0]["display_name"], "bob");
    assert_eq!(rest.body["report_count"], 0);
    let page = r
        .app
        .pget(&format!("/channels/{}/messages", r.lobby), &r.token)
        .await;
    let listed = page.body["_embedded"]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["id"] == json!(r.hello))
        .cloned()
        .expect("hello listed");
    assert_eq!(listed["reactions"], rest.body["reactions"]);

    // The message's reactions relay: a page of Reactions.
    let relayed = r
        .bob
        .relay(text(&hello["_relays"]["reactions"], "reactions"), &[])
        .await;
    let items = relayed["_embedded"]["reactions"]
        .as_array()
        .expect("reactions");
    assert_eq!(relayed["page"]["totalElements"], 3, "{relayed}");
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["user"]["name"], "bob");
    assert_eq!(items[0]["emoji"]["character"], "👍");
    assert_eq!(items[0]["_relays"]["message"], hello["_relays"]["self"]);
    assert_eq!(items[2]["user"]["name"], "alice");

    // Taking one back: on the channel too; and then it is not there to take back.
    let removed = perform(
        &mut r.bob,
        &hello,
        "removeReaction",
        "unreact-1",
        json!({"emoji": "❤️"}),
    )
    .await;
    assert_eq!(removed["type"], "message.reaction.removed", "{removed}");
    assert_eq!(removed["resource"]["emoji"]["character"], "❤\u{fe0f}");
    let heard = event(&mut r.alice, "message.reaction.removed").await;
    assert_eq!(heard["user"]["name"], "bob");
    refused(
        &mut r.bob,
        &hello,
        "removeReaction",
        "unreact-2",
        json!({"emoji": "❤️"}),
        "ResourceNotFoundError",
    )
    .await;
    let shown = message(&mut r.bob, r.hello).await;
    assert_eq!(summary(&shown), [(s("👍"), 2, vec![s("bob"), s("alice")])]);

    // One event per change: the repeated reaction and the failed removal made none.
    assert_eq!(
        events_named(&r.app, &["message.reacted", "message.reaction.removed"]).await,
        [
            "message.reacted",
            "message.reacted",
            "message.reacted",
            "message.reaction.removed"
        ]
    );
}

#[tokio::test]
async fn reports_are_counted_and_listed_for_the_application() {
    let mut r = room().await;
    let hello = message(&mut r.bob, r.hello).await;

    let result = perform(
        &mut r.bob,
        &hello,
        "report",
        "report-1",
        json!({"reason": "spam", "properties": {"severity": 2}}),
    )
    .await;
    assert_eq!(result["type"], "message.report.created", "{result}");
    let report = &result["resource"];
    assert_eq!(report["reason"], "spam");
    assert_eq!(report["properties"], json!({"severity": 2}));
    assert_eq!(report["user"]["name"], "bob");
    assert_eq!(report["_relays"]["message"], hello["_relays"]["self"]);
    // Reporting again replaces the reason and properties of the one report.
    let again = perform(
        &mut r.bob,
        &hello,
        "report",
        "report-2",
        json!({"reason": "abuse"}),
    )
    .await;
    assert_eq!(again["resource"]["reason"], "abuse");
    assert_eq!(again["resource"]["properties"], json!({}));
    assert_eq!(again["resource"]["createdTime"], report["createdTime"]);
    // carol, in no channel, may read the PUBLIC lobby: she may report there.
    let mut carol = session(&r.app, "carol").await;
    let seen = message(&mut carol, r.hello).await;
    perform(
        &mut carol,
        &seen,
        "report",
        "report-3",
        json!({"reason": "rude"}),
    )
    .await;

    // The count is everyone's; the reports relay shows one's own report only.
    let count = r
        .bob
        .relay(text(&hello["_relays"]["reportCount"], "reportCount"), &[])
        .await;
    assert_eq!(count, json!({"count": 2}));
    let own = r
        .bob
        .relay(text(&hello["_relays"]["reports"], "reports"), &[])
        .await;
    let items = own["_embedded"]["reports"].as_array().expect("reports");
    assert_eq!(items.len(), 1, "{own}");
    assert_eq!(items[0]["reason"], "abuse");
    assert_eq!(items[0]["user"]["name"], "bob");
    assert_eq!(message(&mut r.alice, r.hello).await["reportCount"], 2);

    // REST: the message's count, and the channel's reported messages.
    let rest = r
        .app
        .pget(&format!("/messages/{}", r.hello), &r.token)
        .await;
    assert_eq!(rest.body["report_count"], 2, "{}", rest.text);
    let reported = r
        .app
        .pget(
            &format!("/channels/{}/reported-messages", r.lobby),
            &r.token,
        )
        .await;
    assert_eq!(reported.status, 200, "{}", reported.text);
    let listed = reported.body["_embedded"]["messages"]
        .as_array()
        .expect("messages");
    assert_eq!(listed.len(), 1, "{}", reported.text);
    assert_eq!(listed[0]["id"], json!(r.hello));
    assert_eq!(listed[0]["report_count"], 2);
    assert_eq!(reported.body["page"]["total_elements"], 1);

    // Nobody reports their own message.
    let mine = message(&mut r.bob, r.mine).await;
    refused(
        &mut r.bob,
        &mine,
        "report",
        "report-own",
        json!({"reason": "oops"}),
        "AccessDeniedError",
    )
    .await;
    assert_eq!(message(&mut r.bob, r.mine).await["reportCount"], 0);

    // Taking a report back, once.
    let removed = perform(&mut r.bob, &hello, "removeReport", "unreport-1", json!({})).await;
    assert_eq!(removed["type"], "message.report.removed", "{removed}");
    assert_eq!(removed["resource"]["reason"], "abuse");
    refused(
        &mut r.bob,
        &hello,
        "removeReport",
        "unreport-2",
        json!({}),
        "ResourceNotFoundError",
    )
    .await;
    let own = r
        .bob
        .relay(text(&hello["_relays"]["reports"], "reports"), &[])
        .await;
    assert_eq!(own["_embedded"]["reports"], json!([]));
    let rest = r
        .app
        .pget(&format!("/messages/{}", r.hello), &r.token)
        .await;
    assert_eq!(rest.body["report_count"], 1);
    assert_eq!(
        events_named(&r.app, &["message.reported", "message.report.removed"]).await,
        [
            "message.reported",
            "message.reported",
            "message.reported",
            "message.report.removed"
        ]
    );
}

#[tokio::test]
async fn reactions_and_reports_out_of_reach_or_malformed_are_refused() {
    let mut r = room().await;
    let mut carol = session(&r.app, "carol").await;
    // Resources as a member sees them: carol takes the destinations from them.
    let psst = message(&mut r.alice, r.psst).await;
    let hello = message(&mut r.alice, r.hello).await;

    // A private channel's message, to a non-member: its relays and actions.
    carol
        .subscribe(
            "r-psst",
            text(&psst["_relays"]["reactions"], "reactions"),
            &[],
        )
        .await;
    let f = error_for(&mut carol, "subscription-id", "r-psst").await;
    assert_queued_error(&f, "subscription-id", "r-psst", "AccessDeniedError");
    for (action, receipt, body) in [
        ("react", "c-react", json!({"emoji": "👍"})),
        ("removeReaction", "c-unreact", json!({"emoji": "👍"})),
        ("report", "c-report", json!({"reason": "spam"})),
        ("removeReport", "c-unreport", json!({})),
    ] {
        refused(
            &mut carol,
            &psst,
            action,
            receipt,
            body,
            "AccessDeniedError",
        )
        .await;
    }

    // An unknown message.
    let gone = json!({"_actions": {
        "react": "/application/messages/999999/react.action",
        "report": "/application/messages/999999/report.action",
    }});
    refused(
        &mut r.bob,
        &gone,
        "react",
        "u-react",
        json!({"emoji": "👍"}),
        "ResourceNotFoundError",
    )
    .await;
    refused(
        &mut r.bob,
        &gone,
        "report",
        "u-report",
        json!({"reason": "x"}),
        "ResourceNotFoundError",
    )
    .await;
    r.bob
        .subscribe(
            "r-gone",
            "/application/messages/999999/reactions.relay",
            &[],
        )
        .await;
    let f = error_for(&mut r.bob, "subscription-id", "r-gone").await;
    assert_queued_error(&f, "subscription-id", "r-gone", "ResourceNotFoundError");

    // Another application's message: as if it did not exist.
    let other = r.app.other_application("acme").await;
    enable_guests(&r.app, &other.token).await;
    users(&r.app, &other.token, &["dave"]).await;
    let theirs = channel(
        &r.app,
        &other.token,
        json!({"type": "PUBLIC", "name": "lobby", "creator": {"username": "dave"}}),
    )
    .await;
    let their_message = say(&r.app, &other.token, theirs, "dave", "acme only").await;
    let foreign = json!({"_actions": {
        "react": format!("/application/messages/{their_message}/react.action"),
        "report": format!("/application/messages/{their_message}/report.action"),
    }});
    refused(
        &mut r.bob,
        &foreign,
        "react",
        "f-react",
        json!({"emoji": "👍"}),
        "ResourceNotFoundError",
    )
    .await;
    refused(
        &mut r.bob,
        &foreign,
        "report",
        "f-report",
        json!({"reason": "x"}),
        "ResourceNotFoundError",
    )
    .await;

    // Bad bodies.
    for (action, receipt, body) in [
        ("react", "b-1", json!({})),
        ("react", "b-2", json!({"emoji": "not an emoji"})),
        ("react", "b-3", json!({"emoji": 7})),
        ("react", "b-4", json!(["👍"])),
        ("removeReaction", "b-5", json!({"emoji": ""})),
        ("report", "b-6", json!({})),
        ("report", "b-7", json!({"reason": "  "})),
        (
            "report",
            "b-8",
            json!({"reason": "spam", "properties": [1]}),
        ),
    ] {
        refused(
            &mut r.bob,
            &hello,
            action,
            receipt,
            body,
            "InvalidParameterError",
        )
        .await;
    }

    // None of it was stored, nor told.
    for id in [r.hello, r.psst] {
        let rest = r.app.pget(&format!("/messages/{id}"), &r.token).await;
        assert_eq!(rest.body["reactions"], json!([]), "{}", rest.text);
        assert_eq!(rest.body["report_count"], 0, "{}", rest.text);
    }
    let rest = r
        .app
        .pget(&format!("/messages/{their_message}"), &other.token)
        .await;
    assert_eq!(rest.body["reactions"], json!([]), "{}", rest.text);
    let kinds = [
        "message.reacted",
        "message.reaction.removed",
        "message.reported",
        "message.report.removed",
    ];
    assert!(events_named(&r.app, &kinds).await.is_empty());
    // bob's session goes on.
    assert_eq!(message(&mut r.bob, r.hello).await["id"], json!(r.hello));
}
