//! Sorted pages of rows that hold users (roster entries, participants, read receipts, read
//! summaries) and the unread filter of users: the same order on both engines, ties by id, and
//! pages that neither skip nor repeat.

use palaver_store::platform::{
    Applications, ChannelField, ChannelRow, Channels, ChatUserRow, ChatUsers, MessageRow, Messages,
    NewApplication, NewChatUser, ReadCursors, ReceiptOrder, Roster, RosterOrder, Rosters, Sessions,
    SummaryOrder, Threads, UserField, UserFilter,
};
use palaver_store::{Db, Documents};
use serde_json::json;

use crate::support::{contract, organisation};

contract!(
    rosters_sort_by_when_added_and_by_their_users,
    participants_sort_by_their_users,
    receipts_and_summaries_sort_by_time_count_channel_and_user,
    users_filter_by_unread_messages,
);

/// Users as (name, display name, created): display names repeat so ties need the id, and
/// creation order is neither name nor id order.
const PEOPLE: [(&str, &str, i64); 4] = [
    ("dora", "Same", 30),
    ("abel", "Zed", 10),
    ("carl", "Same", 40),
    ("bea", "Amy", 20),
];

struct App {
    id: i64,
    /// In the order of [`PEOPLE`].
    users: Vec<ChatUserRow>,
}

async fn fixture(db: &Db, org: &str) -> App {
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
    for (name, display, created) in PEOPLE {
        users.push(
            chat_users
                .insert(&NewChatUser {
                    application_id: app.id,
                    name: name.into(),
                    display_name: display.into(),
                    display_picture_url: String::new(),
                    r#type: "PERSON".into(),
                    is_guest: false,
                    properties: json!({}),
                    created,
                })
                .await
                .unwrap(),
        );
    }
    App { id: app.id, users }
}

async fn channel(db: &Db, app: i64, kind: &str, name: Option<&str>, created: i64) -> i64 {
    let mut tx = db.begin().await.unwrap();
    let c = Channels::insert(
        &mut tx,
        &ChannelRow {
            id: 0,
            application_id: app,
            r#type: kind.into(),
            name: name.map(str::to_string),
            display_name: name.map(str::to_string),
            creator_id: None,
            direct_key: name.is_none().then(|| format!("direct-{created}")),
            properties: json!({}),
            created,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    c.id
}

async fn join(db: &Db, roster: Roster, channel: i64, user: i64, at: i64) {
    let mut tx = db.begin().await.unwrap();
    assert!(Rosters::add(&mut tx, roster, channel, user, at)
        .await
        .unwrap());
    tx.commit().await.unwrap();
}

async fn send(db: &Db, app: i64, channel: i64, user: Option<i64>) -> MessageRow {
    let mut tx = db.begin().await.unwrap();
    let (main, seq) = Threads::next_seq(&mut tx, app, channel, 100).await.unwrap();
    let m = Messages::insert(
        &mut tx,
        &MessageRow {
            id: 0,
            application_id: app,
            channel_id: channel,
            thread_id: main,
            seq,
            app_seq: 0,
            r#type: if user.is_some() {
                "TEXT"
            } else {
                "SYSTEM_TEXT"
            }
            .into(),
            user_id: user,
            body: Some("hello".into()),
            file: None,
            group_tag: None,
            properties: json!({}),
            mentions: json!([]),
            links: json!([]),
            nested_level: 0,
            created: 100,
            last_edited: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    m
}

async fn read(db: &Db, channel: i64, user: i64, seq: i64, at: i64) {
    let mut tx = db.begin().await.unwrap();
    assert!(ReadCursors::advance(&mut tx, channel, user, seq, at)
        .await
        .unwrap());
    tx.commit().await.unwrap();
}

/// The ids of the fixture's users sorted by `key`, ties by id.
fn expect<K: Ord>(a: &App, key: impl Fn(&ChatUserRow) -> K) -> Vec<i64> {
    let mut v: Vec<&ChatUserRow> = a.users.iter().collect();
    v.sort_by(|x, y| key(x).cmp(&key(y)).then(x.id.cmp(&y.id)));
    v.into_iter().map(|u| u.id).collect()
}

async fn rosters_sort_by_when_added_and_by_their_users(db: Db) {
    let a = fixture(&db, "org-a").await;
    let u: Vec<i64> = a.users.iter().map(|u| u.id).collect();
    let c = channel(&db, a.id, "PUBLIC", Some("general"), 5).await;
    // Added out of id order, two at the same time.
    let added = [(u[2], 7), (u[0], 5), (u[3], 7), (u[1], 9)];
    for (user, at) in added {
        join(&db, Roster::Members, c, user, at).await;
    }
    let rosters = Rosters::new(db.clone());
    let page = |order: Vec<(RosterOrder, bool)>, offset: u64, limit: u64| {
        let rosters = rosters.clone();
        async move {
            rosters
                .page(Roster::Members, c, None, None, &order, offset, limit)
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.user_id)
                .collect::<Vec<i64>>()
        }
    };
    let mut by_added: Vec<(i64, i64)> = added.iter().map(|&(u, at)| (at, u)).collect();
    by_added.sort_unstable();
    let joined: Vec<i64> = by_added.iter().map(|e| e.1).collect();
    assert_eq!(page(vec![], 0, 10).await, joined);
    assert_eq!(page(vec![(RosterOrder::Added, false)], 0, 10).await, joined);
    // Latest first; the two added at 7 still by id.
    let mut latest = by_added.clone();
    latest.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
    let latest: Vec<i64> = latest.iter().map(|e| e.1).collect();
    assert_eq!(page(vec![(RosterOrder::Added, true)], 0, 10).await, latest);

    let user = |f: UserField, d: bool| vec![(RosterOrder::User(f), d)];
    assert_eq!(
        page(user(UserField::Name, false), 0, 10).await,
        expect(&a, |u| u.name.clone())
    );
    let mut desc = expect(&a, |u| u.name.clone());
    desc.reverse();
    assert_eq!(page(user(UserField::Name, true), 0, 10).await, desc);
    // Display names tie: the tie goes by id whichever way the names run.
    let by_display = expect(&a, |u| u.display_name.clone());
    assert_eq!(
        page(user(UserField::DisplayName, false), 0, 10).await,
        by_display
    );
    let by_display_desc = expect(&a, |u| std::cmp::Reverse(u.display_name.clone()));
    assert_eq!(
        page(user(UserField::DisplayName, true), 0, 10).await,
        by_display_desc
    );
    assert_eq!(
        page(user(UserField::Created, false), 0, 10).await,
        expect(&a, |u| u.created)
    );
    let mut by_id = u.clone();
    by_id.sort_unstable();
    by_id.reverse();
    assert_eq!(page(user(UserField::Id, true), 0, 10).await, by_id);
    // Two keys: display name, then newest added first.
    let two = vec![
        (RosterOrder::User(UserField::DisplayName), false),
        (RosterOrder::Added, true),
    ];
    let at = |id: i64| added.iter().find(|e| e.0 == id).unwrap().1;
    let mut want: Vec<&ChatUserRow> = a.users.iter().collect();
    want.sort_by(|x, y| {
        x.display_name
            .cmp(&y.display_name)
            .then(at(y.id).cmp(&at(x.id)))
            .then(x.id.cmp(&y.id))
    });
    let want: Vec<i64> = want.iter().map(|u| u.id).collect();
    assert_eq!(page(two.clone(), 0, 10).await, want);
    // Pages of one walk the same order without skips or repeats.
    let mut walked = Vec::new();
    for offset in 0..4 {
        walked.extend(page(two.clone(), offset, 1).await);
    }
    assert_eq!(walked, want);
    // One user's entry, whatever the order.
    let one = rosters
        .page(
            Roster::Members,
            c,
            Some(u[3]),
            None,
            &[(RosterOrder::User(UserField::Name), true)],
            0,
            10,
        )
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!((one[0].user_id, one[0].created), (u[3], 7));
    // Those whose display name contains a text, in any case, on both engines; `%` and `_` are
    // that text, not patterns.
    let same = rosters
        .page(Roster::Members, c, None, Some("sAm"), &[], 0, 10)
        .await
        .unwrap();
    assert_eq!(
        same.iter().map(|e| e.user_id).collect::<Vec<_>>(),
        [u[0], u[2]]
    );
    assert_eq!(
        rosters
            .count(Roster::Members, c, Some("sAm"))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        rosters.count(Roster::Members, c, Some("%")).await.unwrap(),
        0
    );
    assert_eq!(
        rosters.count(Roster::Members, c, Some("_")).await.unwrap(),
        0
    );
    assert_eq!(rosters.count(Roster::Members, c, None).await.unwrap(), 4);
    // Another roster of the channel is its own.
    join(&db, Roster::Moderators, c, u[1], 1).await;
    let mods = rosters
        .page(
            Roster::Moderators,
            c,
            None,
            None,
            &[(RosterOrder::User(UserField::DisplayName), true)],
            0,
            10,
        )
        .await
        .unwrap();
    assert_eq!(mods.iter().map(|e| e.user_id).collect::<Vec<_>>(), [u[1]]);
}

async fn participants_sort_by_their_users(db: Db) {
    let a = fixture(&db, "org-a").await;
    let u: Vec<i64> = a.users.iter().map(|u| u.id).collect();
    let c = channel(&db, a.id, "PUBLIC", Some("general"), 5).await;
    let other = channel(&db, a.id, "PUBLIC", Some("other"), 5).await;
    let sessions = Sessions::new(db.clone());
    // Everyone but abel opens the channel; dora twice (two connections); abel opens another.
    for (user, channel) in [(u[0], c), (u[0], c), (u[2], c), (u[3], c), (u[1], other)] {
        let s = sessions
            .start_user(a.id, user, "instance-1", None, 50)
            .await
            .unwrap();
        sessions
            .start_chat(a.id, s.id, user, channel, 51)
            .await
            .unwrap();
    }
    let here: Vec<&ChatUserRow> = a.users.iter().filter(|x| x.id != u[1]).collect();
    let sorted = |key: &dyn Fn(&ChatUserRow) -> String, desc: bool| {
        let mut v = here.clone();
        v.sort_by(|x, y| {
            let o = if desc {
                key(y).cmp(&key(x))
            } else {
                key(x).cmp(&key(y))
            };
            o.then(x.id.cmp(&y.id))
        });
        v.iter().map(|x| x.id).collect::<Vec<i64>>()
    };
    let page = |order: Vec<(UserField, bool)>, offset: u64, limit: u64| {
        let sessions = sessions.clone();
        async move {
            sessions
                .participants(a.id, c, &order, offset, limit)
                .await
                .unwrap()
        }
    };
    let (ids, total) = page(vec![], 0, 10).await;
    assert_eq!(total, 3);
    assert_eq!(ids, sorted(&|_| String::new(), false));
    let (ids, _) = page(vec![(UserField::DisplayName, true)], 0, 10).await;
    assert_eq!(ids, sorted(&|x| x.display_name.clone(), true));
    let (ids, _) = page(vec![(UserField::Name, false)], 0, 10).await;
    assert_eq!(ids, sorted(&|x| x.name.clone(), false));
    let want = sorted(&|x| format!("{:05}", x.created), true);
    let mut walked = Vec::new();
    for offset in 0..3 {
        let (ids, total) = page(vec![(UserField::Created, true)], offset, 1).await;
        assert_eq!(total, 3);
        walked.extend(ids);
    }
    assert_eq!(walked, want);
}

async fn receipts_and_summaries_sort_by_time_count_channel_and_user(db: Db) {
    let a = fixture(&db, "org-a").await;
    let u: Vec<i64> = a.users.iter().map(|u| u.id).collect();
    // "b" before "a" by id; a DIRECT channel has no name at all.
    let b = channel(&db, a.id, "PUBLIC", Some("b"), 9).await;
    let ch_a = channel(&db, a.id, "PUBLIC", Some("a"), 8).await;
    let direct = channel(&db, a.id, "DIRECT", None, 7).await;
    for c in [b, ch_a, direct] {
        for user in &u {
            join(&db, Roster::Members, c, *user, 1).await;
        }
    }
    // Two messages of abel's in "b", one in "a", and one system message in the DIRECT one.
    let m1 = send(&db, a.id, b, Some(u[1])).await;
    let m2 = send(&db, a.id, b, Some(u[1])).await;
    let m3 = send(&db, a.id, ch_a, Some(u[1])).await;
    let sys = send(&db, a.id, direct, None).await;
    // Readers of m1, in reading time: carl (20), dora and bea together (30).
    read(&db, b, u[2], m1.seq, 20).await;
    read(&db, b, u[0], m2.seq, 30).await;
    read(&db, b, u[3], m1.seq, 30).await;
    read(&db, direct, u[3], sys.seq, 40).await;
    // abel read its own messages: a cursor that covers none of others'.
    read(&db, b, u[1], m2.seq, 50).await;
    read(&db, ch_a, u[2], m3.seq, 60).await;
    let cursors = ReadCursors::new(db.clone());
    let (seq, sender) = (m1.seq, u[1]);
    let readers = |order: Vec<(ReceiptOrder, bool)>| {
        let cursors = cursors.clone();
        async move {
            cursors
                .readers(b, seq, Some(sender), &order, 0, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.user_id)
                .collect::<Vec<i64>>()
        }
    };
    let tie = |x: i64, y: i64| if x < y { [x, y] } else { [y, x] };
    let [t0, t1] = tie(u[0], u[3]);
    assert_eq!(readers(vec![]).await, [u[2], t0, t1]);
    assert_eq!(
        readers(vec![(ReceiptOrder::Read, true)]).await,
        [t0, t1, u[2]]
    );
    let user = |f: UserField, d: bool| vec![(ReceiptOrder::User(f), d)];
    // bea, carl, dora.
    assert_eq!(
        readers(user(UserField::Name, false)).await,
        [u[3], u[2], u[0]]
    );
    // Amy (bea), then the two "Same" by id.
    let [s0, s1] = tie(u[0], u[2]);
    assert_eq!(
        readers(user(UserField::DisplayName, false)).await,
        [u[3], s0, s1]
    );
    // Created 20 (bea), 30 (dora), 40 (carl), newest first.
    assert_eq!(
        readers(user(UserField::Created, true)).await,
        [u[2], u[0], u[3]]
    );

    let summaries = |order: Vec<(SummaryOrder, bool)>, offset: u64, limit: u64| {
        let cursors = cursors.clone();
        async move {
            cursors
                .summaries(a.id, &order, offset, limit)
                .await
                .unwrap()
                .into_iter()
                .map(|s| (s.cursor.channel_id, s.cursor.user_id, s.count))
                .collect::<Vec<(i64, i64, u64)>>()
        }
    };
    let mut all = vec![
        (b, u[2], 1),
        (b, u[0], 2),
        (b, u[3], 1),
        (b, u[1], 0),
        (direct, u[3], 1),
        (ch_a, u[2], 1),
    ];
    all.sort_unstable_by_key(|s| (s.0, s.1));
    assert_eq!(summaries(vec![], 0, 10).await, all);
    // Most read first; equal counts by channel, then user.
    let mut by_count = all.clone();
    by_count.sort_by(|x, y| y.2.cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
    assert_eq!(
        summaries(vec![(SummaryOrder::Count, true)], 0, 10).await,
        by_count
    );
    let mut walked = Vec::new();
    for offset in [0, 2, 4] {
        walked.extend(summaries(vec![(SummaryOrder::Count, true)], offset, 2).await);
    }
    assert_eq!(walked, by_count);
    // By channel name: the nameless DIRECT channel lowest on both engines, then "a", then "b".
    let by_name = summaries(
        vec![(SummaryOrder::Channel(ChannelField::Name), false)],
        0,
        10,
    )
    .await;
    assert_eq!(
        by_name.iter().map(|s| s.0).collect::<Vec<_>>(),
        [direct, ch_a, b, b, b, b]
    );
    let by_name = summaries(
        vec![(SummaryOrder::Channel(ChannelField::DisplayName), true)],
        0,
        10,
    )
    .await;
    assert_eq!(
        by_name.iter().map(|s| s.0).collect::<Vec<_>>(),
        [b, b, b, b, ch_a, direct]
    );
    // By channel creation, then by reader name descending.
    let got = summaries(
        vec![
            (SummaryOrder::Channel(ChannelField::Created), false),
            (SummaryOrder::User(UserField::Name), true),
        ],
        0,
        10,
    )
    .await;
    assert_eq!(
        got.iter().map(|s| (s.0, s.1)).collect::<Vec<_>>(),
        [
            (direct, u[3]),
            (ch_a, u[2]),
            (b, u[0]),
            (b, u[2]),
            (b, u[3]),
            (b, u[1])
        ]
    );
    // Another application's summaries stay out, sorted or not.
    let other = fixture(&db, "org-b").await;
    let none = cursors
        .summaries(other.id, &[(SummaryOrder::Count, true)], 0, 10)
        .await
        .unwrap();
    assert!(none.is_empty());
}

async fn users_filter_by_unread_messages(db: Db) {
    let a = fixture(&db, "org-a").await;
    let u: Vec<i64> = a.users.iter().map(|u| u.id).collect();
    let c = channel(&db, a.id, "PUBLIC", Some("general"), 5).await;
    let quiet = channel(&db, a.id, "PUBLIC", Some("quiet"), 5).await;
    // dora, abel and carl are members of general; bea only of quiet, where nothing is said.
    for user in [u[0], u[1], u[2]] {
        join(&db, Roster::Members, c, user, 1).await;
    }
    join(&db, Roster::Members, quiet, u[3], 1).await;
    let users = ChatUsers::new(db.clone());
    let list = |unread: Option<bool>| {
        let users = users.clone();
        async move {
            let f = UserFilter {
                unread,
                ..UserFilter::default()
            };
            let page: Vec<i64> = users
                .page(a.id, &f, &[], 0, 10)
                .await
                .unwrap()
                .iter()
                .map(|x| x.id)
                .collect();
            let count = users.count(a.id, &f).await.unwrap();
            assert_eq!(count, page.len() as u64, "{unread:?}");
            page
        }
    };
    let sorted = |mut v: Vec<i64>| {
        v.sort_unstable();
        v
    };
    assert_eq!(list(Some(true)).await, Vec::<i64>::new());
    assert_eq!(list(Some(false)).await, sorted(u.clone()));
    // abel speaks: the other members of general have something to read, abel not.
    let m = send(&db, a.id, c, Some(u[1])).await;
    assert_eq!(list(Some(true)).await, sorted(vec![u[0], u[2]]));
    assert_eq!(list(Some(false)).await, sorted(vec![u[1], u[3]]));
    assert_eq!(list(None).await, sorted(u.clone()));
    // dora reads it; a system message is then unread by everyone in general.
    read(&db, c, u[0], m.seq, 10).await;
    assert_eq!(list(Some(true)).await, vec![u[2]]);
    send(&db, a.id, c, None).await;
    assert_eq!(list(Some(true)).await, sorted(vec![u[0], u[1], u[2]]));
    // The filter holds alongside the others, and for this application only.
    let f = UserFilter {
        name: Some("carl".into()),
        unread: Some(true),
        ..UserFilter::default()
    };
    assert_eq!(users.count(a.id, &f).await.unwrap(), 1);
    let other = fixture(&db, "org-b").await;
    let f = UserFilter {
        unread: Some(true),
        ..UserFilter::default()
    };
    assert_eq!(users.count(other.id, &f).await.unwrap(), 0);
}
