//! Channel rosters and sends: members, memberships, moderators, invites, participants, custom
//! events and keystrokes, with their unhappy paths.

use palaver_test_support::{assert_platform_error, TestApp};
use serde_json::{json, Value};

struct Fixture {
    app: TestApp,
    token: String,
    ids: Vec<i64>,
    general: i64,
    private: i64,
    direct: i64,
}

async fn setup() -> Fixture {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let mut ids = Vec::new();
    for name in ["alice", "bob", "carol"] {
        let u = app.create_chat_user(&token, json!({"name": name})).await;
        ids.push(u["id"].as_i64().unwrap());
    }
    let mut make = Vec::new();
    for body in [
        json!({"type": "PUBLIC", "name": "general", "creator": {"username": "alice"}, "members": [{"username": "bob"}]}),
        json!({"type": "PRIVATE", "name": "secret-room", "creator": {"username": "alice"}}),
        json!({"type": "DIRECT", "members": [{"username": "alice"}, {"username": "bob"}]}),
    ] {
        let r = app.ppost("/channels", &token, body).await;
        assert_eq!(r.status, 200, "{}", r.text);
        make.push(r.body["id"].as_i64().unwrap());
    }
    Fixture {
        app,
        token,
        ids,
        general: make[0],
        private: make[1],
        direct: make[2],
    }
}

fn names(page: &Value) -> Vec<String> {
    page["_embedded"]["users"]
        .as_array()
        .unwrap_or_else(|| panic!("no users in {page}"))
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn members_are_added_listed_and_removed() {
    let f = setup().await;
    let (app, t) = (&f.app, f.token.as_str());
    let at = format!("/channels/{}/members", f.general);
    let r = app.ppost(&at, t, json!({"username": "carol"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["id"], f.general);
    assert_eq!(r.body["type"], "PUBLIC");
    // Adding again changes nothing.
    let again = app.ppost(&at, t, json!({"id": f.ids[2]})).await;
    assert_eq!(again.status, 200, "{}", again.text);
    let m = app.pget(&at, t).await;
    assert_eq!(m.status, 200, "{}", m.text);
    assert_eq!(names(&m.body), ["alice", "bob", "carol"]);
    assert_eq!(m.body["page"]["total_elements"], 3);
    assert!(m.body["_embedded"]["users"][0]["_links"]["self"].is_object());
    let ms = app
        .pget(&format!("/channels/{}/memberships", f.general), t)
        .await;
    assert_eq!(ms.status, 200, "{}", ms.text);
    let entries = ms.body["_embedded"]["memberships"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert!(entries[2]["created_time"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    assert_eq!(
        entries[2]["_links"]["user"]["href"],
        format!("{}/users/{}", app.base, f.ids[2])
    );
    assert_eq!(
        entries[2]["_links"]["channel"]["href"],
        format!("{}/channels/{}", app.base, f.general)
    );
    let d = app.pdelete(&format!("{at}/{}", f.ids[2]), t).await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(d.body["id"], f.general);
    assert_eq!(names(&app.pget(&at, t).await.body), ["alice", "bob"]);
    let d = app.pdelete(&format!("{at}/{}", f.ids[2]), t).await;
    assert_platform_error(&d, 404, "ResourceNotFoundError");
    let d = app.pdelete(&format!("{at}/999999"), t).await;
    assert_platform_error(&d, 404, "ResourceNotFoundError");
}

#[tokio::test]
async fn bad_member_requests() {
    let f = setup().await;
    let (app, t) = (&f.app, f.token.as_str());
    let at = format!("/channels/{}/members", f.general);
    assert_platform_error(
        &app.ppost(&at, t, json!({"username": "nobody"})).await,
        404,
        "ResourceNotFoundError",
    );
    assert_platform_error(
        &app.ppost(&at, t, json!({"nick": "x"})).await,
        400,
        "InvalidParameterError",
    );
    assert_platform_error(
        &app.ppost(&at, t, json!([1])).await,
        400,
        "InvalidParameterError",
    );
    assert_platform_error(
        &app.ppost("/channels/999999/members", t, json!({"username": "bob"}))
            .await,
        404,
        "ResourceNotFoundError",
    );
    // A DIRECT channel keeps its members.
    let d = format!("/channels/{}/members", f.direct);
    assert_platform_error(
        &app.ppost(&d, t, json!({"username": "carol"})).await,
        400,
        "InvalidParameterError",
    );
    assert_platform_error(
        &app.pdelete(&format!("{d}/{}", f.ids[0]), t).await,
        400,
        "InvalidParameterError",
    );
    assert_eq!(names(&app.pget(&d, t).await.body), ["alice", "bob"]);
    assert_platform_error(
        &app.pget_query(&at, t, &[("size", "1000")]).await,
        400,
        "InvalidParameterError",
    );
}

#[tokio::test]
async fn moderators_of_group_channels() {
    let f = setup().await;
    let (app, t) = (&f.app, f.token.as_str());
    let at = format!("/channels/{}/moderators", f.general);
    let r = app.ppost(&at, t, json!({"id": f.ids[1]})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "bob");
    assert_eq!(
        r.body["_links"]["self"]["href"],
        format!("{}/users/{}", app.base, f.ids[1])
    );
    let l = app.pget(&at, t).await;
    assert_eq!(l.status, 200, "{}", l.text);
    assert_eq!(names(&l.body), ["bob"]);
    let d = app.pdelete(&format!("{at}/{}", f.ids[1]), t).await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(d.body["id"], f.general);
    assert_eq!(app.pget(&at, t).await.body["page"]["total_elements"], 0);
    assert_platform_error(
        &app.pdelete(&format!("{at}/{}", f.ids[1]), t).await,
        404,
        "ResourceNotFoundError",
    );
    let direct = format!("/channels/{}/moderators", f.direct);
    assert_platform_error(
        &app.ppost(&direct, t, json!({"id": f.ids[0]})).await,
        400,
        "InvalidParameterError",
    );
    assert_platform_error(&app.pget(&direct, t).await, 400, "InvalidParameterError");
}

#[tokio::test]
async fn invites_are_for_private_channels() {
    let f = setup().await;
    let (app, t) = (&f.app, f.token.as_str());
    let at = format!("/channels/{}/invites", f.private);
    let r = app
        .ppost(&at, t, json!({"user": {"username": "carol"}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["created_time"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    assert_eq!(
        r.body["_links"]["user"]["href"],
        format!("{}/users/{}", app.base, f.ids[2])
    );
    let l = app.pget(&at, t).await;
    assert_eq!(l.status, 200, "{}", l.text);
    assert_eq!(l.body["_embedded"]["invites"].as_array().unwrap().len(), 1);
    assert_eq!(
        l.body["_embedded"]["invites"][0]["created_time"],
        r.body["created_time"]
    );
    assert_platform_error(
        &app.ppost(&at, t, json!({})).await,
        400,
        "InvalidParameterError",
    );
    assert_platform_error(
        &app.ppost(&at, t, json!({"user": {"username": "nobody"}}))
            .await,
        404,
        "ResourceNotFoundError",
    );
    for other in [f.general, f.direct] {
        let p = format!("/channels/{other}/invites");
        assert_platform_error(
            &app.ppost(&p, t, json!({"user": {"username": "carol"}}))
                .await,
            400,
            "InvalidParameterError",
        );
        assert_platform_error(&app.pget(&p, t).await, 400, "InvalidParameterError");
    }
}

#[tokio::test]
async fn participants_are_an_empty_page_of_users() {
    let f = setup().await;
    let r = f
        .app
        .pget(&format!("/channels/{}/participants", f.general), &f.token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["_embedded"], json!({"users": []}));
    assert_eq!(
        r.body["page"],
        json!({"size": 25, "total_elements": 0, "total_pages": 0, "number": 0})
    );
    let r = f.app.pget("/channels/999999/participants", &f.token).await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");
}

#[tokio::test]
async fn custom_events_and_keystrokes_echo() {
    let f = setup().await;
    let (app, t) = (&f.app, f.token.as_str());
    let ev = format!("/channels/{}/events", f.general);
    let r = app
        .ppost(&ev, t, json!({"type": "custom", "properties": {"a": 1}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"type": "custom", "properties": {"a": 1}}));
    for bad in [
        json!({"properties": {"a": 1}}),
        json!({"type": "custom"}),
        json!({"type": "", "properties": {}}),
        json!({"type": "custom", "properties": [1]}),
    ] {
        assert_platform_error(&app.ppost(&ev, t, bad).await, 400, "InvalidParameterError");
    }
    let ks = format!("/channels/{}/keystrokes", f.general);
    let r = app
        .ppost(
            &ks,
            t,
            json!({"keys": "typ", "user": {"username": "alice"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"keys": "typ", "username": "alice"}));
    assert_platform_error(
        &app.ppost(&ks, t, json!({"keys": "typ"})).await,
        400,
        "InvalidParameterError",
    );
    assert_platform_error(
        &app.ppost(&ks, t, json!({"user": {"id": f.ids[0]}})).await,
        400,
        "InvalidParameterError",
    );
    assert_platform_error(
        &app.ppost(&ks, t, json!({"keys": "x", "user": {"username": "nobody"}}))
            .await,
        404,
        "ResourceNotFoundError",
    );
    assert_platform_error(
        &app.ppost(
            "/channels/999999/events",
            t,
            json!({"type": "c", "properties": {}}),
        )
        .await,
        404,
        "ResourceNotFoundError",
    );
}

/// Users whose display names tie ("Same"), made a few milliseconds apart so that their creation
/// times differ: (name, display name), in creation (and id) order.
const SORTED_PEOPLE: [(&str, &str); 4] = [
    ("dora", "Same"),
    ("abel", "Zed"),
    ("carl", "Same"),
    ("bea", "Amy"),
];

/// A PUBLIC "room" and a PRIVATE "den" (no members yet) and the [`SORTED_PEOPLE`] by name.
async fn sorted_people() -> (
    TestApp,
    String,
    std::collections::HashMap<String, i64>,
    i64,
    i64,
) {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let mut ids = std::collections::HashMap::new();
    for (name, display) in SORTED_PEOPLE {
        let u = app
            .create_chat_user(&token, json!({"name": name, "display_name": display}))
            .await;
        ids.insert(name.to_string(), u["id"].as_i64().unwrap());
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let mut channels = Vec::new();
    for body in [
        json!({"type": "PUBLIC", "name": "room"}),
        json!({"type": "PRIVATE", "name": "den"}),
    ] {
        let r = app.ppost("/channels", &token, body).await;
        assert_eq!(r.status, 200, "{}", r.text);
        channels.push(r.body["id"].as_i64().unwrap());
    }
    (app, token, ids, channels[0], channels[1])
}

/// The user names of a roster's entries (memberships, invites), read from their user links.
fn entry_names(
    page: &Value,
    name: &str,
    ids: &std::collections::HashMap<String, i64>,
) -> Vec<String> {
    page["_embedded"][name]
        .as_array()
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        .iter()
        .map(|e| {
            let href = e["_links"]["user"]["href"].as_str().unwrap();
            let id: i64 = href.rsplit('/').next().unwrap().parse().unwrap();
            ids.iter().find(|(_, v)| **v == id).unwrap().0.clone()
        })
        .collect()
}

#[tokio::test]
async fn rosters_sort_by_their_users_and_by_when_added() {
    let (app, t, ids, room, den) = sorted_people().await;
    let t = t.as_str();
    // Added in neither name nor id order, a few milliseconds apart.
    for name in ["carl", "dora", "bea", "abel"] {
        let r = app
            .ppost(
                &format!("/channels/{room}/members"),
                t,
                json!({"username": name}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let members = format!("/channels/{room}/members");
    let get = |path: String, sort: Vec<&'static str>| {
        let app = &app;
        async move {
            let q: Vec<(&str, &str)> = sort.iter().map(|s| ("sort", *s)).collect();
            let r = app.pget_query(&path, t, &q).await;
            assert_eq!(r.status, 200, "{path} {sort:?}: {}", r.text);
            r
        }
    };
    // By default in the order they were added.
    let r = get(members.clone(), vec![]).await;
    assert_eq!(names(&r.body), ["carl", "dora", "bea", "abel"]);
    // The user's fields, bare, snake or camel, or under `user.` as ChatKitty's SDK sends them.
    for sort in [
        "display_name,asc",
        "displayName",
        "user.displayName,asc",
        "user.display_name,ASC",
    ] {
        // Ties ("Same") by id: dora was made before carl.
        let r = get(members.clone(), vec![sort]).await;
        assert_eq!(names(&r.body), ["bea", "dora", "carl", "abel"], "{sort}");
    }
    let r = get(members.clone(), vec!["displayName,desc", "name,asc"]).await;
    assert_eq!(names(&r.body), ["abel", "carl", "dora", "bea"]);
    let r = get(members.clone(), vec!["name,desc"]).await;
    assert_eq!(names(&r.body), ["dora", "carl", "bea", "abel"]);
    for sort in ["created_time,desc", "user.createdTime,desc", "id,desc"] {
        let r = get(members.clone(), vec![sort]).await;
        assert_eq!(names(&r.body), ["bea", "carl", "abel", "dora"], "{sort}");
    }
    let r = get(members.clone(), vec!["user.id"]).await;
    assert_eq!(names(&r.body), ["dora", "abel", "carl", "bea"]);
    // Under /v1 the same, and the sort is carried into the links of every page.
    let r = app
        .pget_query(
            &format!("/v1{members}"),
            t,
            &[("sort", "user.displayName,asc"), ("size", "3")],
        )
        .await;
    assert_eq!(names(&r.body), ["bea", "dora", "carl"]);
    assert_eq!(r.body["page"]["totalElements"], 4);
    let next = r.body["_links"]["next"]["href"].as_str().unwrap();
    assert!(next.contains("sort=user.displayName%2Casc"), "{next}");
    let r = app.pget(next.strip_prefix(&app.base).unwrap(), t).await;
    assert_eq!(names(&r.body), ["abel"]);

    // Memberships: their own created_time is when the user was added.
    let memberships = format!("/channels/{room}/memberships");
    let r = get(memberships.clone(), vec!["createdTime,desc"]).await;
    assert_eq!(
        entry_names(&r.body, "memberships", &ids),
        ["abel", "bea", "dora", "carl"]
    );
    let r = get(memberships.clone(), vec!["created_time"]).await;
    assert_eq!(
        entry_names(&r.body, "memberships", &ids),
        ["carl", "dora", "bea", "abel"]
    );
    let r = get(memberships.clone(), vec!["user.name,desc"]).await;
    assert_eq!(
        entry_names(&r.body, "memberships", &ids),
        ["dora", "carl", "bea", "abel"]
    );
    let r = get(
        memberships.clone(),
        vec!["user.display_name", "created_time,desc"],
    )
    .await;
    assert_eq!(
        entry_names(&r.body, "memberships", &ids),
        ["bea", "dora", "carl", "abel"]
    );

    // Moderators sort like members.
    for name in ["abel", "bea"] {
        let r = app
            .ppost(
                &format!("/channels/{room}/moderators"),
                t,
                json!({"username": name}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = get(
        format!("/channels/{room}/moderators"),
        vec!["user.name,desc"],
    )
    .await;
    assert_eq!(names(&r.body), ["bea", "abel"]);

    // Invites sort like memberships.
    let invites = format!("/channels/{den}/invites");
    for name in ["carl", "abel"] {
        let r = app
            .ppost(&invites, t, json!({"user": {"username": name}}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let r = get(invites.clone(), vec!["createdTime,desc"]).await;
    assert_eq!(entry_names(&r.body, "invites", &ids), ["abel", "carl"]);
    let r = get(invites.clone(), vec!["user.displayName"]).await;
    assert_eq!(entry_names(&r.body, "invites", &ids), ["carl", "abel"]);

    // What a list has no field of is refused, in the platform's error shape.
    for (path, sort) in [
        (&members, "password"),
        (&members, "user.password"),
        (&members, "properties"),
        (&members, "name,sideways"),
        (&memberships, "name"),
        (&memberships, "display_name"),
        (&memberships, "id"),
        (&invites, "user.secret"),
    ] {
        let r = app.pget_query(path, t, &[("sort", sort)]).await;
        assert_platform_error(&r, 400, "InvalidParameterError");
    }
}

#[tokio::test]
async fn participants_sort_by_their_users() {
    let (app, t, ids, room, _) = sorted_people().await;
    let p = palaver_service::AppPrincipal {
        application_id: app.app_id,
        organisation_id: app.org_id.clone(),
    };
    let platform = &app.services.platform;
    // Everyone but abel has the room open.
    for name in ["carl", "bea", "dora"] {
        let user = platform.get_user(&p, ids[name]).await.unwrap();
        let session = platform
            .start_user_session(&p, &user, "test-instance", None)
            .await
            .unwrap();
        platform
            .start_chat_session(&p, &session, room)
            .await
            .unwrap();
    }
    let at = format!("/channels/{room}/participants");
    let r = app.pget(&at, &t).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(names(&r.body), ["dora", "carl", "bea"]);
    assert_eq!(r.body["page"]["total_elements"], 3);
    for (sort, want) in [
        ("display_name", ["bea", "dora", "carl"]),
        ("user.displayName,desc", ["dora", "carl", "bea"]),
        ("name,desc", ["dora", "carl", "bea"]),
        ("createdTime,desc", ["bea", "carl", "dora"]),
    ] {
        let r = app.pget_query(&at, &t, &[("sort", sort)]).await;
        assert_eq!(r.status, 200, "{sort}: {}", r.text);
        assert_eq!(names(&r.body), want, "{sort}");
    }
    let r = app
        .pget_query(&at, &t, &[("sort", "name"), ("size", "2"), ("page", "1")])
        .await;
    assert_eq!(names(&r.body), ["dora"]);
    let r = app.pget_query(&at, &t, &[("sort", "presence")]).await;
    assert_platform_error(&r, 400, "InvalidParameterError");
}
