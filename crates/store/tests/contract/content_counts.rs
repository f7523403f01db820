//! Counts of bot content read from the kept counts: they follow inserts, updates (one row, in a
//! transaction, in bulk by plain SQL, moves to another bot), deletes and the cascades of a
//! deleted bot or organisation, and agree with a count of the rows; clauses the kept counts do
//! not cover are counted over the rows.

use palaver_domain::models::{BOT, CATEGORY, CHANNEL, FLAKE, ORGANISATION, TAG};
use palaver_domain::Model;
use palaver_store::{Db, Documents, Scope};
use serde_json::{json, Map, Value};

use crate::support::{bot, contract, doc, flake, organisation, where_, STAMP};

contract!(
    kept_counts_follow_inserts_updates_and_deletes,
    a_deleted_bot_or_organisation_takes_its_counts_with_it,
    totals_of_tags_categories_and_channels_are_kept,
    clauses_the_kept_counts_do_not_cover_count_the_rows,
);

/// One plain SQL count, run on the engine's pool without the store.
async fn sql_count(db: &Db, sql: &str) -> u64 {
    let n: i64 = match db {
        Db::Sqlite(pool, _) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
    n as u64
}

/// Runs one plain SQL write on the engine's pool, as a bulk write that names no row would.
async fn sql_write(db: &Db, sql: &str) -> u64 {
    match db {
        Db::Sqlite(pool, _) => sqlx::query(sql)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
        Db::Postgres(pool) => sqlx::query(sql)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The SQL condition a where clause of these tests stands for (the tests' own spelling, not
/// the store's).
fn sql_condition(w: &Value) -> String {
    let Value::Object(o) = w else {
        panic!("not an object: {w}")
    };
    let parts: Vec<String> = o
        .iter()
        .map(|(k, v)| match v {
            Value::Null => format!("{k} IS NULL"),
            Value::String(s) => format!("{k} = '{s}'"),
            Value::Object(op) => match (op.keys().next().map(String::as_str), op.values().next()) {
                (Some("eq"), Some(Value::String(s))) => format!("{k} = '{s}'"),
                (Some("neq"), Some(Value::String(s))) => {
                    format!("({k} <> '{s}' OR {k} IS NULL)")
                }
                (Some("inq"), Some(Value::Array(a))) => format!(
                    "{k} IN ({})",
                    a.iter()
                        .map(|s| format!("'{}'", s.as_str().unwrap()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                (Some("like"), Some(Value::String(s))) => format!("{k} LIKE '{s}'"),
                other => panic!("no SQL for {other:?}"),
            },
            other => panic!("no SQL for {other}"),
        })
        .collect();
    if parts.is_empty() {
        "1 = 1".into()
    } else {
        parts.join(" AND ")
    }
}

/// Asserts that `model`'s count in `org` (and `bot`, when given) under `w` is `expected`,
/// through the store and by plain SQL over the rows.
async fn check(db: &Db, model: &'static Model, org: &str, bot: Option<&str>, w: Value, n: u64) {
    let docs = Documents::new(db.clone());
    let scope = match bot {
        Some(b) => Scope::child(org, "bot_id", b),
        None => Scope::org(org),
    };
    let stored = docs
        .count(model, &scope, &where_(model, w.clone()))
        .await
        .unwrap();
    let bot_condition = bot.map_or(String::new(), |b| format!(" AND bot_id = '{b}'"));
    let counted = sql_count(
        db,
        &format!(
            "SELECT COUNT(*) FROM {} WHERE organisation_id = '{org}'{bot_condition} AND {}",
            model.table,
            sql_condition(&w)
        ),
    )
    .await;
    assert_eq!(counted, n, "rows of {} {org}/{bot:?} {w}", model.table);
    assert_eq!(stored, n, "count of {} {org}/{bot:?} {w}", model.table);
}

/// The bot's flake counts: all, then by status publish, draft, schedule, null.
async fn check_flakes(db: &Db, org: &str, bot: Option<&str>, counts: [u64; 5]) {
    let [all, publish, draft, schedule, none] = counts;
    check(db, &FLAKE, org, bot, json!({}), all).await;
    check(db, &FLAKE, org, bot, json!({"status": "publish"}), publish).await;
    check(
        db,
        &FLAKE,
        org,
        bot,
        json!({"status": {"eq": "draft"}}),
        draft,
    )
    .await;
    check(
        db,
        &FLAKE,
        org,
        bot,
        json!({"status": "schedule"}),
        schedule,
    )
    .await;
    check(db, &FLAKE, org, bot, json!({"status": null}), none).await;
}

fn status(s: &str, title: &str) -> Value {
    json!({"title": title, "status": s})
}

fn changes(v: Value) -> Map<String, Value> {
    doc(v)
}

/// Two organisations: org-a with bots A and B, org-b with bot C.
async fn setup(db: &Db) -> Documents {
    let docs = Documents::new(db.clone());
    organisation(&docs, "org-a").await;
    organisation(&docs, "org-b").await;
    bot(&docs, "org-a", "bot-a").await;
    bot(&docs, "org-a", "bot-b").await;
    bot(&docs, "org-b", "bot-c").await;
    docs
}

/// The rows the kept counts hold for an organisation.
async fn kept_rows(db: &Db, org: &str) -> u64 {
    sql_count(
        db,
        &format!("SELECT COUNT(*) FROM content_counts WHERE organisation_id = '{org}'"),
    )
    .await
}

async fn kept_counts_follow_inserts_updates_and_deletes(db: Db) {
    let docs = setup(&db).await;
    let (a, b) = (
        Scope::child("org-a", "bot_id", "bot-a"),
        Scope::child("org-a", "bot_id", "bot-b"),
    );
    let c = Scope::child("org-b", "bot_id", "bot-c");
    check_flakes(&db, "org-a", Some("bot-a"), [0, 0, 0, 0, 0]).await;
    check_flakes(&db, "org-a", None, [0, 0, 0, 0, 0]).await;

    for (id, s) in [("a1", "publish"), ("a2", "publish"), ("a3", "draft")] {
        docs.insert(&FLAKE, &a, &flake(id, status(s, id)))
            .await
            .unwrap();
    }
    docs.insert_many(
        &FLAKE,
        &a,
        &[
            flake("a4", status("publish", "a4")),
            flake("a5", status("draft", "a5")),
            // No status at all: a NULL, counted as a value of its own.
            flake("a6", json!({"title": "a6"})),
        ],
    )
    .await
    .unwrap();
    docs.insert(&FLAKE, &b, &flake("b1", status("publish", "b1")))
        .await
        .unwrap();
    docs.insert_many(
        &FLAKE,
        &c,
        &[
            flake("c1", status("publish", "c1")),
            flake("c2", status("publish", "c2")),
        ],
    )
    .await
    .unwrap();
    check_flakes(&db, "org-a", Some("bot-a"), [6, 3, 2, 0, 1]).await;
    check_flakes(&db, "org-a", Some("bot-b"), [1, 1, 0, 0, 0]).await;
    check_flakes(&db, "org-a", None, [7, 4, 2, 0, 1]).await;
    check_flakes(&db, "org-b", Some("bot-c"), [2, 2, 0, 0, 0]).await;
    // Another organisation's bot, named under this one: nothing.
    check_flakes(&db, "org-a", Some("bot-c"), [0, 0, 0, 0, 0]).await;

    // One row at a time: draft to publish, publish to none, a title only, a status set to
    // the one it has.
    assert!(docs
        .update(&FLAKE, &a, "a3", &changes(json!({"status": "publish"})))
        .await
        .unwrap());
    assert!(docs
        .update(&FLAKE, &a, "a1", &changes(json!({"status": null})))
        .await
        .unwrap());
    assert!(docs
        .update(&FLAKE, &a, "a2", &changes(json!({"title": "renamed"})))
        .await
        .unwrap());
    assert!(docs
        .update(&FLAKE, &a, "a2", &changes(json!({"status": "publish"})))
        .await
        .unwrap());
    check_flakes(&db, "org-a", Some("bot-a"), [6, 3, 1, 0, 2]).await;

    // In a transaction: one that commits, one that rolls back.
    let mut write = docs.begin_write().await.unwrap();
    assert!(write
        .update_if(
            &FLAKE,
            &a,
            "a5",
            &changes(json!({"status": "draft"})),
            &changes(json!({"status": "schedule", "publish_at": STAMP})),
        )
        .await
        .unwrap());
    write.commit().await.unwrap();
    let mut write = docs.begin_write().await.unwrap();
    assert!(write
        .update(&FLAKE, &a, "a4", &changes(json!({"status": "draft"})))
        .await
        .unwrap());
    assert!(write.delete(&FLAKE, &a, "a6").await.unwrap());
    drop(write);
    check_flakes(&db, "org-a", Some("bot-a"), [6, 3, 0, 1, 2]).await;

    // In bulk, by a statement that names no row.
    assert_eq!(
        sql_write(
            &db,
            "UPDATE flakes SET status = 'draft' \
             WHERE organisation_id = 'org-a' AND bot_id = 'bot-a' AND status = 'publish'",
        )
        .await,
        3
    );
    check_flakes(&db, "org-a", Some("bot-a"), [6, 0, 3, 1, 2]).await;
    assert_eq!(
        sql_write(
            &db,
            "UPDATE flakes SET status = 'publish' WHERE organisation_id = 'org-a'",
        )
        .await,
        7
    );
    check_flakes(&db, "org-a", Some("bot-a"), [6, 6, 0, 0, 0]).await;
    check_flakes(&db, "org-a", Some("bot-b"), [1, 1, 0, 0, 0]).await;
    check_flakes(&db, "org-b", Some("bot-c"), [2, 2, 0, 0, 0]).await;

    // Moved to another bot, and to another bot and status at once.
    assert!(docs
        .update(&FLAKE, &a, "a1", &changes(json!({"bot_id": "bot-b"})))
        .await
        .unwrap());
    assert!(docs
        .update(
            &FLAKE,
            &a,
            "a2",
            &changes(json!({"bot_id": "bot-b", "status": "draft"}))
        )
        .await
        .unwrap());
    check_flakes(&db, "org-a", Some("bot-a"), [4, 4, 0, 0, 0]).await;
    check_flakes(&db, "org-a", Some("bot-b"), [3, 2, 1, 0, 0]).await;
    check_flakes(&db, "org-a", None, [7, 6, 1, 0, 0]).await;

    // Deleted one at a time, and all of a bot's at once.
    assert!(docs.delete(&FLAKE, &b, "a2").await.unwrap());
    assert!(!docs.delete(&FLAKE, &b, "a2").await.unwrap());
    check_flakes(&db, "org-a", Some("bot-b"), [2, 2, 0, 0, 0]).await;
    assert_eq!(docs.delete_all(&FLAKE, &a).await.unwrap(), 4);
    check_flakes(&db, "org-a", Some("bot-a"), [0, 0, 0, 0, 0]).await;
    check_flakes(&db, "org-a", None, [2, 2, 0, 0, 0]).await;
    check_flakes(&db, "org-b", Some("bot-c"), [2, 2, 0, 0, 0]).await;
    // Keys whose count fell to 0 are gone: org-a keeps bot B's total and its publish count.
    assert_eq!(kept_rows(&db, "org-a").await, 2);
}

async fn a_deleted_bot_or_organisation_takes_its_counts_with_it(db: Db) {
    let docs = setup(&db).await;
    let org = Scope::org("org-a");
    for (bot_id, n) in [("bot-a", 3), ("bot-b", 2)] {
        let scope = Scope::child("org-a", "bot_id", bot_id);
        for i in 0..n {
            let id = format!("{bot_id}-{i}");
            let s = if i == 0 { "draft" } else { "publish" };
            docs.insert(&FLAKE, &scope, &flake(&id, status(s, &id)))
                .await
                .unwrap();
        }
        docs.insert(
            &TAG,
            &scope,
            &doc(
                json!({"id": format!("{bot_id}-t"), "name": "t", "slug": "t",
                        "created": STAMP, "modified": STAMP}),
            ),
        )
        .await
        .unwrap();
    }
    let c = Scope::child("org-b", "bot_id", "bot-c");
    docs.insert(&FLAKE, &c, &flake("c1", status("publish", "c1")))
        .await
        .unwrap();
    check_flakes(&db, "org-a", None, [5, 3, 2, 0, 0]).await;

    // The way the service deletes a bot: its content first, in one transaction.
    assert!(docs
        .delete_with_children(&BOT, &org, "bot-a", &[&FLAKE, &TAG], "bot_id")
        .await
        .unwrap());
    check_flakes(&db, "org-a", Some("bot-a"), [0, 0, 0, 0, 0]).await;
    check(&db, &TAG, "org-a", Some("bot-a"), json!({}), 0).await;
    check_flakes(&db, "org-a", None, [2, 1, 1, 0, 0]).await;
    check(&db, &TAG, "org-a", None, json!({}), 1).await;

    // A plain delete of the bot row: the schema's cascade takes its content.
    assert!(docs.delete(&BOT, &org, "bot-b").await.unwrap());
    check_flakes(&db, "org-a", Some("bot-b"), [0, 0, 0, 0, 0]).await;
    check_flakes(&db, "org-a", None, [0, 0, 0, 0, 0]).await;
    check(&db, &TAG, "org-a", None, json!({}), 0).await;
    assert_eq!(kept_rows(&db, "org-a").await, 0);

    // An organisation's delete cascades through its bots to their content.
    bot(&docs, "org-a", "bot-d").await;
    let d = Scope::child("org-a", "bot_id", "bot-d");
    docs.insert(&FLAKE, &d, &flake("d1", status("publish", "d1")))
        .await
        .unwrap();
    check_flakes(&db, "org-a", None, [1, 1, 0, 0, 0]).await;
    assert!(docs.delete(&ORGANISATION, &org, "org-a").await.unwrap());
    check_flakes(&db, "org-a", None, [0, 0, 0, 0, 0]).await;
    check_flakes(&db, "org-a", Some("bot-d"), [0, 0, 0, 0, 0]).await;
    assert_eq!(kept_rows(&db, "org-a").await, 0);
    // The other organisation's counts are untouched.
    check_flakes(&db, "org-b", Some("bot-c"), [1, 1, 0, 0, 0]).await;
    check_flakes(&db, "org-b", None, [1, 1, 0, 0, 0]).await;
}

async fn totals_of_tags_categories_and_channels_are_kept(db: Db) {
    let docs = setup(&db).await;
    let (a, b) = (
        Scope::child("org-a", "bot_id", "bot-a"),
        Scope::child("org-a", "bot_id", "bot-b"),
    );
    for model in [&TAG, &CATEGORY, &CHANNEL] {
        for (scope, id) in [(&a, "x1"), (&a, "x2"), (&a, "x3"), (&b, "x4")] {
            docs.insert(
                model,
                scope,
                &doc(
                    json!({"id": format!("{}-{id}", model.table), "name": id, "slug": id,
                            "created": STAMP, "modified": STAMP}),
                ),
            )
            .await
            .unwrap();
        }
        check(&db, model, "org-a", Some("bot-a"), json!({}), 3).await;
        check(&db, model, "org-a", Some("bot-b"), json!({}), 1).await;
        check(&db, model, "org-a", None, json!({}), 4).await;
        // A change of another field leaves the totals be; a move changes both bots'.
        let x1 = format!("{}-x1", model.table);
        assert!(docs
            .update(model, &a, &x1, &changes(json!({"name": "renamed"})))
            .await
            .unwrap());
        assert!(docs
            .update(model, &a, &x1, &changes(json!({"bot_id": "bot-b"})))
            .await
            .unwrap());
        check(&db, model, "org-a", Some("bot-a"), json!({}), 2).await;
        check(&db, model, "org-a", Some("bot-b"), json!({}), 2).await;
        assert!(docs.delete(model, &b, &x1).await.unwrap());
        check(&db, model, "org-a", Some("bot-b"), json!({}), 1).await;
        check(&db, model, "org-a", None, json!({}), 3).await;
        check(&db, model, "org-b", None, json!({}), 0).await;
    }
    // Channels keep no count by status: that count is made over the rows.
    check(&db, &CHANNEL, "org-a", None, json!({"name": "x2"}), 1).await;
}

async fn clauses_the_kept_counts_do_not_cover_count_the_rows(db: Db) {
    let docs = setup(&db).await;
    let a = Scope::child("org-a", "bot_id", "bot-a");
    docs.insert_many(
        &FLAKE,
        &a,
        &[
            flake("a1", status("publish", "one")),
            flake("a2", status("publish", "two")),
            flake("a3", status("draft", "one")),
            flake("a4", json!({"title": "one"})),
        ],
    )
    .await
    .unwrap();
    // A wrong kept count shows which counts read it: the ones it covers, and only those.
    assert_eq!(
        sql_write(
            &db,
            "UPDATE content_counts SET n = 40 WHERE table_name = 'flakes' \
             AND bot_id = 'bot-a' AND field = 'status' AND value = 'publish'",
        )
        .await,
        1
    );
    let count = |w: Value| {
        let docs = docs.clone();
        async move { docs.count(&FLAKE, &a, &where_(&FLAKE, w)).await.unwrap() }
    };
    assert_eq!(count(json!({"status": "publish"})).await, 40);
    assert_eq!(count(json!({"status": {"eq": "publish"}})).await, 40);
    for (w, n) in [
        (json!({"status": {"neq": "publish"}}), 2),
        (json!({"status": {"neq": "draft"}}), 3),
        (json!({"status": {"inq": ["publish"]}}), 2),
        (json!({"status": {"like": "pub%"}}), 2),
        (json!({"status": "publish", "title": "one"}), 1),
        (json!({"title": "one"}), 3),
    ] {
        check(&db, &FLAKE, "org-a", Some("bot-a"), w, n).await;
    }
    // Clauses combined with and/or are counted over the rows too, even around one test.
    assert_eq!(count(json!({"and": [{"status": "publish"}]})).await, 2);
    assert_eq!(count(json!({"or": [{"status": "publish"}]})).await, 2);
    assert_eq!(
        count(json!({"or": [{"status": "publish"}, {"status": null}]})).await,
        3
    );
}
