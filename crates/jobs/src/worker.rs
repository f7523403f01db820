//! A job worker: claims the next due job of the kinds it has handlers for, runs its handler
//! while renewing the lease, and records the outcome: finished with a result, retried after a
//! back-off when the failure may pass, failed for good with a reason a user can read. Tests
//! call [`Worker::drain`] instead of running the loop, so no test waits for a job.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use palaver_domain::job::{JobKind, JobState};
use palaver_service::jobs::{JobLease, JobQueue, JobRow};
use serde_json::Value;
use tracing::Instrument;

use crate::supervisor::Stopping;

/// Jobs this process's workers finished, by kind.
pub const JOBS_FINISHED: &str = "palaver_jobs_finished_total";
/// Jobs this process's workers failed for good, by kind.
pub const JOBS_FAILED: &str = "palaver_jobs_failed_total";

/// Why a job's run failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobFailure {
    /// Might pass if tried again (storage or database unreachable): retried after a back-off
    /// while attempts remain.
    Transient(String),
    /// Will not pass (the input is unreadable): the job fails now, with this reason.
    Permanent(String),
}

/// Runs the jobs of one kind.
pub trait Handler: Send + Sync {
    fn kind(&self) -> JobKind;

    /// Does `job`'s work under `lease`; answers the job's result.
    fn run<'a>(
        &'a self,
        job: &'a JobRow,
        lease: &'a JobLease,
    ) -> BoxFuture<'a, Result<Value, JobFailure>>;
}

/// How long a claim holds a job without renewal: a dead worker's job waits this long at most
/// before another worker takes it.
const LEASE: Duration = Duration::from_secs(30);
/// How often a running job's lease is renewed: three times per lease, so one slow renewal
/// does not lose it.
const RENEW_EVERY: Duration = Duration::from_secs(10);
/// How often an idle worker looks for due jobs another instance enqueued (its own instance's
/// wake it at once).
const POLL: Duration = Duration::from_secs(1);
/// The back-off before a retry doubles from this, up to [`MAX_BACK_OFF`].
const FIRST_BACK_OFF: Duration = Duration::from_secs(2);
const MAX_BACK_OFF: Duration = Duration::from_secs(300);

/// The wait before attempt `attempts + 1`, after `attempts` failed.
pub fn back_off(attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.clamp(1, 16) - 1).unwrap_or(0);
    FIRST_BACK_OFF
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(MAX_BACK_OFF)
}

#[derive(Clone)]
pub struct Worker {
    queue: JobQueue,
    handlers: Arc<HashMap<JobKind, Arc<dyn Handler>>>,
    kinds: Vec<JobKind>,
    owner: String,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("owner", &self.owner)
            .field("kinds", &self.kinds)
            .finish()
    }
}

impl Worker {
    /// A worker named `owner` (unique across instances: it marks the leases it holds) running
    /// `handlers`.
    pub fn new(queue: JobQueue, handlers: Vec<Arc<dyn Handler>>, owner: String) -> Worker {
        let handlers: HashMap<JobKind, Arc<dyn Handler>> =
            handlers.into_iter().map(|h| (h.kind(), h)).collect();
        let mut kinds: Vec<JobKind> = handlers.keys().copied().collect();
        kinds.sort_by_key(|k| k.as_str());
        Worker {
            queue,
            handlers: Arc::new(handlers),
            kinds,
            owner,
        }
    }

    /// Claims and runs one due job; answers how it ended, or `None` when nothing was due.
    pub async fn run_one(&self) -> Option<(i64, JobState)> {
        let claimed = match self.queue.claim(&self.owner, &self.kinds, LEASE).await {
            Ok(c) => c?,
            Err(e) => {
                tracing::warn!(error = %e.into_domain(), "no job claimed");
                return None;
            }
        };
        let (job, lease) = claimed;
        Some((job.id, self.execute(&job, &lease).await))
    }

    /// Claims and runs job `id` if it is due (the caller enqueued it and runs it itself);
    /// answers how it ended, or `None` when it was not due or another worker holds it.
    pub async fn run_id(&self, id: i64) -> Option<JobState> {
        let claimed = match self.queue.claim_id(&self.owner, id, LEASE).await {
            Ok(c) => c?,
            Err(e) => {
                tracing::warn!(error = %e.into_domain(), "job not claimed");
                return None;
            }
        };
        let (job, lease) = claimed;
        Some(self.execute(&job, &lease).await)
    }

    /// Runs every due job until none is left; answers how many ran. Tests call it instead of
    /// waiting for the loop.
    pub async fn drain(&self) -> usize {
        let mut ran = 0;
        while self.run_one().await.is_some() {
            ran += 1;
        }
        ran
    }

    /// Runs due jobs until `stopping`: at once when this instance enqueues one, else every
    /// [`POLL`]. A job in progress when the server stops is finished first (the supervisor's
    /// grace period bounds the wait; past it the job is cut and its lease runs out, and another
    /// worker carries on from its last checkpoint).
    pub async fn run(&self, mut stopping: Stopping) {
        loop {
            if stopping.is_stopping() {
                return;
            }
            if self.run_one().await.is_some() {
                continue;
            }
            tokio::select! {
                _ = stopping.wait() => return,
                _ = self.queue.woken() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    async fn execute(&self, job: &JobRow, lease: &JobLease) -> JobState {
        let span =
            tracing::info_span!("job", id = job.id, kind = %job.kind, attempt = job.attempts);
        let state = self.attempt(job, lease).instrument(span).await;
        let ended = match state {
            JobState::Finished => Some(JOBS_FINISHED),
            JobState::Failed => Some(JOBS_FAILED),
            JobState::Pending | JobState::Running => None,
        };
        if let Some(series) = ended {
            metrics::counter!(series, "kind" => job.kind.clone()).increment(1);
        }
        state
    }

    async fn attempt(&self, job: &JobRow, lease: &JobLease) -> JobState {
        if job.attempts > job.max_attempts {
            let reason = format!(
                "The job stopped without finishing {} times; it was given up",
                job.max_attempts
            );
            return self.record_failure(lease, &reason).await;
        }
        let Some(handler) = JobKind::parse(&job.kind).and_then(|k| self.handlers.get(&k)) else {
            // Claims ask only for kinds with a handler; a row of another kind is not ours.
            return self
                .record_failure(lease, "No worker runs jobs of this kind")
                .await;
        };
        let work = AssertUnwindSafe(handler.run(job, lease)).catch_unwind();
        let outcome = tokio::select! {
            outcome = work => outcome,
            () = self.keep_lease(lease) => {
                tracing::warn!("lease lost; the job's run was stopped");
                return JobState::Pending;
            }
        };
        let outcome = match outcome {
            Ok(o) => o,
            Err(_) => {
                tracing::error!("job handler panicked");
                Err(JobFailure::Permanent(
                    "The job failed because of a server error".into(),
                ))
            }
        };
        let recorded = match outcome {
            Ok(result) => self
                .queue
                .finish(lease, &result)
                .await
                .map(|held| held.then_some(JobState::Finished)),
            Err(JobFailure::Transient(reason)) if job.attempts < job.max_attempts => {
                tracing::warn!(%reason, "job failed; it will be tried again");
                self.queue
                    .retry(lease, &reason, back_off(job.attempts))
                    .await
                    .map(|held| held.then_some(JobState::Pending))
            }
            Err(JobFailure::Transient(reason) | JobFailure::Permanent(reason)) => {
                return self.record_failure(lease, &reason).await;
            }
        };
        match recorded {
            Ok(Some(state)) => state,
            Ok(None) => {
                tracing::warn!("lease lost before the outcome was recorded");
                JobState::Pending
            }
            Err(e) => {
                tracing::error!(error = %e.into_domain(), "job outcome not recorded");
                JobState::Running
            }
        }
    }

    async fn record_failure(&self, lease: &JobLease, reason: &str) -> JobState {
        tracing::warn!(%reason, "job failed");
        match self.queue.fail(lease, reason).await {
            Ok(true) => JobState::Failed,
            Ok(false) => JobState::Pending,
            Err(e) => {
                tracing::error!(error = %e.into_domain(), "job failure not recorded");
                JobState::Running
            }
        }
    }

    /// Renews `lease` every [`RENEW_EVERY`]; resolves only when it was lost.
    async fn keep_lease(&self, lease: &JobLease) {
        loop {
            tokio::time::sleep(RENEW_EVERY).await;
            match self.queue.renew(lease).await {
                Ok(true) => {}
                Ok(false) => return,
                // The database may be back by the next renewal, within the lease.
                Err(e) => tracing::warn!(error = %e.into_domain(), "lease not renewed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_from_two_seconds_up_to_five_minutes() {
        assert_eq!(back_off(1), Duration::from_secs(2));
        assert_eq!(back_off(2), Duration::from_secs(4));
        assert_eq!(back_off(3), Duration::from_secs(8));
        assert_eq!(back_off(9), Duration::from_secs(300));
        assert_eq!(back_off(1_000), Duration::from_secs(300));
        assert_eq!(back_off(0), Duration::from_secs(2));
    }
}
