//! A bot's content counts with the read cache off, so that every answer comes from the store:
//! totals and counts by status follow creates, updates and deletes, agree with a count of the
//! stored rows, and clauses that are not a single status count the same rows as ever.

use palaver_store::Db;
use palaver_test_support::TestApp;
use serde_json::{json, Value};

use crate::spawn_with;

/// One plain SQL count over the server's database.
async fn sql_count(app: &TestApp, sql: &str) -> u64 {
    let n: i64 = match &app.services.db {
        Db::Sqlite(pool, _) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
    n as u64
}

/// Asserts that `GET /api/bots/{bot}/flakes/count?where=…` answers `n`, and that the stored
/// rows of the bot matching `sql` (the same clause in SQL) are `n` too.
async fn check(app: &TestApp, token: &str, bot: &str, w: Value, sql: &str, n: u64) {
    let r = app
        .get_query(
            &format!("/api/bots/{bot}/flakes/count"),
            token,
            &[("where", &w.to_string())],
        )
        .await;
    assert_eq!(r.status, 200, "{w}: {}", r.text);
    assert_eq!(r.body, json!({ "count": n }), "{w}");
    let rows = sql_count(
        app,
        &format!("SELECT COUNT(*) FROM flakes WHERE bot_id = '{bot}' AND {sql}"),
    )
    .await;
    assert_eq!(rows, n, "rows of {w}");
}

/// Creates flakes in `bot` with these titles and statuses (`None`: null); answers their ids.
async fn create(
    app: &TestApp,
    token: &str,
    bot: &str,
    rows: &[(&str, Option<&str>)],
) -> Vec<String> {
    let body: Vec<Value> = rows
        .iter()
        .map(|(title, status)| match status {
            Some(s) => json!({"title": title, "status": s}),
            // An explicit null: a flake created without a status is a draft.
            None => json!({"title": title, "status": null}),
        })
        .collect();
    let r = app
        .post(
            &format!("/api/bots/{bot}/flakes"),
            token,
            Value::Array(body),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn flake_counts_follow_writes_and_agree_with_the_stored_rows() {
    let app = spawn_with(|c| c.read_cache = Some(false)).await;
    let token = app.admin_token().await;
    let a = app.create_bot(&token, "A").await;
    let b = app.create_bot(&token, "B").await;
    let ids = create(
        &app,
        &token,
        &a,
        &[
            ("p1", Some("publish")),
            ("p2", Some("publish")),
            ("p3", Some("publish")),
            ("d1", Some("draft")),
            ("d2", Some("draft")),
            ("n1", None),
        ],
    )
    .await;
    create(&app, &token, &b, &[("b1", Some("publish"))]).await;

    let all = (json!({}), "1 = 1");
    let publish = (json!({"status": "publish"}), "status = 'publish'");
    let draft = (json!({"status": {"eq": "draft"}}), "status = 'draft'");
    let schedule = (json!({"status": "schedule"}), "status = 'schedule'");
    let none = (json!({"status": null}), "status IS NULL");
    let not_published = (
        json!({"status": {"neq": "publish"}}),
        "(status <> 'publish' OR status IS NULL)",
    );
    let published_p2 = (
        json!({"status": "publish", "title": "p2"}),
        "status = 'publish' AND title = 'p2'",
    );
    for ((w, sql), n) in [
        (&all, 6),
        (&publish, 3),
        (&draft, 2),
        (&schedule, 0),
        (&none, 1),
        (&not_published, 3),
        (&published_p2, 1),
    ] {
        check(&app, &token, &a, w.clone(), sql, n).await;
    }
    check(&app, &token, &b, all.0.clone(), all.1, 1).await;
    check(&app, &token, &b, publish.0.clone(), publish.1, 1).await;

    // d1 is published, p1 deleted.
    let r = app
        .put(
            &format!("/api/bots/{a}/flakes/{}", ids[3]),
            &token,
            json!({"status": "publish"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .delete(&format!("/api/bots/{a}/flakes/{}", ids[0]), &token)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    for ((w, sql), n) in [
        (&all, 5),
        (&publish, 3),
        (&draft, 1),
        (&none, 1),
        (&not_published, 2),
    ] {
        check(&app, &token, &a, w.clone(), sql, n).await;
    }

    // Deleting bot B takes its flakes and their counts; bot A's stay.
    let r = app.delete(&format!("/api/bots/{b}"), &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .get(&format!("/api/bots/{b}/flakes/count"), &token)
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(
        sql_count(
            &app,
            &format!("SELECT COUNT(*) FROM flakes WHERE bot_id = '{b}'")
        )
        .await,
        0
    );
    assert_eq!(
        sql_count(
            &app,
            &format!("SELECT COUNT(*) FROM content_counts WHERE bot_id = '{b}'")
        )
        .await,
        0
    );
    check(&app, &token, &a, publish.0.clone(), publish.1, 3).await;
}
