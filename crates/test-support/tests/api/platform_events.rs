//! The event outbox behind the platform API: every channel write leaves exactly one event row of
//! its type with a growing sequence, a refused write leaves none, subscribers of the
//! in-process bus receive each committed event, and pruning the handled outbox keeps the
//! sequence growing.

use palaver_service::platform::{Event, EventRow, Published};
use palaver_service::AppPrincipal;
use palaver_test_support::TestApp;
use serde_json::{json, Value};

fn principal(app: &TestApp) -> AppPrincipal {
    AppPrincipal {
        application_id: app.app_id,
        organisation_id: app.org_id.clone(),
    }
}

/// The events about channels: what the channel tests look at (creating their users leaves
/// `user.created` events first).
async fn channel_events(app: &TestApp) -> Vec<EventRow> {
    let mut rows = events(app).await;
    rows.retain(|e| e.event.channel_id().is_some());
    rows
}

async fn events(app: &TestApp) -> Vec<EventRow> {
    app.services
        .platform
        .events_after(&principal(app), 0, 1000)
        .await
        .map_err(|e| e.into_domain())
        .expect("events")
}

#[tokio::test]
async fn each_write_appends_one_event_and_failures_none() {
    let app = crate::spawn().await;
    let t = app.platform_token().await;
    let mut bus = app.services.platform.subscribe();
    let mut ids = Vec::new();
    for name in ["alice", "bob", "carol"] {
        ids.push(app.create_chat_user(&t, json!({"name": name})).await["id"].clone());
    }
    let c = app
        .ppost(
            "/channels",
            &t,
            json!({"type": "PRIVATE", "name": "room", "creator": {"username": "alice"}}),
        )
        .await;
    let ch = c.body["id"].as_i64().expect("channel id");
    let at = |s: &str| format!("/channels/{ch}{s}");
    // (method, path, body, status, the event it must leave, if any)
    let steps: Vec<(&str, String, Value, u16, Option<&str>)> = vec![
        (
            "PATCH",
            at(""),
            json!({"display_name": "Room"}),
            200,
            Some("channel.updated"),
        ),
        (
            "POST",
            at("/members"),
            json!({"username": "bob"}),
            200,
            Some("channel.member.added"),
        ),
        // Already a member: nothing changed, nothing to tell.
        (
            "POST",
            at("/members"),
            json!({"username": "bob"}),
            200,
            None,
        ),
        (
            "POST",
            at("/members"),
            json!({"username": "nobody"}),
            404,
            None,
        ),
        (
            "DELETE",
            at(&format!("/members/{}", ids[1])),
            Value::Null,
            200,
            Some("channel.member.removed"),
        ),
        (
            "DELETE",
            at(&format!("/members/{}", ids[1])),
            Value::Null,
            404,
            None,
        ),
        (
            "POST",
            at("/moderators"),
            json!({"username": "carol"}),
            200,
            Some("channel.moderator.added"),
        ),
        (
            "DELETE",
            at(&format!("/moderators/{}", ids[2])),
            Value::Null,
            200,
            Some("channel.moderator.removed"),
        ),
        (
            "POST",
            at("/invites"),
            json!({"user": {"username": "bob"}}),
            200,
            Some("channel.invite.sent"),
        ),
        (
            "POST",
            at("/events"),
            json!({"type": "x", "properties": {}}),
            200,
            Some("channel.event.sent"),
        ),
        ("POST", at("/events"), json!({"type": "x"}), 400, None),
        (
            "POST",
            at("/keystrokes"),
            json!({"keys": "k", "user": {"username": "alice"}}),
            200,
            // Typing is signalled on the bus, never kept (checked below).
            None,
        ),
        (
            "POST",
            "/channels".into(),
            json!({"type": "PUBLIC", "name": "room"}),
            409,
            None,
        ),
        ("DELETE", at(""), Value::Null, 200, Some("channel.deleted")),
    ];
    let mut expected = vec!["channel.created".to_string()];
    for (method, path, body, status, kind) in steps {
        let body = (!body.is_null()).then_some(body);
        let r = app.pcall(method, &path, Some(&t), &[], body).await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.text);
        if let Some(k) = kind {
            expected.push(k.to_string());
        }
        let got: Vec<String> = channel_events(&app)
            .await
            .into_iter()
            .map(|e| e.event.name())
            .collect();
        assert_eq!(got, expected, "after {method} {path}");
    }
    let rows = channel_events(&app).await;
    assert!(rows.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(rows
        .iter()
        .all(|e| e.event.channel_id() == Some(ch) && e.application_id == app.app_id));
    let (_, created) = rows[0].event.to_parts();
    assert_eq!(created["name"], "room");
    let (_, added) = rows[2].event.to_parts();
    assert_eq!(added["username"], "bob");
    // The bus delivered the same committed events, in order, and the keystrokes as a signal
    // without an outbox number.
    let mut published = Vec::new();
    let mut signals = Vec::new();
    while let Ok(e) = bus.try_recv() {
        match e.seq {
            Some(_) if e.event.channel_id().is_some() => published.push(Published::clone(&e)),
            Some(_) => {}
            None => signals.push(e.event.clone()),
        }
    }
    let committed: Vec<Published> = rows.into_iter().map(Published::from).collect();
    assert_eq!(published, committed);
    assert_eq!(
        signals,
        [Event::Keystrokes {
            channel_id: ch,
            thread_id: None,
            keys: "k".into(),
            user_id: ids[0].as_i64().expect("id"),
            username: "alice".into(),
        }]
    );
}

#[tokio::test]
async fn a_group_channel_found_again_emits_nothing() {
    let app = crate::spawn().await;
    let t = app.platform_token().await;
    app.create_chat_user(&t, json!({"name": "alice"})).await;
    let body = json!({"type": "PUBLIC", "name": "room", "creator": {"username": "alice"}});
    let mut ids = Vec::new();
    for _ in 0..2 {
        let r = app.ppost("/channels", &t, body.clone()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        ids.push(r.body["id"].clone());
    }
    assert_eq!(ids[0], ids[1]);
    let kinds: Vec<String> = channel_events(&app)
        .await
        .into_iter()
        .map(|e| e.event.name())
        .collect();
    assert_eq!(kinds, ["channel.created"]);
}

#[tokio::test]
async fn a_direct_channel_found_again_emits_nothing() {
    let app = crate::spawn().await;
    let t = app.platform_token().await;
    for name in ["alice", "bob"] {
        app.create_chat_user(&t, json!({"name": name})).await;
    }
    let body = json!({"type": "DIRECT", "members": [{"username": "alice"}, {"username": "bob"}]});
    for _ in 0..2 {
        assert_eq!(app.ppost("/channels", &t, body.clone()).await.status, 200);
    }
    let kinds: Vec<String> = channel_events(&app)
        .await
        .into_iter()
        .map(|e| e.event.name())
        .collect();
    assert_eq!(kinds, ["channel.created"]);
    // Another application sees none of these events.
    let other = app.other_application("Other").await;
    let p = AppPrincipal {
        application_id: other.app_id,
        organisation_id: other.org_id.clone(),
    };
    let theirs = app
        .services
        .platform
        .events_after(&p, 0, 10)
        .await
        .map_err(|e| e.into_domain())
        .expect("events");
    assert!(theirs.is_empty());
}

#[tokio::test]
async fn user_writes_leave_their_events() {
    let app = crate::spawn().await;
    let t = app.platform_token().await;
    let id = app.create_chat_user(&t, json!({"name": "dana"})).await["id"]
        .as_i64()
        .expect("id");
    let u = format!("/users/{id}");
    let steps: Vec<(&str, String, Value, u16)> = vec![
        ("PATCH", u.clone(), json!({"display_name": "Dana"}), 200),
        (
            "PATCH",
            "/users/999999".into(),
            json!({"display_name": "X"}),
            404,
        ),
        (
            "POST",
            format!("{u}/display-picture"),
            json!({"url": "https://example.com/d.png", "name": "d.png",
                   "content_type": "image/png", "size": 3}),
            200,
        ),
        (
            "PUT",
            format!("{u}/secrets/pin"),
            json!({"secret": "1234"}),
            200,
        ),
        ("DELETE", format!("{u}/secrets/pin"), Value::Null, 200),
        ("DELETE", format!("{u}/secrets/pin"), Value::Null, 404),
        (
            "PUT",
            "/application/settings".into(),
            json!({"guest_users": "ENABLED"}),
            200,
        ),
        ("DELETE", u.clone(), Value::Null, 200),
    ];
    for (method, path, body, status) in steps {
        let body = (!body.is_null()).then_some(body);
        let r = app.pcall(method, &path, Some(&t), &[], body).await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.text);
    }
    let rows = events(&app).await;
    let kinds: Vec<String> = rows.iter().map(|e| e.event.name()).collect();
    assert_eq!(
        kinds,
        [
            "user.created",
            "user.updated",
            "user.display_picture.updated",
            "user.secret.set",
            "user.secret.deleted",
            "application.settings.updated",
            "user.deleted"
        ]
    );
    let dana = palaver_domain::platform::event::UserRef {
        id,
        name: "dana".into(),
    };
    assert_eq!(rows[0].event, Event::UserCreated(dana.clone()));
    assert_eq!(rows[6].event, Event::UserDeleted(dana));
    // The secret's value is never part of its event.
    assert_eq!(
        rows[3].event,
        Event::SecretSet {
            user_id: id,
            name: "pin".into()
        }
    );
}

#[tokio::test]
async fn pruning_empties_a_handled_outbox_and_numbers_go_on() {
    let c = crate::platform_messages::chat().await;
    let p = principal(&c.app);
    let platform = &c.app.services.platform;
    c.text(c.general, "alice", "hello bob").await;
    // Drain until nothing is left: the first drain leaves a `notifications.created` event of its
    // own, which the next one handles. The server's own notifier may drain too; either way
    // every event has been handled once a drain makes nothing.
    while platform
        .drain_notifications(&p)
        .await
        .map_err(|e| e.into_domain())
        .expect("drain")
        > 0
    {}
    let before = events(&c.app).await;
    let last = before.last().expect("events").seq;
    assert!(before
        .iter()
        .any(|e| matches!(e.event, Event::MessageCreated(_))));

    let pruned = platform
        .prune_outbox(std::time::Duration::ZERO)
        .await
        .map_err(|e| e.into_domain())
        .expect("prune");
    assert_eq!(pruned, before.len() as u64);
    assert!(events(&c.app).await.is_empty());
    // Nothing left to prune, and the notifier finds nothing to redo.
    assert_eq!(
        platform
            .prune_outbox(std::time::Duration::ZERO)
            .await
            .map_err(|e| e.into_domain())
            .expect("prune"),
        0
    );
    assert_eq!(
        platform
            .drain_notifications(&p)
            .await
            .map_err(|e| e.into_domain())
            .expect("drain"),
        0
    );

    // The next write is numbered after the pruned ones.
    c.app
        .create_chat_user(&c.token, json!({"name": "dave"}))
        .await;
    let after = events(&c.app).await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0].event.name(), "user.created");
    assert!(after[0].seq > last, "{} after {last}", after[0].seq);
    // Handled but recent: a retention longer than its age keeps it.
    platform
        .drain_notifications(&p)
        .await
        .map_err(|e| e.into_domain())
        .expect("drain");
    assert_eq!(
        platform
            .prune_outbox(std::time::Duration::from_secs(3600))
            .await
            .map_err(|e| e.into_domain())
            .expect("prune"),
        0
    );
    assert_eq!(events(&c.app).await.len(), 1);
}
