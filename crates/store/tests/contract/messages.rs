//! Messages, threads, read cursors, notifications and consumer offsets: sequences in commit order,
//! keyset history without skips or repeats, filters, cascades, and application scoping.

use std::collections::BTreeSet;
use std::time::Duration;

use palaver_domain::platform::event::{Event, MessageRef};
use palaver_store::platform::{
    Applications, ChannelRow, Channels, ChatUsers, Consumers, Events, History, HistoryScope,
    MessageRow, Messages, NewApplication, NewChatUser, NewEvent, NotificationRow, Notifications,
    ReadCursors, Reports, Roster, Rosters, Threads,
};
use palaver_store::{Db, Documents, Tx};
use serde_json::json;

use crate::support::{contract, organisation};

fn message_ref(m: &MessageRow) -> MessageRef {
    MessageRef {
        id: m.id,
        channel_id: m.channel_id,
        thread_id: m.thread_id,
        seq: m.seq,
        r#type: m.r#type.clone(),
        user_id: m.user_id,
        nested_level: m.nested_level,
        mentions: m.mentions.clone(),
    }
}

contract!(
    sequences_are_per_channel_and_gapless,
    concurrent_sends_get_distinct_increasing_sequences,
    channel_history_pages_neither_skip_nor_repeat_while_inserting,
    history_and_notifications_go_back_from_a_bound,
    batches_of_messages_threads_and_events_span_applications,
    app_history_keys_follow_commit_order,
    sender_history_keys_follow_commit_order,
    text_and_username_filters,
    deleting_a_message_takes_its_reply_thread_and_replies,
    edits_change_only_editable_fields_of_the_callers_application,
    read_cursors_only_move_forward_and_unread_counts_follow,
    racing_read_cursor_moves_end_at_the_furthest,
    notifications_and_the_consumer_offset_commit_together,
    racing_consumers_do_each_batch_once,
    consumers_know_which_applications_they_are_behind_in,
    every_read_is_scoped_by_application,
);

pub(crate) struct App {
    pub(crate) id: i64,
    pub(crate) users: Vec<i64>,
    pub(crate) channels: Vec<i64>,
}

/// An application in organisation `org` with users alice, bob and carol, and two PRIVATE
/// channels that all three are members of.
pub(crate) async fn fixture(db: &Db, org: &str) -> App {
    organisation(&Documents::new(db.clone()), org).await;
    let app = Applications::new(db.clone())
        .insert(&NewApplication {
            organisation_id: org.into(),
            name: "app".into(),
            api_key: format!("key-{org}"),
            client_id: format!("client-{org}"),
            client_secret_digest: "digest".into(),
            created: 1,
        })
        .await
        .unwrap();
    let chat_users = ChatUsers::new(db.clone());
    let mut users = Vec::new();
    for name in ["alice", "bob", "carol"] {
        let u = chat_users
            .insert(&NewChatUser {
                application_id: app.id,
                name: name.into(),
                display_name: name.into(),
                display_picture_url: String::new(),
                r#type: "PERSON".into(),
                is_guest: false,
                properties: json!({}),
                created: 1,
            })
            .await
            .unwrap();
        users.push(u.id);
    }
    let mut channels = Vec::new();
    for name in ["one", "two"] {
        let mut tx = db.begin().await.unwrap();
        let c = Channels::insert(
            &mut tx,
            &ChannelRow {
                id: 0,
                application_id: app.id,
                r#type: "PRIVATE".into(),
                name: Some(name.into()),
                display_name: Some(name.into()),
                creator_id: None,
                direct_key: None,
                properties: json!({}),
                created: 2,
            },
        )
        .await
        .unwrap();
        for u in &users {
            Rosters::add(&mut tx, Roster::Members, c.id, *u, 3)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        channels.push(c.id);
    }
    App {
        id: app.id,
        users,
        channels,
    }
}

fn row(app: i64, channel: i64, user: Option<i64>, body: &str) -> MessageRow {
    MessageRow {
        id: 0,
        application_id: app,
        channel_id: channel,
        thread_id: 0,
        seq: 0,
        app_seq: 0,
        r#type: if user.is_some() {
            "TEXT"
        } else {
            "SYSTEM_TEXT"
        }
        .into(),
        user_id: user,
        body: Some(body.into()),
        file: None,
        group_tag: None,
        properties: json!({}),
        mentions: json!([]),
        links: json!([]),
        nested_level: 0,
        created: 100,
        last_edited: None,
    }
}

/// Inserts a message the way a send does: the channel's next sequence number, the message, and
/// for a top-level message its reply thread, in one transaction. `reply_to` is a reply thread.
async fn send_in(
    tx: &mut Tx,
    app: i64,
    channel: i64,
    user: Option<i64>,
    body: &str,
    reply_to: Option<i64>,
) -> MessageRow {
    let (main, seq) = Threads::next_seq(tx, app, channel, 100).await.unwrap();
    let mut m = row(app, channel, user, body);
    m.seq = seq;
    m.thread_id = reply_to.unwrap_or(main);
    m.nested_level = i64::from(reply_to.is_some());
    let m = Messages::insert(tx, &m).await.unwrap();
    if reply_to.is_none() {
        Threads::insert_reply(tx, app, channel, m.id, 100)
            .await
            .unwrap();
    }
    m
}

pub(crate) async fn send(
    db: &Db,
    app: i64,
    channel: i64,
    user: Option<i64>,
    body: &str,
) -> MessageRow {
    let mut tx = db.begin().await.unwrap();
    let m = send_in(&mut tx, app, channel, user, body, None).await;
    tx.commit().await.unwrap();
    m
}

pub(crate) async fn reply(
    db: &Db,
    app: i64,
    parent: &MessageRow,
    user: i64,
    body: &str,
) -> MessageRow {
    let thread = Threads::new(db.clone())
        .replies_of(app, &[parent.id])
        .await
        .unwrap()
        .pop()
        .expect("reply thread")
        .0;
    let mut tx = db.begin().await.unwrap();
    let m = send_in(
        &mut tx,
        app,
        parent.channel_id,
        Some(user),
        body,
        Some(thread.id),
    )
    .await;
    tx.commit().await.unwrap();
    m
}

fn history(scope: HistoryScope, before: Option<i64>, limit: u64) -> History {
    History {
        scope,
        username: None,
        text: None,
        before,
        after: None,
        limit,
    }
}

/// The key `scope`'s pages are ordered and cut on.
fn key(scope: HistoryScope, m: &MessageRow) -> i64 {
    match scope.key() {
        "seq" => m.seq,
        "app_seq" => m.app_seq,
        "id" => m.id,
        other => panic!("unknown history key {other}"),
    }
}

/// Every message of `scope`, walked page by page of `size`.
async fn walk(db: &Db, app: i64, scope: HistoryScope, size: u64) -> Vec<MessageRow> {
    let messages = Messages::new(db.clone());
    let mut out = Vec::new();
    let mut before = None;
    loop {
        let page = messages
            .history(app, &history(scope, before, size))
            .await
            .unwrap();
        assert!(page.len() as u64 <= size);
        let done = (page.len() as u64) < size;
        before = page.last().map(|m| key(scope, m));
        out.extend(page);
        if done || before.is_none() {
            return out;
        }
    }
}

fn bodies(rows: &[MessageRow]) -> Vec<String> {
    rows.iter()
        .map(|m| m.body.clone().unwrap_or_default())
        .collect()
}

/// One transaction writes messages of two applications: each gets its application's next
/// numbers in the order given, its id, its reply thread and its event.
async fn batches_of_messages_threads_and_events_span_applications(db: Db) {
    let a = fixture(&db, "org-a").await;
    let b = fixture(&db, "org-b").await;
    let first = send(&db, a.id, a.channels[0], Some(a.users[0]), "first").await;
    let mut tx = db.begin().await.unwrap();
    let (main_a, last_a) = Threads::take_seqs(&mut tx, a.id, a.channels[0], 2, 100)
        .await
        .unwrap();
    assert_eq!(last_a, 3, "two more after the first");
    let (main_b, last_b) = Threads::take_seqs(&mut tx, b.id, b.channels[0], 1, 100)
        .await
        .unwrap();
    assert_eq!(last_b, 1, "a channel's first message makes its MAIN thread");
    let at = |app: &App, main: i64, seq: i64, body: &str| MessageRow {
        thread_id: main,
        seq,
        ..row(app.id, app.channels[0], Some(app.users[0]), body)
    };
    let rows = [
        at(&a, main_a, 2, "a2"),
        at(&b, main_b, 1, "b1"),
        at(&a, main_a, 3, "a3"),
    ];
    let written = Messages::insert_all(&mut tx, &rows).await.unwrap();
    let numbers: Vec<(i64, i64)> = written
        .iter()
        .map(|m| (m.application_id, m.app_seq))
        .collect();
    assert_eq!(
        numbers,
        [
            (a.id, first.app_seq + 1),
            (b.id, 1),
            (a.id, first.app_seq + 2)
        ]
    );
    let ids: BTreeSet<i64> = written.iter().map(|m| m.id).collect();
    assert_eq!(ids.len(), 3);
    let parents: Vec<(i64, i64)> = [&written[0], &written[2]]
        .iter()
        .map(|m| (m.channel_id, m.id))
        .collect();
    let threads = Threads::insert_replies(&mut tx, a.id, &parents, 100)
        .await
        .unwrap();
    let replied: Vec<Option<i64>> = threads.iter().map(|t| t.parent_message_id).collect();
    assert_eq!(replied, [Some(written[0].id), Some(written[2].id)]);
    let events: Vec<NewEvent> = written
        .iter()
        .map(|m| NewEvent {
            application_id: m.application_id,
            event: Event::MessageCreated(message_ref(m)),
            created: 100,
        })
        .collect();
    let appended = Events::append_all(&mut tx, &events).await.unwrap();
    let seqs: Vec<(i64, i64)> = appended.iter().map(|e| (e.application_id, e.seq)).collect();
    assert_eq!(seqs, [(a.id, 1), (b.id, 1), (a.id, 2)]);
    tx.commit().await.unwrap();
    let messages = Messages::new(db.clone());
    for m in &written {
        assert_eq!(
            messages.get(m.application_id, m.id).await.unwrap().as_ref(),
            Some(m)
        );
    }
    let stored = Events::new(db.clone()).after(a.id, 0, 10).await.unwrap();
    assert_eq!(stored, [appended[0].clone(), appended[2].clone()]);
}

/// Pages going back towards the newest: the keys just above a bound, still newest first.
async fn history_and_notifications_go_back_from_a_bound(db: Db) {
    let a = fixture(&db, "org-a").await;
    let (alice, bob) = (a.users[0], a.users[1]);
    let mut sent = Vec::new();
    for i in 1..=7 {
        sent.push(send(&db, a.id, a.channels[0], Some(alice), &format!("m{i}")).await);
    }
    let messages = Messages::new(db.clone());
    let scope = HistoryScope::Channel(a.channels[0]);
    let back = |before: Option<i64>, after: i64, limit: u64| History {
        after: Some(after),
        ..history(scope, before, limit)
    };
    let seqs = |rows: Vec<MessageRow>| rows.iter().map(|m| m.seq).collect::<Vec<_>>();
    let got = messages.history(a.id, &back(None, 3, 2)).await.unwrap();
    assert_eq!(seqs(got), [5, 4], "the two just above 3");
    let got = messages.history(a.id, &back(Some(7), 3, 10)).await.unwrap();
    assert_eq!(seqs(got), [6, 5, 4], "between the bounds");
    let got = messages.history(a.id, &back(None, 7, 10)).await.unwrap();
    assert!(got.is_empty(), "nothing above the newest");

    let mut tx = db.begin().await.unwrap();
    let rows: Vec<NotificationRow> = sent
        .iter()
        .map(|m| notification(a.id, bob, m, "t"))
        .collect();
    let added = Notifications::insert_all(&mut tx, &rows).await.unwrap();
    assert_eq!(added, vec![bob; 7], "one row per message");
    assert!(Notifications::insert_all(&mut tx, &rows[..2])
        .await
        .unwrap()
        .is_empty());
    tx.commit().await.unwrap();
    let notifications = Notifications::new(db.clone());
    let all = notifications
        .page(a.id, bob, (None, None), 10)
        .await
        .unwrap();
    let ids: Vec<i64> = all.iter().map(|n| n.id).collect();
    assert_eq!(ids.len(), 7);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
    let got = notifications
        .page(a.id, bob, (Some(ids[0]), Some(ids[5])), 3)
        .await
        .unwrap();
    let got: Vec<i64> = got.iter().map(|n| n.id).collect();
    assert_eq!(got, ids[2..5], "the three just above, newest first");
}

async fn sequences_are_per_channel_and_gapless(db: Db) {
    let a = fixture(&db, "org-a").await;
    let (one, two) = (a.channels[0], a.channels[1]);
    let mut seqs_one = Vec::new();
    let mut seqs_two = Vec::new();
    for i in 0..5 {
        seqs_one.push(
            send(&db, a.id, one, Some(a.users[0]), &format!("1-{i}"))
                .await
                .seq,
        );
        if i % 2 == 0 {
            seqs_two.push(send(&db, a.id, two, None, &format!("2-{i}")).await.seq);
        }
    }
    let first = send(&db, a.id, one, Some(a.users[1]), "top").await;
    let r = reply(&db, a.id, &first, a.users[2], "reply").await;
    assert_eq!(seqs_one, vec![1, 2, 3, 4, 5]);
    assert_eq!(seqs_two, vec![1, 2, 3]);
    // Replies take the channel's sequence too: one numbering for all threads of a channel.
    assert_eq!((first.seq, r.seq), (6, 7));
    assert_ne!(r.thread_id, first.thread_id);
    // Every message of one channel shares its MAIN thread, which differs per channel.
    let m2 = send(&db, a.id, two, None, "x").await;
    assert_ne!(first.thread_id, m2.thread_id);
    assert_eq!(m2.seq, 4);
}

async fn concurrent_sends_get_distinct_increasing_sequences(db: Db) {
    let a = fixture(&db, "org-a").await;
    const TASKS: usize = 6;
    const EACH: usize = 5;
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let db = db.clone();
        let (app, channels, user) = (a.id, a.channels.clone(), a.users[t % 3]);
        handles.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            for i in 0..EACH {
                // Half the tasks write to both channels, so the application-wide order is
                // contended across channels too.
                let channel = channels[(t + i) % 2 * (t % 2)];
                let mut tx = db.begin().await.unwrap();
                let m = send_in(&mut tx, app, channel, Some(user), &format!("{t}-{i}"), None).await;
                tokio::task::yield_now().await;
                tx.commit().await.unwrap();
                mine.push(m);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        let mine = h.await.unwrap();
        // One task's messages are numbered in the order it sent them.
        for w in mine.windows(2) {
            if w[0].channel_id == w[1].channel_id {
                assert!(w[0].seq < w[1].seq, "{:?} then {:?}", w[0].seq, w[1].seq);
            }
            assert!(w[0].app_seq < w[1].app_seq);
        }
        all.extend(mine);
    }
    assert_eq!(all.len(), TASKS * EACH);
    for c in &a.channels {
        let seqs: Vec<i64> = all
            .iter()
            .filter(|m| m.channel_id == *c)
            .map(|m| m.seq)
            .collect();
        let distinct: BTreeSet<i64> = seqs.iter().copied().collect();
        assert_eq!(distinct.len(), seqs.len(), "duplicate sequence in {c}");
        assert_eq!(
            distinct,
            (1..=seqs.len() as i64).collect::<BTreeSet<_>>(),
            "sequence gap in {c}"
        );
    }
    let app_seqs: BTreeSet<i64> = all.iter().map(|m| m.app_seq).collect();
    assert_eq!(app_seqs, (1..=all.len() as i64).collect::<BTreeSet<_>>());
    // Stored as answered.
    let stored = walk(&db, a.id, HistoryScope::Application, 7).await;
    assert_eq!(stored.len(), all.len());
    for m in &stored {
        assert!(
            all.contains(m),
            "stored {m:?} differs from what insert answered"
        );
    }
}

async fn channel_history_pages_neither_skip_nor_repeat_while_inserting(db: Db) {
    let a = fixture(&db, "org-a").await;
    let one = a.channels[0];
    let mut sent = Vec::new();
    for i in 0..10 {
        sent.push(send(&db, a.id, one, Some(a.users[i % 3]), &format!("m{i}")).await);
    }
    // Noise in the other channel and in another application.
    send(&db, a.id, a.channels[1], None, "other channel").await;
    let b = fixture(&db, "org-b").await;
    send(&db, b.id, b.channels[0], None, "other app").await;
    for scope in [HistoryScope::Channel(one), HistoryScope::Application] {
        let messages = Messages::new(db.clone());
        let mut seen = Vec::new();
        let mut before = None;
        let mut extra = 0;
        loop {
            let page = messages
                .history(a.id, &history(scope, before, 3))
                .await
                .unwrap();
            if page.is_empty() {
                break;
            }
            before = page.last().map(|m| key(scope, m));
            seen.extend(page);
            // Inserts between pages land above the traversal: never in a later page.
            send(&db, a.id, one, Some(a.users[0]), &format!("late{extra}")).await;
            extra += 1;
        }
        let mut expected: Vec<String> =
            sent.iter().rev().map(|m| m.body.clone().unwrap()).collect();
        if scope == HistoryScope::Application {
            // The application-wide walk started after the first pass's late messages and the
            // other channel's message.
            let late: Vec<String> = (0..4).rev().map(|i| format!("late{i}")).collect();
            expected = late
                .into_iter()
                .chain(["other channel".to_string()])
                .chain(expected)
                .collect();
        }
        assert_eq!(bodies(&seen), expected, "{scope:?}");
    }
}

/// A message committed after a reader looked must sort above everything the reader saw: else a
/// client that keeps the newest key it saw and asks for newer messages never sees it.
async fn keys_follow_commit_order(db: Db, scope_of: fn(&App) -> HistoryScope) {
    let a = fixture(&db, "org-a").await;
    let (one, two) = (a.channels[0], a.channels[1]);
    send(&db, a.id, one, Some(a.users[0]), "before").await;
    let scope = scope_of(&a);
    // A sender takes its number first and commits last.
    let mut slow = db.begin().await.unwrap();
    let late = send_in(&mut slow, a.id, one, Some(a.users[0]), "slow", None).await;
    let fast = {
        let db = db.clone();
        let (app, user) = (a.id, a.users[0]);
        tokio::spawn(async move { send(&db, app, two, Some(user), "fast").await })
    };
    // Give the fast sender time to commit if nothing holds it back.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let seen = Messages::new(db.clone())
        .history(a.id, &history(scope, None, 100))
        .await
        .unwrap();
    slow.commit().await.unwrap();
    let fast = fast.await.unwrap();
    let newest_seen = seen.iter().map(|m| key(scope, m)).max().unwrap();
    let all = walk(&db, a.id, scope, 100).await;
    assert_eq!(all.len(), 3);
    for m in all.iter().filter(|m| !seen.iter().any(|s| s.id == m.id)) {
        assert!(
            key(scope, m) > newest_seen,
            "{:?} committed after a reader saw key {newest_seen} but sorts below it ({})",
            m.body,
            key(scope, m)
        );
    }
    assert!(all.iter().any(|m| m.id == late.id) && all.iter().any(|m| m.id == fast.id));
}

async fn app_history_keys_follow_commit_order(db: Db) {
    keys_follow_commit_order(db, |_| HistoryScope::Application).await;
}

async fn sender_history_keys_follow_commit_order(db: Db) {
    keys_follow_commit_order(db, |a| HistoryScope::Sender(a.users[0])).await;
}

async fn text_and_username_filters(db: Db) {
    let a = fixture(&db, "org-a").await;
    let one = a.channels[0];
    let texts = [
        (0, "hello world"),
        (1, "Hello again"),
        (0, "100% sure"),
        (2, "snake_case"),
        (1, "snakeXcase"),
        (0, "back\\slash"),
    ];
    for (u, t) in texts {
        send(&db, a.id, one, Some(a.users[u]), t).await;
    }
    send(&db, a.id, one, None, "system hello").await;
    let messages = Messages::new(db.clone());
    let ask = |username: Option<&str>, text: Option<&str>| History {
        scope: HistoryScope::Channel(one),
        username: username.map(str::to_string),
        text: text.map(str::to_string),
        before: None,
        after: None,
        limit: 100,
    };
    // Text matches ignore case, the same on every engine; `%`, `_` and `\` are plain text.
    let cases: [(Option<&str>, Option<&str>, Vec<&str>); 8] = [
        (
            None,
            Some("hello"),
            vec!["system hello", "Hello again", "hello world"],
        ),
        (None, Some("HELLO W"), vec!["hello world"]),
        (None, Some("%"), vec!["100% sure"]),
        (None, Some("_"), vec!["snake_case"]),
        (None, Some("\\"), vec!["back\\slash"]),
        (
            Some("alice"),
            None,
            vec!["back\\slash", "100% sure", "hello world"],
        ),
        (Some("bob"), Some("again"), vec!["Hello again"]),
        (Some("nobody"), None, vec![]),
    ];
    for (username, text, expected) in cases {
        let h = ask(username, text);
        let got = messages.history(a.id, &h).await.unwrap();
        assert_eq!(bodies(&got), expected, "{username:?} {text:?}");
        assert_eq!(
            messages.count(a.id, &h).await.unwrap(),
            expected.len() as u64,
            "count {username:?} {text:?}"
        );
    }
    // A user of another application with the same name matches nothing here.
    let b = fixture(&db, "org-b").await;
    send(
        &db,
        b.id,
        b.channels[0],
        Some(b.users[2]),
        "carol elsewhere",
    )
    .await;
    let got = messages
        .history(a.id, &ask(Some("carol"), None))
        .await
        .unwrap();
    assert_eq!(bodies(&got), vec!["snake_case"]);
}

async fn deleting_a_message_takes_its_reply_thread_and_replies(db: Db) {
    let a = fixture(&db, "org-a").await;
    let one = a.channels[0];
    let parent = send(&db, a.id, one, Some(a.users[0]), "parent").await;
    let keep = send(&db, a.id, one, Some(a.users[0]), "keep").await;
    let r1 = reply(&db, a.id, &parent, a.users[1], "r1").await;
    let r2 = reply(&db, a.id, &parent, a.users[2], "r2").await;
    let kept_reply = reply(&db, a.id, &keep, a.users[2], "kept reply").await;
    let threads = Threads::new(db.clone());
    let reply_thread: Vec<_> = threads
        .replies_of(a.id, &[parent.id])
        .await
        .unwrap()
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(reply_thread.len(), 1);
    let messages = Messages::new(db.clone());
    assert_eq!(
        threads
            .replies_of(a.id, &[parent.id, keep.id])
            .await
            .unwrap()
            .into_iter()
            .map(|(t, n)| (t.id, n))
            .collect::<BTreeSet<_>>(),
        BTreeSet::from([(reply_thread[0].id, 2), (kept_reply.thread_id, 1)])
    );
    // Another application cannot delete it.
    let b = fixture(&db, "org-b").await;
    let mut tx = db.begin().await.unwrap();
    assert!(!Messages::delete(&mut tx, b.id, parent.id).await.unwrap());
    assert!(Messages::delete(&mut tx, a.id, parent.id).await.unwrap());
    tx.commit().await.unwrap();
    for gone in [&parent, &r1, &r2] {
        assert_eq!(messages.get(a.id, gone.id).await.unwrap(), None);
    }
    assert_eq!(threads.get(a.id, reply_thread[0].id).await.unwrap(), None);
    let left = walk(&db, a.id, HistoryScope::Channel(one), 2).await;
    assert_eq!(bodies(&left), vec!["kept reply", "keep"]);
    // Numbers are never reused after a delete.
    let next = send(&db, a.id, one, None, "next").await;
    assert_eq!(next.seq, kept_reply.seq + 1);
    // Deleting all of one application's messages leaves the other's.
    let theirs = send(&db, b.id, b.channels[0], None, "theirs").await;
    let mut tx = db.begin().await.unwrap();
    assert_eq!(Messages::delete_all(&mut tx, a.id).await.unwrap(), 3);
    tx.commit().await.unwrap();
    assert!(walk(&db, a.id, HistoryScope::Application, 5)
        .await
        .is_empty());
    assert_eq!(messages.get(b.id, theirs.id).await.unwrap(), Some(theirs));
}

async fn edits_change_only_editable_fields_of_the_callers_application(db: Db) {
    let a = fixture(&db, "org-a").await;
    let b = fixture(&db, "org-b").await;
    let m = send(&db, a.id, a.channels[0], Some(a.users[0]), "draft").await;
    let mut edited = m.clone();
    edited.body = Some("final".into());
    edited.properties = json!({"k": 1});
    edited.last_edited = Some(200);
    // Fields that are not editable stay as stored.
    edited.seq = 99;
    edited.user_id = Some(a.users[1]);
    let mut foreign = edited.clone();
    foreign.application_id = b.id;
    let mut tx = db.begin().await.unwrap();
    assert!(!Messages::update(&mut tx, &foreign).await.unwrap());
    assert!(Messages::update(&mut tx, &edited).await.unwrap());
    tx.commit().await.unwrap();
    let stored = Messages::new(db.clone())
        .get(a.id, m.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored,
        MessageRow {
            body: Some("final".into()),
            properties: json!({"k": 1}),
            last_edited: Some(200),
            ..m
        }
    );
}

async fn read_cursors_only_move_forward_and_unread_counts_follow(db: Db) {
    let a = fixture(&db, "org-a").await;
    let (alice, bob, carol) = (a.users[0], a.users[1], a.users[2]);
    let (one, two) = (a.channels[0], a.channels[1]);
    let mut sent = Vec::new();
    for (i, u) in [alice, bob, alice, carol, bob, alice]
        .into_iter()
        .enumerate()
    {
        sent.push(send(&db, a.id, one, Some(u), &format!("one{i}")).await);
    }
    sent.push(send(&db, a.id, two, Some(bob), "two0").await);
    sent.push(send(&db, a.id, two, None, "two1").await);
    let unread = |user: i64, cursors: &[(i64, i64)]| {
        sent.iter()
            .filter(|m| m.user_id != Some(user))
            .filter(|m| {
                let read = cursors
                    .iter()
                    .find(|(c, _)| *c == m.channel_id)
                    .map_or(0, |(_, s)| *s);
                m.seq > read
            })
            .count() as u64
    };
    let messages = Messages::new(db.clone());
    let count = |user: i64| {
        let messages = messages.clone();
        async move {
            messages
                .count(a.id, &history(HistoryScope::UnreadBy(user), None, 0))
                .await
                .unwrap()
        }
    };
    assert_eq!(count(alice).await, unread(alice, &[]));
    assert_eq!(count(alice).await, 5);

    let advance = |seq: i64, now: i64| {
        let db = db.clone();
        async move {
            let mut tx = db.begin().await.unwrap();
            let moved = ReadCursors::advance(&mut tx, one, alice, seq, now)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            moved
        }
    };
    assert!(advance(4, 10).await);
    assert_eq!(count(alice).await, unread(alice, &[(one, 4)]));
    assert!(!advance(2, 11).await, "a cursor never moves back");
    assert!(!advance(4, 12).await, "nor stays put as a move");
    assert_eq!(count(alice).await, unread(alice, &[(one, 4)]));
    assert!(advance(6, 13).await);
    assert_eq!(count(alice).await, unread(alice, &[(one, 6)]));
    assert_eq!(count(alice).await, 2);
    // Unread messages page like any history.
    let page = walk(&db, a.id, HistoryScope::UnreadBy(alice), 1).await;
    assert_eq!(bodies(&page), vec!["two1", "two0"]);

    let cursors = ReadCursors::new(db.clone());
    // Readers of one3 (carol's, seq 4): alice, whose cursor is at 6.
    let readers = cursors
        .readers(one, 4, Some(carol), &[], 0, 10)
        .await
        .unwrap();
    assert_eq!(readers.len(), 1);
    assert_eq!(
        (
            readers[0].user_id,
            readers[0].last_read_seq,
            readers[0].updated
        ),
        (alice, 6, 13)
    );
    assert_eq!(cursors.count_readers(one, 4, Some(carol)).await.unwrap(), 1);
    assert_eq!(cursors.count_readers(one, 7, None).await.unwrap(), 0);
    assert_eq!(cursors.count_readers(one, 4, Some(alice)).await.unwrap(), 0);
    // Alice's cursor covers the channel's messages of others: bob, carol, bob.
    let summaries = cursors.summaries(a.id, &[], 0, 10).await.unwrap();
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].count, 3);
    let mut tx = db.begin().await.unwrap();
    ReadCursors::advance(&mut tx, two, bob, 2, 20)
        .await
        .unwrap();
    ReadCursors::advance(&mut tx, one, carol, 1, 21)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let covered = |channel: i64, user: i64, upto: i64| {
        sent.iter()
            .filter(|m| m.channel_id == channel && m.seq <= upto && m.user_id != Some(user))
            .count() as u64
    };
    let mut expected = vec![
        (one, alice, 6, covered(one, alice, 6)),
        (one, carol, 1, covered(one, carol, 1)),
        (two, bob, 2, covered(two, bob, 2)),
    ];
    expected.sort_unstable();
    let got: Vec<(i64, i64, i64, u64)> = cursors
        .summaries(a.id, &[], 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|s| {
            (
                s.cursor.channel_id,
                s.cursor.user_id,
                s.cursor.last_read_seq,
                s.count,
            )
        })
        .collect();
    assert_eq!(got, expected);
    assert_eq!(
        expected.iter().map(|e| e.3).collect::<Vec<_>>(),
        if alice < carol { [3, 1, 1] } else { [1, 3, 1] }
    );
    let second: Vec<(i64, i64)> = cursors
        .summaries(a.id, &[], 1, 1)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.cursor.channel_id, s.cursor.user_id))
        .collect();
    assert_eq!(second, vec![(expected[1].0, expected[1].1)]);
    assert_eq!(cursors.count_summaries(a.id).await.unwrap(), 3);
    let b = fixture(&db, "org-b").await;
    assert!(cursors
        .summaries(b.id, &[], 0, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(cursors.count_summaries(b.id).await.unwrap(), 0);
    // Leaving the channel takes the cursor with the membership.
    let mut tx = db.begin().await.unwrap();
    Rosters::remove(&mut tx, Roster::Members, one, alice)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(cursors.count_summaries(a.id).await.unwrap(), 2);
    assert_eq!(count(alice).await, 2);
}

fn notification(app: i64, user: i64, message: &MessageRow, title: &str) -> NotificationRow {
    NotificationRow {
        id: 0,
        application_id: app,
        user_id: user,
        channel_id: Some(message.channel_id),
        message_id: Some(message.id),
        r#type: "USER:SENT:MESSAGE".into(),
        title: title.into(),
        body: message.body.clone().unwrap_or_default(),
        created: 300,
        read_time: None,
        muted: false,
    }
}

async fn notifications_and_the_consumer_offset_commit_together(db: Db) {
    let a = fixture(&db, "org-a").await;
    let (alice, bob) = (a.users[0], a.users[1]);
    let m1 = send(&db, a.id, a.channels[0], Some(alice), "m1").await;
    let m2 = send(&db, a.id, a.channels[0], Some(alice), "m2").await;
    let consumers = Consumers::new(db.clone());
    let notifications = Notifications::new(db.clone());
    assert_eq!(consumers.offset("notifier", a.id).await.unwrap(), 0);

    // Work whose transaction is dropped leaves neither its rows nor its offset.
    {
        let mut tx = db.begin().await.unwrap();
        assert!(
            Notifications::insert(&mut tx, &notification(a.id, bob, &m1, "t"))
                .await
                .unwrap()
        );
        assert!(Consumers::advance(&mut tx, "notifier", a.id, 0, 1)
            .await
            .unwrap());
    }
    assert_eq!(consumers.offset("notifier", a.id).await.unwrap(), 0);
    assert!(notifications
        .page(a.id, bob, (None, None), 10)
        .await
        .unwrap()
        .is_empty());

    let mut tx = db.begin().await.unwrap();
    assert!(
        Notifications::insert(&mut tx, &notification(a.id, bob, &m1, "first"))
            .await
            .unwrap()
    );
    assert!(Consumers::advance(&mut tx, "notifier", a.id, 0, 1)
        .await
        .unwrap());
    tx.commit().await.unwrap();
    assert_eq!(consumers.offset("notifier", a.id).await.unwrap(), 1);

    // A second worker that read the old offset loses: it rolls back its rows.
    let mut tx = db.begin().await.unwrap();
    let dup = Notifications::insert(&mut tx, &notification(a.id, bob, &m1, "again"))
        .await
        .unwrap();
    assert!(!dup, "one notification per message and user");
    assert!(!Consumers::advance(&mut tx, "notifier", a.id, 0, 1)
        .await
        .unwrap());
    drop(tx);

    let mut tx = db.begin().await.unwrap();
    assert!(
        Notifications::insert(&mut tx, &notification(a.id, bob, &m2, "second"))
            .await
            .unwrap()
    );
    assert!(
        Notifications::insert(&mut tx, &notification(a.id, alice, &m2, "mine"))
            .await
            .unwrap()
    );
    assert!(Consumers::advance(&mut tx, "notifier", a.id, 1, 2)
        .await
        .unwrap());
    tx.commit().await.unwrap();
    assert_eq!(consumers.offset("notifier", a.id).await.unwrap(), 2);
    // Offsets are per consumer and per application.
    assert_eq!(consumers.offset("other", a.id).await.unwrap(), 0);
    let b = fixture(&db, "org-b").await;
    assert_eq!(consumers.offset("notifier", b.id).await.unwrap(), 0);

    let page = notifications
        .page(a.id, bob, (None, None), 1)
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|n| n.title.as_str()).collect::<Vec<_>>(),
        ["second"]
    );
    let next = notifications
        .page(a.id, bob, (Some(page[0].id), None), 5)
        .await
        .unwrap();
    assert_eq!(
        next.iter().map(|n| n.title.as_str()).collect::<Vec<_>>(),
        ["first"]
    );
    assert_eq!(
        notifications
            .page(a.id, alice, (None, None), 5)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(notifications
        .page(b.id, bob, (None, None), 5)
        .await
        .unwrap()
        .is_empty());
}

async fn consumers_know_which_applications_they_are_behind_in(db: Db) {
    let a = fixture(&db, "org-a").await;
    let b = fixture(&db, "org-b").await;
    let consumers = Consumers::new(db.clone());
    assert!(consumers.behind("notifier").await.unwrap().is_empty());
    let event = |app: i64| NewEvent {
        application_id: app,
        event: Event::MessagesDeleted { count: 0 },
        created: 1,
    };
    let mut tx = db.begin().await.unwrap();
    Events::append_all(&mut tx, &[event(a.id), event(b.id), event(a.id)])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(consumers.behind("notifier").await.unwrap(), [a.id, b.id]);
    let mut tx = db.begin().await.unwrap();
    assert!(Consumers::advance(&mut tx, "notifier", a.id, 0, 2)
        .await
        .unwrap());
    tx.commit().await.unwrap();
    assert_eq!(consumers.behind("notifier").await.unwrap(), [b.id]);
    // Offsets are per consumer.
    assert_eq!(consumers.behind("other").await.unwrap(), [a.id, b.id]);
}

async fn every_read_is_scoped_by_application(db: Db) {
    let a = fixture(&db, "org-a").await;
    let b = fixture(&db, "org-b").await;
    let m = send(&db, a.id, a.channels[0], Some(a.users[0]), "ours").await;
    let r = reply(&db, a.id, &m, a.users[1], "reply").await;
    let theirs = send(&db, b.id, b.channels[0], Some(b.users[0]), "theirs").await;
    let messages = Messages::new(db.clone());
    let threads = Threads::new(db.clone());
    assert_eq!(messages.get(b.id, m.id).await.unwrap(), None);
    assert_eq!(messages.get(a.id, m.id).await.unwrap(), Some(m.clone()));
    assert_eq!(
        messages
            .by_ids(b.id, &[m.id, r.id, theirs.id])
            .await
            .unwrap(),
        vec![theirs.clone()]
    );
    assert!(threads.get(b.id, r.thread_id).await.unwrap().is_none());
    assert!(threads.get(a.id, r.thread_id).await.unwrap().is_some());
    assert!(threads.replies_of(b.id, &[m.id]).await.unwrap().is_empty());
    assert_eq!(
        threads.replies_of(a.id, &[m.id]).await.unwrap()[0].1,
        1,
        "the reply is counted in its own application"
    );
    for scope in [
        HistoryScope::Channel(a.channels[0]),
        HistoryScope::Thread(r.thread_id),
        HistoryScope::Sender(a.users[0]),
        HistoryScope::UnreadBy(a.users[2]),
    ] {
        assert!(
            messages
                .history(b.id, &history(scope, None, 10))
                .await
                .unwrap()
                .is_empty(),
            "{scope:?}"
        );
        assert_eq!(
            messages
                .count(b.id, &history(scope, None, 10))
                .await
                .unwrap(),
            0
        );
        assert!(!messages
            .history(a.id, &history(scope, None, 10))
            .await
            .unwrap()
            .is_empty());
    }
    assert_eq!(
        bodies(
            &messages
                .history(b.id, &history(HistoryScope::Application, None, 10))
                .await
                .unwrap()
        ),
        vec!["theirs"]
    );
    // Application-wide numbering is per application.
    assert_eq!((m.app_seq, r.app_seq, theirs.app_seq), (1, 2, 1));
    let reports = Reports::new(db.clone());
    assert!(reports
        .messages(b.id, a.channels[0], 0, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        reports.count_messages(b.id, a.channels[0]).await.unwrap(),
        0
    );
}

async fn racing_read_cursor_moves_end_at_the_furthest(db: Db) {
    let a = fixture(&db, "org-a").await;
    const MOVES: i64 = 4;
    // Every member's first cursor on every channel is raced by several moves at once.
    for channel in a.channels.clone() {
        for user in a.users.clone() {
            let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(MOVES as usize));
            let mut handles = Vec::new();
            for seq in 1..=MOVES {
                let (db, barrier) = (db.clone(), barrier.clone());
                handles.push(tokio::spawn(async move {
                    barrier.wait().await;
                    let mut tx = db.begin().await.unwrap();
                    let moved = ReadCursors::advance(&mut tx, channel, user, seq, seq)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                    moved
                }));
            }
            let mut moved = 0;
            for h in handles {
                moved += u32::from(h.await.unwrap());
            }
            assert!(moved >= 1);
            let cursors = ReadCursors::new(db.clone());
            let at = cursors
                .readers(channel, 1, None, &[], 0, 10)
                .await
                .unwrap()
                .into_iter()
                .find(|c| c.user_id == user)
                .expect("cursor");
            assert_eq!(
                at.last_read_seq, MOVES,
                "moves to 1..={MOVES} raced on channel {channel} for user {user}"
            );
        }
    }
}

async fn racing_consumers_do_each_batch_once(db: Db) {
    let a = fixture(&db, "org-a").await;
    let (alice, bob, carol) = (a.users[0], a.users[1], a.users[2]);
    let mut sent = Vec::new();
    for i in 0..3 {
        sent.push(send(&db, a.id, a.channels[0], Some(alice), &format!("m{i}")).await);
    }
    const WORKERS: usize = 4;
    // Each round, every worker reads the offset, notifies bob and carol of the next message and
    // moves the offset; only one worker's transaction may commit.
    for (round, m) in sent.iter().enumerate() {
        let from = round as i64;
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(WORKERS));
        let mut handles = Vec::new();
        for w in 0..WORKERS {
            let (db, barrier, m) = (db.clone(), barrier.clone(), m.clone());
            let app = a.id;
            handles.push(tokio::spawn(async move {
                let seen = Consumers::new(db.clone())
                    .offset("notifier", app)
                    .await
                    .unwrap();
                assert_eq!(seen, from);
                barrier.wait().await;
                let mut tx = db.begin().await.unwrap();
                for user in [bob, carol] {
                    Notifications::insert(&mut tx, &notification(app, user, &m, &format!("w{w}")))
                        .await
                        .unwrap();
                }
                let won = Consumers::advance(&mut tx, "notifier", app, from, from + 1)
                    .await
                    .unwrap();
                if won {
                    tx.commit().await.unwrap();
                }
                won
            }));
        }
        let mut winners = 0;
        for h in handles {
            winners += usize::from(h.await.unwrap());
        }
        assert_eq!(winners, 1, "round {round}");
        assert_eq!(
            Consumers::new(db.clone())
                .offset("notifier", a.id)
                .await
                .unwrap(),
            from + 1
        );
    }
    let notifications = Notifications::new(db.clone());
    let mut by_user = Vec::new();
    for user in [bob, carol] {
        let page = notifications
            .page(a.id, user, (None, None), 100)
            .await
            .unwrap();
        let got: Vec<Option<i64>> = page.iter().map(|n| n.message_id).collect();
        let expected: Vec<Option<i64>> = sent.iter().rev().map(|m| Some(m.id)).collect();
        assert_eq!(got, expected);
        by_user.push(page.into_iter().map(|n| n.title).collect::<Vec<_>>());
    }
    // Both of one message's notifications come from the one worker that won its round.
    assert_eq!(by_user[0], by_user[1]);
}
