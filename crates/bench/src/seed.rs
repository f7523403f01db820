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
/// as the service's batched send writes them, 5,000 to a transaction. No events or notifications
/// are written: this builds history to page through, not traffic.
pub async fn messages(db: Db, app: i64, channel: i64, user: i64, n: usize) -> anyhow::Result<()> {
    let mut done = 0;
    while done < n {
        let count = (n - done).min(5_000);
        let now = now_millis();
        let mut tx = db.begin().await?;
        let (main, last) = Threads::take_seqs(&mut tx, app, channel, count as i64, now).await?;
        let first = last - count as i64 + 1;
        let rows: Vec<MessageRow> = (0..count)
            .map(|i| MessageRow {
                id: 0,
                application_id: app,
                channel_id: channel,
                thread_id: main,
                seq: first + i as i64,
                app_seq: 0,
                r#type: "TEXT".into(),
                user_id: Some(user),
                body: Some(format!(
                    "history message {}, with a little text in it",
                    done + i
                )),
                file: None,
                group_tag: None,
                properties: json!({}),
                mentions: json!([]),
                links: json!([]),
                nested_level: 0,
                created: now,
                last_edited: None,
            })
            .collect();
        let rows = Messages::insert_all(&mut tx, &rows).await?;
        let parents: Vec<(i64, i64)> = rows.iter().map(|m| (channel, m.id)).collect();
        Threads::insert_replies(&mut tx, app, &parents, now).await?;
        tx.commit().await?;
        done += count;
    }
    Ok(())
}
