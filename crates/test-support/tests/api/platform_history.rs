//! Message history as cursor pages: newest first, every message exactly once across pages,
//! filters carried in the links, cursors refused when tampered with or taken to another
//! listing, and a traversal racing with inserts.

use std::collections::HashSet;

use palaver_test_support::{assert_platform_error, Resp, TestApp};
use serde_json::{json, Value};

use crate::platform_message_reads::principal;
use crate::platform_messages::{chat, path_of};

/// The query pairs of a link's href.
fn query_of(link: &Value) -> Vec<(String, String)> {
    let href = link["href"].as_str().expect("href");
    let url = reqwest::Url::parse(href).expect("absolute link");
    url.query_pairs().into_owned().collect()
}

/// A GET of `path` with `query` (the pairs of a link, say).
async fn get_pairs(app: &TestApp, token: &str, path: &str, query: &[(String, String)]) -> Resp {
    let pairs: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.pget_query(path, token, &pairs).await
}

/// Follows `next` links from `path` with `size`, answering the ids of every page. Nothing is
/// written meanwhile, so every page's `total` is the number of items of the whole traversal.
async fn traverse(app: &TestApp, token: &str, path: &str, extra: &[(&str, &str)]) -> Vec<Vec<i64>> {
    let mut pages: Vec<Vec<i64>> = Vec::new();
    let mut totals = Vec::new();
    let mut query: Vec<(String, String)> = vec![("size".into(), "10".into())];
    query.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    loop {
        let r = get_pairs(app, token, path, &query).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["page"]["size"], 10, "{}", r.text);
        let items = r.body["_embedded"]["messages"]
            .as_array()
            .expect("messages");
        assert!(items.len() <= 10);
        totals.push(r.body["page"]["total"].as_u64().expect("total"));
        pages.push(
            items
                .iter()
                .map(|m| m["id"].as_i64().expect("id"))
                .collect(),
        );
        let Some(next) = r.body["_links"].get("next") else {
            break;
        };
        query = query_of(next);
        assert!(query.iter().any(|(k, v)| k == "relation" && v == "NEXT"));
    }
    let items = pages.iter().map(Vec::len).sum::<usize>() as u64;
    assert_eq!(totals, vec![items; pages.len()], "{path} {extra:?}");
    pages
}

#[tokio::test]
async fn cursor_pages_see_every_message_once_newest_first() {
    let c = chat().await;
    let mut sent = Vec::new();
    for i in 0..24 {
        let m = c
            .text(
                c.general,
                if i % 2 == 0 { "alice" } else { "bob" },
                &format!("hello {i}"),
            )
            .await;
        sent.push(m["id"].as_i64().expect("id"));
    }
    let pages = traverse(
        &c.app,
        &c.token,
        &format!("/channels/{}/messages", c.general),
        &[],
    )
    .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 4]);
    let seen: Vec<i64> = pages.concat();
    let mut newest_first = sent.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);
    // The application's history, filtered by sender, with the filter carried in the links.
    let alice: Vec<i64> = traverse(&c.app, &c.token, "/messages", &[("username", "alice")])
        .await
        .concat();
    assert_eq!(alice.len(), 12);
    assert!(alice
        .iter()
        .all(|id| sent.iter().position(|s| s == id).expect("sent") % 2 == 0));
    let r = c
        .app
        .pget_query("/messages", &c.token, &[("query", "hello 1")])
        .await;
    let bodies: Vec<&str> = r.body["_embedded"]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["body"].as_str().expect("body"))
        .collect();
    assert_eq!(bodies.len(), 11, "{bodies:?}");
    assert!(bodies.iter().all(|b| b.contains("hello 1")));
    // LIKE wildcards in a query are text.
    let r = c
        .app
        .pget_query("/messages", &c.token, &[("query", "%")])
        .await;
    assert_eq!(r.body["_embedded"]["messages"], json!([]));
    let r = c
        .app
        .pget_query(
            &format!("/channels/{}/messages", c.general),
            &c.token,
            &[("username", "bob")],
        )
        .await;
    assert_eq!(
        r.body["_embedded"]["messages"].as_array().map(Vec::len),
        Some(12)
    );
    // A user's sent messages.
    let bob = c.users[1]["id"].as_i64().expect("id");
    let bobs = traverse(&c.app, &c.token, &format!("/users/{bob}/messages"), &[])
        .await
        .concat();
    assert_eq!(bobs.len(), 12);
    // An empty history is a page with its size.
    let r = c
        .app
        .pget(&format!("/channels/{}/messages", c.secret), &c.token)
        .await;
    assert_eq!(r.body["_embedded"]["messages"], json!([]));
    assert_eq!(r.body["page"], json!({"size": 25, "total": 0}));
    assert!(r.body["_links"].get("next").is_none());
    assert!(r.body["_links"]["self"]["href"].is_string());
}

/// The ids of a page's items under `_embedded.<name>`.
fn ids_of(page: &Value, name: &str) -> Vec<i64> {
    page["_embedded"][name]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["id"].as_i64().expect("id"))
        .collect()
}

/// Follows `rel` links from the page `first`, answering every page reached (`first` included).
async fn follow(app: &TestApp, token: &str, path: &str, first: Value, rel: &str) -> Vec<Value> {
    let mut pages = vec![first];
    while let Some(link) = pages.last().and_then(|p| p["_links"].get(rel)).cloned() {
        let query = query_of(&link);
        let relation = if rel == "prev" { "PREVIOUS" } else { "NEXT" };
        assert!(query.iter().any(|(k, v)| k == "relation" && v == relation));
        let r = get_pairs(app, token, path, &query).await;
        assert_eq!(r.status, 200, "{}", r.text);
        pages.push(r.body);
        assert!(pages.len() < 20, "{rel} links never end");
    }
    pages
}

#[tokio::test]
async fn prev_links_walk_back_over_the_same_pages() {
    let c = chat().await;
    for i in 0..24 {
        c.text(c.general, "alice", &format!("hello {i}")).await;
    }
    let path = format!("/channels/{}/messages", c.general);
    let first = c.app.pget_query(&path, &c.token, &[("size", "10")]).await;
    assert!(first.body["_links"].get("prev").is_none(), "{}", first.text);
    let forward = follow(&c.app, &c.token, &path, first.body, "next").await;
    let ids: Vec<Vec<i64>> = forward.iter().map(|p| ids_of(p, "messages")).collect();
    assert_eq!(ids.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 4]);
    // A message sent meanwhile is newer than the traversal: going back does not show it.
    c.text(c.general, "bob", "late").await;
    let last = forward.last().cloned().expect("last page");
    let back = follow(&c.app, &c.token, &path, last, "prev").await;
    let back_ids: Vec<Vec<i64>> = back.iter().map(|p| ids_of(p, "messages")).collect();
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(back_ids, expected, "the same pages, newest last");
    // Each page's self link reads it again, however it was reached.
    for page in &back {
        let query = query_of(&page["_links"]["self"]);
        assert!(query.iter().any(|(k, v)| k == "relation" && v == "SELF"));
        let again = get_pairs(&c.app, &c.token, &path, &query).await;
        assert_eq!(ids_of(&again.body, "messages"), ids_of(page, "messages"));
    }
    // PREVIOUS without the cursors of a prev link is refused.
    let r = c
        .app
        .pget_query(&path, &c.token, &[("relation", "PREVIOUS")])
        .await;
    assert_platform_error(&r, 400, "InvalidParameterError");

    // Notifications page back the same way.
    c.app
        .services
        .platform
        .drain_notifications(&principal(&c.app))
        .await
        .expect("drain");
    let bob = c.users[1]["id"].as_i64().expect("id");
    let at = format!("/users/{bob}/notifications");
    let first = c.app.pget_query(&at, &c.token, &[("size", "10")]).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let forward = follow(&c.app, &c.token, &at, first.body, "next").await;
    let ids: Vec<Vec<i64>> = forward.iter().map(|p| ids_of(p, "notifications")).collect();
    assert_eq!(ids.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 4]);
    let last = forward.last().cloned().expect("last page");
    let back = follow(&c.app, &c.token, &at, last, "prev").await;
    let mut expected = ids;
    expected.reverse();
    let back_ids: Vec<Vec<i64>> = back.iter().map(|p| ids_of(p, "notifications")).collect();
    assert_eq!(back_ids, expected);
}

#[tokio::test]
async fn cursors_are_checked_when_they_come_back() {
    let c = chat().await;
    for i in 0..3 {
        c.text(c.general, "alice", &format!("m{i}")).await;
    }
    c.text(c.secret, "alice", "other").await;
    let general = format!("/channels/{}/messages", c.general);
    let r = c.app.pget_query(&general, &c.token, &[("size", "1")]).await;
    let next = query_of(&r.body["_links"]["next"]);
    let cursor = next
        .iter()
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.clone())
        .expect("next");
    let ok = c
        .app
        .pget_query(
            &general,
            &c.token,
            &[("size", "1"), ("next", &cursor), ("relation", "NEXT")],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.body["_embedded"]["messages"][0]["body"], "m1");
    let n: i64 = cursor.parse().expect("numeric cursor");
    for bad in [
        (n + 1).to_string(),
        (n ^ (1 << 17)).to_string(),
        "garbage".to_string(),
        "-1".to_string(),
    ] {
        let r = c
            .app
            .pget_query(&general, &c.token, &[("next", &bad), ("relation", "NEXT")])
            .await;
        assert_platform_error(&r, 400, "InvalidParameterError");
        let r = c
            .app
            .pget_query(&general, &c.token, &[("start", &bad)])
            .await;
        assert_platform_error(&r, 400, "InvalidParameterError");
    }
    // A cursor of one channel means nothing in another, or in the application's history.
    for other in [
        format!("/channels/{}/messages", c.secret),
        "/messages".to_string(),
    ] {
        let r = c
            .app
            .pget_query(&other, &c.token, &[("next", &cursor), ("relation", "NEXT")])
            .await;
        assert_platform_error(&r, 400, "InvalidParameterError");
    }
    for bad in [
        [("size", "0")],
        [("size", "101")],
        [("relation", "UP")],
        [("relation", "NEXT")],
    ] {
        let r = c.app.pget_query(&general, &c.token, &bad).await;
        assert_platform_error(&r, 400, "InvalidParameterError");
    }
    // A channel or thread that does not exist is a 404, whatever cursor comes with it.
    for missing in ["/channels/999999/messages", "/threads/999999/messages"] {
        for query in [
            vec![("next", "garbage"), ("relation", "NEXT")],
            vec![("next", cursor.as_str()), ("relation", "NEXT")],
        ] {
            let r = c.app.pget_query(missing, &c.token, &query).await;
            assert_eq!(r.status, 404, "{missing} {query:?}: {}", r.text);
        }
    }
    // The self link of a later page shows that page again.
    let again = c
        .app
        .pget(&path_of(&c.app, &ok.body["_links"]["self"]), &c.token)
        .await;
    assert_eq!(again.body["_embedded"], ok.body["_embedded"]);
}

#[tokio::test]
async fn paging_while_messages_arrive_skips_and_repeats_nothing() {
    let c = chat().await;
    for i in 0..30 {
        c.text(c.general, "alice", &format!("before {i}")).await;
    }
    let before: Vec<i64> = traverse(
        &c.app,
        &c.token,
        &format!("/channels/{}/messages", c.general),
        &[],
    )
    .await
    .concat();
    assert_eq!(before.len(), 30);
    let path = format!("/channels/{}/messages", c.general);
    let writer = {
        let base = c.app.base.clone();
        let token = c.token.clone();
        let general = c.general;
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0..40 {
                let r = client
                    .post(format!("{base}/channels/{general}/messages"))
                    .bearer_auth(&token)
                    .json(&json!({"type": "TEXT", "body": format!("during {i}"), "user": {"username": "bob"}}))
                    .send()
                    .await
                    .expect("sent");
                assert_eq!(r.status(), 200);
            }
        })
    };
    // Page through slowly while the writer inserts: the traversal must be exactly the
    // messages that existed when it started, each once.
    let mut seen = Vec::new();
    let mut query: Vec<(String, String)> = vec![("size".into(), "3".into())];
    loop {
        let r = get_pairs(&c.app, &c.token, &path, &query).await;
        assert_eq!(r.status, 200, "{}", r.text);
        for m in r.body["_embedded"]["messages"]
            .as_array()
            .expect("messages")
        {
            seen.push(m["id"].as_i64().expect("id"));
        }
        let Some(next) = r.body["_links"].get("next") else {
            break;
        };
        query = query_of(next);
        tokio::task::yield_now().await;
    }
    writer.await.expect("writer");
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "a message was repeated");
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(sorted, seen, "not newest first");
    // Everything older than the first page's newest is there, nothing skipped.
    let newest_first_page = seen[0];
    let all: Vec<i64> = traverse(&c.app, &c.token, &path, &[]).await.concat();
    assert_eq!(all.len(), 70);
    let expected: Vec<i64> = all
        .into_iter()
        .filter(|id| *id <= newest_first_page)
        .collect();
    assert_eq!(seen, expected);
}

/// A cursor page's `page` has `size`, `total` (the items of the whole listing: `chatkitty` 2.106
/// requires the field) and the cursors as strings, in both namings; the older clients' `{size}` is in it.
#[tokio::test]
async fn cursor_page_metadata_has_size_and_total_in_both_namings() {
    let c = chat().await;
    for i in 0..3 {
        c.text(c.general, "alice", &format!("m{i}")).await;
    }
    for prefix in ["", "/v1"] {
        let path = format!("{prefix}/channels/{}/messages", c.general);
        let r = c.app.pget_query(&path, &c.token, &[("size", "2")]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let page = r.body["page"].as_object().expect("page");
        let mut keys: Vec<&str> = page.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["next", "size", "start", "total"],
            "{prefix}: {}",
            r.text
        );
        assert_eq!((&page["size"], &page["total"]), (&json!(2), &json!(3)));
        assert!(page["start"].is_string() && page["next"].is_string());
        let next = query_of(&r.body["_links"]["next"]);
        let r = get_pairs(&c.app, &c.token, &path, &next).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["page"]["total"], 3, "{prefix}: {}", r.text);
        assert!(r.body["page"].get("next").is_none(), "{}", r.text);
    }
    // Notifications pages the same way.
    let bob = c.users[1]["id"].as_i64().expect("id");
    let p = principal(&c.app);
    c.app
        .services
        .platform
        .drain_notifications(&p)
        .await
        .expect("drain");
    let r = c
        .app
        .pget_query(
            &format!("/v1/users/{bob}/notifications"),
            &c.token,
            &[("size", "5")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (&r.body["page"]["size"], &r.body["page"]["total"]),
        (&json!(5), &json!(3))
    );
}
