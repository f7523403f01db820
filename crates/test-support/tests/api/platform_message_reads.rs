//! Reading and being told: read cursors through the service, read receipts, unread counts and
//! messages, read summaries, reported messages, notifications made by draining the outbox,
//! and the events every message write leaves.

use palaver_service::AppPrincipal;
use palaver_test_support::{assert_platform_error, TestApp};
use serde_json::json;

use crate::platform_messages::chat;

pub(crate) fn principal(app: &TestApp) -> AppPrincipal {
    AppPrincipal {
        application_id: app.app_id,
        organisation_id: app.org_id.clone(),
    }
}

#[tokio::test]
async fn read_cursors_drive_receipts_and_unread_counts() {
    let c = chat().await;
    let p = principal(&c.app);
    let (alice, bob, carol) = (
        c.users[0]["id"].as_i64().expect("id"),
        c.users[1]["id"].as_i64().expect("id"),
        c.users[2]["id"].as_i64().expect("id"),
    );
    let m1 = c.text(c.general, "alice", "one").await;
    let m2 = c.text(c.general, "alice", "two").await;
    c.text(c.general, "bob", "mine").await;
    let unread = |u: i64| format!("/users/{u}/messages/unread/count");
    assert_eq!(
        c.app.pget(&unread(bob), &c.token).await.body,
        json!({"count": 2})
    );
    assert_eq!(
        c.app.pget(&unread(alice), &c.token).await.body,
        json!({"count": 1})
    );
    let r = c
        .app
        .pget_query(
            &format!("/users/{bob}/messages"),
            &c.token,
            &[("unread", "true")],
        )
        .await;
    let ids: Vec<&serde_json::Value> = r.body["_embedded"]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| &m["id"])
        .collect();
    assert_eq!(ids, [&m2["id"], &m1["id"]]);
    let receipts = format!("/messages/{}/read-receipts", m1["id"]);
    let r = c.app.pget(&receipts, &c.token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["_embedded"]["receipts"], json!([]));
    assert_eq!(r.body["page"]["total_elements"], 0);
    // bob reads the second message: both are read.
    let m2_id = m2["id"].as_i64().expect("id");
    c.app
        .services
        .platform
        .read_message(&p, bob, m2_id)
        .await
        .expect("read");
    assert_eq!(
        c.app.pget(&unread(bob), &c.token).await.body,
        json!({"count": 0})
    );
    let r = c.app.pget(&receipts, &c.token).await;
    assert_eq!(r.body["_embedded"]["receipts"][0]["user"]["name"], "bob");
    assert!(r.body["_embedded"]["receipts"][0]["created_time"].is_string());
    // Reading an older message moves nothing back.
    let m1_id = m1["id"].as_i64().expect("id");
    c.app
        .services
        .platform
        .read_message(&p, bob, m1_id)
        .await
        .expect("read");
    assert_eq!(
        c.app.pget(&unread(bob), &c.token).await.body,
        json!({"count": 0})
    );
    // carol is no member of general.
    let e = c.app.services.platform.read_message(&p, carol, m1_id).await;
    assert!(e.is_err());
    let s = c
        .app
        .pget_query(
            "/application/message-read-receipt-summaries",
            &c.token,
            &[("page", "0"), ("size", "10")],
        )
        .await;
    assert_eq!(s.status, 200, "{}", s.text);
    let summaries = s.body["_embedded"]["summaries"]
        .as_array()
        .expect("summaries");
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0]["count"], 2);
    assert_eq!(summaries[0]["user"]["name"], "bob");
    assert_eq!(summaries[0]["channel"]["id"], c.general);
    let r = c
        .app
        .pget(
            &format!("/channels/{}/reported-messages", c.general),
            &c.token,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["_embedded"]["messages"], json!([]));
    assert_eq!(r.body["page"]["total_elements"], 0);
    assert_platform_error(
        &c.app
            .pget("/users/999999/messages/unread/count", &c.token)
            .await,
        404,
        "ResourceNotFoundError",
    );
    let r = c
        .app
        .pget_query(
            &format!("/users/{bob}/messages"),
            &c.token,
            &[("unread", "maybe")],
        )
        .await;
    assert_platform_error(&r, 400, "InvalidParameterError");
}

#[tokio::test]
async fn each_message_notifies_the_other_members_once() {
    let c = chat().await;
    let p = principal(&c.app);
    let bob = c.users[1]["id"].as_i64().expect("id");
    let alice = c.users[0]["id"].as_i64().expect("id");
    c.text(c.general, "alice", "plain").await;
    c.text(c.general, "alice", "hey @bob").await;
    c.send(c.general, json!({"type": "TEXT", "body": "system says"}))
        .await;
    c.app
        .services
        .platform
        .drain_notifications(&p)
        .await
        .expect("drain");
    // Draining again makes nothing new.
    assert_eq!(
        c.app
            .services
            .platform
            .drain_notifications(&p)
            .await
            .expect("drain"),
        0
    );
    let r = c
        .app
        .pget_query(
            &format!("/users/{bob}/notifications"),
            &c.token,
            &[("size", "2")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["page"]["size"], 2);
    // Of the whole listing, on every page.
    assert_eq!(r.body["page"]["total"], 3);
    let first = r.body["_embedded"]["notifications"]
        .as_array()
        .expect("notifications")
        .clone();
    assert_eq!(first.len(), 2);
    assert_eq!(first[0]["data"]["type"], "SYSTEM:SENT:MESSAGE");
    assert_eq!(first[0]["data"]["message"]["type"], "SYSTEM_TEXT");
    assert_eq!(first[1]["data"]["type"], "USER:MENTIONED:USER");
    assert_eq!(first[1]["data"]["mentioned_user"]["name"], "bob");
    assert_eq!(first[1]["data"]["channel_id"], c.general);
    assert_eq!(first[1]["channel"]["id"], c.general);
    assert_eq!(first[1]["muted"], false);
    assert_eq!(first[1]["body"], "hey @bob");
    assert_eq!(first[1]["data"]["_relays"], json!({}));
    assert_eq!(
        first[1]["_links"],
        json!({"user": {"href": format!("{}/users/{bob}", c.app.base)}})
    );
    assert!(first[1]["created_time"].is_string());
    assert!(first[1].get("read_time").is_none(), "unread: {}", first[1]);
    assert_eq!(
        first[1]["data"]["message"]["_links"]["self"]["href"],
        format!(
            "{}/messages/{}",
            c.app.base, first[1]["data"]["message"]["id"]
        )
    );
    let next = r.body["_links"]["next"]["href"]
        .as_str()
        .expect("next")
        .to_string();
    let next_path = next.strip_prefix(&c.app.base).expect("own link");
    let r = c.app.pget(next_path, &c.token).await;
    let rest = r.body["_embedded"]["notifications"]
        .as_array()
        .expect("notifications");
    assert_eq!(rest.len(), 1);
    assert_eq!(r.body["page"]["total"], 3);
    assert_eq!(rest[0]["data"]["type"], "USER:SENT:MESSAGE");
    assert_eq!(rest[0]["data"]["message"]["user"]["name"], "alice");
    // The sender is not told of its own messages.
    let r = c
        .app
        .pget(&format!("/users/{alice}/notifications"), &c.token)
        .await;
    let alices = r.body["_embedded"]["notifications"]
        .as_array()
        .expect("notifications");
    assert_eq!(alices.len(), 1, "only the system message: {alices:?}");
}

#[tokio::test]
async fn a_mention_notification_names_its_recipient_after_the_mention_is_edited_away() {
    let c = chat().await;
    let p = principal(&c.app);
    let bob = c.users[1]["id"].as_i64().expect("id");
    let m = c.text(c.general, "alice", "hey @bob").await;
    c.app
        .services
        .platform
        .drain_notifications(&p)
        .await
        .expect("drain");
    let id = m["id"].as_i64().expect("id");
    let r = c
        .app
        .ppatch(
            &format!("/messages/{id}"),
            &c.token,
            json!({"body": "hey everyone"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["mentions"], json!([]));
    for path in [
        format!("/users/{bob}/notifications"),
        format!("/v1/users/{bob}/notifications"),
    ] {
        let r = c.app.pget(&path, &c.token).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let n = &r.body["_embedded"]["notifications"][0];
        assert_eq!(n["data"]["type"], "USER:MENTIONED:USER", "{n}");
        let user = n["data"]
            .get("mentioned_user")
            .or_else(|| n["data"].get("mentionedUser"))
            .expect("the mentioned user is always there");
        assert_eq!(user["name"], "bob");
        assert_eq!(user["id"], bob);
        assert_eq!(n["data"]["message"]["body"], "hey everyone");
    }
}

#[tokio::test]
async fn every_message_write_leaves_its_event() {
    let c = chat().await;
    let p = principal(&c.app);
    let bob = c.users[1]["id"].as_i64().expect("id");
    let start = c
        .app
        .services
        .platform
        .events_after(&p, 0, 1000)
        .await
        .expect("events")
        .len();
    let m = c.text(c.general, "alice", "x").await;
    let id = m["id"].as_i64().expect("id");
    c.app
        .ppatch(&format!("/messages/{id}"), &c.token, json!({"body": "y"}))
        .await;
    c.app
        .services
        .platform
        .read_message(&p, bob, id)
        .await
        .expect("read");
    // Reading it again changes nothing and says nothing.
    c.app
        .services
        .platform
        .read_message(&p, bob, id)
        .await
        .expect("read");
    c.app.pdelete(&format!("/messages/{id}"), &c.token).await;
    c.app.pdelete("/messages", &c.token).await;
    // A refused write leaves nothing.
    c.app
        .ppost(
            &format!("/channels/{}/messages", c.secret),
            &c.token,
            json!({"type": "TEXT", "body": "x", "user": {"username": "bob"}}),
        )
        .await;
    let events = c
        .app
        .services
        .platform
        .events_after(&p, 0, 1000)
        .await
        .expect("events");
    let kinds: Vec<String> = events[start..]
        .iter()
        .map(|e| e.event.name())
        .filter(|k| k != "notifications.created")
        .collect();
    assert_eq!(
        kinds,
        [
            "message.created",
            "message.updated",
            "message.read",
            "message.deleted",
            "messages.deleted"
        ]
    );
}

#[tokio::test]
async fn receipts_and_summaries_sort() {
    let c = chat().await;
    let p = principal(&c.app);
    let id = |i: usize| c.users[i]["id"].as_i64().expect("id");
    let (alice, bob, carol) = (id(0), id(1), id(2));
    let general = c.general;
    let r = c
        .app
        .ppost(
            &format!("/channels/{general}/members"),
            &c.token,
            json!({"username": "carol"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let m1 = c.text(general, "alice", "one").await["id"]
        .as_i64()
        .expect("id");
    let m2 = c.text(general, "alice", "two").await["id"]
        .as_i64()
        .expect("id");
    let platform = &c.app.services.platform;
    // carol reads first (the first message), then bob (both); alice reads her own.
    for (user, message) in [(carol, m1), (bob, m2), (alice, m2)] {
        platform
            .read_message(&p, user, message)
            .await
            .expect("read");
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let receipts = format!("/messages/{m1}/read-receipts");
    let readers = |r: &palaver_test_support::Resp| -> Vec<String> {
        r.body["_embedded"]["receipts"]
            .as_array()
            .unwrap_or_else(|| panic!("no receipts: {}", r.text))
            .iter()
            .map(|x| x["user"]["name"].as_str().expect("name").to_string())
            .collect()
    };
    for (sort, want) in [
        (None, ["carol", "bob"]),
        (Some("created_time"), ["carol", "bob"]),
        (Some("createdTime,desc"), ["bob", "carol"]),
        (Some("user.name"), ["bob", "carol"]),
        (Some("user.displayName,desc"), ["carol", "bob"]),
        (Some("user.id,desc"), ["carol", "bob"]),
    ] {
        let q: Vec<(&str, &str)> = sort.iter().map(|s| ("sort", *s)).collect();
        let r = c.app.pget_query(&receipts, &c.token, &q).await;
        assert_eq!(r.status, 200, "{sort:?}: {}", r.text);
        assert_eq!(readers(&r), want, "{sort:?}");
    }
    let r = c
        .app
        .pget_query(
            &format!("/v1{receipts}"),
            &c.token,
            &[("sort", "user.name,desc"), ("size", "1")],
        )
        .await;
    assert_eq!(readers(&r), ["carol"]);
    assert_eq!(r.body["page"]["totalElements"], 2);
    for bad in ["name", "count", "user.password", "created_time,up"] {
        let r = c
            .app
            .pget_query(&receipts, &c.token, &[("sort", bad)])
            .await;
        assert_platform_error(&r, 400, "InvalidParameterError");
    }

    // Summaries: bob read 2 messages of others, carol 1, alice 0 (her own), all in general.
    let summaries = "/application/message-read-receipt-summaries";
    let rows = |r: &palaver_test_support::Resp| -> Vec<(String, u64)> {
        r.body["_embedded"]["summaries"]
            .as_array()
            .unwrap_or_else(|| panic!("no summaries: {}", r.text))
            .iter()
            .map(|x| {
                (
                    x["user"]["name"].as_str().expect("name").to_string(),
                    x["count"].as_u64().expect("count"),
                )
            })
            .collect()
    };
    let by_id = |mut v: Vec<(i64, &str, u64)>| {
        v.sort_unstable();
        v.into_iter()
            .map(|(_, n, c)| (n.to_string(), c))
            .collect::<Vec<_>>()
    };
    let default = by_id(vec![
        (alice, "alice", 0),
        (bob, "bob", 2),
        (carol, "carol", 1),
    ]);
    for (sort, want) in [
        (vec![], default.clone()),
        (
            vec!["count,desc"],
            vec![("bob".into(), 2), ("carol".into(), 1), ("alice".into(), 0)],
        ),
        (
            vec!["count"],
            vec![("alice".into(), 0), ("carol".into(), 1), ("bob".into(), 2)],
        ),
        (
            vec!["user.displayName,desc"],
            vec![("carol".into(), 1), ("bob".into(), 2), ("alice".into(), 0)],
        ),
        (vec!["channel.name", "channel.id,desc"], default.clone()),
    ] {
        let q: Vec<(&str, &str)> = sort.iter().map(|s| ("sort", *s)).collect();
        let r = c.app.pget_query(summaries, &c.token, &q).await;
        assert_eq!(r.status, 200, "{sort:?}: {}", r.text);
        assert_eq!(rows(&r), want, "{sort:?}");
    }
    // A second channel: secret, where bob reads a message of alice's.
    let r = c
        .app
        .ppost(
            &format!("/channels/{}/members", c.secret),
            &c.token,
            json!({"username": "bob"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let m3 = c.text(c.secret, "alice", "psst").await["id"]
        .as_i64()
        .expect("id");
    platform.read_message(&p, bob, m3).await.expect("read");
    let r = c
        .app
        .pget_query(
            summaries,
            &c.token,
            &[
                ("sort", "channel.name,desc"),
                ("sort", "count,desc"),
                ("size", "2"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let got: Vec<(i64, String)> = r.body["_embedded"]["summaries"]
        .as_array()
        .expect("summaries")
        .iter()
        .map(|x| {
            (
                x["channel"]["id"].as_i64().expect("channel"),
                x["user"]["name"].as_str().expect("name").to_string(),
            )
        })
        .collect();
    assert_eq!(got, [(c.secret, "bob".into()), (general, "bob".into())]);
    assert_eq!(r.body["page"]["total_elements"], 4);
    for bad in ["name", "user", "channel.properties", "created_time"] {
        let r = c
            .app
            .pget_query(summaries, &c.token, &[("sort", bad)])
            .await;
        assert_platform_error(&r, 400, "InvalidParameterError");
    }
}

#[tokio::test]
async fn a_reply_tells_the_author_of_the_message_it_answers() {
    let c = chat().await;
    let p = principal(&c.app);
    let alice = c.users[0]["id"].as_i64().expect("id");
    let bob = c.users[1]["id"].as_i64().expect("id");
    let r = c
        .app
        .ppost(
            &format!("/channels/{}/members", c.general),
            &c.token,
            json!({"username": "carol"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let carol = c.users[2]["id"].as_i64().expect("id");
    let m = c.text(c.general, "alice", "question").await;
    let thread = m["_links"]["reply_thread"]["href"]
        .as_str()
        .and_then(|h| h.rsplit('/').next())
        .expect("reply thread")
        .to_string();
    let r = c
        .app
        .ppost(
            &format!("/threads/{thread}/messages"),
            &c.token,
            json!({"type": "TEXT", "body": "answer", "user": {"username": "bob"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let reply = r.body["id"].as_i64().expect("reply id");
    c.app
        .services
        .platform
        .drain_notifications(&p)
        .await
        .expect("drain");
    let newest = |user: i64| {
        let app = &c.app;
        let token = c.token.clone();
        async move {
            let r = app
                .pget(&format!("/users/{user}/notifications"), &token)
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            r.body["_embedded"]["notifications"][0].clone()
        }
    };
    // Alice wrote the message answered: hers says so and shows both messages.
    let n = newest(alice).await;
    assert_eq!(n["data"]["type"], "USER:REPLIED_TO:MESSAGE", "{n}");
    assert_eq!(n["title"], "BOB replied to your message");
    assert_eq!(n["data"]["message"]["id"], reply);
    assert_eq!(n["data"]["parent"]["id"], m["id"]);
    assert_eq!(n["data"]["parent"]["body"], "question");
    // Carol only sees a message sent; bob, who replied, is not told.
    let n = newest(carol).await;
    assert_eq!(n["data"]["type"], "USER:SENT:MESSAGE", "{n}");
    assert_eq!(n["data"]["message"]["id"], reply);
    assert!(n["data"].get("parent").is_none(), "{n}");
    let n = newest(bob).await;
    assert_ne!(n["data"]["message"]["id"], reply, "{n}");
}
