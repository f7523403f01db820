//! Bulk-loads benchmark content and message history straight through the store, in
//! transactions of 5,000 rows.

use palaver_domain::id::new_object_id;
use palaver_domain::models;
use palaver_domain::time::{format_millis, now_millis};
use palaver_store::platform::{MessageRow, Messages, Threads};
use palaver_store::{Db, Documents, Scope};
use serde_json::{json, Map, Value};

const STATUSES: [&str; 3] = ["draft", "publish", "schedule"];

/// Loads `n` flakes into `bot`: statuses in turn, one second apart going back from now.
pub async fn flakes(db: Db, org: String, bot: String, n: usize) -> anyhow::Result<usize> {
    let docs = Documents::new(db);
    let scope = Scope::child(&org, "bot_id", &bot);
    let now = now_millis();
    let mut batch = Vec::with_capacity(5_000);
    for i in 0..n {
        let created = Value::String(format_millis(now - (n - i) as i64 * 1000));
        let status = STATUSES[i % STATUSES.len()];
        let mut doc = Map::new();
        doc.insert("id".into(), Value::String(new_object_id()));
        doc.insert("title".into(), Value::String(format!("Flake number {i}")));
        doc.insert(
            "description".into(),
            Value::String("Benchmark content".into()),
        );
        doc.insert("status".into(), Value::String(status.into()));
        if status == "schedule" {
            doc.insert(
                "publish_at".into(),
                Value::String(format_millis(now + 86_400_000)),
            );
        }
        doc.insert(
            "bullet_points".into(),
            json!([{"type": "text", "text": "point", "button": []}]),
        );
        doc.insert("tags".into(), json!([]));
        doc.insert("category".into(), json!([]));
        doc.insert("author_name".into(), Value::String("bench".into()));
        doc.insert("created".into(), created.clone());
        doc.insert("modified".into(), created);
        batch.push(doc);
        if batch.len() == 5_000 {
            docs.insert_many(&models::FLAKE, &scope, &batch).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        docs.insert_many(&models::FLAKE, &scope, &batch).await?;
    }
    Ok(n)
}

/// Loads `n` TEXT messages from `user` into `channel`'s MAIN thread, each with its reply thread,
/// as the service's send does, in transactions of 5,000. No events or notifications are written:
/// this builds history to page through, not traffic.
pub async fn messages(db: Db, app: i64, channel: i64, user: i64, n: usize) -> anyhow::Result<()> {
    let mut done = 0;
    while done < n {
        let mut tx = db.begin().await?;
        let upto = n.min(done + 5_000);
        for i in done..upto {
            let now = now_millis();
            let (main, seq) = Threads::next_seq(&mut tx, app, channel, now).await?;
            let row = MessageRow {
                id: 0,
                application_id: app,
                channel_id: channel,
                thread_id: main,
                seq,
                app_seq: 0,
                r#type: "TEXT".into(),
                user_id: Some(user),
                body: Some(format!("history message {i}, with a little text in it")),
                file: None,
                group_tag: None,
                properties: json!({}),
                mentions: json!([]),
                links: json!([]),
                nested_level: 0,
                created: now,
                last_edited: None,
            };
            let row = Messages::insert(&mut tx, &row).await?;
            Threads::insert_reply(&mut tx, app, channel, row.id, now).await?;
        }
        tx.commit().await?;
        done = upto;
    }
    Ok(())
}
