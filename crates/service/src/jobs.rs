//! The job queue as use-cases see it: enqueue inside a write's transaction, and, for workers,
//! claim, renew, checkpoint and end a job under a lease, all on the service clock. Workers
//! (the `palaver-jobs` crate) decide what to run; this decides what is stored.

use std::sync::Arc;
use std::time::Duration;

use palaver_domain::job::{JobKind, JobProgress};
use palaver_domain::time::Clock;
use palaver_store::{Db, Jobs, NewJob, Tx};
pub use palaver_store::{JobErrorRow, JobRow};
use serde_json::Value;
use tokio::sync::Notify;

use crate::error::Result;

/// How many times a job is claimed before it fails for good: its first run, each retry after
/// a transient failure, and each lease that ran out under a dead worker.
pub const MAX_ATTEMPTS: i64 = 5;

/// A job held by one worker: what the worker's writes carry to prove it still holds it.
#[derive(Debug, Clone)]
pub struct JobLease {
    pub id: i64,
    pub owner: String,
    /// How long each renewal extends the lease.
    pub lease: Duration,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[derive(Debug, Clone)]
pub struct JobQueue {
    jobs: Jobs,
    clock: Clock,
    /// Woken after a job is enqueued here, so an idle worker of this instance starts at once;
    /// workers of other instances find it at their next poll.
    wake: Arc<Notify>,
}

impl JobQueue {
    pub fn new(db: Db, clock: Clock) -> Self {
        Self {
            jobs: Jobs::new(db),
            clock,
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Enqueues a job of `kind` inside `tx`, due at `run_at` (now when `None`). Call
    /// [`JobQueue::wake`] after `tx` commits.
    pub(crate) async fn enqueue(
        &self,
        tx: &mut Tx,
        application_id: Option<i64>,
        kind: JobKind,
        payload: Value,
        run_at: Option<i64>,
    ) -> Result<JobRow> {
        let now = self.clock.now_millis();
        Ok(Jobs::enqueue(
            tx,
            &NewJob {
                application_id,
                kind: kind.as_str().into(),
                payload,
                run_at: run_at.unwrap_or(now),
                max_attempts: MAX_ATTEMPTS,
                created: now,
            },
        )
        .await?)
    }

    /// Tells this instance's idle workers that a job is waiting.
    pub fn wake(&self) {
        self.wake.notify_waiters();
    }

    /// Resolves at the next [`JobQueue::wake`].
    pub async fn woken(&self) {
        self.wake.notified().await
    }

    /// Claims the next due job of `kinds` for `owner`, leased for `lease`.
    pub async fn claim(
        &self,
        owner: &str,
        kinds: &[JobKind],
        lease: Duration,
    ) -> Result<Option<(JobRow, JobLease)>> {
        let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        let now = self.clock.now_millis();
        let claimed = self
            .jobs
            .claim(owner, &names, now, now.saturating_add(millis(lease)))
            .await?;
        Ok(claimed.map(|job| {
            let held = JobLease {
                id: job.id,
                owner: owner.to_string(),
                lease,
            };
            (job, held)
        }))
    }

    /// Claims job `id` for `owner` when it is due (see [`JobQueue::claim`]).
    pub async fn claim_id(
        &self,
        owner: &str,
        id: i64,
        lease: Duration,
    ) -> Result<Option<(JobRow, JobLease)>> {
        let now = self.clock.now_millis();
        let claimed = self
            .jobs
            .claim_id(owner, id, now, now.saturating_add(millis(lease)))
            .await?;
        Ok(claimed.map(|job| {
            let held = JobLease {
                id: job.id,
                owner: owner.to_string(),
                lease,
            };
            (job, held)
        }))
    }

    fn lease_end(&self, held: &JobLease) -> i64 {
        self.clock.now_millis().saturating_add(millis(held.lease))
    }

    /// Extends the lease; false when it was lost (the job must stop without writing more).
    pub async fn renew(&self, held: &JobLease) -> Result<bool> {
        Ok(self
            .jobs
            .renew(held.id, &held.owner, self.lease_end(held))
            .await?)
    }

    /// Records `progress` and `failures` inside `tx`, the transaction of the rows they account
    /// for; false when the lease was lost, and then `tx` must be dropped, not committed.
    pub async fn checkpoint(
        &self,
        tx: &mut Tx,
        held: &JobLease,
        progress: &JobProgress,
        failures: &[JobErrorRow],
    ) -> Result<bool> {
        Ok(Jobs::checkpoint(
            tx,
            held.id,
            &held.owner,
            progress,
            failures,
            self.lease_end(held),
        )
        .await?)
    }

    pub async fn finish(&self, held: &JobLease, result: &Value) -> Result<bool> {
        Ok(self
            .jobs
            .finish(held.id, &held.owner, result, self.clock.now_millis())
            .await?)
    }

    pub async fn fail(&self, held: &JobLease, reason: &str) -> Result<bool> {
        Ok(self
            .jobs
            .fail(held.id, &held.owner, reason, self.clock.now_millis())
            .await?)
    }

    /// Puts the job back to wait `back_off` before its next attempt.
    pub async fn retry(&self, held: &JobLease, reason: &str, back_off: Duration) -> Result<bool> {
        let at = self.clock.now_millis().saturating_add(millis(back_off));
        Ok(self.jobs.retry(held.id, &held.owner, reason, at).await?)
    }

    /// Job `id`, whoever started it (for its worker).
    pub async fn by_id(&self, id: i64) -> Result<Option<JobRow>> {
        Ok(self.jobs.by_id(id).await?)
    }

    pub(crate) fn store(&self) -> &Jobs {
        &self.jobs
    }
}
