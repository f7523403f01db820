//! What users set for themselves (mute, hide, clear, delete for me), block records and block
//! lists, contacts, standalone threads, unread channels, and read cursors moving back: the same
//! on both engines.

use palaver_store::platform::{
    Applications, ChannelFilter, ChannelRow, ChannelStates, Channels, ChatUsers, History,
    HistoryScope, MessageRow, Messages, NewApplication, NewChatUser, NotificationRow,
    Notifications, ReadCursors, Roster, Rosters, ThreadFilter, Threads, UserBlocks, UserFilter,
    Viewing,
};
use palaver_store::{Db, Documents};
use serde_json::json;

use crate::support::{contract, organisation};

contract!(
    hidden_channels_come_back_with_their_next_message,
    cleared_and_deleted_messages_leave_one_users_history,
    history_narrows_to_the_main_thread_types_and_a_channel,
    unread_channels_are_the_members_with_something_to_read,
    read_cursors_move_back_before_a_message,
    muted_pairs_and_muted_notifications,
    block_records_and_block_lists,
    contacts_share_a_channel,
    standalone_threads_are_listed_with_main_and_answered_threads,
);

struct Fixture {
    app: i64,
    /// alice, bob, carol, dan (dan is in no channel).
    users: Vec<i64>,
    /// `one` (alice, bob, carol) and `two` (alice, bob).
    channels: Vec<i64>,
}

async fn fixture(db: &Db) -> Fixture {
    organisation(&Documents::new(db.clone()), "org").await;
    let app = Applications::new(db.clone())
        .insert(&NewApplication {
            organisation_id: "org".into(),
            name: "app".into(),
            api_key: "key".into(),
            client_id: "client".into(),
            client_secret_digest: "digest".into(),
            created: 1,
        })
        .await
        .unwrap()
        .id;
    let mut users = Vec::new();
    for name in ["alice", "bob", "carol", "dan"] {
        let u = ChatUsers::new(db.clone())
            .insert(&NewChatUser {
                application_id: app,
                name: name.into(),
                display_name: name.to_uppercase(),
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
    for (name, members) in [("one", &users[..3]), ("two", &users[..2])] {
        let mut tx = db.begin().await.unwrap();
        let c = Channels::insert(
            &mut tx,
            &ChannelRow {
                id: 0,
                application_id: app,
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
        for u in members {
            Rosters::add(&mut tx, Roster::Members, c.id, *u, 3)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        channels.push(c.id);
    }
    Fixture {
        app,
        users,
        channels,
    }
}

/// Sends a message as a send does (sequence, message, reply thread); `thread` sends it to
/// that thread instead of the MAIN one.
async fn send(
    db: &Db,
    f: &Fixture,
    channel: i64,
    user: i64,
    kind: &str,
    thread: Option<i64>,
) -> MessageRow {
    let mut tx = db.begin().await.unwrap();
    let (main, seq) = Threads::next_seq(&mut tx, f.app, channel, 100)
        .await
        .unwrap();
    let m = MessageRow {
        id: 0,
        application_id: f.app,
        channel_id: channel,
        thread_id: thread.unwrap_or(main),
        seq,
        app_seq: 0,
        r#type: kind.into(),
        user_id: Some(user),
        body: Some("hi".into()),
        file: None,
        group_tag: None,
        properties: json!({}),
        mentions: json!([]),
        links: json!([]),
        nested_level: i64::from(thread.is_some()),
        created: 100,
        last_edited: None,
    };
    let m = Messages::insert(&mut tx, &m).await.unwrap();
    if thread.is_none() {
        Threads::insert_reply(&mut tx, f.app, channel, m.id, 100)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    m
}

fn channel_history(channel: i64) -> History {
    History {
        scope: HistoryScope::Channel(channel),
        username: None,
        text: None,
        before: None,
        after: None,
        limit: 100,
    }
}

async fn ids_seen(db: &Db, f: &Fixture, h: &History, v: &Viewing) -> Vec<i64> {
    let rows = Messages::new(db.clone())
        .history_as(f.app, h, v)
        .await
        .unwrap();
    let count = Messages::new(db.clone())
        .count_as(f.app, h, v)
        .await
        .unwrap();
    assert_eq!(count, rows.len() as u64, "count and history agree");
    rows.iter().map(|m| m.id).collect()
}

async fn channel_ids(db: &Db, f: &Fixture, filter: &ChannelFilter) -> Vec<i64> {
    let channels = Channels::new(db.clone());
    let page = channels.page(f.app, filter, &[], 0, 10).await.unwrap();
    assert_eq!(
        channels.count(f.app, filter).await.unwrap(),
        page.len() as u64
    );
    page.iter().map(|c| c.id).collect()
}

async fn hidden_channels_come_back_with_their_next_message(db: Db) {
    let f = fixture(&db).await;
    let (alice, bob) = (f.users[0], f.users[1]);
    let [one, two] = [f.channels[0], f.channels[1]];
    let visible = |u| ChannelFilter {
        user: Some(u),
        visible_to: Some(u),
        ..ChannelFilter::default()
    };
    // Hidden before any message, too.
    let mut tx = db.begin().await.unwrap();
    ChannelStates::hide(&mut tx, two, alice, 5).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(channel_ids(&db, &f, &visible(alice)).await, vec![one]);
    assert_eq!(channel_ids(&db, &f, &visible(bob)).await, vec![one, two]);
    send(&db, &f, two, bob, "TEXT", None).await;
    assert_eq!(channel_ids(&db, &f, &visible(alice)).await, vec![one, two]);
    // Hidden again after messages: until the next one.
    let mut tx = db.begin().await.unwrap();
    ChannelStates::hide(&mut tx, two, alice, 6).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(channel_ids(&db, &f, &visible(alice)).await, vec![one]);
    let state = ChannelStates::new(db.clone())
        .get(two, alice)
        .await
        .unwrap();
    assert_eq!(state.hidden_seq, Some(1));
    assert!(!state.muted);
    send(&db, &f, two, alice, "TEXT", None).await;
    assert_eq!(channel_ids(&db, &f, &visible(alice)).await, vec![one, two]);
    // A name narrows the list.
    let named = ChannelFilter {
        name: Some("two".into()),
        ..visible(alice)
    };
    assert_eq!(channel_ids(&db, &f, &named).await, vec![two]);
}

async fn cleared_and_deleted_messages_leave_one_users_history(db: Db) {
    let f = fixture(&db).await;
    let (alice, bob) = (f.users[0], f.users[1]);
    let one = f.channels[0];
    let a = send(&db, &f, one, bob, "TEXT", None).await;
    let b = send(&db, &f, one, bob, "TEXT", None).await;
    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        ChannelStates::clear(&mut tx, one, alice, 7).await.unwrap(),
        2
    );
    tx.commit().await.unwrap();
    let c = send(&db, &f, one, bob, "TEXT", None).await;
    let d = send(&db, &f, one, bob, "TEXT", None).await;
    let mut tx = db.begin().await.unwrap();
    assert!(ChannelStates::delete_message_for(&mut tx, c.id, alice, 8)
        .await
        .unwrap());
    assert!(!ChannelStates::delete_message_for(&mut tx, c.id, alice, 8)
        .await
        .unwrap());
    tx.commit().await.unwrap();
    let as_ = |u| Viewing {
        viewer: Some(u),
        ..Viewing::default()
    };
    let h = channel_history(one);
    assert_eq!(ids_seen(&db, &f, &h, &as_(alice)).await, vec![d.id]);
    assert_eq!(
        ids_seen(&db, &f, &h, &as_(bob)).await,
        vec![d.id, c.id, b.id, a.id]
    );
    assert_eq!(
        ids_seen(&db, &f, &h, &Viewing::default()).await,
        vec![d.id, c.id, b.id, a.id]
    );
}

async fn history_narrows_to_the_main_thread_types_and_a_channel(db: Db) {
    let f = fixture(&db).await;
    let (alice, bob) = (f.users[0], f.users[1]);
    let [one, two] = [f.channels[0], f.channels[1]];
    let top = send(&db, &f, one, alice, "TEXT", None).await;
    let thread = Threads::new(db.clone())
        .replies_of(f.app, &[top.id])
        .await
        .unwrap()
        .pop()
        .unwrap()
        .0;
    let reply = send(&db, &f, one, bob, "TEXT", Some(thread.id)).await;
    let file = send(&db, &f, one, bob, "FILE", None).await;
    let elsewhere = send(&db, &f, two, bob, "TEXT", None).await;
    let h = channel_history(one);
    let main = Viewing {
        main_thread: true,
        ..Viewing::default()
    };
    assert_eq!(ids_seen(&db, &f, &h, &main).await, vec![file.id, top.id]);
    let files = Viewing {
        types: vec!["FILE".into(), "SYSTEM_FILE".into()],
        ..Viewing::default()
    };
    assert_eq!(ids_seen(&db, &f, &h, &files).await, vec![file.id]);
    // Unread by alice: everything of bob's, in one channel or all.
    let unread = History {
        scope: HistoryScope::UnreadBy(alice),
        ..channel_history(one)
    };
    let everywhere = ids_seen(&db, &f, &unread, &Viewing::default()).await;
    assert_eq!(everywhere.len(), 3);
    assert!(everywhere.contains(&elsewhere.id));
    let in_one = Viewing {
        channel: Some(one),
        ..Viewing::default()
    };
    let mut got = ids_seen(&db, &f, &unread, &in_one).await;
    got.sort_unstable();
    assert_eq!(got, vec![reply.id, file.id]);
}

async fn unread_channels_are_the_members_with_something_to_read(db: Db) {
    let f = fixture(&db).await;
    let (alice, bob, carol) = (f.users[0], f.users[1], f.users[2]);
    let [one, two] = [f.channels[0], f.channels[1]];
    let unread = |u| ChannelFilter {
        unread_by: Some(u),
        ..ChannelFilter::default()
    };
    assert!(channel_ids(&db, &f, &unread(alice)).await.is_empty());
    let m = send(&db, &f, one, bob, "TEXT", None).await;
    send(&db, &f, two, alice, "TEXT", None).await;
    assert_eq!(channel_ids(&db, &f, &unread(alice)).await, vec![one]);
    assert_eq!(channel_ids(&db, &f, &unread(bob)).await, vec![two]);
    assert_eq!(channel_ids(&db, &f, &unread(carol)).await, vec![one]);
    let mut tx = db.begin().await.unwrap();
    ReadCursors::advance(&mut tx, one, alice, m.seq, 9)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(channel_ids(&db, &f, &unread(alice)).await.is_empty());
    // Typed: only of that type.
    let typed = ChannelFilter {
        r#type: Some("PUBLIC".into()),
        ..unread(carol)
    };
    assert!(channel_ids(&db, &f, &typed).await.is_empty());
}

async fn read_cursors_move_back_before_a_message(db: Db) {
    let f = fixture(&db).await;
    let (alice, bob) = (f.users[0], f.users[1]);
    let one = f.channels[0];
    let cursors = ReadCursors::new(db.clone());
    assert_eq!(cursors.get(one, alice).await.unwrap(), None);
    let a = send(&db, &f, one, bob, "TEXT", None).await;
    let b = send(&db, &f, one, bob, "TEXT", None).await;
    let mut tx = db.begin().await.unwrap();
    // Not read yet: nothing to move back.
    assert!(!ReadCursors::retreat(&mut tx, one, alice, b.seq, 10)
        .await
        .unwrap());
    ReadCursors::advance(&mut tx, one, alice, b.seq, 11)
        .await
        .unwrap();
    assert!(ReadCursors::retreat(&mut tx, one, alice, b.seq, 12)
        .await
        .unwrap());
    tx.commit().await.unwrap();
    let c = cursors.get(one, alice).await.unwrap().unwrap();
    assert_eq!((c.last_read_seq, c.updated), (a.seq, 12));
    let mut tx = db.begin().await.unwrap();
    // Already before it: no move.
    assert!(!ReadCursors::retreat(&mut tx, one, alice, b.seq, 13)
        .await
        .unwrap());
    assert!(ReadCursors::retreat(&mut tx, one, alice, a.seq, 13)
        .await
        .unwrap());
    tx.commit().await.unwrap();
    assert_eq!(
        cursors
            .get(one, alice)
            .await
            .unwrap()
            .unwrap()
            .last_read_seq,
        0
    );
}

async fn muted_pairs_and_muted_notifications(db: Db) {
    let f = fixture(&db).await;
    let (alice, bob) = (f.users[0], f.users[1]);
    let [one, two] = [f.channels[0], f.channels[1]];
    let states = ChannelStates::new(db.clone());
    let mut tx = db.begin().await.unwrap();
    ChannelStates::set_muted(&mut tx, one, alice, true, 1)
        .await
        .unwrap();
    ChannelStates::set_muted(&mut tx, two, bob, true, 1)
        .await
        .unwrap();
    ChannelStates::set_muted(&mut tx, two, bob, false, 2)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        states.muted_among(&[one, two]).await.unwrap(),
        vec![(one, alice)]
    );
    assert!(states.muted_among(&[two]).await.unwrap().is_empty());
    assert!(states.get(one, alice).await.unwrap().muted);
    let m = send(&db, &f, one, bob, "TEXT", None).await;
    let mut tx = db.begin().await.unwrap();
    let n = NotificationRow {
        id: 0,
        application_id: f.app,
        user_id: alice,
        channel_id: Some(one),
        message_id: Some(m.id),
        r#type: "USER:SENT:MESSAGE".into(),
        title: "t".into(),
        body: "b".into(),
        created: 5,
        read_time: None,
        muted: true,
    };
    Notifications::insert(&mut tx, &n).await.unwrap();
    tx.commit().await.unwrap();
    let page = Notifications::new(db.clone())
        .page(f.app, alice, (None, None), 10)
        .await
        .unwrap();
    assert!(page[0].muted);
}

async fn block_records_and_block_lists(db: Db) {
    let f = fixture(&db).await;
    let (alice, bob, carol) = (f.users[0], f.users[1], f.users[2]);
    let one = f.channels[0];
    let rosters = Rosters::new(db.clone());
    let blocks = UserBlocks::new(db.clone());
    let mut tx = db.begin().await.unwrap();
    assert!(Rosters::add(&mut tx, Roster::Blocked, one, carol, 4)
        .await
        .unwrap());
    assert!(UserBlocks::add(&mut tx, alice, bob, 5).await.unwrap());
    assert!(!UserBlocks::add(&mut tx, alice, bob, 6).await.unwrap());
    assert!(UserBlocks::add(&mut tx, alice, carol, 7).await.unwrap());
    tx.commit().await.unwrap();
    assert!(rosters.contains(Roster::Blocked, one, carol).await.unwrap());
    assert!(!rosters.contains(Roster::Blocked, one, bob).await.unwrap());
    assert_eq!(rosters.count(Roster::Blocked, one, None).await.unwrap(), 1);
    assert!(blocks.between(alice, bob).await.unwrap());
    assert!(blocks.between(bob, alice).await.unwrap(), "either way");
    assert!(!blocks.between(bob, carol).await.unwrap());
    let page: Vec<(i64, i64)> = blocks
        .page(alice, 0, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| (e.user_id, e.created))
        .collect();
    assert_eq!(page, vec![(bob, 5), (carol, 7)]);
    assert_eq!(blocks.count(alice).await.unwrap(), 2);
    assert_eq!(blocks.page(alice, 1, 10).await.unwrap().len(), 1);
    let mut tx = db.begin().await.unwrap();
    assert!(UserBlocks::remove(&mut tx, alice, bob).await.unwrap());
    assert!(!UserBlocks::remove(&mut tx, alice, bob).await.unwrap());
    assert!(Rosters::remove(&mut tx, Roster::Blocked, one, carol)
        .await
        .unwrap());
    tx.commit().await.unwrap();
    assert!(!blocks.between(alice, bob).await.unwrap());
    assert_eq!(blocks.count(bob).await.unwrap(), 0);
}

async fn contacts_share_a_channel(db: Db) {
    let f = fixture(&db).await;
    let (alice, bob, carol, dan) = (f.users[0], f.users[1], f.users[2], f.users[3]);
    let users = ChatUsers::new(db.clone());
    let contacts = |u: i64, display_name: Option<&str>| UserFilter {
        contact_of: Some(u),
        display_name: display_name.map(str::to_string),
        ..UserFilter::default()
    };
    let list = |filter: UserFilter| {
        let users = users.clone();
        let app = f.app;
        async move {
            let rows = users.page(app, &filter, &[], 0, 10).await.unwrap();
            assert_eq!(users.count(app, &filter).await.unwrap(), rows.len() as u64);
            rows.iter().map(|u| u.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(list(contacts(alice, None)).await, vec![bob, carol]);
    assert_eq!(list(contacts(carol, None)).await, vec![alice, bob]);
    assert!(list(contacts(dan, None)).await.is_empty());
    // Display names hold the name in capitals: the match ignores case.
    assert_eq!(list(contacts(alice, Some("ro"))).await, vec![carol]);
    assert!(list(contacts(alice, Some("%"))).await.is_empty());
    let offline = UserFilter {
        online: Some(false),
        ..contacts(alice, None)
    };
    assert_eq!(list(offline).await, vec![bob, carol]);
    let online = UserFilter {
        online: Some(true),
        ..contacts(alice, None)
    };
    assert!(list(online).await.is_empty());
}

async fn standalone_threads_are_listed_with_main_and_answered_threads(db: Db) {
    let f = fixture(&db).await;
    let (alice, bob) = (f.users[0], f.users[1]);
    let one = f.channels[0];
    let threads = Threads::new(db.clone());
    let answered = send(&db, &f, one, alice, "TEXT", None).await;
    send(&db, &f, one, alice, "TEXT", None).await;
    let reply_thread = threads
        .replies_of(f.app, &[answered.id])
        .await
        .unwrap()
        .pop()
        .unwrap()
        .0;
    send(&db, &f, one, bob, "TEXT", Some(reply_thread.id)).await;
    let mut tx = db.begin().await.unwrap();
    let named = Threads::insert_standalone(&mut tx, f.app, one, "plans", &json!({"k": 1}), 9)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let got = threads.get(f.app, named.id).await.unwrap().unwrap();
    assert_eq!(got, named);
    assert_eq!(got.name.as_deref(), Some("plans"));
    let kinds = |filter: ThreadFilter| {
        let threads = threads.clone();
        let app = f.app;
        async move {
            let rows = threads.page(app, one, filter, 0, 10).await.unwrap();
            assert_eq!(
                threads.count(app, one, filter).await.unwrap(),
                rows.len() as u64
            );
            rows.iter().map(|t| t.r#type.clone()).collect::<Vec<_>>()
        }
    };
    // The reply thread without replies is left out.
    assert_eq!(
        kinds(ThreadFilter::default()).await,
        vec!["MAIN", "MESSAGE", "STANDALONE"]
    );
    let no_main = ThreadFilter {
        without_main: true,
        ..ThreadFilter::default()
    };
    assert_eq!(kinds(no_main).await, vec!["MESSAGE", "STANDALONE"]);
    let standalone = ThreadFilter {
        standalone_only: true,
        ..ThreadFilter::default()
    };
    assert_eq!(kinds(standalone).await, vec!["STANDALONE"]);
    let by_ids = threads
        .by_ids(f.app, &[named.id, reply_thread.id, 999_999])
        .await
        .unwrap();
    assert_eq!(by_ids.len(), 2);
    assert!(threads
        .by_ids(f.app + 1, &[named.id])
        .await
        .unwrap()
        .is_empty());
}
