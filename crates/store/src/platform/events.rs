//! The event outbox: one row per committed platform write, appended inside that write's
//! transaction, numbered per application in commit order.

use palaver_domain::platform::event::Event;
use sea_query::{Alias, Expr, OnConflict, Order, Query};

use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::row::DbRow;

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

fn table() -> Alias {
    Alias::new("events")
}

const COLUMNS: [&str; 5] = ["app_seq", "application_id", "type", "payload", "created"];

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
                .map(Alias::new),
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
        let counters = Alias::new("event_counters");
        let mut up = Query::update();
        up.table(counters.clone())
            .value(
                Alias::new("last_seq"),
                Expr::col(Alias::new("last_seq")).add(count),
            )
            .and_where(Expr::col(Alias::new("application_id")).eq(app))
            .returning_col(Alias::new("last_seq"));
        let mut rows = tx.fetch_all(&up).await?;
        if rows.is_empty() {
            // The application's first event: make its counter, then take the numbers.
            let mut ins = Query::insert();
            ins.into_table(counters)
                .columns(["application_id", "last_seq"].map(Alias::new))
                .values_panic([app.into(), 0.into()])
                .on_conflict(
                    OnConflict::column(Alias::new("application_id"))
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

    /// Up to `limit` events of application `app` after `seq`, oldest first: how a consumer
    /// catches up on what it missed.
    pub async fn after(&self, app: i64, seq: i64, limit: u64) -> Result<Vec<EventRow>, StoreError> {
        let mut q = Query::select();
        q.from(table())
            .columns(COLUMNS.map(Alias::new))
            .and_where(Expr::col(Alias::new("application_id")).eq(app))
            .and_where(Expr::col(Alias::new("app_seq")).gt(seq))
            .order_by(Alias::new("app_seq"), Order::Asc)
            .limit(limit);
        let rows = self.db.fetch_all(&q).await?;
        rows.iter().map(read).collect()
    }
}
