//! Reactions and reports as REST shows them (they are made through the real-time gateway; here
//! through the same service calls): every message carries `reactions` (one
//! `MessageReactionsSummaryProperties` per emoji) and `report_count`, on every listing, in both
//! namings; `GET /channels/{id}/reported-messages` pages the reported ones; a deleted user's
//! reactions and reports go with it.

use palaver_service::platform::{Emoji, ReportInput};
use palaver_service::AppPrincipal;
use palaver_test_support::TestApp;
use serde_json::{json, Value};

use crate::platform_message_reads::principal;
use crate::platform_messages::{chat, Chat};

fn id(v: &Value) -> i64 {
    v["id"].as_i64().expect("id")
}

async fn react(app: &TestApp, p: &AppPrincipal, user: i64, message: i64, emoji: &str) {
    let emoji = Emoji::parse(emoji).expect("an emoji");
    app.services
        .platform
        .react(p, user, message, &emoji)
        .await
        .map_err(|e| e.into_domain())
        .expect("reacted");
}

async fn report(app: &TestApp, p: &AppPrincipal, user: i64, message: i64, reason: &str) {
    let input = ReportInput::from_body(&json!({ "reason": reason })).expect("a report");
    app.services
        .platform
        .report_message(p, user, message, &input)
        .await
        .map_err(|e| e.into_domain())
        .expect("reported");
}

/// The message `id` in a listing's `_embedded.messages`.
fn listed(page: &Value, id: i64) -> Value {
    page["_embedded"]["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("no messages: {page}"))
        .iter()
        .find(|m| m["id"] == json!(id))
        .cloned()
        .unwrap_or_else(|| panic!("message {id} not listed: {page}"))
}

async fn get(c: &Chat, path: &str) -> Value {
    let r = c.app.pget(path, &c.token).await;
    assert_eq!(r.status, 200, "{path}: {}", r.text);
    r.body
}

#[tokio::test]
async fn every_listing_shows_reactions_and_report_counts() {
    let c = chat().await;
    let p = principal(&c.app);
    let (alice, bob, carol) = (id(&c.users[0]), id(&c.users[1]), id(&c.users[2]));
    let one = id(&c.text(c.general, "alice", "one").await);
    let two = id(&c.text(c.general, "bob", "two").await);
    let quiet = id(&c.text(c.general, "alice", "quiet").await);
    // carol is no member, but "general" is PUBLIC: she may react and report there.
    react(&c.app, &p, bob, one, "👍").await;
    react(&c.app, &p, carol, one, "thumbsup").await;
    react(&c.app, &p, bob, one, "🎉").await;
    react(&c.app, &p, alice, two, "❤️").await;
    report(&c.app, &p, bob, one, "spam").await;
    report(&c.app, &p, carol, one, "spam").await;

    let want = json!([
        {"emoji": {"character": "👍", "description": "thumbs up",
                   "aliases": ["+1", "thumbsup"], "tags": []},
         "count": 2},
        {"emoji": {"character": "🎉", "description": "party popper",
                   "aliases": ["tada"], "tags": []},
         "count": 1},
    ]);
    let check_one = |m: &Value| {
        let mut got = m["reactions"].clone();
        let names: Vec<Vec<Value>> = got
            .as_array_mut()
            .expect("reactions")
            .iter_mut()
            .map(|r| {
                let users = r["users"].take();
                r.as_object_mut().expect("summary").remove("users");
                users
                    .as_array()
                    .expect("users")
                    .iter()
                    .map(|u| u["name"].clone())
                    .collect()
            })
            .collect();
        assert_eq!(got, want, "{m}");
        assert_eq!(
            names,
            [vec![json!("bob"), json!("carol")], vec![json!("bob")]]
        );
        assert_eq!(m["report_count"], 2, "{m}");
    };
    check_one(&get(&c, &format!("/messages/{one}")).await);
    let channel_page = get(&c, &format!("/channels/{}/messages", c.general)).await;
    check_one(&listed(&channel_page, one));
    check_one(&listed(&get(&c, "/messages").await, one));
    let quiet_listed = listed(&channel_page, quiet);
    assert_eq!(quiet_listed["reactions"], json!([]));
    assert_eq!(quiet_listed["report_count"], 0);
    // A sender's listing, with the embedded user in full.
    let bobs = get(&c, &format!("/users/{bob}/messages")).await;
    let two_listed = listed(&bobs, two);
    assert_eq!(
        two_listed["reactions"][0]["users"][0]["display_name"],
        "ALICE"
    );
    assert_eq!(two_listed["report_count"], 0);

    // camelCase under /v1: the same values, the users' keys renamed.
    let camel = get(&c, &format!("/v1/messages/{one}")).await;
    assert_eq!(camel["reportCount"], 2, "{camel}");
    assert_eq!(camel["reactions"][0]["count"], 2);
    assert_eq!(camel["reactions"][0]["emoji"]["character"], "👍");
    assert_eq!(camel["reactions"][0]["users"][0]["displayName"], "BOB");

    // Replies in a message's thread show theirs too.
    let thread = get(&c, &format!("/messages/{two}")).await["_links"]["reply_thread"]["href"]
        .as_str()
        .expect("reply thread link")
        .trim_start_matches(&c.app.base)
        .to_string();
    let r = c
        .app
        .ppost(
            &format!("{thread}/messages"),
            &c.token,
            json!({"type": "TEXT", "body": "a reply", "user": {"username": "alice"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["reactions"], json!([]), "a new message has none");
    let reply = id(&r.body);
    react(&c.app, &p, bob, reply, "👀").await;
    let replies = get(&c, &format!("{thread}/messages")).await;
    assert_eq!(
        listed(&replies, reply)["reactions"][0]["emoji"]["character"],
        "👀"
    );
}

#[tokio::test]
async fn reported_messages_are_paged_and_follow_the_reports() {
    let c = chat().await;
    let p = principal(&c.app);
    let (bob, carol) = (id(&c.users[1]), id(&c.users[2]));
    let first = id(&c.text(c.general, "alice", "first").await);
    id(&c.text(c.general, "alice", "fine").await);
    let second = id(&c.text(c.general, "alice", "second").await);
    let path = format!("/channels/{}/reported-messages", c.general);
    let empty = get(&c, &path).await;
    assert_eq!(empty["_embedded"]["messages"], json!([]));

    report(&c.app, &p, bob, first, "spam").await;
    report(&c.app, &p, bob, second, "spam").await;
    report(&c.app, &p, carol, second, "rude").await;
    // bob reporting again changes his reason, not the count.
    report(&c.app, &p, bob, second, "abuse").await;
    let all = get(&c, &path).await;
    let ids: Vec<i64> = all["_embedded"]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(id)
        .collect();
    assert_eq!(ids, [first, second]);
    assert_eq!(all["_embedded"]["messages"][1]["report_count"], 2);
    assert_eq!(all["page"]["total_elements"], 2);
    let r = c
        .app
        .pget_query(&path, &c.token, &[("page", "1"), ("size", "1")])
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["_embedded"]["messages"][0]["id"], json!(second));
    assert_eq!(r.body["page"]["total_elements"], 2);
    // The PRIVATE channel has none; another application's channel is not found.
    let secret = get(&c, &format!("/channels/{}/reported-messages", c.secret)).await;
    assert_eq!(secret["page"]["total_elements"], 0);
    let other = c.app.other_application("acme").await;
    let r = c.app.pget(&path, &other.token).await;
    assert_eq!(r.status, 404, "{}", r.text);

    // A withdrawn report, and a deleted reporter's, no longer count.
    c.app
        .services
        .platform
        .remove_report(&p, bob, first)
        .await
        .map_err(|e| e.into_domain())
        .expect("withdrawn");
    react(&c.app, &p, carol, second, "👍").await;
    let r = c.app.pdelete(&format!("/users/{carol}"), &c.token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let after = get(&c, &path).await;
    let listed_after = after["_embedded"]["messages"].as_array().expect("messages");
    assert_eq!(listed_after.len(), 1, "{after}");
    assert_eq!(listed_after[0]["id"], json!(second));
    assert_eq!(listed_after[0]["report_count"], 1);
    assert_eq!(listed_after[0]["reactions"], json!([]));
}
