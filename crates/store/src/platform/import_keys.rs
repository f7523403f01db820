//! Idempotency keys of imported elements: per application and kind of element, the key an
//! element carried and what it became, so that an element imported before is skipped.

use std::collections::HashMap;

use sea_query::{Expr, OnConflict, Query};

use crate::db::Tx;
use crate::error::StoreError;
use crate::ident::col;
use crate::Ident;

fn table() -> Ident {
    Ident::new("import_keys")
}

/// Keys are looked up this many at a time, well under either engine's bound-value limit.
const LOOKUP_CHUNK: usize = 500;

pub struct ImportKeys;

impl ImportKeys {
    /// Which of `keys` of `kind` `app` has imported before, with what each became.
    pub async fn known(
        tx: &mut Tx,
        app: i64,
        kind: &str,
        keys: &[&str],
    ) -> Result<HashMap<String, i64>, StoreError> {
        let mut found = HashMap::new();
        for chunk in keys.chunks(LOOKUP_CHUNK) {
            let mut q = Query::select();
            q.from(table())
                .columns(["idempotency_key", "target_id"].map(Ident::new))
                .and_where(col("application_id").eq(app))
                .and_where(col("kind").eq(kind))
                .and_where(col("idempotency_key").is_in(chunk.iter().copied()));
            for r in tx.fetch_all(&q).await? {
                if let (Some(k), Some(id)) = (r.text("idempotency_key")?, r.int("target_id")?) {
                    found.insert(k, id);
                }
            }
        }
        Ok(found)
    }

    /// Records that `key` of `kind` became `target` in `app`; a key recorded before keeps
    /// what it had.
    pub async fn insert_all(
        tx: &mut Tx,
        app: i64,
        kind: &str,
        keys: &[(String, i64)],
    ) -> Result<(), StoreError> {
        for chunk in keys.chunks(LOOKUP_CHUNK / 4) {
            let mut q = Query::insert();
            q.into_table(table()).columns(
                ["application_id", "kind", "idempotency_key", "target_id"].map(Ident::new),
            );
            for (key, target) in chunk {
                q.values_panic([
                    app.into(),
                    kind.into(),
                    key.clone().into(),
                    (*target).into(),
                ]);
            }
            q.on_conflict(
                OnConflict::columns(["application_id", "kind", "idempotency_key"].map(Ident::new))
                    .do_nothing()
                    .to_owned(),
            );
            tx.execute(&q).await?;
        }
        Ok(())
    }

    /// As [`ImportKeys::insert_all`] for messages named by their number in the application
    /// (`app_seq`) instead of their id: a bulk write that did not read its messages' ids back
    /// reads them here in one range of numbers (two numbers a row). A per-key subquery did
    /// without the read, but each statement then held hundreds of subplans, which PostgreSQL
    /// planned on every run: its imports were a third slower.
    pub async fn insert_all_numbered(
        tx: &mut Tx,
        app: i64,
        kind: &str,
        keys: &[(String, i64)],
    ) -> Result<(), StoreError> {
        let (Some(low), Some(high)) = (
            keys.iter().map(|(_, n)| *n).min(),
            keys.iter().map(|(_, n)| *n).max(),
        ) else {
            return Ok(());
        };
        let messages = Ident::new("chat_messages");
        let mut q = Query::select();
        q.from(messages.clone())
            .columns(["id", "app_seq"].map(Ident::new))
            .and_where(Expr::col((messages.clone(), Ident::new("application_id"))).eq(app))
            .and_where(Expr::col((messages, Ident::new("app_seq"))).between(low, high));
        let mut ids = HashMap::new();
        for r in tx.fetch_all(&q).await? {
            if let (Some(n), Some(id)) = (r.int("app_seq")?, r.int("id")?) {
                ids.insert(n, id);
            }
        }
        let targets = keys
            .iter()
            .map(|(key, n)| {
                ids.get(n)
                    .map(|id| (key.clone(), *id))
                    .ok_or_else(|| StoreError::Decode(format!("chat_messages.app_seq {n}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::insert_all(tx, app, kind, &targets).await
    }
}
