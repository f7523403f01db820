//! How many messages a history listing holds: the kept counts (channel, thread, application,
//! one reader's view of a channel) follow sends, replies, deletes and their cascades, and agree
//! with the counted listings.

use palaver_store::platform::{
    ChannelStates, Channels, ChatUsers, History, HistoryScope, Messages, NotificationRow,
    Notifications, Viewing,
};
use palaver_store::Db;

use crate::messages::{fixture, reply, send};
use crate::support::contract;

contract!(
    kept_totals_follow_sends_replies_and_deletes,
    a_readers_total_leaves_out_what_it_cleared_or_deleted,
    filtered_listings_are_counted,
    notifications_are_counted_per_user,
    racing_sends_and_deletes_keep_the_counts_exact,
);

fn listing(scope: HistoryScope) -> History {
    History {
        scope,
        username: None,
        text: None,
        // Bounds and limits are the page's, not the listing's: the total ignores them.
        before: Some(2),
        after: None,
        limit: 1,
    }
}

fn main_thread() -> Viewing {
    Viewing {
        main_thread: true,
        ..Viewing::default()
    }
}

fn reader(user: i64, main_thread: bool) -> Viewing {
    Viewing {
        viewer: Some(user),
        main_thread,
        ..Viewing::default()
    }
}

/// The total of `h` as `v` sees it, checked against a count of the same listing.
async fn total(db: &Db, app: i64, h: &History, v: &Viewing) -> u64 {
    let messages = Messages::new(db.clone());
    let kept = messages.total_as(app, h, v).await.unwrap();
    assert_eq!(
        kept,
        messages.count_as(app, h, v).await.unwrap(),
        "{h:?} {v:?}"
    );
    kept
}

async fn kept_totals_follow_sends_replies_and_deletes(db: Db) {
    let a = fixture(&db, "org-a").await;
    let b = fixture(&db, "org-b").await;
    let (one, two) = (a.channels[0], a.channels[1]);
    let (alice, bob, carol) = (a.users[0], a.users[1], a.users[2]);
    let all = Viewing::default();
    let p1 = send(&db, a.id, one, Some(alice), "first").await;
    let p2 = send(&db, a.id, one, Some(bob), "second").await;
    send(&db, a.id, one, None, "system").await;
    let r1 = reply(&db, a.id, &p1, bob, "r1").await;
    reply(&db, a.id, &p1, carol, "r2").await;
    send(&db, a.id, two, Some(alice), "in two").await;
    send(&db, b.id, b.channels[0], Some(b.users[0]), "theirs").await;

    let channel = listing(HistoryScope::Channel(one));
    assert_eq!(total(&db, a.id, &channel, &all).await, 5);
    assert_eq!(total(&db, a.id, &channel, &main_thread()).await, 3);
    let replies = listing(HistoryScope::Thread(r1.thread_id));
    assert_eq!(total(&db, a.id, &replies, &all).await, 2);
    let main = listing(HistoryScope::Thread(p1.thread_id));
    assert_eq!(total(&db, a.id, &main, &all).await, 3);
    let app = listing(HistoryScope::Application);
    assert_eq!(total(&db, a.id, &app, &all).await, 6);
    assert_eq!(total(&db, b.id, &app, &all).await, 1);
    // Another application's channel and thread hold nothing for it.
    assert_eq!(total(&db, b.id, &channel, &all).await, 0);
    assert_eq!(total(&db, b.id, &replies, &all).await, 0);

    // A delete takes the reply thread and its replies with it: the counts follow the cascade.
    let mut tx = db.begin().await.unwrap();
    assert!(Messages::delete(&mut tx, a.id, p1.id).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(total(&db, a.id, &channel, &all).await, 2);
    assert_eq!(total(&db, a.id, &channel, &main_thread()).await, 2);
    assert_eq!(total(&db, a.id, &replies, &all).await, 0);
    assert_eq!(total(&db, a.id, &app, &all).await, 3);

    // A deleted user's messages, and their replies, go with it.
    reply(&db, a.id, &p2, carol, "to bob").await;
    assert_eq!(total(&db, a.id, &channel, &all).await, 3);
    let mut tx = db.begin().await.unwrap();
    assert!(ChatUsers::delete(&mut tx, a.id, bob).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(total(&db, a.id, &channel, &all).await, 1);
    assert_eq!(total(&db, a.id, &app, &all).await, 2);

    // A deleted channel's messages leave the application's count.
    let mut tx = db.begin().await.unwrap();
    assert!(Channels::delete(&mut tx, a.id, two).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(total(&db, a.id, &app, &all).await, 1);

    // Sends after deletes count again; deleting everything leaves nothing, the other
    // application untouched.
    send(&db, a.id, one, Some(alice), "again").await;
    assert_eq!(total(&db, a.id, &channel, &all).await, 2);
    let mut tx = db.begin().await.unwrap();
    assert_eq!(Messages::delete_all(&mut tx, a.id).await.unwrap(), 2);
    tx.commit().await.unwrap();
    assert_eq!(total(&db, a.id, &channel, &all).await, 0);
    assert_eq!(total(&db, a.id, &app, &all).await, 0);
    assert_eq!(total(&db, b.id, &app, &all).await, 1);
}

async fn a_readers_total_leaves_out_what_it_cleared_or_deleted(db: Db) {
    let a = fixture(&db, "org-a").await;
    let one = a.channels[0];
    let (alice, bob, carol) = (a.users[0], a.users[1], a.users[2]);
    let channel = listing(HistoryScope::Channel(one));
    // Clearing an empty history hides nothing.
    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        ChannelStates::clear(&mut tx, one, carol, 5).await.unwrap(),
        0
    );
    tx.commit().await.unwrap();
    let p1 = send(&db, a.id, one, Some(alice), "first").await;
    let p2 = send(&db, a.id, one, Some(bob), "second").await;
    reply(&db, a.id, &p1, bob, "r1").await;
    assert_eq!(total(&db, a.id, &channel, &reader(carol, false)).await, 3);

    let mut tx = db.begin().await.unwrap();
    ChannelStates::clear(&mut tx, one, carol, 10).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(total(&db, a.id, &channel, &reader(carol, false)).await, 0);
    assert_eq!(total(&db, a.id, &channel, &reader(carol, true)).await, 0);
    assert_eq!(total(&db, a.id, &channel, &reader(bob, false)).await, 3);

    let p3 = send(&db, a.id, one, Some(alice), "after the clear").await;
    let r2 = reply(&db, a.id, &p3, bob, "r2").await;
    send(&db, a.id, one, Some(bob), "last").await;
    assert_eq!(total(&db, a.id, &channel, &reader(carol, false)).await, 3);
    assert_eq!(total(&db, a.id, &channel, &reader(carol, true)).await, 2);
    // Its MAIN thread, read as a thread, is the MAIN-thread history.
    let main = listing(HistoryScope::Thread(p1.thread_id));
    assert_eq!(total(&db, a.id, &main, &reader(carol, false)).await, 2);
    let replies = listing(HistoryScope::Thread(r2.thread_id));
    assert_eq!(total(&db, a.id, &replies, &reader(carol, false)).await, 1);

    // Deleted for carol alone: gone from its total, not from bob's. A message it cleared
    // already is not taken off twice; deleting one twice changes nothing.
    let mut tx = db.begin().await.unwrap();
    for m in [p3.id, p2.id, p3.id] {
        ChannelStates::delete_message_for(&mut tx, m, carol, 11)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(total(&db, a.id, &channel, &reader(carol, false)).await, 2);
    assert_eq!(total(&db, a.id, &channel, &reader(carol, true)).await, 1);
    assert_eq!(total(&db, a.id, &main, &reader(carol, false)).await, 1);
    assert_eq!(total(&db, a.id, &channel, &reader(bob, false)).await, 6);

    // Messages deleted for everyone below the clear leave what the clear hides, too.
    let mut tx = db.begin().await.unwrap();
    assert!(Messages::delete(&mut tx, a.id, p1.id).await.unwrap());
    assert!(Messages::delete(&mut tx, a.id, p3.id).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(total(&db, a.id, &channel, &reader(carol, false)).await, 1);
    assert_eq!(total(&db, a.id, &channel, &reader(carol, true)).await, 1);
    assert_eq!(total(&db, a.id, &channel, &reader(bob, false)).await, 2);
    assert_eq!(total(&db, a.id, &channel, &reader(bob, true)).await, 2);

    // A second clear starts from what is left.
    let mut tx = db.begin().await.unwrap();
    ChannelStates::clear(&mut tx, one, bob, 12).await.unwrap();
    tx.commit().await.unwrap();
    send(&db, a.id, one, Some(alice), "newest").await;
    assert_eq!(total(&db, a.id, &channel, &reader(bob, false)).await, 1);
    assert_eq!(total(&db, a.id, &channel, &reader(carol, false)).await, 2);
}

async fn filtered_listings_are_counted(db: Db) {
    let a = fixture(&db, "org-a").await;
    let (one, two) = (a.channels[0], a.channels[1]);
    let (alice, bob) = (a.users[0], a.users[1]);
    let p1 = send(&db, a.id, one, Some(alice), "Hello there").await;
    send(&db, a.id, one, Some(bob), "hello back").await;
    reply(&db, a.id, &p1, bob, "a reply").await;
    send(&db, a.id, two, Some(alice), "elsewhere").await;
    let all = Viewing::default();

    let mut by_bob = listing(HistoryScope::Channel(one));
    by_bob.username = Some("bob".into());
    assert_eq!(total(&db, a.id, &by_bob, &all).await, 2);
    let mut hello = listing(HistoryScope::Application);
    hello.text = Some("HELLO".into());
    assert_eq!(total(&db, a.id, &hello, &all).await, 2);
    let alices = listing(HistoryScope::Sender(alice));
    assert_eq!(total(&db, a.id, &alices, &all).await, 2);
    let in_one = Viewing {
        channel: Some(one),
        ..Viewing::default()
    };
    assert_eq!(total(&db, a.id, &alices, &in_one).await, 1);
    let system = Viewing {
        types: vec!["SYSTEM_TEXT".into()],
        ..Viewing::default()
    };
    assert_eq!(
        total(&db, a.id, &listing(HistoryScope::Channel(one)), &system).await,
        0
    );
    let unread = listing(HistoryScope::UnreadBy(bob));
    assert_eq!(total(&db, a.id, &unread, &all).await, 2);
}

async fn notifications_are_counted_per_user(db: Db) {
    let a = fixture(&db, "org-a").await;
    let b = fixture(&db, "org-b").await;
    let (alice, bob) = (a.users[0], a.users[1]);
    let m1 = send(&db, a.id, a.channels[0], Some(alice), "one").await;
    let m2 = send(&db, a.id, a.channels[0], Some(alice), "two").await;
    let note = |user: i64, message: i64| NotificationRow {
        id: 0,
        application_id: a.id,
        user_id: user,
        channel_id: Some(a.channels[0]),
        message_id: Some(message),
        r#type: "USER:SENT:MESSAGE".into(),
        title: "t".into(),
        body: "b".into(),
        created: 1,
        read_time: None,
        muted: false,
    };
    let mut tx = db.begin().await.unwrap();
    Notifications::insert_all(
        &mut tx,
        &[note(bob, m1.id), note(bob, m2.id), note(alice, m2.id)],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let notifications = Notifications::new(db.clone());
    assert_eq!(notifications.count(a.id, bob).await.unwrap(), 2);
    assert_eq!(notifications.count(a.id, alice).await.unwrap(), 1);
    // Another application's user has none for this one.
    assert_eq!(notifications.count(b.id, bob).await.unwrap(), 0);
    let mut tx = db.begin().await.unwrap();
    Messages::delete(&mut tx, a.id, m1.id).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(notifications.count(a.id, bob).await.unwrap(), 1);
}

/// Sends in two channels race with deletes of single messages, of a user's messages and of a
/// clear: every kept count still matches a count of its listing, and nothing deadlocks.
async fn racing_sends_and_deletes_keep_the_counts_exact(db: Db) {
    let a = fixture(&db, "org-a").await;
    let (one, two) = (a.channels[0], a.channels[1]);
    let (alice, bob, carol) = (a.users[0], a.users[1], a.users[2]);
    for i in 0..6 {
        send(&db, a.id, [one, two][i % 2], Some(bob), "bob's").await;
    }
    let mut tasks = Vec::new();
    for w in 0..3 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..8 {
                let channel = [one, two][(w + i) % 2];
                let m = send(&db, a.id, channel, Some(alice), "racing").await;
                if i % 3 == 0 {
                    let mut tx = db.begin().await.unwrap();
                    assert!(Messages::delete(&mut tx, a.id, m.id).await.unwrap());
                    tx.commit().await.unwrap();
                }
            }
        }));
    }
    {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = db.begin().await.unwrap();
            ChannelStates::clear(&mut tx, one, carol, 20).await.unwrap();
            tx.commit().await.unwrap();
            let mut tx = db.begin().await.unwrap();
            assert!(ChatUsers::delete(&mut tx, a.id, bob).await.unwrap());
            tx.commit().await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let all = Viewing::default();
    let app = listing(HistoryScope::Application);
    // 3 writers x 8 sends, 3 of each writer's deleted; bob's 6 gone with him.
    assert_eq!(total(&db, a.id, &app, &all).await, 15);
    let in_one = total(&db, a.id, &listing(HistoryScope::Channel(one)), &all).await;
    let in_two = total(&db, a.id, &listing(HistoryScope::Channel(two)), &all).await;
    assert_eq!(in_one + in_two, 15);
    for c in [one, two] {
        let channel = listing(HistoryScope::Channel(c));
        total(&db, a.id, &channel, &reader(carol, false)).await;
        total(&db, a.id, &channel, &reader(carol, true)).await;
    }
}
