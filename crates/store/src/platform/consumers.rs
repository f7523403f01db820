//! Offsets of the outbox's consumers: the last event each has handled, per application. A
//! consumer moves its offset in the transaction of the work the events caused, so each event's
//! work is done exactly once even when two workers race.

use sea_query::{Alias, Expr, OnConflict, Query};

use crate::db::{Db, Tx};
use crate::error::StoreError;

fn table() -> Alias {
    Alias::new("event_consumers")
}

#[derive(Debug, Clone)]
pub struct Consumers {
    db: Db,
}

impl Consumers {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The last event `consumer` handled for `app`, 0 before the first.
    pub async fn offset(&self, consumer: &str, app: i64) -> Result<i64, StoreError> {
        let mut q = Query::select();
        q.column(Alias::new("last_seq"))
            .from(table())
            .and_where(Expr::col(Alias::new("consumer")).eq(consumer))
            .and_where(Expr::col(Alias::new("application_id")).eq(app));
        let rows = self.db.fetch_all(&q).await?;
        Ok(rows
            .first()
            .map(|r| r.int("last_seq"))
            .transpose()?
            .flatten()
            .unwrap_or(0))
    }

    /// Moves the offset from `from` to `to` inside `tx`; false when another worker moved it
    /// first (the caller then rolls back its work).
    pub async fn advance(
        tx: &mut Tx,
        consumer: &str,
        app: i64,
        from: i64,
        to: i64,
    ) -> Result<bool, StoreError> {
        let mut up = Query::update();
        up.table(table())
            .value(Alias::new("last_seq"), to)
            .and_where(Expr::col(Alias::new("consumer")).eq(consumer))
            .and_where(Expr::col(Alias::new("application_id")).eq(app))
            .and_where(Expr::col(Alias::new("last_seq")).eq(from));
        if tx.execute(&up).await? > 0 {
            return Ok(true);
        }
        if from != 0 {
            return Ok(false);
        }
        let mut ins = Query::insert();
        ins.into_table(table())
            .columns(["consumer", "application_id", "last_seq"].map(Alias::new))
            .values_panic([consumer.into(), app.into(), to.into()])
            .on_conflict(
                OnConflict::columns(["consumer", "application_id"].map(Alias::new))
                    .do_nothing()
                    .to_owned(),
            );
        Ok(tx.execute(&ins).await? > 0)
    }
}
