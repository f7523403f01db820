//! A history page read in one statement: the same messages as the plain history read, and
//! beside each its sender, report count, whether it has reactions and its reply thread with
//! that thread's size, and the listing's total, on both engines.

use palaver_store::platform::{History, HistoryScope, Messages, Viewing};
use palaver_store::Db;

use crate::messages::{fixture, reply, send};
use crate::reactions::{put_report, react, reaction, report};
use crate::support::contract;

contract!(
    a_page_reads_what_each_message_shows_beside_it,
    pages_of_threads_filters_and_empty_windows_keep_their_totals,
);

fn page(scope: HistoryScope, before: Option<i64>, after: Option<i64>, limit: u64) -> History {
    History {
        scope,
        username: None,
        text: None,
        before,
        after,
        limit,
    }
}

fn main_thread() -> Viewing {
    Viewing {
        main_thread: true,
        ..Viewing::default()
    }
}

async fn a_page_reads_what_each_message_shows_beside_it(db: Db) {
    let a = fixture(&db, "org-a").await;
    let b = fixture(&db, "org-b").await;
    let one = a.channels[0];
    let (alice, bob, carol) = (a.users[0], a.users[1], a.users[2]);
    let p1 = send(&db, a.id, one, Some(alice), "first").await;
    let p2 = send(&db, a.id, one, Some(bob), "second").await;
    let p3 = send(&db, a.id, one, None, "system").await;
    let r1 = reply(&db, a.id, &p1, bob, "r1").await;
    reply(&db, a.id, &p1, carol, "r2").await;
    put_report(&db, &report(a.id, p1.id, bob, "spam", 5)).await;
    put_report(&db, &report(a.id, p1.id, carol, "spam", 5)).await;
    react(&db, &reaction(a.id, p2.id, carol, "👍", 6)).await;
    // Another application's feedback on its own message shows nowhere here.
    let theirs = send(&db, b.id, b.channels[0], Some(b.users[0]), "theirs").await;
    put_report(&db, &report(b.id, theirs.id, b.users[1], "spam", 5)).await;
    react(&db, &reaction(b.id, theirs.id, b.users[1], "👍", 6)).await;

    let messages = Messages::new(db.clone());
    let h = page(HistoryScope::Channel(one), None, None, 10);
    let read = messages
        .history_page_as(a.id, &h, &main_thread())
        .await
        .unwrap();
    let ids: Vec<i64> = read.rows.iter().map(|(m, _)| m.id).collect();
    assert_eq!(ids, [p3.id, p2.id, p1.id]);
    let plain = messages.history_as(a.id, &h, &main_thread()).await.unwrap();
    assert_eq!(
        read.rows.iter().map(|(m, _)| m.clone()).collect::<Vec<_>>(),
        plain
    );
    assert_eq!(read.total, 3);

    // Each sender once, in the order the page first shows them; the system message has none.
    let senders: Vec<(i64, &str)> = read
        .senders
        .iter()
        .map(|u| (u.id, u.name.as_str()))
        .collect();
    assert_eq!(senders, [(bob, "bob"), (alice, "alice")]);
    let (_, system) = &read.rows[0];
    assert_eq!((system.report_count, system.reacted), (0, false));
    assert!(system.reply_thread.is_some());
    let (_, second) = &read.rows[1];
    assert_eq!((second.report_count, second.reacted), (0, true));
    let (thread, size) = second.reply_thread.as_ref().expect("p2's reply thread");
    assert_eq!((thread.parent_message_id, *size), (Some(p2.id), 0));
    let (_, first) = &read.rows[2];
    assert_eq!((first.report_count, first.reacted), (2, false));
    let (thread, size) = first.reply_thread.as_ref().expect("p1's reply thread");
    assert_eq!(
        (thread.id, thread.parent_message_id, *size),
        (r1.thread_id, Some(p1.id), 2)
    );

    // Another application asking for this channel's page finds nothing, and a total of none.
    let foreign = messages
        .history_page_as(b.id, &h, &Viewing::default())
        .await
        .unwrap();
    assert!(foreign.rows.is_empty() && foreign.senders.is_empty());
    assert_eq!(foreign.total, 0);

    // The whole channel, replies included: the replies have no reply thread of their own.
    let all = messages
        .history_page_as(a.id, &h, &Viewing::default())
        .await
        .unwrap();
    assert_eq!(all.total, 5);
    assert_eq!(all.rows.len(), 5);
    let (reply_row, beside) = &all.rows[1];
    assert_eq!(reply_row.id, r1.id);
    assert!(beside.reply_thread.is_none());
    // Five messages from three senders and the system: three users, each once.
    let senders: Vec<i64> = all.senders.iter().map(|u| u.id).collect();
    assert_eq!(senders, [carol, bob, alice]);
}

async fn pages_of_threads_filters_and_empty_windows_keep_their_totals(db: Db) {
    let a = fixture(&db, "org-a").await;
    let one = a.channels[0];
    let (alice, bob) = (a.users[0], a.users[1]);
    let p1 = send(&db, a.id, one, Some(alice), "hello there").await;
    for i in 0..4 {
        send(&db, a.id, one, Some(bob), &format!("bob {i}")).await;
    }
    let r1 = reply(&db, a.id, &p1, bob, "a reply").await;
    let messages = Messages::new(db.clone());
    let all = Viewing::default();

    // Read up from `after`: the page still comes newest first.
    let up = page(HistoryScope::Channel(one), None, Some(p1.seq), 2);
    let read = messages.history_page_as(a.id, &up, &all).await.unwrap();
    let plain = messages.history_as(a.id, &up, &all).await.unwrap();
    assert_eq!(
        read.rows.iter().map(|(m, _)| m.id).collect::<Vec<_>>(),
        plain.iter().map(|m| m.id).collect::<Vec<_>>()
    );
    assert!(read.rows[0].0.seq > read.rows[1].0.seq);
    assert_eq!(read.total, 6);

    // A window with nothing in it still says how many the listing holds.
    let empty = page(HistoryScope::Channel(one), Some(p1.seq), None, 10);
    let read = messages.history_page_as(a.id, &empty, &all).await.unwrap();
    assert!(read.rows.is_empty());
    assert_eq!(read.total, 6);

    // A reply thread's page: its total is read once the thread is known.
    let thread = page(HistoryScope::Thread(r1.thread_id), None, None, 10);
    let read = messages.history_page_as(a.id, &thread, &all).await.unwrap();
    assert_eq!(read.rows.len(), 1);
    assert_eq!(read.total, 1);

    // Filtered listings are counted, in the same statement.
    let mut by_bob = page(HistoryScope::Application, None, None, 2);
    by_bob.username = Some("bob".into());
    let read = messages.history_page_as(a.id, &by_bob, &all).await.unwrap();
    assert_eq!(read.rows.len(), 2);
    assert_eq!(read.total, 5);
    assert_eq!(
        read.total,
        messages.count_as(a.id, &by_bob, &all).await.unwrap()
    );
    let mut text = page(HistoryScope::Channel(one), None, None, 10);
    text.text = Some("HELLO".into());
    let read = messages.history_page_as(a.id, &text, &all).await.unwrap();
    assert_eq!(read.rows.len(), 1);
    assert_eq!(read.total, 1);
}
