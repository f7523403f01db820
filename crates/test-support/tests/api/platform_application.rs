//! The caller's application: `GET /application` and its settings, each application seeing only
//! its own.

use palaver_test_support::{assert_platform_error, CLIENT_SECRET};
use serde_json::{json, Value};

#[tokio::test]
async fn the_application_resource() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let r = app.pget("/application", &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["id"], app.app_id);
    assert_eq!(r.body["key"], Value::from(app.api_key.clone()));
    assert_eq!(r.body["properties"], json!({}));
    assert!(r.body["name"].is_string(), "{}", r.text);
    let created = r.body["created_time"].as_str().expect("created_time");
    let at = palaver_domain::time::parse_date(created).expect("ISO time");
    let now = palaver_domain::time::now_millis();
    assert!(
        created.ends_with('Z') && at <= now && at > now - 60_000,
        "{created}"
    );
    assert_eq!(
        r.body["_links"],
        json!({"self": {"href": format!("{}/application", app.base)},
            "settings": {"href": format!("{}/application/settings", app.base)}})
    );
    // Credentials never show.
    let mut keys: Vec<&String> = r.body.as_object().expect("object").keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["_links", "created_time", "id", "key", "name", "properties"]
    );
    assert!(!r.text.contains(CLIENT_SECRET), "{}", r.text);
    assert!(!r.text.contains("digest"), "{}", r.text);

    // Under /v1 in camelCase, the same values.
    let v1 = app.pget("/v1/application", &token).await;
    assert_eq!(v1.body["createdTime"], r.body["created_time"]);
    assert_eq!(v1.body["key"], r.body["key"]);
}

#[tokio::test]
async fn settings_read_and_update() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let r = app.pget("/application/settings", &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let links = json!({"self": {"href": format!("{}/application/settings", app.base)},
        "application": {"href": format!("{}/application", app.base)}});
    assert_eq!(
        r.body,
        json!({"guest_users": "DISABLED", "user_created_channels": "DISABLED", "_links": links})
    );

    // Both values.
    let r = app
        .pput(
            "/application/settings",
            &token,
            json!({"guest_users": "ENABLED", "user_created_channels": "ENABLED"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"guest_users": "ENABLED", "user_created_channels": "ENABLED", "_links": links})
    );
    // One only (PY sends `guestUsers` alone): the other keeps its value.
    let r = app
        .pput(
            "/v1/application/settings",
            &token,
            json!({"guestUsers": "DISABLED"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (&r.body["guestUsers"], &r.body["userCreatedChannels"]),
        (&json!("DISABLED"), &json!("ENABLED"))
    );
    let r = app
        .pput(
            "/application/settings",
            &token,
            json!({"user_created_channels": "DISABLED"}),
        )
        .await;
    assert_eq!(
        (&r.body["guest_users"], &r.body["user_created_channels"]),
        (&json!("DISABLED"), &json!("DISABLED"))
    );
    // The published samples' `features` wrapper.
    let r = app
        .pput(
            "/application/settings",
            &token,
            json!({"features": {"guest_users": "ENABLED", "user_created_channels": "DISABLED"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["guest_users"], "ENABLED");
    // Stored.
    let r = app.pget("/application/settings", &token).await;
    assert_eq!(
        (&r.body["guest_users"], &r.body["user_created_channels"]),
        (&json!("ENABLED"), &json!("DISABLED"))
    );

    for bad in [
        json!({"guest_users": "ON"}),
        json!({"guest_users": "enabled"}),
        json!({"guest_users": true}),
        json!({"guest_users": "ENABLED", "user_created_channels": "MAYBE"}),
        json!({}),
        json!({"something": "ENABLED"}),
        json!(["ENABLED"]),
    ] {
        let r = app.pput("/application/settings", &token, bad.clone()).await;
        assert_platform_error(&r, 400, "InvalidParameterError");
    }
    let r = app
        .pcall("PUT", "/application/settings", Some(&token), &[], None)
        .await;
    assert_platform_error(&r, 400, "InvalidParameterError");
    // Refused updates changed nothing, not even half of one.
    let r = app.pget("/application/settings", &token).await;
    assert_eq!(
        (&r.body["guest_users"], &r.body["user_created_channels"]),
        (&json!("ENABLED"), &json!("DISABLED"))
    );
}

#[tokio::test]
async fn each_application_has_its_own_settings_and_resource() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let other = app.other_application("tenant").await;
    let r = app
        .pput(
            "/application/settings",
            &other.token,
            json!({"guest_users": "ENABLED", "user_created_channels": "ENABLED"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app.pget("/application/settings", &token).await;
    assert_eq!(
        (&r.body["guest_users"], &r.body["user_created_channels"]),
        (&json!("DISABLED"), &json!("DISABLED"))
    );
    let r = app.pget("/application/settings", &other.token).await;
    assert_eq!(
        (&r.body["guest_users"], &r.body["user_created_channels"]),
        (&json!("ENABLED"), &json!("ENABLED"))
    );
    let r = app.pget("/application", &other.token).await;
    assert_eq!(r.body["id"], other.app_id);
    assert_eq!(r.body["key"], Value::from(other.api_key.clone()));
    assert_ne!(other.api_key, app.api_key);
    // Deleting a user answers with the caller's own application.
    let u = app
        .create_chat_user(&other.token, json!({"name": "zed"}))
        .await;
    let r = app
        .pdelete(&format!("/users/{}", u["id"]), &other.token)
        .await;
    assert_eq!((r.status, &r.body["id"]), (200, &json!(other.app_id)));
    // And the other application's settings path under the first's id is not found.
    let r = app
        .pget(
            &format!("/v1/applications/{}/application/settings", app.app_id),
            &other.token,
        )
        .await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");
}
