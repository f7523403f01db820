//! Bulk writes that read nothing back per row (imports): messages answered by their numbers,
//! reply threads opened for a run of numbers, idempotency keys recorded against messages found
//! by number; the same rows as the writes that read their ids back, scoped to the application.

use palaver_store::platform::{ImportKeys, MessageRow, Messages, Threads};
use palaver_store::Db;
use serde_json::json;

use crate::messages::{fixture, send};
use crate::support::contract;

contract!(
    bulk_messages_threads_and_keys_find_their_rows_by_number,
    a_key_naming_no_message_of_the_application_is_refused,
);

fn row(app: i64, channel: i64, thread: i64, seq: i64, nested: i64, body: &str) -> MessageRow {
    MessageRow {
        id: 0,
        application_id: app,
        channel_id: channel,
        thread_id: thread,
        seq,
        app_seq: 0,
        r#type: "TEXT".into(),
        user_id: None,
        body: Some(body.into()),
        file: None,
        group_tag: None,
        properties: json!({"n": body}),
        mentions: json!([]),
        links: json!([]),
        nested_level: nested,
        created: 100,
        last_edited: None,
    }
}

async fn bulk_messages_threads_and_keys_find_their_rows_by_number(db: Db) {
    let a = fixture(&db, "org-a").await;
    let b = fixture(&db, "org-b").await;
    // Application b numbers first, so a's numbers and ids differ from b's.
    send(&db, b.id, b.channels[0], None, "b-first").await;
    let first = send(&db, a.id, a.channels[0], None, "first").await;
    let threads = Threads::new(db.clone());
    let (parent_thread, _) = threads
        .replies_of(a.id, &[first.id])
        .await
        .unwrap()
        .pop()
        .unwrap();

    let mut tx = db.begin().await.unwrap();
    let (main, last) = Threads::take_seqs(&mut tx, a.id, a.channels[0], 3, 100)
        .await
        .unwrap();
    let rows = [
        row(a.id, a.channels[0], main, last - 2, 0, "two"),
        // A reply: numbered with the others, but it gets no reply thread of its own.
        row(a.id, a.channels[0], parent_thread.id, last - 1, 1, "reply"),
        row(a.id, a.channels[0], main, last, 0, "three"),
    ];
    let written = Messages::insert_all_unreturned(&mut tx, &rows)
        .await
        .unwrap();
    let numbers: Vec<(i64, i64)> = written.iter().map(|m| (m.id, m.app_seq)).collect();
    let n = first.app_seq;
    assert_eq!(numbers, [(0, n + 1), (0, n + 2), (0, n + 3)]);
    let opened = Threads::insert_replies_numbered(&mut tx, a.id, n + 1, n + 3, 100)
        .await
        .unwrap();
    assert_eq!(opened, 2, "the two top-level messages");
    // Another application's run of the same numbers opens nothing of a's, nor of b's.
    let none = Threads::insert_replies_numbered(&mut tx, b.id, n + 1, n + 3, 100)
        .await
        .unwrap();
    assert_eq!(none, 0);
    let keys = [("k-two".to_string(), n + 1), ("k-three".to_string(), n + 3)];
    ImportKeys::insert_all_numbered(&mut tx, a.id, "message", &keys)
        .await
        .unwrap();
    // A key recorded before keeps what it had.
    ImportKeys::insert_all_numbered(&mut tx, a.id, "message", &[("k-two".into(), n + 2)])
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let messages = Messages::new(db.clone());
    let stored = messages.after_id(a.id, first.id, 10).await.unwrap();
    let bodies: Vec<(&str, i64, i64)> = stored
        .iter()
        .map(|m| (m.body.as_deref().unwrap(), m.seq, m.app_seq))
        .collect();
    assert_eq!(
        bodies,
        [
            ("two", last - 2, n + 1),
            ("reply", last - 1, n + 2),
            ("three", last, n + 3)
        ]
    );
    assert_eq!(stored[1].thread_id, parent_thread.id);
    assert_eq!(stored[0].properties, json!({"n": "two"}));
    let found = ImportKeys::known(
        &mut db.begin().await.unwrap(),
        a.id,
        "message",
        &["k-two", "k-three", "k-none"],
    )
    .await
    .unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found["k-two"], stored[0].id);
    assert_eq!(found["k-three"], stored[2].id);
    // Each top-level message has its reply thread, opened in message order; the reply none.
    let ids: Vec<i64> = stored.iter().map(|m| m.id).collect();
    let mut replies = threads.replies_of(a.id, &ids).await.unwrap();
    replies.sort_by_key(|(t, _)| t.id);
    let opened: Vec<(Option<i64>, i64, &str, u64)> = replies
        .iter()
        .map(|(t, count)| (t.parent_message_id, t.channel_id, t.r#type.as_str(), *count))
        .collect();
    assert_eq!(
        opened,
        [
            (Some(stored[0].id), a.channels[0], "MESSAGE", 0),
            (Some(stored[2].id), a.channels[0], "MESSAGE", 0)
        ]
    );
    assert!(replies.iter().all(|(t, _)| t.created == 100));
    // The reply went to its parent's thread, which counts it.
    let (_, count) = threads
        .replies_of(a.id, &[first.id])
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(count, 1);
}

async fn a_key_naming_no_message_of_the_application_is_refused(db: Db) {
    let a = fixture(&db, "org-a").await;
    let b = fixture(&db, "org-b").await;
    let theirs = send(&db, b.id, b.channels[0], None, "b's").await;
    let mut tx = db.begin().await.unwrap();
    // Number `theirs.app_seq` is b's message: in a there is none, so nothing to point at.
    let refused =
        ImportKeys::insert_all_numbered(&mut tx, a.id, "message", &[("k".into(), theirs.app_seq)])
            .await;
    assert!(refused.is_err(), "{refused:?}");
    drop(tx);
    let found = ImportKeys::known(&mut db.begin().await.unwrap(), a.id, "message", &["k"])
        .await
        .unwrap();
    assert!(found.is_empty());
}
