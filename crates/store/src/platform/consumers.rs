//! Offsets of the outbox's consumers: the last event each has handled, per application. A
//! consumer moves its offset in the transaction of the work the events caused, so each event's
//! work is done exactly once even when two workers race.

use sea_query::{Cond, Expr, Func, OnConflict, Order, Query};

use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::Ident;

fn table() -> Ident {
    Ident::new("event_consumers")
}

#[derive(Debug, Clone)]
pub struct Consumers {
    db: Db,
}

impl Consumers {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The applications with events `consumer` has not handled yet: one read of the event
    /// counters (a row per application), however long the outbox.
    pub async fn behind(&self, consumer: &str) -> Result<Vec<i64>, StoreError> {
        let counters = Ident::new("event_counters");
        let mut q = Query::select();
        q.column((counters.clone(), Ident::new("application_id")))
            .from(counters.clone())
            .left_join(
                table(),
                Cond::all()
                    .add(
                        Expr::col((table(), Ident::new("application_id")))
                            .equals((counters.clone(), Ident::new("application_id"))),
                    )
                    .add(Expr::col((table(), Ident::new("consumer"))).eq(consumer)),
            )
            .and_where(
                Expr::col((counters.clone(), Ident::new("last_seq"))).gt(Func::coalesce([
                    Expr::col((table(), Ident::new("last_seq"))).into(),
                    Expr::val(0).into(),
                ])),
            )
            .order_by((counters, Ident::new("application_id")), Order::Asc);
        let rows = self.db.fetch_all(&q).await?;
        rows.iter()
            .map(|r| Ok(r.int("application_id")?.unwrap_or_default()))
            .collect()
    }

    /// The last event `consumer` handled for `app`, 0 before the first.
    pub async fn offset(&self, consumer: &str, app: i64) -> Result<i64, StoreError> {
        let mut q = Query::select();
        q.column(Ident::new("last_seq"))
            .from(table())
            .and_where(Expr::col(Ident::new("consumer")).eq(consumer))
            .and_where(Expr::col(Ident::new("application_id")).eq(app));
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
            .value(Ident::new("last_seq"), to)
            .and_where(Expr::col(Ident::new("consumer")).eq(consumer))
            .and_where(Expr::col(Ident::new("application_id")).eq(app))
            .and_where(Expr::col(Ident::new("last_seq")).eq(from));
        if tx.execute(&up).await? > 0 {
            return Ok(true);
        }
        if from != 0 {
            return Ok(false);
        }
        let mut ins = Query::insert();
        ins.into_table(table())
            .columns(["consumer", "application_id", "last_seq"].map(Ident::new))
            .values_panic([consumer.into(), app.into(), to.into()])
            .on_conflict(
                OnConflict::columns(["consumer", "application_id"].map(Ident::new))
                    .do_nothing()
                    .to_owned(),
            );
        Ok(tx.execute(&ins).await? > 0)
    }
}
