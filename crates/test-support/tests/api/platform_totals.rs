//! A cursor page's `total` is the number of items of its whole listing: after sends, replies,
//! deletes (of a message with its replies, of a user, of everything), an import, with filters,
//! and on every page of a traversal (a total is the listing's now, while the traversal's cursors
//! keep to the messages that existed when it began).

use palaver_test_support::TestApp;
use serde_json::{json, Value};

use crate::platform_imports::import;
use crate::platform_messages::{chat, path_of};

/// The `total` of the first page of `path` with `query`.
async fn total(app: &TestApp, token: &str, path: &str, query: &[(&str, &str)]) -> u64 {
    let r = app.pget_query(path, token, query).await;
    assert_eq!(r.status, 200, "{path}: {}", r.text);
    r.body["page"]["total"]
        .as_u64()
        .unwrap_or_else(|| panic!("no total in {}", r.text))
}

fn id(m: &Value) -> i64 {
    m["id"].as_i64().expect("id")
}

#[tokio::test]
async fn totals_follow_sends_replies_deletes_and_imports() {
    let c = chat().await;
    let channel = format!("/channels/{}/messages", c.general);
    assert_eq!(total(&c.app, &c.token, &channel, &[]).await, 0);
    let mut sent = Vec::new();
    for i in 0..12 {
        let who = if i % 2 == 0 { "alice" } else { "bob" };
        sent.push(c.text(c.general, who, &format!("hello {i}")).await);
    }
    let first = &sent[0];
    let replies = path_of(&c.app, &first["_links"]["replies"]);
    for body in ["r1", "r2"] {
        let r = c
            .app
            .ppost(
                &replies,
                &c.token,
                json!({"type": "TEXT", "body": body, "user": {"username": "bob"}}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let main = format!("{}/messages", path_of(&c.app, &first["_links"]["thread"]));
    let bob = c.users[1]["id"].as_i64().expect("id");
    let bobs = format!("/users/{bob}/messages");
    // The channel's history holds replies; its MAIN thread does not.
    assert_eq!(total(&c.app, &c.token, &channel, &[]).await, 14);
    assert_eq!(total(&c.app, &c.token, &main, &[]).await, 12);
    assert_eq!(total(&c.app, &c.token, &replies, &[]).await, 2);
    assert_eq!(total(&c.app, &c.token, "/messages", &[]).await, 14);
    assert_eq!(total(&c.app, &c.token, &bobs, &[]).await, 8);
    // Filtered listings count what the filter lets through, not the page.
    let q = [("username", "bob"), ("size", "2")];
    assert_eq!(total(&c.app, &c.token, &channel, &q).await, 8);
    let q = [("query", "HELLO 1"), ("size", "1")];
    assert_eq!(total(&c.app, &c.token, "/messages", &q).await, 3);
    // Nothing in the other channel, whatever the application holds.
    let secret = format!("/channels/{}/messages", c.secret);
    assert_eq!(total(&c.app, &c.token, &secret, &[]).await, 0);

    // A deleted message takes its replies with it.
    let r = c
        .app
        .pdelete(&format!("/messages/{}", id(first)), &c.token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(total(&c.app, &c.token, &channel, &[]).await, 11);
    assert_eq!(total(&c.app, &c.token, &main, &[]).await, 11);
    assert_eq!(total(&c.app, &c.token, "/messages", &[]).await, 11);
    assert_eq!(total(&c.app, &c.token, &bobs, &[]).await, 6);

    // A deleted user's messages go with it.
    let r = c.app.pdelete(&format!("/users/{bob}"), &c.token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(total(&c.app, &c.token, &channel, &[]).await, 5);
    assert_eq!(total(&c.app, &c.token, "/messages", &[]).await, 5);

    // Imported messages count once the job ran.
    let elements = json!([
        {"type": "TEXT", "channel_id": c.general, "body": "imported 1", "user": "alice"},
        {"type": "SYSTEM_TEXT", "channel_id": c.general, "body": "imported 2"},
        {"type": "TEXT", "channel_id": c.general, "body": "lost", "user": "nobody"}
    ]);
    let r = import(&c.app, "/imports/messages", &c.token, elements).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(total(&c.app, &c.token, &channel, &[]).await, 5);
    assert!(c.app.run_jobs().await >= 1);
    assert_eq!(total(&c.app, &c.token, &channel, &[]).await, 7);
    assert_eq!(total(&c.app, &c.token, "/messages", &[]).await, 7);

    // Deleting every message leaves none.
    let r = c.app.pdelete("/messages", &c.token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(total(&c.app, &c.token, &channel, &[]).await, 0);
    assert_eq!(total(&c.app, &c.token, "/messages", &[]).await, 0);
}

#[tokio::test]
async fn a_traversal_sees_the_total_of_now_and_the_items_of_its_start() {
    let c = chat().await;
    for i in 0..7 {
        c.text(c.general, "alice", &format!("m{i}")).await;
    }
    let channel = format!("/channels/{}/messages", c.general);
    let r = c.app.pget_query(&channel, &c.token, &[("size", "5")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["page"]["total"], 7);
    c.text(c.general, "alice", "sent meanwhile").await;
    let next = path_of(&c.app, &r.body["_links"]["next"]);
    let r = c.app.pget(&next, &c.token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The older page still holds the two oldest messages; the total is the listing's now.
    let bodies: Vec<&str> = r.body["_embedded"]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["body"].as_str().expect("body"))
        .collect();
    assert_eq!(bodies, ["m1", "m0"]);
    assert_eq!(r.body["page"]["total"], 8);
    // An unknown channel is still a 404, not an empty listing.
    let r = c.app.pget("/channels/424242/messages", &c.token).await;
    assert_eq!(r.status, 404, "{}", r.text);
}
