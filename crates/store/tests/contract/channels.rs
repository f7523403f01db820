//! Chat channels, rosters and the event outbox: a write and its event commit or vanish together,
//! names and DIRECT member sets are unique per application, and the member filters agree on
//! both engines.

use palaver_domain::platform::event::{ChannelRef, Event};
use palaver_store::platform::{
    Applications, ChannelFilter, ChannelRow, Channels, ChatUsers, Events, NewApplication,
    NewChatUser, NewEvent, Roster, Rosters,
};
use palaver_store::{Db, Documents, StoreError};
use serde_json::json;

use crate::support::{contract, organisation};

contract!(
    a_channel_and_its_event_commit_together,
    a_dropped_transaction_leaves_neither,
    names_and_direct_sets_are_unique_per_application,
    filters_by_members_creator_and_properties,
    rosters_answer_one_user_and_whole_pages_of_channels,
    event_numbers_follow_commit_order,
);

/// An application with users `alice`, `bob`, `carol`: (app id, user ids).
async fn fixture(db: &Db, org: &str) -> (i64, Vec<i64>) {
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
    let users = ChatUsers::new(db.clone());
    let mut ids = Vec::new();
    for name in ["alice", "bob", "carol"] {
        let u = users
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
        ids.push(u.id);
    }
    (app.id, ids)
}

fn channel(app: i64, kind: &str, name: Option<&str>, direct: Option<&str>) -> ChannelRow {
    ChannelRow {
        id: 0,
        application_id: app,
        r#type: kind.into(),
        name: name.map(str::to_string),
        display_name: name.map(str::to_string),
        creator_id: None,
        direct_key: direct.map(str::to_string),
        properties: json!({}),
        created: 10,
    }
}

fn event(app: i64, kind: &str, channel: i64) -> NewEvent {
    let c = ChannelRef {
        id: channel,
        r#type: "PUBLIC".into(),
        name: None,
        display_name: None,
        creator_id: None,
        properties: json!({"n": 1}),
        created: 11,
        member_ids: Vec::new(),
    };
    NewEvent {
        application_id: app,
        event: match kind {
            "channel.created" => Event::ChannelCreated(c),
            _ => Event::ChannelUpdated(c),
        },
        created: 11,
    }
}

async fn a_channel_and_its_event_commit_together(db: Db) {
    let (app, users) = fixture(&db, "org-a").await;
    let mut tx = db.begin().await.unwrap();
    let c = Channels::insert(&mut tx, &channel(app, "PUBLIC", Some("general"), None))
        .await
        .unwrap();
    assert!(Rosters::add(&mut tx, Roster::Members, c.id, users[0], 10)
        .await
        .unwrap());
    assert!(!Rosters::add(&mut tx, Roster::Members, c.id, users[0], 12)
        .await
        .unwrap());
    let first = Events::append(&mut tx, &event(app, "channel.created", c.id))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let second = Events::append(&mut tx, &event(app, "channel.updated", c.id))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(second.seq > first.seq);
    let stored = Events::new(db.clone()).after(app, 0, 10).await.unwrap();
    assert_eq!(stored, vec![first.clone(), second]);
    assert_eq!(
        Events::new(db.clone())
            .after(app, first.seq, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        Channels::new(db.clone()).get(app, c.id).await.unwrap(),
        Some(c.clone())
    );
    let rosters = Rosters::new(db.clone());
    assert_eq!(rosters.count(Roster::Members, c.id, None).await.unwrap(), 1);
    assert!(rosters
        .contains(Roster::Members, c.id, users[0])
        .await
        .unwrap());
    assert!(!rosters
        .contains(Roster::Moderators, c.id, users[0])
        .await
        .unwrap());
}

async fn a_dropped_transaction_leaves_neither(db: Db) {
    let (app, users) = fixture(&db, "org-a").await;
    let mut tx = db.begin().await.unwrap();
    let c = Channels::insert(&mut tx, &channel(app, "PUBLIC", Some("general"), None))
        .await
        .unwrap();
    Rosters::add(&mut tx, Roster::Members, c.id, users[0], 10)
        .await
        .unwrap();
    Events::append(&mut tx, &event(app, "channel.created", c.id))
        .await
        .unwrap();
    drop(tx);
    assert_eq!(
        Channels::new(db.clone()).get(app, c.id).await.unwrap(),
        None
    );
    assert!(Events::new(db.clone())
        .after(app, 0, 10)
        .await
        .unwrap()
        .is_empty());
}

async fn names_and_direct_sets_are_unique_per_application(db: Db) {
    let (app, _) = fixture(&db, "org-a").await;
    let (other, _) = fixture(&db, "org-b").await;
    for (a, kind, name, key) in [
        (app, "PUBLIC", Some("general"), None),
        (app, "DIRECT", None, Some("1,2")),
        (app, "DIRECT", None, Some("1,3")),
        (other, "PRIVATE", Some("general"), None),
        (other, "DIRECT", None, Some("1,2")),
    ] {
        let mut tx = db.begin().await.unwrap();
        Channels::insert(&mut tx, &channel(a, kind, name, key))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    for (kind, name, key) in [
        ("PRIVATE", Some("general"), None),
        ("DIRECT", None, Some("1,2")),
    ] {
        let mut tx = db.begin().await.unwrap();
        let e = Channels::insert(&mut tx, &channel(app, kind, name, key)).await;
        assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    }
    let channels = Channels::new(db.clone());
    let found = channels.direct(app, "1,3").await.unwrap();
    assert_eq!(found.map(|c| c.r#type), Some("DIRECT".to_string()));
    // Looked up together, only the caller's application's channels come back, in id order.
    let ours = channels
        .page(app, &ChannelFilter::default(), &[], 0, 10)
        .await
        .unwrap();
    let theirs = channels
        .page(other, &ChannelFilter::default(), &[], 0, 10)
        .await
        .unwrap();
    assert_eq!((ours.len(), theirs.len()), (3, 2));
    let mut asked: Vec<i64> = theirs.iter().chain(&ours).map(|c| c.id).rev().collect();
    asked.push(i64::MAX);
    let mut expected: Vec<i64> = ours.iter().map(|c| c.id).collect();
    expected.sort_unstable();
    let got = channels.by_ids(app, &asked).await.unwrap();
    assert_eq!(got.iter().map(|c| c.id).collect::<Vec<_>>(), expected);
    for c in &got {
        assert_eq!(Some(c), ours.iter().find(|o| o.id == c.id));
    }
    assert!(channels.by_ids(app, &[]).await.unwrap().is_empty());
}

async fn filters_by_members_creator_and_properties(db: Db) {
    let (app, u) = fixture(&db, "org-a").await;
    let mut tx = db.begin().await.unwrap();
    let mut general = channel(app, "PUBLIC", Some("general"), None);
    general.properties = json!({"team": "a", "n": 1});
    let general = Channels::insert(&mut tx, &general).await.unwrap();
    let mut mine = channel(app, "PRIVATE", Some("mine"), None);
    mine.creator_id = Some(u[2]);
    let mine = Channels::insert(&mut tx, &mine).await.unwrap();
    for user in [u[0], u[1]] {
        Rosters::add(&mut tx, Roster::Members, general.id, user, 10)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let channels = Channels::new(db.clone());
    let ids = |f: ChannelFilter| {
        let channels = channels.clone();
        async move {
            let rows = channels.page(app, &f, &[], 0, 10).await.unwrap();
            assert_eq!(channels.count(app, &f).await.unwrap(), rows.len() as u64);
            rows.into_iter().map(|c| c.id).collect::<Vec<_>>()
        }
    };
    let names = |n: &[&str]| ChannelFilter {
        member_names: n.iter().map(|s| s.to_string()).collect(),
        ..ChannelFilter::default()
    };
    assert_eq!(ids(names(&["alice", "bob"])).await, vec![general.id]);
    assert_eq!(ids(names(&["alice", "carol"])).await, Vec::<i64>::new());
    let user = |id| ChannelFilter {
        user: Some(id),
        ..ChannelFilter::default()
    };
    assert_eq!(ids(user(u[0])).await, vec![general.id]);
    assert_eq!(ids(user(u[2])).await, vec![mine.id]);
    let props = |v: serde_json::Value| ChannelFilter {
        properties: v.as_object().unwrap().clone(),
        ..ChannelFilter::default()
    };
    assert_eq!(
        ids(props(json!({"team": "a", "n": 1}))).await,
        vec![general.id]
    );
    assert_eq!(ids(props(json!({"n": "1"}))).await, Vec::<i64>::new());
    let typed = ChannelFilter {
        r#type: Some("PRIVATE".into()),
        start: Some(10),
        end: Some(10),
        ..ChannelFilter::default()
    };
    assert_eq!(ids(typed).await, vec![mine.id]);
}

async fn rosters_answer_one_user_and_whole_pages_of_channels(db: Db) {
    let (app, u) = fixture(&db, "org-a").await;
    let mut tx = db.begin().await.unwrap();
    let a = Channels::insert(&mut tx, &channel(app, "DIRECT", None, Some("a")))
        .await
        .unwrap();
    let b = Channels::insert(&mut tx, &channel(app, "DIRECT", None, Some("b")))
        .await
        .unwrap();
    let empty = Channels::insert(&mut tx, &channel(app, "PRIVATE", Some("empty"), None))
        .await
        .unwrap();
    // Joined out of id order, and two at the same time, to check the order of each roster.
    for (c, user, at) in [
        (a.id, u[2], 5),
        (a.id, u[1], 7),
        (a.id, u[0], 7),
        (b.id, u[1], 1),
    ] {
        Rosters::add(&mut tx, Roster::Members, c, user, at)
            .await
            .unwrap();
    }
    Rosters::add(&mut tx, Roster::Moderators, b.id, u[0], 2)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let rosters = Rosters::new(db.clone());
    for (roster, c, user, expected) in [
        (Roster::Members, a.id, u[0], true),
        (Roster::Members, b.id, u[0], false),
        (Roster::Moderators, b.id, u[0], true),
        (Roster::Moderators, b.id, u[1], false),
        (Roster::Invites, a.id, u[2], false),
        (Roster::Members, empty.id, u[0], false),
    ] {
        assert_eq!(
            rosters.contains(roster, c, user).await.unwrap(),
            expected,
            "{roster:?} {c} {user}"
        );
    }
    let mut low_high = [u[0], u[1]];
    low_high.sort_unstable();
    let got = rosters
        .of_channels(Roster::Members, &[b.id, empty.id, a.id])
        .await
        .unwrap();
    let got: Vec<(i64, i64, i64)> = got
        .into_iter()
        .map(|(c, e)| (c, e.user_id, e.created))
        .collect();
    let mut expected = vec![
        (a.id, u[2], 5),
        (a.id, low_high[0], 7),
        (a.id, low_high[1], 7),
        (b.id, u[1], 1),
    ];
    expected.sort_by_key(|(c, _, _)| *c);
    assert_eq!(got, expected);
    // Each channel's part agrees with its own page.
    for c in [a.id, b.id] {
        let page: Vec<(i64, i64, i64)> = rosters
            .page(Roster::Members, c, None, None, &[], 0, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (c, e.user_id, e.created))
            .collect();
        let part: Vec<_> = got.iter().copied().filter(|(x, _, _)| *x == c).collect();
        assert_eq!(part, page);
    }
    assert!(rosters
        .of_channels(Roster::Members, &[])
        .await
        .unwrap()
        .is_empty());
}

/// A consumer reads events after the last number it handled: an event committed after it read
/// must be numbered above everything it saw, or the consumer moves past it and never handles it.
async fn event_numbers_follow_commit_order(db: Db) {
    let (app, _) = fixture(&db, "org-a").await;
    let (other, _) = fixture(&db, "org-b").await;
    let mut tx = db.begin().await.unwrap();
    let c = Channels::insert(&mut tx, &channel(app, "PUBLIC", Some("general"), None))
        .await
        .unwrap();
    let d = Channels::insert(&mut tx, &channel(other, "PUBLIC", Some("general"), None))
        .await
        .unwrap();
    Events::append(&mut tx, &event(app, "channel.created", c.id))
        .await
        .unwrap();
    Events::append(&mut tx, &event(other, "channel.created", d.id))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // One write takes its number first and commits last.
    let mut slow = db.begin().await.unwrap();
    let late = Events::append(&mut slow, &event(app, "channel.updated", c.id))
        .await
        .unwrap();
    let fast = {
        let db = db.clone();
        tokio::spawn(async move {
            let mut tx = db.begin().await.unwrap();
            let e = Events::append(&mut tx, &event(app, "channel.updated", c.id))
                .await
                .unwrap();
            tx.commit().await.unwrap();
            e
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let events = Events::new(db.clone());
    let seen = events.after(app, 0, 100).await.unwrap();
    slow.commit().await.unwrap();
    let fast = fast.await.unwrap();
    let offset = seen.last().unwrap().seq;
    let rest = events.after(app, offset, 100).await.unwrap();
    let mut handled: Vec<i64> = seen.iter().chain(&rest).map(|e| e.seq).collect();
    handled.sort_unstable();
    let mut expected = vec![seen[0].seq, late.seq, fast.seq];
    expected.sort_unstable();
    assert_eq!(
        handled, expected,
        "a consumer at offset {offset} missed an event committed after it read"
    );
    // Numbers are per application, in the order of commits.
    let all = events.after(app, 0, 100).await.unwrap();
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(
        events
            .after(other, 0, 100)
            .await
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>(),
        vec![1]
    );
}
