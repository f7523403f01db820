//! What the operator's gauges read: each outbox consumer's lag over every application, and the
//! jobs queued, running and failed by kind (finished ones not counted).

use palaver_domain::job::JobState;
use palaver_domain::platform::event::Event;
use palaver_store::platform::{Consumers, Events, NewEvent};
use palaver_store::{Db, JobCount, Jobs, NewJob, Stats};
use serde_json::json;

use crate::support::{application, contract};

contract!(
    outbox_lag_sums_what_each_consumer_has_not_handled,
    jobs_are_counted_by_kind_and_state,
);

async fn append(db: &Db, app: i64, n: usize) {
    let events: Vec<NewEvent> = (0..n)
        .map(|_| NewEvent {
            application_id: app,
            event: Event::MessagesDeleted { count: 0 },
            created: 1,
        })
        .collect();
    let mut tx = db.begin().await.unwrap();
    Events::append_all(&mut tx, &events).await.unwrap();
    tx.commit().await.unwrap();
}

async fn handle(db: &Db, consumer: &str, app: i64, to: i64) {
    let from = Consumers::new(db.clone())
        .offset(consumer, app)
        .await
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    assert!(Consumers::advance(&mut tx, consumer, app, from, to)
        .await
        .unwrap());
    tx.commit().await.unwrap();
}

async fn outbox_lag_sums_what_each_consumer_has_not_handled(db: Db) {
    let stats = Stats::new(db.clone());
    assert!(stats.outbox_lag().await.unwrap().is_empty());
    let a = application(&db, "org-a").await;
    let b = application(&db, "org-b").await;
    append(&db, a, 5).await;
    append(&db, b, 3).await;
    // Not yet listed: no consumer has handled anything.
    assert!(stats.outbox_lag().await.unwrap().is_empty());
    handle(&db, "notifications", a, 5).await;
    handle(&db, "notifications", b, 1).await;
    handle(&db, "functions", a, 2).await;
    let lag = stats.outbox_lag().await.unwrap();
    // notifications: 0 behind in a, 2 in b; functions: 3 in a, and all 3 of b (no offset there).
    assert_eq!(lag.get("notifications"), Some(&2));
    assert_eq!(lag.get("functions"), Some(&6));
    assert_eq!(lag.len(), 2);
    handle(&db, "notifications", b, 3).await;
    assert_eq!(
        stats.outbox_lag().await.unwrap().get("notifications"),
        Some(&0)
    );
}

fn job(app: i64, kind: &str) -> NewJob {
    NewJob {
        application_id: Some(app),
        kind: kind.into(),
        payload: json!({}),
        run_at: 100,
        max_attempts: 1,
        created: 100,
    }
}

async fn jobs_are_counted_by_kind_and_state(db: Db) {
    let stats = Stats::new(db.clone());
    assert!(stats.jobs().await.unwrap().is_empty());
    let app = application(&db, "org-j").await;
    let jobs = Jobs::new(db.clone());
    for kind in [
        "USER_IMPORT",
        "USER_IMPORT",
        "USER_IMPORT",
        "CHANNEL_IMPORT",
    ] {
        jobs.enqueue_now(&job(app, kind)).await.unwrap();
    }
    // One import runs, one fails for good, one finishes; the channel import waits.
    let running = jobs
        .claim("w", &["USER_IMPORT"], 200, 10_000)
        .await
        .unwrap();
    assert!(running.is_some());
    let failing = jobs
        .claim("w", &["USER_IMPORT"], 200, 10_000)
        .await
        .unwrap();
    let failing = failing.unwrap();
    assert!(jobs.fail(failing.id, "w", "broken", 300).await.unwrap());
    let done = jobs
        .claim("w", &["USER_IMPORT"], 200, 10_000)
        .await
        .unwrap();
    let done = done.unwrap();
    assert!(jobs.finish(done.id, "w", &json!({}), 300).await.unwrap());
    let mut counts = stats.jobs().await.unwrap();
    counts.sort_by(|a, b| (&a.kind, a.state.as_str()).cmp(&(&b.kind, b.state.as_str())));
    let count = |kind: &str, state, count| JobCount {
        kind: kind.into(),
        state,
        count,
    };
    assert_eq!(
        counts,
        vec![
            count("CHANNEL_IMPORT", JobState::Pending, 1),
            count("USER_IMPORT", JobState::Failed, 1),
            count("USER_IMPORT", JobState::Running, 1),
        ]
    );
}
