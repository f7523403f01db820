//! Bulk-loads benchmark content straight through the store, in transactions of 5,000 rows.

use palaver_domain::id::new_object_id;
use palaver_domain::models;
use palaver_domain::time::{format_millis, now_millis};
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
