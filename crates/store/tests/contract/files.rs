//! Hosted files' rows: served only while their message or user exists, left over (orphans) once
//! it is gone, unattached sends found by age and told apart by the message that names them,
//! one read-grant key per application, and every read scoped by application.

use palaver_store::platform::{
    ChatUsers, FileRow, Files, MessageRow, Messages, NewFile, Threads, DISPLAY_PICTURE,
    MESSAGE_FILE,
};
use palaver_store::Db;
use serde_json::json;

use crate::messages::{fixture, send};
use crate::support::contract;

contract!(
    a_message_file_is_served_once_attached_and_until_its_message_goes,
    a_display_picture_is_served_until_its_user_goes,
    unattached_files_are_found_by_age_and_by_the_message_naming_them,
    grant_keys_are_one_per_application_and_the_first_wins,
    file_rows_are_scoped_by_application,
);

fn new_file(app: i64, purpose: &str, user: Option<i64>, channel: Option<i64>) -> NewFile {
    NewFile {
        application_id: app,
        storage_key: format!("{app}/{}", palaver_domain::id::new_object_id()),
        purpose: purpose.into(),
        name: "a picture.png".into(),
        content_type: "image/png".into(),
        size: 1234,
        user_id: user,
        channel_id: channel,
        created: 1_000,
    }
}

/// A FILE message whose file is at `url`, sent the way a send writes it.
async fn send_file(db: &Db, app: i64, channel: i64, user: i64, url: &str) -> MessageRow {
    let mut tx = db.begin().await.unwrap();
    let (main, seq) = Threads::next_seq(&mut tx, app, channel, 100).await.unwrap();
    let m = MessageRow {
        id: 0,
        application_id: app,
        channel_id: channel,
        thread_id: main,
        seq,
        app_seq: 0,
        r#type: "FILE".into(),
        user_id: Some(user),
        body: None,
        file: Some(json!({"type": "HOSTED", "url": url, "name": "a.png",
            "content_type": "image/png", "size": 3})),
        group_tag: None,
        properties: json!({}),
        mentions: json!([]),
        links: json!([]),
        nested_level: 0,
        created: 100,
        last_edited: None,
    };
    let m = Messages::insert(&mut tx, &m).await.unwrap();
    tx.commit().await.unwrap();
    m
}

fn ids(rows: &[FileRow]) -> Vec<i64> {
    rows.iter().map(|f| f.id).collect()
}

async fn a_message_file_is_served_once_attached_and_until_its_message_goes(db: Db) {
    let a = fixture(&db, "org-a").await;
    let files = Files::new(db.clone());
    let f = files
        .insert(&new_file(
            a.id,
            MESSAGE_FILE,
            Some(a.users[0]),
            Some(a.channels[0]),
        ))
        .await
        .unwrap();
    assert_eq!(files.get(a.id, f.id).await.unwrap().as_ref(), Some(&f));
    assert_eq!(f.message_id, None);
    // Being sent: recorded, not served, and not an orphan either.
    assert_eq!(files.live(a.id, f.id).await.unwrap(), None);
    assert!(files.orphans(a.id, 10).await.unwrap().is_empty());
    let m = send(&db, a.id, a.channels[0], Some(a.users[0]), "hi").await;
    assert!(files.attach(a.id, f.id, m.id).await.unwrap());
    // Once only.
    assert!(!files.attach(a.id, f.id, m.id).await.unwrap());
    let live = files.live(a.id, f.id).await.unwrap().unwrap();
    assert_eq!(live.message_id, Some(m.id));
    assert_eq!((live.size, live.name.as_str()), (1234, "a picture.png"));
    let mut tx = db.begin().await.unwrap();
    assert!(Messages::delete(&mut tx, a.id, m.id).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(files.live(a.id, f.id).await.unwrap(), None);
    assert_eq!(ids(&files.orphans(a.id, 10).await.unwrap()), [f.id]);
    assert!(files.delete(a.id, f.id).await.unwrap());
    assert!(!files.delete(a.id, f.id).await.unwrap());
    assert_eq!(files.get(a.id, f.id).await.unwrap(), None);
    assert!(files.orphans(a.id, 10).await.unwrap().is_empty());
}

async fn a_display_picture_is_served_until_its_user_goes(db: Db) {
    let a = fixture(&db, "org-a").await;
    let files = Files::new(db.clone());
    let (alice, bob) = (a.users[0], a.users[1]);
    let old = files
        .insert(&new_file(a.id, DISPLAY_PICTURE, Some(alice), None))
        .await
        .unwrap();
    let new = files
        .insert(&new_file(a.id, DISPLAY_PICTURE, Some(alice), None))
        .await
        .unwrap();
    let bobs = files
        .insert(&new_file(a.id, DISPLAY_PICTURE, Some(bob), None))
        .await
        .unwrap();
    assert_eq!(
        ids(&files.display_pictures(a.id, alice).await.unwrap()),
        [old.id, new.id]
    );
    assert!(files.live(a.id, new.id).await.unwrap().is_some());
    // A display picture has no message to attach to.
    assert!(!files.attach(a.id, new.id, 1).await.unwrap());
    assert!(files.orphans(a.id, 10).await.unwrap().is_empty());
    let mut tx = db.begin().await.unwrap();
    assert!(ChatUsers::delete(&mut tx, a.id, alice).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(files.live(a.id, old.id).await.unwrap(), None);
    assert!(files.live(a.id, bobs.id).await.unwrap().is_some());
    assert_eq!(
        ids(&files.orphans(a.id, 10).await.unwrap()),
        [old.id, new.id]
    );
    assert_eq!(ids(&files.orphans(a.id, 1).await.unwrap()), [old.id]);
}

async fn unattached_files_are_found_by_age_and_by_the_message_naming_them(db: Db) {
    let a = fixture(&db, "org-a").await;
    let files = Files::new(db.clone());
    let (alice, channel) = (a.users[0], a.channels[0]);
    let sent = files
        .insert(&new_file(a.id, MESSAGE_FILE, Some(alice), Some(channel)))
        .await
        .unwrap();
    let lost = files
        .insert(&new_file(a.id, MESSAGE_FILE, None, Some(channel)))
        .await
        .unwrap();
    let url = |id: i64| format!("/files/{id}/a.png");
    let m = send_file(&db, a.id, channel, alice, &url(sent.id)).await;
    // Recorded at 1000: unattached before 1001, not before 1000.
    assert!(files.unattached(a.id, 1_000, 10).await.unwrap().is_empty());
    assert_eq!(
        ids(&files.unattached(a.id, 1_001, 10).await.unwrap()),
        [sent.id, lost.id]
    );
    assert_eq!(
        files
            .message_with_file_url(a.id, channel, &url(sent.id))
            .await
            .unwrap(),
        Some(m.id)
    );
    assert_eq!(
        files
            .message_with_file_url(a.id, channel, &url(lost.id))
            .await
            .unwrap(),
        None
    );
    // A prefix of another file's URL is not that file's: `/files/1/…` is not `/files/12/…`.
    let id_prefix = format!("/files/{}", sent.id / 10);
    if sent.id >= 10 {
        assert_eq!(
            files
                .message_with_file_url(a.id, channel, &id_prefix)
                .await
                .unwrap(),
            None
        );
    }
    // Only in the file's own channel.
    assert_eq!(
        files
            .message_with_file_url(a.id, a.channels[1], &url(sent.id))
            .await
            .unwrap(),
        None
    );
    assert!(files.attach(a.id, sent.id, m.id).await.unwrap());
    assert_eq!(
        ids(&files.unattached(a.id, 1_001, 10).await.unwrap()),
        [lost.id]
    );
}

async fn grant_keys_are_one_per_application_and_the_first_wins(db: Db) {
    let a = fixture(&db, "org-a").await;
    let b = fixture(&db, "org-b").await;
    let files = Files::new(db.clone());
    assert_eq!(files.get_grant_key(a.id).await.unwrap(), None);
    assert_eq!(files.grant_key(a.id, "first", 1).await.unwrap(), "first");
    assert_eq!(
        files.get_grant_key(a.id).await.unwrap().as_deref(),
        Some("first")
    );
    assert_eq!(files.grant_key(a.id, "second", 2).await.unwrap(), "first");
    assert_eq!(files.grant_key(b.id, "other", 3).await.unwrap(), "other");
    // Racing first calls keep one key between them.
    let c = fixture(&db, "org-c").await;
    let (x, y) = tokio::join!(files.grant_key(c.id, "x", 5), files.grant_key(c.id, "y", 5));
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x, y);
    assert!(x == "x" || x == "y", "{x}");
}

async fn file_rows_are_scoped_by_application(db: Db) {
    let a = fixture(&db, "org-a").await;
    let b = fixture(&db, "org-b").await;
    let files = Files::new(db.clone());
    let pic = files
        .insert(&new_file(a.id, DISPLAY_PICTURE, Some(a.users[0]), None))
        .await
        .unwrap();
    let sent = files
        .insert(&new_file(
            a.id,
            MESSAGE_FILE,
            Some(a.users[0]),
            Some(a.channels[0]),
        ))
        .await
        .unwrap();
    let m = send_file(&db, a.id, a.channels[0], a.users[0], "/files/x/a.png").await;
    assert!(files.get(b.id, pic.id).await.unwrap().is_none());
    assert!(files.live(b.id, pic.id).await.unwrap().is_none());
    assert!(files
        .display_pictures(b.id, a.users[0])
        .await
        .unwrap()
        .is_empty());
    assert!(!files.attach(b.id, sent.id, m.id).await.unwrap());
    assert!(!files.delete(b.id, pic.id).await.unwrap());
    assert!(files
        .unattached(b.id, i64::MAX, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        files
            .message_with_file_url(b.id, a.channels[0], "/files/x/a.png")
            .await
            .unwrap(),
        None
    );
    let mut tx = db.begin().await.unwrap();
    ChatUsers::delete(&mut tx, a.id, a.users[0]).await.unwrap();
    tx.commit().await.unwrap();
    assert!(files.orphans(b.id, 10).await.unwrap().is_empty());
    assert_eq!(ids(&files.orphans(a.id, 10).await.unwrap()), [pic.id]);
}
