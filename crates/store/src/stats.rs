//! What the operator's gauges read from the database: how far each outbox consumer is behind,
//! and how many jobs wait, run or failed. Each is one cheap query (a row per application, a
//! grouped count over the jobs' state index), made now and then, never per request.

use std::collections::BTreeMap;

use palaver_domain::job::JobState;
use sea_query::{Expr, Func, Query};

use crate::db::Db;
use crate::error::StoreError;
use crate::Ident;

/// How many jobs of one kind are in one state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobCount {
    pub kind: String,
    pub state: JobState,
    pub count: u64,
}

#[derive(Debug, Clone)]
pub struct Stats {
    db: Db,
}

impl Stats {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Per consumer of the outbox, how many events it has yet to handle: over every
    /// application, the newest event's number less the consumer's offset (0 for an application
    /// it has no offset for yet). A consumer is listed once it has handled its first event.
    pub async fn outbox_lag(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        let mut counters = Query::select();
        counters
            .columns(["application_id", "last_seq"].map(Ident::new))
            .from(Ident::new("event_counters"));
        let mut offsets = Query::select();
        offsets
            .columns(["consumer", "application_id", "last_seq"].map(Ident::new))
            .from(Ident::new("event_consumers"));
        let newest: BTreeMap<i64, i64> = self
            .db
            .fetch_all(&counters)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.int("application_id")?.unwrap_or_default(),
                    r.int("last_seq")?.unwrap_or_default(),
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        let mut handled: BTreeMap<String, BTreeMap<i64, i64>> = BTreeMap::new();
        for r in self.db.fetch_all(&offsets).await? {
            let consumer = r.text("consumer")?.unwrap_or_default();
            let app = r.int("application_id")?.unwrap_or_default();
            let seq = r.int("last_seq")?.unwrap_or_default();
            handled.entry(consumer).or_default().insert(app, seq);
        }
        Ok(handled
            .into_iter()
            .map(|(consumer, offsets)| {
                let lag = newest
                    .iter()
                    .map(|(app, last)| {
                        let at = offsets.get(app).copied().unwrap_or(0);
                        u64::try_from(last - at).unwrap_or(0)
                    })
                    .sum();
                (consumer, lag)
            })
            .collect())
    }

    /// How many jobs are pending (queued, due or not), running, or failed for good, by kind.
    pub async fn jobs(&self) -> Result<Vec<JobCount>, StoreError> {
        let states = [JobState::Pending, JobState::Running, JobState::Failed];
        let mut q = Query::select();
        q.columns(["kind", "state"].map(Ident::new))
            .expr_as(Func::count(Expr::col(Ident::new("id"))), Ident::new("n"))
            .from(Ident::new("jobs"))
            .and_where(Expr::col(Ident::new("state")).is_in(states.map(JobState::as_str)))
            .group_by_columns(["kind", "state"].map(Ident::new));
        let mut out = Vec::new();
        for r in self.db.fetch_all(&q).await? {
            let Some(state) = r.text("state")?.as_deref().and_then(JobState::parse) else {
                continue;
            };
            out.push(JobCount {
                kind: r.text("kind")?.unwrap_or_default(),
                state,
                count: u64::try_from(r.int("n")?.unwrap_or(0)).unwrap_or(0),
            });
        }
        Ok(out)
    }
}
