//! The event outbox behind the platform API: every channel write leaves exactly one event row of
//! its type with a growing sequence, a refused write leaves none, and subscribers of the
//! in-process bus receive each committed event.

use palaver_service::platform::EventRow;
use palaver_service::AppPrincipal;
use palaver_test_support::TestApp;
use serde_json::{json, Value};

fn principal(app: &TestApp) -> AppPrincipal {
    AppPrincipal {
        application_id: app.app_id,
        organisation_id: app.org_id.clone(),
    }
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
            Some("channel.keystrokes.sent"),
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
        let got: Vec<String> = events(&app).await.into_iter().map(|e| e.r#type).collect();
        assert_eq!(got, expected, "after {method} {path}");
    }
    let rows = events(&app).await;
    assert!(rows.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(rows
        .iter()
        .all(|e| e.channel_id == Some(ch) && e.application_id == app.app_id));
    assert_eq!(rows[0].payload["name"], "room");
    assert_eq!(rows[2].payload["username"], "bob");
    // The bus delivered the same committed events, in order.
    let mut published = Vec::new();
    while let Ok(e) = bus.try_recv() {
        published.push(e);
    }
    assert_eq!(published, rows);
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
    let kinds: Vec<String> = events(&app).await.into_iter().map(|e| e.r#type).collect();
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
