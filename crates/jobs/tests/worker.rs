//! The worker's handling of outcomes, on a real SQLite queue and a clock the test moves: a
//! transient failure is retried after its back-off until attempts run out, a permanent one (or a
//! panic) fails the job at once with a reason a user can read, and a job of no handled kind is
//! left alone.

// A test: a failed step should fail it right there.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use palaver_domain::job::{JobKind, JobState};
use palaver_domain::time::Clock;
use palaver_jobs::{Handler, JobFailure, Worker};
use palaver_service::jobs::{JobLease, JobQueue, JobRow};
use palaver_store::{Db, Jobs, NewJob};
use serde_json::{json, Value};

/// Fails transiently `flaky` times, then succeeds; or always fails as `always` says.
struct Scripted {
    calls: AtomicUsize,
    flaky: usize,
    always: Option<fn() -> Result<Value, JobFailure>>,
}

impl Handler for Scripted {
    fn kind(&self) -> JobKind {
        JobKind::UserImport
    }

    fn run<'a>(
        &'a self,
        _: &'a JobRow,
        _: &'a JobLease,
    ) -> BoxFuture<'a, Result<Value, JobFailure>> {
        Box::pin(async move {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if let Some(outcome) = self.always {
                return outcome();
            }
            if n < self.flaky {
                Err(JobFailure::Transient(format!("storage unreachable ({n})")))
            } else {
                Ok(json!({"after": n}))
            }
        })
    }
}

struct Queue {
    db: Db,
    clock: Clock,
    _dir: tempfile::TempDir,
}

async fn queue() -> Queue {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("jobs.db").display());
    let db = Db::connect(&url, 4).await.unwrap();
    db.migrate().await.unwrap();
    Queue {
        db,
        clock: Clock::system(),
        _dir: dir,
    }
}

impl Queue {
    fn worker(&self, handler: Arc<Scripted>) -> Worker {
        let queue = JobQueue::new(self.db.clone(), self.clock.clone());
        Worker::new(queue, vec![handler], "test-worker".into())
    }

    async fn enqueue(&self, kind: JobKind, max_attempts: i64) -> i64 {
        Jobs::new(self.db.clone())
            .enqueue_now(&NewJob {
                application_id: None,
                kind: kind.as_str().into(),
                payload: json!({}),
                run_at: self.clock.now_millis(),
                max_attempts,
                created: self.clock.now_millis(),
            })
            .await
            .unwrap()
            .id
    }

    async fn job(&self, id: i64) -> JobRow {
        Jobs::new(self.db.clone()).by_id(id).await.unwrap().unwrap()
    }
}

fn scripted(flaky: usize, always: Option<fn() -> Result<Value, JobFailure>>) -> Arc<Scripted> {
    Arc::new(Scripted {
        calls: AtomicUsize::new(0),
        flaky,
        always,
    })
}

#[tokio::test]
async fn a_transient_failure_is_retried_after_its_back_off() {
    let q = queue().await;
    let handler = scripted(2, None);
    let worker = q.worker(handler.clone());
    let id = q.enqueue(JobKind::UserImport, 5).await;

    assert_eq!(worker.run_one().await, Some((id, JobState::Pending)));
    let waiting = q.job(id).await;
    assert_eq!(waiting.error.as_deref(), Some("storage unreachable (0)"));
    // Not before its back-off (2 s after the first failure)...
    assert_eq!(worker.drain().await, 0);
    q.clock.advance(Duration::from_secs(2));
    assert_eq!(worker.run_one().await, Some((id, JobState::Pending)));
    // ...and the second wait is twice as long.
    q.clock.advance(Duration::from_secs(2));
    assert_eq!(worker.drain().await, 0);
    q.clock.advance(Duration::from_secs(2));
    assert_eq!(worker.run_one().await, Some((id, JobState::Finished)));
    let done = q.job(id).await;
    assert_eq!(done.attempts, 3);
    assert_eq!(done.result, Some(json!({"after": 2})));
    assert_eq!(handler.calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_job_fails_for_good_when_its_attempts_run_out() {
    let q = queue().await;
    let worker = q.worker(scripted(usize::MAX, None));
    let id = q.enqueue(JobKind::UserImport, 2).await;
    assert_eq!(worker.run_one().await, Some((id, JobState::Pending)));
    q.clock.advance(Duration::from_secs(60));
    assert_eq!(worker.run_one().await, Some((id, JobState::Failed)));
    let failed = q.job(id).await;
    assert_eq!(failed.error.as_deref(), Some("storage unreachable (1)"));
    assert!(failed.ended.is_some());
}

#[tokio::test]
async fn a_permanent_failure_or_a_panic_fails_the_job_at_once() {
    let q = queue().await;
    let worker = q.worker(scripted(
        0,
        Some(|| Err(JobFailure::Permanent("The file is not a JSON array".into()))),
    ));
    let id = q.enqueue(JobKind::UserImport, 5).await;
    assert_eq!(worker.run_one().await, Some((id, JobState::Failed)));
    assert_eq!(
        q.job(id).await.error.as_deref(),
        Some("The file is not a JSON array")
    );

    let worker = q.worker(scripted(0, Some(|| panic!("a bug"))));
    let id = q.enqueue(JobKind::UserImport, 5).await;
    assert_eq!(worker.run_one().await, Some((id, JobState::Failed)));
    assert_eq!(
        q.job(id).await.error.as_deref(),
        Some("The job failed because of a server error")
    );
}

#[tokio::test]
async fn a_job_abandoned_too_often_is_given_up_and_other_kinds_are_left_alone() {
    let q = queue().await;
    let worker = q.worker(scripted(0, None));
    let other = q.enqueue(JobKind::MessageImport, 5).await;
    let id = q.enqueue(JobKind::UserImport, 1).await;
    // A worker that claims the job and dies.
    let queue = JobQueue::new(q.db.clone(), q.clock.clone());
    let (held, _) = queue
        .claim("dead", &[JobKind::UserImport], Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(held.id, id);
    q.clock.advance(Duration::from_secs(31));
    // Claimed again past its one attempt: given up without running.
    assert_eq!(worker.run_one().await, Some((id, JobState::Failed)));
    let failed = q.job(id).await;
    assert!(failed.error.unwrap().contains("stopped without finishing"));
    assert_eq!(worker.drain().await, 0);
    assert_eq!(q.job(other).await.state, JobState::Pending);
}
