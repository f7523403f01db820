//! The event outbox: one row per committed platform write, appended inside that write's
//! transaction, numbered per application in commit order, and pruned once old and handled.

use palaver_domain::platform::event::Event;
use sea_query::{Expr, Func, OnConflict, Order, Query};

use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::row::DbRow;
use crate::Ident;

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub application_id: i64,
    pub event: Event,
    pub created: i64,
}

/// An appended event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// Per application, strictly increasing in commit order.
    pub seq: i64,
    pub application_id: i64,
    pub event: Event,
    pub created: i64,
}

fn table() -> Ident {
    Ident::new("events")
}

const COLUMNS: [&str; 5] = ["app_seq", "application_id", "type", "payload", "created"];

/// Most events one pruning statement deletes: a huge outbox is pruned in many short statements,
/// none holding a lock (SQLite's write lock, PostgreSQL's row locks) for long.
const PRUNE_BATCH: u64 = 10_000;

fn read(r: &DbRow) -> Result<EventRow, StoreError> {
    let payload = r.text("payload")?.unwrap_or_else(|| "null".into());
    let payload =
        serde_json::from_str(&payload).map_err(|_| StoreError::Decode("events.payload".into()))?;
    let kind = r.text("type")?.unwrap_or_default();
    Ok(EventRow {
        seq: r.int("app_seq")?.unwrap_or_default(),
        application_id: r.int("application_id")?.unwrap_or_default(),
        event: Event::from_parts(&kind, payload)
            .map_err(|e| StoreError::Decode(format!("events: {e}")))?,
        created: r.int("created")?.unwrap_or_default(),
    })
}

#[derive(Debug, Clone)]
pub struct Events {
    db: Db,
}

impl Events {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Appends `e` inside `tx`; the row exists only if `tx` commits.
    pub async fn append(tx: &mut Tx, e: &NewEvent) -> Result<EventRow, StoreError> {
        Self::append_all(tx, std::slice::from_ref(e))
            .await?
            .pop()
            .ok_or_else(|| StoreError::Decode("events.app_seq".into()))
    }

    /// Appends `events` inside `tx`, in that order; the rows exist only if `tx` commits. Each
    /// application's event counter stays locked until `tx` ends, so numbers follow commit
    /// order; append last in a transaction, so that the lock is held without waiting on
    /// anything else, and counters are taken in ascending application order.
    pub async fn append_all(tx: &mut Tx, events: &[NewEvent]) -> Result<Vec<EventRow>, StoreError> {
        let mut counts: std::collections::BTreeMap<i64, i64> = Default::default();
        for e in events {
            *counts.entry(e.application_id).or_default() += 1;
        }
        let mut next: std::collections::HashMap<i64, i64> = Default::default();
        for (&app, &count) in &counts {
            let last = Self::take(tx, app, count).await?;
            next.insert(app, last - count + 1);
        }
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            let seq = next.entry(e.application_id).or_default();
            out.push(EventRow {
                seq: *seq,
                application_id: e.application_id,
                event: e.event.clone(),
                created: e.created,
            });
            *seq += 1;
        }
        // 6 values a row: well under SQLite's limit of bound values per statement.
        for chunk in out.chunks(1000) {
            let mut q = Query::insert();
            q.into_table(table()).columns(
                [
                    "application_id",
                    "app_seq",
                    "type",
                    "channel_id",
                    "payload",
                    "created",
                ]
                .map(Ident::new),
            );
            for e in chunk {
                // Serialised once, here, into the outbox's name and payload columns.
                let (kind, payload) = e.event.to_parts();
                q.values_panic([
                    e.application_id.into(),
                    e.seq.into(),
                    kind.into(),
                    e.event.channel_id().into(),
                    payload.to_string().into(),
                    e.created.into(),
                ]);
            }
            tx.execute(&q).await?;
        }
        Ok(out)
    }

    /// Takes application `app`'s next `count` event numbers; answers the last of them.
    async fn take(tx: &mut Tx, app: i64, count: i64) -> Result<i64, StoreError> {
        let counters = Ident::new("event_counters");
        let mut up = Query::update();
        up.table(counters.clone())
            .value(
                Ident::new("last_seq"),
                Expr::col(Ident::new("last_seq")).add(count),
            )
            .and_where(Expr::col(Ident::new("application_id")).eq(app))
            .returning_col(Ident::new("last_seq"));
        let mut rows = tx.fetch_all(&up).await?;
        if rows.is_empty() {
            // The application's first event: make its counter, then take the numbers.
            let mut ins = Query::insert();
            ins.into_table(counters)
                .columns(["application_id", "last_seq"].map(Ident::new))
                .values_panic([app.into(), 0.into()])
                .on_conflict(
                    OnConflict::column(Ident::new("application_id"))
                        .do_nothing()
                        .to_owned(),
                );
            tx.execute(&ins).await?;
            rows = tx.fetch_all(&up).await?;
        }
        rows.first()
            .map(|r| r.int("last_seq"))
            .transpose()?
            .flatten()
            .ok_or_else(|| StoreError::Decode("event_counters.last_seq".into()))
    }

    /// The number of application `app`'s newest event (0 before its first): one row of the
    /// counters, not a scan of the outbox.
    pub async fn last_seq(&self, app: i64) -> Result<i64, StoreError> {
        let mut q = Query::select();
        q.from(Ident::new("event_counters"))
            .column(Ident::new("last_seq"))
            .and_where(Expr::col(Ident::new("application_id")).eq(app));
        let rows = self.db.fetch_all(&q).await?;
        Ok(rows
            .first()
            .map(|r| r.int("last_seq"))
            .transpose()?
            .flatten()
            .unwrap_or(0))
    }

    /// Up to `limit` events of application `app` after `seq`, oldest first: how a consumer
    /// catches up on what it missed.
    pub async fn after(&self, app: i64, seq: i64, limit: u64) -> Result<Vec<EventRow>, StoreError> {
        let mut q = Query::select();
        q.from(table())
            .columns(COLUMNS.map(Ident::new))
            .and_where(Expr::col(Ident::new("application_id")).eq(app))
            .and_where(Expr::col(Ident::new("app_seq")).gt(seq))
            .order_by(Ident::new("app_seq"), Order::Asc)
            .limit(limit);
        let rows = self.db.fetch_all(&q).await?;
        rows.iter().map(read).collect()
    }

    /// Deletes the events created before `created_before` (epoch milliseconds) that every
    /// consumer of their application has handled; answers how many went.
    ///
    /// An event stays while any consumer's offset for its application (`event_consumers`) is
    /// below it, and every event of an application no consumer has an offset for stays: a
    /// consumer that lags keeps what it has yet to read. The event counters are never touched,
    /// so numbers keep growing after a prune.
    ///
    /// Each application's events are walked in number order, a window of at most 10,000 of them
    /// per statement, each statement committing on its own. The walk stops at the first window
    /// that ends with an event not old enough: events are created in nearly number order, so
    /// what follows is recent too (an older straggler past it goes on a later prune), and the
    /// retained part of a long outbox is not read again on every prune.
    pub async fn prune_before(&self, created_before: i64) -> Result<u64, StoreError> {
        let consumers = Ident::new("event_consumers");
        let mut q = Query::select();
        q.column(Ident::new("application_id"))
            .expr_as(
                Func::min(Expr::col(Ident::new("last_seq"))),
                Ident::new("handled"),
            )
            .from(consumers)
            .group_by_col(Ident::new("application_id"))
            .order_by(Ident::new("application_id"), Order::Asc);
        // Read once: offsets only grow, so a bound read now stays safe while the walk goes on.
        let bounds = self.db.fetch_all(&q).await?;
        let mut pruned = 0;
        for b in &bounds {
            let (Some(app), Some(handled)) = (b.int("application_id")?, b.int("handled")?) else {
                continue;
            };
            pruned += self.prune_application(app, handled, created_before).await?;
        }
        Ok(pruned)
    }

    /// Prunes application `app`'s events numbered up to `handled` and created before
    /// `created_before`, window by window (see [`Events::prune_before`]).
    async fn prune_application(
        &self,
        app: i64,
        handled: i64,
        created_before: i64,
    ) -> Result<u64, StoreError> {
        let col = |c: &'static str| Expr::col(Ident::new(c));
        let mut after = i64::MIN;
        let mut pruned = 0;
        loop {
            // The window's last event: the PRUNE_BATCH-th after `after`, found by walking the
            // (application_id, app_seq) index, so a window never spans more events than that.
            let mut last = Query::select();
            last.columns(["app_seq", "created"].map(Ident::new))
                .from(table())
                .and_where(col("application_id").eq(app))
                .and_where(col("app_seq").gt(after))
                .and_where(col("app_seq").lte(handled))
                .order_by(Ident::new("app_seq"), Order::Asc)
                .limit(1)
                .offset(PRUNE_BATCH - 1);
            let last = match self.db.fetch_all(&last).await?.first() {
                Some(r) => Some((
                    r.int("app_seq")?.unwrap_or(handled),
                    r.int("created")?.unwrap_or(created_before),
                )),
                None => None,
            };
            let upto = last.map_or(handled, |(seq, _)| seq);
            let mut del = Query::delete();
            del.from_table(table())
                .and_where(col("application_id").eq(app))
                .and_where(col("app_seq").gt(after))
                .and_where(col("app_seq").lte(upto))
                .and_where(col("created").lt(created_before));
            pruned += self.db.execute(&del).await?;
            match last {
                Some((seq, created)) if created < created_before => after = seq,
                // Fewer than a window left, or the window ends in recent events.
                _ => return Ok(pruned),
            }
        }
    }
}
