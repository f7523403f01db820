//! Outbox retention: pruning deletes old events that every consumer has handled, and nothing
//! else; numbering goes on after it, and other applications keep their events.

use palaver_domain::platform::event::Event;
use palaver_store::platform::{Consumers, EventRow, Events, NewEvent};
use palaver_store::Db;

use crate::support::{application, contract};

contract!(
    pruning_keeps_recent_and_unhandled_events,
    pruning_waits_for_the_slowest_consumer,
    pruning_walks_a_long_outbox_in_windows,
);

/// Appends one event per creation time to `app`'s outbox, in one transaction.
async fn append(db: &Db, app: i64, created: &[i64]) -> Vec<EventRow> {
    let events: Vec<NewEvent> = created
        .iter()
        .map(|&created| NewEvent {
            application_id: app,
            event: Event::MessagesDeleted { count: 0 },
            created,
        })
        .collect();
    let mut tx = db.begin().await.unwrap();
    let rows = Events::append_all(&mut tx, &events).await.unwrap();
    tx.commit().await.unwrap();
    rows
}

/// Moves `consumer`'s offset for `app` to `to`.
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

async fn seqs(db: &Db, app: i64) -> Vec<i64> {
    Events::new(db.clone())
        .after(app, 0, 100_000)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect()
}

async fn pruning_keeps_recent_and_unhandled_events(db: Db) {
    let app = application(&db, "org-a").await;
    let other = application(&db, "org-b").await;
    let events = Events::new(db.clone());
    // Numbers 1..=5: three old, two recent (the cutoff is 1000).
    append(&db, app, &[100, 200, 300, 1000, 2000]).await;
    append(&db, other, &[100, 200]).await;

    // Nobody has handled anything yet: nothing goes, however old.
    assert_eq!(events.prune_before(i64::MAX).await.unwrap(), 0);
    assert_eq!(seqs(&db, app).await, [1, 2, 3, 4, 5]);

    // Handled up to 2: only 1 and 2 go; 3 is old but unhandled, 4 and 5 are recent.
    handle(&db, "notifications", app, 2).await;
    assert_eq!(events.prune_before(1000).await.unwrap(), 2);
    assert_eq!(seqs(&db, app).await, [3, 4, 5]);
    // The other application, which no consumer has read, keeps everything.
    assert_eq!(seqs(&db, other).await, [1, 2]);

    // Handled to the end: the old one goes, the recent ones (created at and after the cutoff)
    // stay; pruning again finds nothing more.
    handle(&db, "notifications", app, 5).await;
    assert_eq!(events.prune_before(1000).await.unwrap(), 1);
    assert_eq!(seqs(&db, app).await, [4, 5]);
    assert_eq!(events.prune_before(1000).await.unwrap(), 0);

    // Everything handled and old: the outbox empties, and numbering goes on from where it was.
    assert_eq!(events.prune_before(i64::MAX).await.unwrap(), 2);
    assert!(seqs(&db, app).await.is_empty());
    let next = append(&db, app, &[3000]).await;
    assert_eq!(next[0].seq, 6);
    assert_eq!(seqs(&db, app).await, [6]);
    // The consumer's offset and the backlog it reads from there are intact.
    let consumers = Consumers::new(db.clone());
    assert_eq!(consumers.offset("notifications", app).await.unwrap(), 5);
    assert_eq!(
        consumers.behind("notifications").await.unwrap(),
        [app, other]
    );
    assert_eq!(seqs(&db, other).await, [1, 2]);
    let more = append(&db, other, &[300]).await;
    assert_eq!(more[0].seq, 3);
}

async fn pruning_waits_for_the_slowest_consumer(db: Db) {
    let app = application(&db, "org-a").await;
    let events = Events::new(db.clone());
    append(&db, app, &[1, 2, 3, 4, 5, 6]).await;
    handle(&db, "notifications", app, 6).await;
    handle(&db, "webhooks", app, 3).await;
    assert_eq!(events.prune_before(i64::MAX).await.unwrap(), 3);
    assert_eq!(seqs(&db, app).await, [4, 5, 6]);
    handle(&db, "webhooks", app, 6).await;
    assert_eq!(events.prune_before(i64::MAX).await.unwrap(), 3);
    assert!(seqs(&db, app).await.is_empty());
}

async fn pruning_walks_a_long_outbox_in_windows(db: Db) {
    let app = application(&db, "org-a").await;
    let events = Events::new(db.clone());
    // More than two windows of old events, then recent ones.
    let mut created = vec![1; 20_005];
    created.extend([5000, 5001, 5002]);
    let rows = append(&db, app, &created).await;
    let last = rows.last().unwrap().seq;
    handle(&db, "notifications", app, last).await;
    assert_eq!(events.prune_before(5000).await.unwrap(), 20_005);
    assert_eq!(seqs(&db, app).await, [20_006, 20_007, 20_008]);
}
