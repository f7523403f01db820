//! Reactions and reports of messages: once per user, message and emoji (reports: once per user
//! and message, a new reason replacing the old), read a page at a time, gone with their message
//! or user, and scoped by application.

use std::collections::HashMap;

use palaver_store::platform::{ChatUsers, Messages, ReactionRow, Reactions, ReportRow, Reports};
use palaver_store::Db;
use serde_json::json;

use crate::messages::{fixture, send};
use crate::support::contract;

contract!(
    a_reaction_is_made_once_per_user_message_and_emoji,
    racing_identical_reactions_make_one,
    a_report_is_one_per_user_and_message_and_a_new_one_replaces_it,
    reactions_and_reports_go_with_their_message_or_user,
    reactions_and_reports_are_scoped_by_application,
);

pub(crate) fn reaction(
    app: i64,
    message: i64,
    user: i64,
    emoji: &str,
    created: i64,
) -> ReactionRow {
    ReactionRow {
        application_id: app,
        message_id: message,
        user_id: user,
        emoji: emoji.into(),
        created,
    }
}

pub(crate) async fn react(db: &Db, r: &ReactionRow) -> (ReactionRow, bool) {
    let mut tx = db.begin().await.unwrap();
    let out = Reactions::add(&mut tx, r).await.unwrap();
    tx.commit().await.unwrap();
    out
}

async fn unreact(db: &Db, message: i64, user: i64, emoji: &str) -> Option<ReactionRow> {
    let mut tx = db.begin().await.unwrap();
    let out = Reactions::remove(&mut tx, message, user, emoji)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    out
}

pub(crate) fn report(app: i64, message: i64, user: i64, reason: &str, created: i64) -> ReportRow {
    ReportRow {
        application_id: app,
        message_id: message,
        user_id: user,
        reason: reason.into(),
        properties: json!({}),
        created,
    }
}

pub(crate) async fn put_report(db: &Db, r: &ReportRow) -> ReportRow {
    let mut tx = db.begin().await.unwrap();
    let out = Reports::put(&mut tx, r).await.unwrap();
    tx.commit().await.unwrap();
    out
}

/// (message, user, emoji) of each reaction, in the order given.
fn keys(rows: &[(ReactionRow, palaver_store::platform::ChatUserRow)]) -> Vec<(i64, i64, String)> {
    rows.iter()
        .map(|(r, u)| {
            assert_eq!(r.user_id, u.id, "the reaction's user is its row's");
            (r.message_id, r.user_id, r.emoji.clone())
        })
        .collect()
}

async fn a_reaction_is_made_once_per_user_message_and_emoji(db: Db) {
    let a = fixture(&db, "org-a").await;
    let (alice, bob) = (a.users[0], a.users[1]);
    let m = send(&db, a.id, a.channels[0], Some(alice), "hi").await;
    let other = send(&db, a.id, a.channels[0], Some(bob), "yo").await;
    let reactions = Reactions::new(db.clone());

    let (first, made) = react(&db, &reaction(a.id, m.id, bob, "👍", 10)).await;
    assert!(made);
    assert_eq!(first, reaction(a.id, m.id, bob, "👍", 10));
    // Again: the first one comes back, unchanged.
    let (again, made) = react(&db, &reaction(a.id, m.id, bob, "👍", 20)).await;
    assert!(!made);
    assert_eq!(again, first);
    // Another emoji, another user, another message: each a reaction of its own.
    assert!(react(&db, &reaction(a.id, m.id, bob, "❤️", 30)).await.1);
    assert!(react(&db, &reaction(a.id, m.id, alice, "👍", 25)).await.1);
    assert!(
        react(&db, &reaction(a.id, other.id, alice, "👍", 5))
            .await
            .1
    );

    // In the order they were made, whatever their times say (several share a millisecond).
    let page = reactions
        .of_messages(a.id, &[other.id, m.id])
        .await
        .unwrap();
    assert_eq!(
        keys(&page),
        [
            (m.id, bob, "👍".to_string()),
            (m.id, bob, "❤️".to_string()),
            (m.id, alice, "👍".to_string()),
            (other.id, alice, "👍".to_string()),
        ]
    );
    assert_eq!(page[0].0.created, 10);
    assert_eq!(page[0].1.name, "bob");
    assert!(reactions.of_messages(a.id, &[]).await.unwrap().is_empty());
    assert_eq!(reactions.count(a.id, m.id).await.unwrap(), 3);
    let second = reactions.page(a.id, m.id, 1, 1).await.unwrap();
    assert_eq!(keys(&second), [(m.id, bob, "❤️".to_string())]);

    // Removing answers what was removed, once.
    assert_eq!(unreact(&db, m.id, bob, "👍").await, Some(first));
    assert_eq!(unreact(&db, m.id, bob, "👍").await, None);
    assert_eq!(unreact(&db, m.id, a.users[2], "❤️").await, None);
    assert_eq!(reactions.count(a.id, m.id).await.unwrap(), 2);
    // A rolled-back reaction was never made.
    let mut tx = db.begin().await.unwrap();
    assert!(
        Reactions::add(&mut tx, &reaction(a.id, m.id, bob, "🎉", 40))
            .await
            .unwrap()
            .1
    );
    drop(tx);
    assert_eq!(reactions.count(a.id, m.id).await.unwrap(), 2);
}

async fn racing_identical_reactions_make_one(db: Db) {
    let a = fixture(&db, "org-a").await;
    let m = send(&db, a.id, a.channels[0], Some(a.users[0]), "hi").await;
    const RACERS: usize = 4;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(RACERS));
    let mut handles = Vec::new();
    for i in 0..RACERS {
        let (db, barrier) = (db.clone(), barrier.clone());
        let r = reaction(a.id, m.id, a.users[1], "🎉", 100 + i as i64);
        handles.push(tokio::spawn(async move {
            barrier.wait().await;
            react(&db, &r).await
        }));
    }
    let mut made = Vec::new();
    let mut answers = Vec::new();
    for h in handles {
        let (row, was_made) = h.await.unwrap();
        made.push(was_made);
        answers.push(row);
    }
    assert_eq!(made.iter().filter(|m| **m).count(), 1, "{made:?}");
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    let reactions = Reactions::new(db.clone());
    assert_eq!(reactions.count(a.id, m.id).await.unwrap(), 1);
}

async fn a_report_is_one_per_user_and_message_and_a_new_one_replaces_it(db: Db) {
    let a = fixture(&db, "org-a").await;
    let (alice, bob, carol) = (a.users[0], a.users[1], a.users[2]);
    let channel = a.channels[0];
    let m = send(&db, a.id, channel, Some(alice), "spam").await;
    let fine = send(&db, a.id, channel, Some(alice), "fine").await;
    let also = send(&db, a.id, channel, Some(alice), "more spam").await;
    let reports = Reports::new(db.clone());

    let first = put_report(&db, &report(a.id, m.id, bob, "spam", 10)).await;
    assert_eq!(first, report(a.id, m.id, bob, "spam", 10));
    let mut again = report(a.id, m.id, bob, "abuse", 20);
    again.properties = json!({"severity": 3});
    let replaced = put_report(&db, &again).await;
    assert_eq!(replaced.reason, "abuse");
    assert_eq!(replaced.properties, json!({"severity": 3}));
    assert_eq!(replaced.created, 10, "the first report's time stays");
    assert_eq!(reports.by(a.id, m.id, bob).await.unwrap(), Some(replaced));
    assert_eq!(reports.by(a.id, m.id, carol).await.unwrap(), None);
    put_report(&db, &report(a.id, m.id, carol, "spam", 30)).await;
    put_report(&db, &report(a.id, also.id, carol, "spam", 40)).await;

    let counts = reports
        .counts(a.id, &[m.id, fine.id, also.id])
        .await
        .unwrap();
    assert_eq!(counts, HashMap::from([(m.id, 2), (also.id, 1)]));
    assert!(reports.counts(a.id, &[]).await.unwrap().is_empty());
    let listed = reports.messages(a.id, channel, 0, 10).await.unwrap();
    assert_eq!(
        listed.iter().map(|r| r.id).collect::<Vec<_>>(),
        [m.id, also.id]
    );
    assert_eq!(reports.count_messages(a.id, channel).await.unwrap(), 2);

    let mut tx = db.begin().await.unwrap();
    let removed = Reports::remove(&mut tx, also.id, carol).await.unwrap();
    assert_eq!(removed.map(|r| r.reason), Some("spam".to_string()));
    assert_eq!(
        Reports::remove(&mut tx, also.id, carol).await.unwrap(),
        None
    );
    tx.commit().await.unwrap();
    assert_eq!(reports.count_messages(a.id, channel).await.unwrap(), 1);
    assert_eq!(
        reports.counts(a.id, &[also.id]).await.unwrap(),
        HashMap::new()
    );
}

async fn reactions_and_reports_go_with_their_message_or_user(db: Db) {
    let a = fixture(&db, "org-a").await;
    let (alice, bob, carol) = (a.users[0], a.users[1], a.users[2]);
    let gone = send(&db, a.id, a.channels[0], Some(alice), "to delete").await;
    let kept = send(&db, a.id, a.channels[0], Some(alice), "to keep").await;
    for m in [gone.id, kept.id] {
        react(&db, &reaction(a.id, m, bob, "👍", 1)).await;
        react(&db, &reaction(a.id, m, carol, "👍", 2)).await;
        put_report(&db, &report(a.id, m, bob, "spam", 3)).await;
        put_report(&db, &report(a.id, m, carol, "spam", 4)).await;
    }
    let mut tx = db.begin().await.unwrap();
    assert!(Messages::delete(&mut tx, a.id, gone.id).await.unwrap());
    assert!(ChatUsers::delete(&mut tx, a.id, carol).await.unwrap());
    tx.commit().await.unwrap();

    let reactions = Reactions::new(db.clone());
    let reports = Reports::new(db.clone());
    assert_eq!(
        keys(
            &reactions
                .of_messages(a.id, &[gone.id, kept.id])
                .await
                .unwrap()
        ),
        [(kept.id, bob, "👍".to_string())]
    );
    assert_eq!(
        reports.counts(a.id, &[gone.id, kept.id]).await.unwrap(),
        HashMap::from([(kept.id, 1)])
    );
    assert_eq!(reports.by(a.id, kept.id, carol).await.unwrap(), None);
}

async fn reactions_and_reports_are_scoped_by_application(db: Db) {
    let a = fixture(&db, "org-a").await;
    let b = fixture(&db, "org-b").await;
    let m = send(&db, a.id, a.channels[0], Some(a.users[0]), "hi").await;
    react(&db, &reaction(a.id, m.id, a.users[1], "👍", 1)).await;
    put_report(&db, &report(a.id, m.id, a.users[1], "spam", 2)).await;
    let reactions = Reactions::new(db.clone());
    let reports = Reports::new(db.clone());
    assert_eq!(reactions.of_messages(a.id, &[m.id]).await.unwrap().len(), 1);
    assert!(reactions
        .of_messages(b.id, &[m.id])
        .await
        .unwrap()
        .is_empty());
    assert!(reactions.page(b.id, m.id, 0, 10).await.unwrap().is_empty());
    assert_eq!(reactions.count(b.id, m.id).await.unwrap(), 0);
    assert_eq!(reports.counts(a.id, &[m.id]).await.unwrap().len(), 1);
    assert!(reports.counts(b.id, &[m.id]).await.unwrap().is_empty());
    assert_eq!(reports.by(b.id, m.id, a.users[1]).await.unwrap(), None);
    assert_eq!(
        reports.count_messages(b.id, a.channels[0]).await.unwrap(),
        0
    );
}
