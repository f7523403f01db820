//! The read cache through the content API: writes to one bot's flakes leave another bot's
//! answers right, and every write is seen by the very next read of its own bot.

use palaver_test_support::TestApp;
use serde_json::{json, Value};

/// The titles of a bot's flakes, oldest first.
async fn titles(app: &TestApp, token: &str, bot: &str) -> Vec<String> {
    let r = app
        .get_filter(
            &format!("/api/bots/{bot}/flakes"),
            token,
            json!({"order": "created ASC"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", r.text))
        .iter()
        .map(|f| f["title"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn count(app: &TestApp, token: &str, bot: &str, r#where: Value) -> Value {
    let r = app
        .get_query(
            &format!("/api/bots/{bot}/flakes/count"),
            token,
            &[("where", &r#where.to_string())],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

async fn create(app: &TestApp, token: &str, bot: &str, title: &str) -> String {
    let r = app
        .post(
            &format!("/api/bots/{bot}/flakes"),
            token,
            json!({"title": title}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.id()
}

#[tokio::test]
async fn another_bots_writes_leave_a_bots_answers_right_and_its_own_are_seen_at_once() {
    let app = TestApp::spawn_with(|c| c.read_cache = Some(true)).await;
    let token = app.admin_token().await;
    let a = app.create_bot(&token, "A").await;
    let b = app.create_bot(&token, "B").await;
    let a1 = create(&app, &token, &a, "a1").await;
    create(&app, &token, &b, "b1").await;

    // Read twice: the second answer may come from the cache.
    for _ in 0..2 {
        assert_eq!(titles(&app, &token, &a).await, ["a1"]);
        assert_eq!(
            count(&app, &token, &a, json!({})).await,
            json!({"count": 1})
        );
    }

    // Writes to bot B: created, updated, deleted.
    let b2 = create(&app, &token, &b, "b2").await;
    let r = app
        .put(
            &format!("/api/bots/{b}/flakes/{b2}"),
            &token,
            json!({"title": "b2 edited"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(titles(&app, &token, &b).await, ["b1", "b2 edited"]);
    assert_eq!(titles(&app, &token, &a).await, ["a1"], "A after B's writes");
    assert_eq!(
        count(&app, &token, &a, json!({})).await,
        json!({"count": 1})
    );
    let r = app
        .delete(&format!("/api/bots/{b}/flakes/{b2}"), &token)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(titles(&app, &token, &b).await, ["b1"]);
    assert_eq!(titles(&app, &token, &a).await, ["a1"]);

    // Writes to bot A are seen by the very next read.
    create(&app, &token, &a, "a2").await;
    assert_eq!(titles(&app, &token, &a).await, ["a1", "a2"]);
    assert_eq!(
        count(&app, &token, &a, json!({})).await,
        json!({"count": 2})
    );
    let r = app
        .put(
            &format!("/api/bots/{a}/flakes/{a1}"),
            &token,
            json!({"title": "a1 edited", "status": "publish"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(titles(&app, &token, &a).await, ["a1 edited", "a2"]);
    assert_eq!(
        count(&app, &token, &a, json!({"status": "publish"})).await,
        json!({"count": 1})
    );
    let r = app
        .delete(&format!("/api/bots/{a}/flakes/{a1}"), &token)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(titles(&app, &token, &a).await, ["a2"]);
    assert_eq!(
        count(&app, &token, &a, json!({"status": "publish"})).await,
        json!({"count": 0})
    );
    assert_eq!(titles(&app, &token, &b).await, ["b1"]);
}

#[tokio::test]
async fn deleting_a_bot_is_seen_by_reads_of_its_flakes_and_not_by_another_bots() {
    let app = TestApp::spawn_with(|c| c.read_cache = Some(true)).await;
    let token = app.admin_token().await;
    let a = app.create_bot(&token, "A").await;
    let b = app.create_bot(&token, "B").await;
    create(&app, &token, &a, "a1").await;
    create(&app, &token, &b, "b1").await;
    assert_eq!(titles(&app, &token, &a).await, ["a1"]);
    assert_eq!(
        count(&app, &token, &b, json!({})).await,
        json!({"count": 1})
    );

    let r = app.delete(&format!("/api/bots/{b}"), &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"count": 1}));
    // The bot is gone, and so are its flakes.
    let r = app
        .get(&format!("/api/bots/{b}/flakes/count"), &token)
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = app.get(&format!("/api/bots/{b}"), &token).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(titles(&app, &token, &a).await, ["a1"]);
}

#[tokio::test]
async fn a_logged_out_token_is_refused_at_once_and_others_still_work() {
    let app = TestApp::spawn_with(|c| c.read_cache = Some(true)).await;
    let first = app.admin_token().await;
    let second = app.admin_token().await;
    for t in [&first, &second] {
        assert_eq!(app.get("/api/bots", t).await.status, 200);
    }
    let r = app
        .call("POST", "/api/users/logout", Some(&first), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(app.get("/api/bots", &first).await.status, 401);
    assert_eq!(app.get("/api/bots", &second).await.status, 200);
}

/// A flake written straight into the database, behind the cache's back (as another process
/// would): what the API answers afterwards shows whether it came from the cache.
async fn insert_behind(app: &TestApp, bot: &str, id: &str) {
    let docs = palaver_store::Documents::new(app.services.db.clone());
    let scope = palaver_store::Scope::child(&app.org_id, "bot_id", bot);
    let doc = json!({"id": id, "title": id, "created": 1, "modified": 1});
    let serde_json::Value::Object(doc) = doc else {
        unreachable!("an object literal")
    };
    docs.insert(&palaver_domain::models::FLAKE, &scope, &doc)
        .await
        .expect("insert behind the cache");
}

#[tokio::test]
async fn a_bots_cached_count_outlives_writes_to_another_bot() {
    let app = TestApp::spawn_with(|c| c.read_cache = Some(true)).await;
    let token = app.admin_token().await;
    let a = app.create_bot(&token, "A").await;
    let b = app.create_bot(&token, "B").await;
    create(&app, &token, &a, "a1").await;
    assert_eq!(
        count(&app, &token, &a, json!({})).await,
        json!({"count": 1})
    );
    insert_behind(&app, &a, "hidden").await;
    for status in ["draft", "publish"] {
        let r = app
            .post(
                &format!("/api/bots/{b}/flakes"),
                &token,
                json!({"title": "b", "status": status}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            count(&app, &token, &a, json!({})).await,
            json!({"count": 1}),
            "A's count is still the cached one after a {status} write to B"
        );
    }
    // A write to A itself: the next count is read afresh (and sees the row written behind).
    create(&app, &token, &a, "a2").await;
    assert_eq!(
        count(&app, &token, &a, json!({})).await,
        json!({"count": 3})
    );
}
