//! Platform channels: create PUBLIC, PRIVATE and DIRECT channels, list with filters, get,
//! merge-patch, delete, a user's channels, and tenancy between applications.

use palaver_test_support::{assert_platform_error, TestApp};
use serde_json::{json, Value};

async fn setup() -> (TestApp, String, Vec<Value>) {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let mut users = Vec::new();
    for name in ["alice", "bob", "carol"] {
        users.push(
            app.create_chat_user(
                &token,
                json!({"name": name, "display_name": name.to_uppercase()}),
            )
            .await,
        );
    }
    (app, token, users)
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.ppost("/channels", token, body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

fn ids(page: &Value, name: &str) -> Vec<i64> {
    page["_embedded"][name]
        .as_array()
        .unwrap_or_else(|| panic!("no _embedded.{name} in {page}"))
        .iter()
        .map(|c| c["id"].as_i64().expect("id"))
        .collect()
}

#[tokio::test]
async fn a_public_channel_has_the_group_shape() {
    let (app, token, users) = setup().await;
    let c = create(
        &app,
        &token,
        json!({"type": "PUBLIC", "name": "general", "display_name": "General",
            "creator": {"username": "alice"}, "members": [{"username": "bob"}],
            "properties": {"topic": "x"}}),
    )
    .await;
    let id = c["id"].as_i64().expect("id");
    let base = format!("{}/channels/{id}", app.base);
    assert_eq!(c["type"], "PUBLIC");
    assert_eq!(c["name"], "general");
    assert_eq!(c["display_name"], "General");
    assert_eq!(c["creator"]["name"], "alice");
    assert_eq!(c["creator"]["id"], users[0]["id"]);
    assert!(c["creator"].get("_links").is_none());
    assert_eq!(c["properties"], json!({"topic": "x"}));
    assert!(c["created_time"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(c.get("members").is_none());
    assert_eq!(c["_links"]["self"]["href"], base);
    assert_eq!(c["_links"]["members"]["href"], format!("{base}/members"));
    assert_eq!(c["_links"]["messages"]["href"], format!("{base}/messages"));
    assert_eq!(
        c["_links"]["memberships"]["href"],
        format!("{base}/memberships")
    );
    assert!(c["_links"].get("invites").is_none());
    let g = app.pget(&format!("/channels/{id}"), &token).await;
    assert_eq!((g.status, &g.body), (200, &c));
    // The creator and the listed member are members.
    let m = app.pget(&format!("/channels/{id}/members"), &token).await;
    assert_eq!(m.status, 200, "{}", m.text);
    assert_eq!(
        ids(&m.body, "users"),
        vec![
            users[0]["id"].as_i64().unwrap(),
            users[1]["id"].as_i64().unwrap()
        ]
    );
}

#[tokio::test]
async fn names_default_and_are_unique_per_application() {
    let (app, token, _) = setup().await;
    let c = create(&app, &token, json!({"type": "PRIVATE", "members": {}})).await;
    let name = c["name"].as_str().expect("name");
    assert_eq!(name.len(), 36, "{name}");
    assert_eq!(name.matches('-').count(), 4, "{name}");
    assert_eq!(c["display_name"], name);
    assert_eq!(c["type"], "PRIVATE");
    assert!(c["_links"]["invites"]["href"].is_string());
    let general = create(&app, &token, json!({"type": "PUBLIC", "name": "general"})).await;
    // A name taken by a channel of another type is a conflict.
    let dup = app
        .ppost(
            "/channels",
            &token,
            json!({"type": "PRIVATE", "name": "general"}),
        )
        .await;
    assert_platform_error(&dup, 409, "DuplicateResourceError");
    // The same type, name and (no) creator is the same channel, answered again.
    let again = create(&app, &token, json!({"type": "PUBLIC", "name": "general"})).await;
    assert_eq!(again, general);
    // Another application may use the same name.
    let other = app.other_application("Other").await;
    let r = app
        .ppost(
            "/channels",
            &other.token,
            json!({"type": "PUBLIC", "name": "general"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// "Creates a new channel or returns an equivalent existing channel": a group channel of the
/// same type, name and creator is answered as it is (the request's members and properties play
/// no part); a name taken by any other channel is a 409.
#[tokio::test]
async fn a_group_channel_of_the_same_type_name_and_creator_is_found_again() {
    let (app, token, users) = setup().await;
    let body = json!({"type": "PRIVATE", "name": "team", "display_name": "Team",
        "creator": {"username": "alice"}, "members": [{"username": "bob"}],
        "properties": {"v": 1}});
    let first = create(&app, &token, body).await;
    let id = first["id"].as_i64().expect("id");
    // The creator by id this time, other members, display name and properties.
    let again = create(
        &app,
        &token,
        json!({"type": "PRIVATE", "name": "team", "display_name": "Other",
            "creator": {"id": users[0]["id"]}, "members": [{"username": "carol"}],
            "properties": {"v": 2}}),
    )
    .await;
    assert_eq!(again, first);
    // Nothing about the existing channel changed.
    let m = app.pget(&format!("/channels/{id}/members"), &token).await;
    let names: Vec<&str> = m.body["_embedded"]["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    assert_eq!(
        app.pget(&format!("/channels/{id}"), &token).await.body,
        first
    );
    // Under /v1, in camelCase, the same channel.
    let r = app
        .ppost(
            "/v1/channels",
            &token,
            json!({"type": "PRIVATE", "name": "team", "creator": {"username": "alice"}}),
        )
        .await;
    assert_eq!((r.status, &r.body["id"]), (200, &json!(id)), "{}", r.text);
    assert_eq!(r.body["displayName"], "Team");
    // Another creator, no creator, or another type: the name is taken.
    for body in [
        json!({"type": "PRIVATE", "name": "team", "creator": {"username": "bob"}}),
        json!({"type": "PRIVATE", "name": "team"}),
        json!({"type": "PUBLIC", "name": "team", "creator": {"username": "alice"}}),
    ] {
        let r = app.ppost("/channels", &token, body.clone()).await;
        assert_platform_error(&r, 409, "DuplicateResourceError");
    }
    // A channel made by the system is found again by the system only.
    let lobby = create(&app, &token, json!({"type": "PUBLIC", "name": "lobby"})).await;
    let r = app
        .ppost(
            "/channels",
            &token,
            json!({"type": "PUBLIC", "name": "lobby", "creator": {"username": "alice"}}),
        )
        .await;
    assert_platform_error(&r, 409, "DuplicateResourceError");
    assert_eq!(
        create(&app, &token, json!({"type": "PUBLIC", "name": "lobby"})).await,
        lobby
    );
    let all = app.pget("/channels", &token).await;
    assert_eq!(all.body["page"]["total_elements"], 2, "{}", all.text);
}

#[tokio::test]
async fn a_direct_channel_is_one_per_member_set() {
    let (app, token, users) = setup().await;
    let bob = users[1]["id"].as_i64().unwrap();
    let d = create(
        &app,
        &token,
        json!({"type": "DIRECT", "members": [{"username": "alice"}, {"id": bob}]}),
    )
    .await;
    assert_eq!(d["type"], "DIRECT");
    assert!(d.get("name").is_none() && d.get("display_name").is_none());
    let names: Vec<&str> = d["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    // Same set, other order and form: the same channel.
    let again = create(
        &app,
        &token,
        json!({"type": "DIRECT", "members": [{"id": bob}, {"username": "alice"}, {"username": "bob"}]}),
    )
    .await;
    assert_eq!(again["id"], d["id"]);
    // With the creator counted in, bob + creator alice is the same set too.
    let with_creator = create(
        &app,
        &token,
        json!({"type": "DIRECT", "creator": {"username": "alice"}, "members": [{"username": "bob"}]}),
    )
    .await;
    assert_eq!(with_creator["id"], d["id"]);
    let three = create(
        &app,
        &token,
        json!({"type": "DIRECT", "members": [{"username": "alice"}, {"username": "bob"}, {"username": "carol"}]}),
    )
    .await;
    assert_ne!(three["id"], d["id"]);
}

#[tokio::test]
async fn bad_create_bodies_are_refused() {
    let (app, token, _) = setup().await;
    let cases = [
        (
            json!({"type": "DIRECT", "members": [{"username": "alice"}]}),
            400,
            "InvalidParameterError",
        ),
        (
            json!({"type": "DIRECT", "members": [{"username": "alice"}, {"username": "alice"}]}),
            400,
            "InvalidParameterError",
        ),
        (
            json!({"type": "DIRECT", "members": {}}),
            400,
            "InvalidParameterError",
        ),
        (json!({"type": "GROUP"}), 400, "InvalidParameterError"),
        (json!({"name": "x"}), 400, "InvalidParameterError"),
        (
            json!({"type": "PUBLIC", "members": "alice"}),
            400,
            "InvalidParameterError",
        ),
        (
            json!({"type": "PUBLIC", "members": [{"name": "alice"}]}),
            400,
            "InvalidParameterError",
        ),
        (
            json!({"type": "PUBLIC", "members": [{"id": "7"}]}),
            400,
            "InvalidParameterError",
        ),
        (
            json!({"type": "PUBLIC", "properties": [1]}),
            400,
            "InvalidParameterError",
        ),
        (
            json!({"type": "PUBLIC", "creator": {"username": "nobody"}}),
            404,
            "ResourceNotFoundError",
        ),
        (
            json!({"type": "PUBLIC", "members": [{"id": 999999}]}),
            404,
            "ResourceNotFoundError",
        ),
    ];
    for (body, status, error) in cases {
        let r = app.ppost("/channels", &token, body.clone()).await;
        assert_platform_error(&r, status, error);
    }
    let l = app.pget("/channels", &token).await;
    assert_eq!(l.body["page"]["total_elements"], 0, "{}", l.text);
}

#[tokio::test]
async fn lists_filter_by_type_members_time_and_properties() {
    let (app, token, users) = setup().await;
    let general = create(
        &app,
        &token,
        json!({"type": "PUBLIC", "name": "general", "creator": {"username": "alice"},
            "members": [{"username": "bob"}], "properties": {"team": "a"}}),
    )
    .await;
    let direct = create(
        &app,
        &token,
        json!({"type": "DIRECT", "members": [{"username": "alice"}, {"username": "bob"}]}),
    )
    .await;
    let private = create(
        &app,
        &token,
        json!({"type": "PRIVATE", "name": "secret-room", "creator": {"username": "alice"}}),
    )
    .await;
    let carols = create(
        &app,
        &token,
        json!({"type": "PUBLIC", "name": "carols", "creator": {"username": "carol"}}),
    )
    .await;
    let id = |v: &Value| v["id"].as_i64().unwrap();
    let q = |pairs: &'static [(&'static str, &'static str)]| {
        let app = &app;
        let token = &token;
        async move {
            let r = app.pget_query("/channels", token, pairs).await;
            assert_eq!(r.status, 200, "{pairs:?}: {}", r.text);
            ids(&r.body, "channels")
        }
    };
    assert_eq!(
        q(&[("type", "PUBLIC")]).await,
        vec![id(&general), id(&carols)]
    );
    assert_eq!(q(&[("type", "DIRECT")]).await, vec![id(&direct)]);
    assert_eq!(
        q(&[("members", "alice"), ("members", "bob")]).await,
        vec![id(&general), id(&direct)]
    );
    assert_eq!(q(&[("members", "carol")]).await, vec![id(&carols)]);
    assert_eq!(
        q(&[("properties", r#"{"team":"a"}"#)]).await,
        vec![id(&general)]
    );
    assert_eq!(
        q(&[("sort", "name,desc"), ("type", "PUBLIC")]).await,
        vec![id(&general), id(&carols)]
    );
    assert_eq!(q(&[("start_time", "2000-01-01T00:00:00Z")]).await.len(), 4);
    assert_eq!(q(&[("startTime", "2999-01-01T00:00:00Z")]).await.len(), 0);
    assert_eq!(q(&[("endTime", "2000-01-01T00:00:00Z")]).await.len(), 0);
    assert_eq!(
        q(&[("end_time", "2999-01-01T00:00:00.000Z")]).await.len(),
        4
    );
    let r = app
        .pget_query("/channels", &token, &[("size", "2"), ("type", "PUBLIC")])
        .await;
    assert_eq!(
        r.body["page"],
        json!({"size": 2, "total_elements": 2, "total_pages": 1, "number": 0})
    );
    assert!(r.body["_links"]["self"]["href"]
        .as_str()
        .unwrap()
        .contains("type=PUBLIC"));
    // A user's channels: created or joined.
    let alice = users[0]["id"].as_i64().unwrap();
    let r = app.pget(&format!("/users/{alice}/channels"), &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        ids(&r.body, "channels"),
        vec![id(&general), id(&direct), id(&private)]
    );
    let carol = users[2]["id"].as_i64().unwrap();
    let r = app.pget(&format!("/users/{carol}/channels"), &token).await;
    assert_eq!(ids(&r.body, "channels"), vec![id(&carols)]);
    let r = app.pget("/users/999999/channels", &token).await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");
}

#[tokio::test]
async fn bad_filters_and_page_params_are_400() {
    let (app, token, _) = setup().await;
    for pairs in [
        &[("type", "GROUP")][..],
        &[("start_time", "yesterday")],
        &[("endTime", "2024-13-45T00:00:00Z")],
        &[("properties", "[1]")],
        &[("properties", "{")],
        &[("page", "-1")],
        &[("size", "0")],
        &[("sort", "colour,asc")],
        &[("sort", "name,sideways")],
    ] {
        let r = app.pget_query("/channels", &token, pairs).await;
        assert_platform_error(&r, 400, "InvalidParameterError");
    }
}

#[tokio::test]
async fn merge_patch_then_delete() {
    let (app, token, _) = setup().await;
    let c = create(
        &app,
        &token,
        json!({"type": "PUBLIC", "name": "general", "properties": {"a": 1, "b": 2}}),
    )
    .await;
    let at = format!("/channels/{}", c["id"]);
    let r = app
        .ppatch(
            &at,
            &token,
            json!({"display_name": "General 2", "properties": {"b": null, "topic": "x"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["display_name"], "General 2");
    assert_eq!(r.body["name"], "general");
    assert_eq!(r.body["properties"], json!({"a": 1, "topic": "x"}));
    assert_eq!(app.pget(&at, &token).await.body, r.body);
    let bad = app.ppatch(&at, &token, json!({"display_name": " "})).await;
    assert_platform_error(&bad, 400, "InvalidParameterError");
    let bad = app.ppatch(&at, &token, json!({"properties": 3})).await;
    assert_platform_error(&bad, 400, "InvalidParameterError");
    let d = app.pdelete(&at, &token).await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(d.body["id"], app.app_id);
    assert!(d.body["key"].is_string());
    assert_platform_error(&app.pget(&at, &token).await, 404, "ResourceNotFoundError");
    assert_platform_error(
        &app.pdelete(&at, &token).await,
        404,
        "ResourceNotFoundError",
    );
    assert_platform_error(
        &app.pget("/channels/abc", &token).await,
        404,
        "ResourceNotFoundError",
    );
}

#[tokio::test]
async fn the_three_prefixes_and_camel_naming() {
    let (app, token, _) = setup().await;
    let c = create(
        &app,
        &token,
        json!({"type": "PUBLIC", "name": "general", "displayName": "General"}),
    )
    .await;
    assert_eq!(c["display_name"], "General");
    let id = c["id"].as_i64().unwrap();
    let v1 = app.pget(&format!("/v1/channels/{id}"), &token).await;
    assert_eq!(v1.status, 200, "{}", v1.text);
    assert_eq!(v1.body["displayName"], "General");
    assert_eq!(
        v1.body["_links"]["self"]["href"],
        format!("{}/v1/channels/{id}", app.base)
    );
    let scoped = format!("/v1/applications/{}/channels", app.app_id);
    let l = app.pget(&scoped, &token).await;
    assert_eq!(l.status, 200, "{}", l.text);
    assert_eq!(l.body["page"]["totalElements"], 1);
    assert_eq!(
        l.body["_embedded"]["channels"][0]["_links"]["self"]["href"],
        format!("{}{scoped}/{id}", app.base)
    );
}

#[tokio::test]
async fn another_applications_channels_and_users_are_not_found() {
    let (app, token, users) = setup().await;
    let c = create(&app, &token, json!({"type": "PUBLIC", "name": "general"})).await;
    let id = c["id"].as_i64().unwrap();
    let other = app.other_application("Other").await;
    let t = &other.token;
    for path in [
        format!("/channels/{id}"),
        format!("/channels/{id}/members"),
        format!("/channels/{id}/memberships"),
        format!("/channels/{id}/moderators"),
        format!("/channels/{id}/participants"),
        format!("/users/{}/channels", users[0]["id"]),
    ] {
        assert_platform_error(&app.pget(&path, t).await, 404, "ResourceNotFoundError");
    }
    assert_platform_error(
        &app.ppatch(&format!("/channels/{id}"), t, json!({"display_name": "x"}))
            .await,
        404,
        "ResourceNotFoundError",
    );
    assert_platform_error(
        &app.pdelete(&format!("/channels/{id}"), t).await,
        404,
        "ResourceNotFoundError",
    );
    assert_platform_error(
        &app.ppost(
            &format!("/channels/{id}/members"),
            t,
            json!({"username": "alice"}),
        )
        .await,
        404,
        "ResourceNotFoundError",
    );
    // The other application cannot reference this one's users either.
    let r = app
        .ppost(
            "/channels",
            t,
            json!({"type": "PUBLIC", "creator": {"id": users[0]["id"]}}),
        )
        .await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");
    let l = app.pget("/channels", t).await;
    assert_eq!(l.body["page"]["total_elements"], 0);
    // And this application's own prefix with the other's id is not found.
    let r = app
        .pget(
            &format!("/v1/applications/{}/channels/{id}", other.app_id),
            &token,
        )
        .await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");
}
