//! The jobs table: a due job is claimed once, a lease that ran out lets another worker claim
//! it, a worker that lost its lease changes nothing, retries wait for their time, checkpoints
//! carry progress and failed elements, and two workers racing never run a job twice.

use std::collections::HashSet;

use palaver_domain::job::{JobProgress, JobState};
use palaver_store::{Db, JobErrorRow, Jobs, NewJob};
use serde_json::json;

use crate::support::{application, contract};

contract!(
    a_due_job_is_claimed_once_and_finished_by_its_holder,
    a_job_waits_for_its_run_at,
    an_expired_lease_is_claimed_again_and_the_old_holder_changes_nothing,
    a_retry_waits_for_its_back_off_and_counts_attempts,
    checkpoints_record_progress_and_failed_elements_only_under_the_lease,
    two_workers_racing_claim_every_job_exactly_once,
    pages_are_scoped_to_the_application_and_filter_running_jobs,
);

const IMPORT: &str = "USER_IMPORT";

fn job(app: i64, run_at: i64) -> NewJob {
    NewJob {
        application_id: Some(app),
        kind: IMPORT.into(),
        payload: json!({"file": "k"}),
        run_at,
        max_attempts: 3,
        created: 100,
    }
}

async fn a_due_job_is_claimed_once_and_finished_by_its_holder(db: Db) {
    let app = application(&db, "o1").await;
    let jobs = Jobs::new(db.clone());
    let queued = jobs.enqueue_now(&job(app, 100)).await.unwrap();
    assert_eq!(queued.state, JobState::Pending);
    assert_eq!(queued.attempts, 0);
    assert_eq!(queued.payload, json!({"file": "k"}));

    // A worker asking for other kinds gets nothing.
    assert!(jobs
        .claim("w1", &["MESSAGE_IMPORT"], 200, 1_000)
        .await
        .unwrap()
        .is_none());
    let held = jobs
        .claim("w1", &[IMPORT], 200, 1_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(held.id, queued.id);
    assert_eq!(held.state, JobState::Running);
    assert_eq!(held.attempts, 1);
    assert_eq!(held.lease_owner.as_deref(), Some("w1"));
    assert_eq!(held.lease_until, Some(1_000));
    assert_eq!(held.started, Some(200));
    assert!(jobs
        .claim("w2", &[IMPORT], 300, 1_000)
        .await
        .unwrap()
        .is_none());

    assert!(!jobs.finish(held.id, "w2", &json!({}), 400).await.unwrap());
    assert!(jobs
        .finish(held.id, "w1", &json!({"n": 1}), 400)
        .await
        .unwrap());
    let done = jobs.get(app, held.id).await.unwrap().unwrap();
    assert_eq!(done.state, JobState::Finished);
    assert_eq!(done.result, Some(json!({"n": 1})));
    assert_eq!(done.ended, Some(400));
    assert_eq!(done.lease_owner, None);
    // An ended job is never claimed again, however late it is.
    assert!(jobs
        .claim("w2", &[IMPORT], 10_000, 20_000)
        .await
        .unwrap()
        .is_none());
    // Nor can its former holder fail it.
    assert!(!jobs.fail(held.id, "w1", "late", 500).await.unwrap());
}

async fn a_job_waits_for_its_run_at(db: Db) {
    let app = application(&db, "o1").await;
    let jobs = Jobs::new(db.clone());
    let later = jobs.enqueue_now(&job(app, 5_000)).await.unwrap();
    let sooner = jobs.enqueue_now(&job(app, 1_000)).await.unwrap();
    assert!(jobs
        .claim("w", &[IMPORT], 999, 9_999)
        .await
        .unwrap()
        .is_none());
    let first = jobs
        .claim("w", &[IMPORT], 1_000, 9_999)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.id, sooner.id, "the job due first is claimed first");
    assert!(jobs
        .claim("w", &[IMPORT], 4_999, 9_999)
        .await
        .unwrap()
        .is_none());
    let second = jobs
        .claim("w", &[IMPORT], 5_000, 9_999)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.id, later.id);
}

async fn an_expired_lease_is_claimed_again_and_the_old_holder_changes_nothing(db: Db) {
    let app = application(&db, "o1").await;
    let jobs = Jobs::new(db.clone());
    let queued = jobs.enqueue_now(&job(app, 0)).await.unwrap();
    let first = jobs
        .claim("dead", &[IMPORT], 10, 100)
        .await
        .unwrap()
        .unwrap();
    assert!(jobs.renew(first.id, "dead", 200).await.unwrap());
    // Still leased at 200: nobody else may take it.
    assert!(jobs
        .claim("w2", &[IMPORT], 200, 500)
        .await
        .unwrap()
        .is_none());
    let again = jobs
        .claim("w2", &[IMPORT], 201, 500)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.id, queued.id);
    assert_eq!(again.attempts, 2);
    assert_eq!(again.started, Some(10), "started stays the first start");
    assert!(!jobs.renew(first.id, "dead", 900).await.unwrap());
    assert!(!jobs
        .finish(first.id, "dead", &json!({}), 300)
        .await
        .unwrap());
    assert!(!jobs.retry(first.id, "dead", "x", 300).await.unwrap());
    assert!(jobs
        .fail(first.id, "w2", "broken input", 300)
        .await
        .unwrap());
    let failed = jobs.get(app, queued.id).await.unwrap().unwrap();
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.error.as_deref(), Some("broken input"));
}

async fn a_retry_waits_for_its_back_off_and_counts_attempts(db: Db) {
    let app = application(&db, "o1").await;
    let jobs = Jobs::new(db.clone());
    let queued = jobs.enqueue_now(&job(app, 0)).await.unwrap();
    let held = jobs.claim("w", &[IMPORT], 10, 100).await.unwrap().unwrap();
    assert!(jobs
        .retry(held.id, "w", "storage unreachable", 1_000)
        .await
        .unwrap());
    let waiting = jobs.get(app, queued.id).await.unwrap().unwrap();
    assert_eq!(waiting.state, JobState::Pending);
    assert_eq!(waiting.error.as_deref(), Some("storage unreachable"));
    assert_eq!(waiting.lease_owner, None);
    assert!(jobs
        .claim("w", &[IMPORT], 999, 2_000)
        .await
        .unwrap()
        .is_none());
    let again = jobs
        .claim("w", &[IMPORT], 1_000, 2_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.attempts, 2);
}

async fn checkpoints_record_progress_and_failed_elements_only_under_the_lease(db: Db) {
    let app = application(&db, "o1").await;
    let jobs = Jobs::new(db.clone());
    let queued = jobs.enqueue_now(&job(app, 0)).await.unwrap();
    let held = jobs.claim("w", &[IMPORT], 10, 100).await.unwrap().unwrap();
    let progress = JobProgress {
        processed: 3,
        created: 1,
        skipped: 1,
        failed: 1,
    };
    let failure = JobErrorRow {
        position: 2,
        idempotency_key: Some("k-2".into()),
        reason: "unknown user bob".into(),
    };
    let mut tx = db.begin().await.unwrap();
    assert!(Jobs::checkpoint(
        &mut tx,
        held.id,
        "w",
        &progress,
        std::slice::from_ref(&failure),
        500
    )
    .await
    .unwrap());
    tx.commit().await.unwrap();
    let row = jobs.get(app, queued.id).await.unwrap().unwrap();
    assert_eq!(row.progress, progress);
    assert_eq!(row.lease_until, Some(500));
    let (errors, total) = jobs.errors(app, queued.id, 0, 10).await.unwrap();
    assert_eq!((errors, total), (vec![failure.clone()], 1));

    // Another worker's checkpoint changes nothing.
    let mut tx = db.begin().await.unwrap();
    let other = JobErrorRow {
        position: 7,
        ..failure
    };
    assert!(!Jobs::checkpoint(
        &mut tx,
        held.id,
        "thief",
        &JobProgress::default(),
        &[other],
        900
    )
    .await
    .unwrap());
    drop(tx);
    let row = jobs.get(app, queued.id).await.unwrap().unwrap();
    assert_eq!(row.progress, progress);
    assert_eq!(jobs.errors(app, queued.id, 0, 10).await.unwrap().1, 1);
    // Another application sees none of it.
    let other_app = application(&db, "o2").await;
    assert!(jobs.get(other_app, queued.id).await.unwrap().is_none());
    assert_eq!(jobs.errors(other_app, queued.id, 0, 10).await.unwrap().1, 0);
}

async fn two_workers_racing_claim_every_job_exactly_once(db: Db) {
    let app = application(&db, "o1").await;
    let jobs = Jobs::new(db.clone());
    let mut queued = HashSet::new();
    for _ in 0..40 {
        queued.insert(jobs.enqueue_now(&job(app, 0)).await.unwrap().id);
    }
    let worker = |name: &'static str| {
        let jobs = Jobs::new(db.clone());
        tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(j) = jobs.claim(name, &[IMPORT], 10, 1_000).await.unwrap() {
                mine.push(j.id);
                assert!(jobs.finish(j.id, name, &json!({}), 20).await.unwrap());
                tokio::task::yield_now().await;
            }
            mine
        })
    };
    let (a, b) = (worker("a"), worker("b"));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    let mut all: Vec<i64> = a.iter().chain(&b).copied().collect();
    all.sort_unstable();
    let mut expected: Vec<i64> = queued.into_iter().collect();
    expected.sort_unstable();
    assert_eq!(all, expected, "every job claimed once, none twice");
}

async fn pages_are_scoped_to_the_application_and_filter_running_jobs(db: Db) {
    let app = application(&db, "o1").await;
    let other = application(&db, "o2").await;
    let jobs = Jobs::new(db.clone());
    let done = jobs.enqueue_now(&job(app, 0)).await.unwrap();
    let held = jobs.claim("w", &[IMPORT], 1, 100).await.unwrap().unwrap();
    assert_eq!(held.id, done.id);
    jobs.finish(held.id, "w", &json!({}), 2).await.unwrap();
    let open = jobs.enqueue_now(&job(app, 0)).await.unwrap();
    let hidden = jobs
        .enqueue_now(&NewJob {
            kind: "FILE_CLEANUP".into(),
            ..job(app, 0)
        })
        .await
        .unwrap();
    jobs.enqueue_now(&job(other, 0)).await.unwrap();

    let ids = |rows: &[palaver_store::JobRow]| rows.iter().map(|j| j.id).collect::<Vec<_>>();
    let (all, total) = jobs.page(app, &[IMPORT], None, false, 0, 10).await.unwrap();
    assert_eq!((ids(&all), total), (vec![open.id, done.id], 2));
    let (running, total) = jobs
        .page(app, &[IMPORT], Some(true), true, 0, 10)
        .await
        .unwrap();
    assert_eq!((ids(&running), total), (vec![open.id], 1));
    let (ended, total) = jobs
        .page(app, &[IMPORT], Some(false), true, 0, 10)
        .await
        .unwrap();
    assert_eq!((ids(&ended), total), (vec![done.id], 1));
    let (second, total) = jobs.page(app, &[IMPORT], None, true, 1, 1).await.unwrap();
    assert_eq!((ids(&second), total), (vec![open.id], 2));
    let (with_hidden, _) = jobs
        .page(app, &[IMPORT, "FILE_CLEANUP"], None, true, 0, 10)
        .await
        .unwrap();
    assert_eq!(ids(&with_hidden), vec![done.id, open.id, hidden.id]);
}
