//! Chat users of the platform API: create, look up by name, list with filters, merge-patch,
//! delete, display pictures and secrets.

use palaver_test_support::{assert_platform_error, TestApp};
use serde_json::{json, Value};

async fn setup() -> (TestApp, String) {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    (app, token)
}

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

#[tokio::test]
async fn create_a_person_with_every_field() {
    let (app, token) = setup().await;
    let before = palaver_domain::time::now_millis();
    let r = app
        .ppost(
            "/users",
            &token,
            json!({"name": "alice", "display_name": "Alice Liddell", "is_guest": false,
                "properties": {"team": "a", "level": 2, "tags": ["x"]}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = id_of(&r.body);
    let u = format!("{}/users/{id}", app.base);
    let created = r.body["created_time"].as_str().expect("created_time");
    let at = palaver_domain::time::parse_date(created).expect("ISO time");
    assert!(
        created.ends_with('Z') && at >= before - 1000 && at <= palaver_domain::time::now_millis()
    );
    assert_eq!(
        r.body,
        json!({
            "type": "PERSON",
            "id": id,
            "name": "alice",
            "display_name": "Alice Liddell",
            "display_picture_url": format!("{}/avatars/alice.svg", app.base),
            "isGuest": false,
            "presence": {"online": false, "status": "UNAVAILABLE"},
            "call_status": "AVAILABLE",
            "properties": {"team": "a", "level": 2, "tags": ["x"]},
            "created_time": created,
            "_links": {
                "self": {"href": u},
                "channels": {"href": format!("{u}/channels")},
                "messages": {"href": format!("{u}/messages")},
                "notifications": {"href": format!("{u}/notifications")},
                "application": {"href": format!("{}/application", app.base)},
            }
        })
    );
    // GET answers the same resource.
    let g = app.pget(&format!("/users/{id}"), &token).await;
    assert_eq!((g.status, &g.body), (200, &r.body));
}

#[tokio::test]
async fn the_default_picture_is_an_svg_that_exists() {
    let (app, token) = setup().await;
    for (name, initial) in [("bob", "B"), ("zoë smith", "Z"), ("<x>", "&lt;")] {
        let u = app
            .create_chat_user(
                &token,
                json!({"name": name, "display_name": "D", "is_guest": false}),
            )
            .await;
        let url = u["display_picture_url"].as_str().expect("url").to_string();
        assert!(url.starts_with(&format!("{}/avatars/", app.base)), "{url}");
        assert!(url.ends_with(".svg"), "{url}");
        let res = app.client.get(&url).send().await.expect("sent");
        assert_eq!(res.status().as_u16(), 200, "{url}");
        assert_eq!(
            res.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("image/svg+xml")
        );
        let svg = res.text().await.expect("body");
        assert!(
            svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{svg}"
        );
        assert!(svg.contains(&format!(">{initial}</text>")), "{name}: {svg}");
    }
}

#[tokio::test]
async fn bots_guests_and_defaults() {
    let (app, token) = setup().await;
    let r = app
        .ppost(
            "/users",
            &token,
            json!({"name": "helper", "display_name": "Helper", "type": "BOT"}),
        )
        .await;
    assert_eq!(
        (r.status, &r.body["type"]),
        (200, &json!("BOT")),
        "{}",
        r.text
    );
    assert_eq!(r.body["isGuest"], false);
    let r = app
        .ppost(
            "/users",
            &token,
            json!({"name": "visitor", "display_name": "V", "is_guest": true}),
        )
        .await;
    assert_eq!(
        (r.status, &r.body["isGuest"]),
        (200, &json!(true)),
        "{}",
        r.text
    );
    assert_eq!(r.body["type"], "PERSON");
    // Without a display name, the name is shown; without properties, an empty map.
    let r = app.ppost("/users", &token, json!({"name": "plain"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["display_name"], "plain");
    assert_eq!(r.body["properties"], json!({}));
    assert_eq!(r.body["isGuest"], false);
    // An own picture URL is kept.
    let r = app
        .ppost(
            "/users",
            &token,
            json!({"name": "pic", "display_picture_url": "https://cdn.example.com/p.png"}),
        )
        .await;
    assert_eq!(
        r.body["display_picture_url"],
        "https://cdn.example.com/p.png"
    );
}

#[tokio::test]
async fn invalid_users_are_400() {
    let (app, token) = setup().await;
    let long = "n".repeat(256);
    for body in [
        json!({}),
        json!({"name": ""}),
        json!({"name": "   "}),
        json!({"name": 5}),
        json!({"name": long}),
        json!({"name": "x", "type": "ROBOT"}),
        json!({"name": "x", "is_guest": "yes"}),
        json!({"name": "x", "display_name": 3}),
        json!({"name": "x", "properties": [1]}),
        json!({"name": "x", "properties": "team"}),
        json!({"name": "x", "display_picture_url": "ftp://x/y.png"}),
        json!({"name": "x", "display_picture_url": "not a url"}),
    ] {
        let r = app.ppost("/users", &token, body.clone()).await;
        assert_platform_error(&r, 400, "InvalidParameterError");
    }
    // An empty body.
    let r = app.pcall("POST", "/users", Some(&token), &[], None).await;
    assert_platform_error(&r, 400, "InvalidParameterError");
    // None of them was created.
    let r = app.pget("/users", &token).await;
    assert_eq!(r.body["page"]["total_elements"], 0);
}

#[tokio::test]
async fn duplicate_names_are_409() {
    let (app, token) = setup().await;
    app.create_chat_user(&token, json!({"name": "alice", "display_name": "A"}))
        .await;
    let r = app
        .ppost(
            "/v1/users",
            &token,
            json!({"name": "alice", "displayName": "Another"}),
        )
        .await;
    let e = assert_platform_error(&r, 409, "DuplicateResourceError");
    assert_eq!(r.body["message"], "Resource already exists");
    assert_eq!(e, "A user named \"alice\" already exists");
    let r = app.pget("/users?name=alice", &token).await;
    assert_eq!(r.body["page"]["total_elements"], 1);
    assert_eq!(r.body["_embedded"]["users"][0]["display_name"], "A");
}

#[tokio::test]
async fn head_tells_whether_a_name_exists_without_a_body() {
    let (app, token) = setup().await;
    app.create_chat_user(&token, json!({"name": "alice smith"}))
        .await;
    for (q, status) in [
        ("?name=alice%20smith", 200),
        ("?name=alice+smith", 200),
        ("?name=alice", 404),
        ("?name=ALICE%20SMITH", 404),
        ("?name=", 400),
        ("", 400),
    ] {
        for prefix in ["", "/v1"] {
            let r = app
                .pcall(
                    "HEAD",
                    &format!("{prefix}/users{q}"),
                    Some(&token),
                    &[],
                    None,
                )
                .await;
            assert_eq!(r.status, status, "{prefix} {q}");
            assert_eq!(r.text, "", "{prefix} {q}");
        }
    }
    let r = app
        .pcall("HEAD", "/users?name=alice", Some("bogus"), &[], None)
        .await;
    assert_eq!((r.status, r.text.as_str()), (401, ""));
}

#[tokio::test]
async fn list_filters_by_name_and_properties() {
    let (app, token) = setup().await;
    let mut ids = Vec::new();
    for (name, props) in [
        ("a1", json!({"team": "a", "level": 1})),
        ("a2", json!({"team": "a", "level": 2})),
        ("b1", json!({"team": "b", "level": 1})),
        ("none", json!({})),
        ("num", json!({"team": 1})),
    ] {
        let u = app
            .create_chat_user(&token, json!({"name": name, "properties": props}))
            .await;
        ids.push(id_of(&u));
    }
    let listed = |r: &palaver_test_support::Resp| -> Vec<i64> {
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["_embedded"]["users"]
            .as_array()
            .expect("users")
            .iter()
            .map(id_of)
            .collect()
    };
    let get = |q: Vec<(&'static str, String)>| {
        let app = &app;
        let token = &token;
        async move {
            let res = app
                .client
                .get(app.url("/users"))
                .bearer_auth(token)
                .query(&q)
                .send()
                .await
                .expect("sent");
            TestApp::read(res).await
        }
    };
    let r = get(vec![("name", "a2".into())]).await;
    assert_eq!(listed(&r), vec![ids[1]]);
    assert_eq!(r.body["page"]["total_elements"], 1);
    let r = get(vec![("name", "a".into())]).await;
    assert_eq!(listed(&r), Vec::<i64>::new());
    let r = get(vec![("properties", json!({"team": "a"}).to_string())]).await;
    assert_eq!(listed(&r), vec![ids[0], ids[1]]);
    assert_eq!(r.body["page"]["total_elements"], 2);
    let r = get(vec![(
        "properties",
        json!({"team": "a", "level": 2}).to_string(),
    )])
    .await;
    assert_eq!(listed(&r), vec![ids[1]]);
    let r = get(vec![("properties", json!({"level": 1}).to_string())]).await;
    assert_eq!(listed(&r), vec![ids[0], ids[2]]);
    // JSON types matter: the number 1 is not the string "1".
    let r = get(vec![("properties", json!({"team": 1}).to_string())]).await;
    assert_eq!(listed(&r), vec![ids[4]]);
    let r = get(vec![("properties", json!({"team": "1"}).to_string())]).await;
    assert_eq!(listed(&r), Vec::<i64>::new());
    // A missing key is not a key holding null.
    let r = get(vec![("properties", json!({"team": null}).to_string())]).await;
    assert_eq!(listed(&r), Vec::<i64>::new());
    let r = get(vec![("properties", "{}".into())]).await;
    assert_eq!(listed(&r).len(), 5);
    let r = get(vec![
        ("properties", json!({"team": "a"}).to_string()),
        ("name", "a1".into()),
    ])
    .await;
    assert_eq!(listed(&r), vec![ids[0]]);
    for bad in ["{team:a}", "[1]", "\"a\"", "{", "team=a"] {
        let r = get(vec![("properties", bad.into())]).await;
        let e = assert_platform_error(&r, 400, "InvalidParameterError");
        assert!(e.contains("properties"), "{bad}: {e}");
    }
}

/// `unread` (a filter only `chatkitty` 2.106 sends): `true` lists the users with messages of
/// others they have not read, `false` those without; it holds alongside the other filters, and
/// the total counts the same users.
#[tokio::test]
async fn list_filters_by_unread_messages() {
    let (app, token) = setup().await;
    let mut ids = std::collections::HashMap::new();
    for name in ["alice", "bob", "carol", "dave"] {
        let u = app.create_chat_user(&token, json!({"name": name})).await;
        ids.insert(name, id_of(&u));
    }
    // dave is in no channel at all.
    let r = app
        .ppost(
            "/channels",
            &token,
            json!({"type": "PUBLIC", "name": "general", "creator": {"username": "alice"},
                "members": [{"username": "bob"}, {"username": "carol"}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let general = r.body["id"].as_i64().expect("id");
    let names = |r: &palaver_test_support::Resp| -> Vec<String> {
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["_embedded"]["users"]
            .as_array()
            .expect("users")
            .iter()
            .map(|u| u["name"].as_str().expect("name").to_string())
            .collect()
    };
    let list = |q: Vec<(&'static str, &'static str)>| {
        let (app, token) = (&app, &token);
        async move { app.pget_query("/users", token, &q).await }
    };
    assert_eq!(
        names(&list(vec![("unread", "true")]).await),
        Vec::<String>::new()
    );
    let r = app
        .ppost(
            &format!("/channels/{general}/messages"),
            &token,
            json!({"type": "TEXT", "body": "hi", "user": {"username": "alice"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let message = r.body["id"].as_i64().expect("id");
    for prefix in ["", "/v1"] {
        let r = app
            .pget_query(&format!("{prefix}/users"), &token, &[("unread", "true")])
            .await;
        assert_eq!(names(&r), ["bob", "carol"]);
        let total = if prefix.is_empty() {
            "total_elements"
        } else {
            "totalElements"
        };
        assert_eq!(r.body["page"][total], 2, "{}", r.text);
    }
    assert_eq!(
        names(&list(vec![("unread", "false")]).await),
        ["alice", "dave"]
    );
    assert_eq!(names(&list(vec![("unread", "")]).await).len(), 4);
    // bob reads it: only carol is left with something unread.
    let p = palaver_service::AppPrincipal {
        application_id: app.app_id,
        organisation_id: app.org_id.clone(),
    };
    app.services
        .platform
        .read_message(&p, ids["bob"], message)
        .await
        .expect("read");
    let r = list(vec![("unread", "TRUE"), ("sort", "name,desc")]).await;
    assert_eq!(names(&r), ["carol"]);
    assert_eq!(r.body["page"]["total_elements"], 1);
    assert_eq!(
        names(&list(vec![("unread", "true"), ("name", "bob")]).await),
        Vec::<String>::new()
    );
    // The filter is carried into the page links.
    let href = r.body["_links"]["self"]["href"].as_str().expect("self");
    assert!(href.contains("unread=TRUE"), "{href}");
    for bad in ["yes", "1", "maybe"] {
        let r = app.pget_query("/users", &token, &[("unread", bad)]).await;
        let e = assert_platform_error(&r, 400, "InvalidParameterError");
        assert!(e.contains("unread"), "{bad}: {e}");
    }
}

#[tokio::test]
async fn patch_merges() {
    let (app, token) = setup().await;
    let u = app
        .create_chat_user(
            &token,
            json!({"name": "alice", "display_name": "Alice",
                "properties": {"team": "a", "old": true, "nested": {"x": 1, "y": 2}}}),
        )
        .await;
    let path = format!("/users/{}", id_of(&u));
    let r = app
        .ppatch(
            &path,
            &token,
            json!({"properties": {"team": "b", "old": null, "new": 1, "nested": {"y": null, "z": 3}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["properties"],
        json!({"team": "b", "new": 1, "nested": {"x": 1, "z": 3}})
    );
    // Nothing else changed.
    assert_eq!(r.body["display_name"], "Alice");
    assert_eq!(r.body["isGuest"], false);
    assert_eq!(r.body["name"], "alice");
    assert_eq!(r.body["created_time"], u["created_time"]);

    let r = app
        .ppatch(
            &path,
            &token,
            json!({"display_name": "Alice L.", "isGuest": true, "presence": {"status": "AVAILABLE"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["display_name"], "Alice L.");
    assert_eq!(r.body["isGuest"], true);
    assert_eq!(
        r.body["presence"],
        json!({"online": false, "status": "AVAILABLE"})
    );
    assert_eq!(
        r.body["properties"],
        json!({"team": "b", "new": 1, "nested": {"x": 1, "z": 3}})
    );
    // Stored, not only answered.
    let g = app.pget(&path, &token).await;
    assert_eq!(g.body, r.body);

    // An empty patch, an empty object and an unknown field change nothing.
    for body in [
        None,
        Some(json!({})),
        Some(json!({"favourite_colour": "red"})),
    ] {
        let r = app
            .pcall(
                "PATCH",
                &path,
                Some(&token),
                &[("Content-Type", "application/merge-patch+json")],
                body,
            )
            .await;
        assert_eq!((r.status, &r.body), (200, &g.body), "{}", r.text);
    }
    // `properties: null` empties the map.
    let r = app.ppatch(&path, &token, json!({"properties": null})).await;
    assert_eq!((r.status, &r.body["properties"]), (200, &json!({})));

    for bad in [
        json!({"display_name": ""}),
        json!({"display_name": 5}),
        json!({"isGuest": "no"}),
        json!({"presence": "AVAILABLE"}),
        json!({"properties": [1]}),
        json!([{"op": "replace"}]),
    ] {
        let r = app.ppatch(&path, &token, bad.clone()).await;
        assert_platform_error(&r, 400, "InvalidParameterError");
    }
    let r = app
        .ppatch("/users/999999", &token, json!({"display_name": "x"}))
        .await;
    let e = assert_platform_error(&r, 404, "ResourceNotFoundError");
    assert_eq!(e, "No user with id 999999");
}

#[tokio::test]
async fn delete_answers_the_application_and_the_user_is_gone() {
    let (app, token) = setup().await;
    let u = app.create_chat_user(&token, json!({"name": "alice"})).await;
    let id = id_of(&u);
    app.pput(
        &format!("/users/{id}/secrets/k"),
        &token,
        json!({"secret": 1}),
    )
    .await;
    let r = app.pdelete(&format!("/v1/users/{id}"), &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["id"], app.app_id);
    assert_eq!(r.body["key"], Value::from(app.api_key.clone()));
    assert!(r.body["createdTime"].is_string(), "{}", r.text);
    assert_eq!(
        r.body["_links"]["self"]["href"],
        format!("{}/v1/application", app.base)
    );

    for (method, path) in [
        ("GET", format!("/users/{id}")),
        ("DELETE", format!("/users/{id}")),
        ("GET", format!("/users/{id}/secrets/k")),
    ] {
        let r = app.pcall(method, &path, Some(&token), &[], None).await;
        let e = assert_platform_error(&r, 404, "ResourceNotFoundError");
        assert_eq!(e, format!("No user with id {id}"));
    }
    let r = app
        .pcall("HEAD", "/users?name=alice", Some(&token), &[], None)
        .await;
    assert_eq!(r.status, 404);
    let r = app.pget("/users", &token).await;
    assert_eq!(r.body["page"]["total_elements"], 0);
    // The name is free again, for a new user with a new id and no secrets.
    let again = app.create_chat_user(&token, json!({"name": "alice"})).await;
    assert_ne!(id_of(&again), id);
    let r = app
        .pget(&format!("/users/{}/secrets/k", id_of(&again)), &token)
        .await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");
}

#[tokio::test]
async fn unknown_and_malformed_user_ids_are_404() {
    let (app, token) = setup().await;
    for id in ["999999", "0", "-1", "abc", "1.5", "99999999999999999999999"] {
        for method in ["GET", "DELETE"] {
            let r = app
                .pcall(method, &format!("/users/{id}"), Some(&token), &[], None)
                .await;
            let e = assert_platform_error(&r, 404, "ResourceNotFoundError");
            assert_eq!(e, format!("No user with id {id}"), "{method} {id}");
        }
    }
}

#[tokio::test]
async fn display_picture_from_an_external_file() {
    let (app, token) = setup().await;
    let u = app.create_chat_user(&token, json!({"name": "alice"})).await;
    let path = format!("/v1/users/{}/display-picture", id_of(&u));
    let file = json!({"url": "https://cdn.example.com/alice.png", "name": "alice.png",
        "contentType": "image/png", "size": 2048});
    let r = app.ppost(&path, &token, file.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["displayPictureUrl"],
        "https://cdn.example.com/alice.png"
    );
    assert_eq!(r.body["id"], u["id"]);
    let g = app.pget(&format!("/users/{}", id_of(&u)), &token).await;
    assert_eq!(
        g.body["display_picture_url"],
        "https://cdn.example.com/alice.png"
    );

    let with = |k: &str, v: Value| {
        let mut f = file.clone();
        f[k] = v;
        f
    };
    let without = |k: &str| {
        let mut f = file.clone();
        f.as_object_mut().expect("object").remove(k);
        f
    };
    for bad in [
        with("url", json!("ftp://cdn.example.com/a.png")),
        with("url", json!("cdn.example.com/a.png")),
        with("url", json!("https://")),
        with("url", json!("https://cdn.example.com/a b.png")),
        with("url", json!(5)),
        without("url"),
        without("name"),
        without("contentType"),
        without("size"),
        with("size", json!(-1)),
        with("size", json!("big")),
        json!([]),
    ] {
        let r = app.ppost(&path, &token, bad.clone()).await;
        assert_platform_error(&r, 400, "InvalidParameterError");
    }
    // The failed attempts left the picture alone.
    let g = app.pget(&format!("/users/{}", id_of(&u)), &token).await;
    assert_eq!(
        g.body["display_picture_url"],
        "https://cdn.example.com/alice.png"
    );
    let r = app
        .ppost("/users/999999/display-picture", &token, file)
        .await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");
}

#[tokio::test]
async fn secrets_set_read_replace_and_remove() {
    let (app, token) = setup().await;
    let u = app.create_chat_user(&token, json!({"name": "alice"})).await;
    let id = id_of(&u);
    let path = format!("/v1/users/{id}/secrets/api-key");
    let secret = json!({"token": "abc", "nested_key": {"innerKey": 1}});
    let r = app.pput(&path, &token, json!({"secret": secret})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The answer is the user.
    assert_eq!(r.body["id"], id);
    assert_eq!(r.body["name"], "alice");
    assert!(r.body["_links"]["self"].is_object());
    // The secret comes back exactly, its keys untouched in either naming.
    let r = app.pget(&path, &token).await;
    assert_eq!((r.status, &r.body), (200, &json!({"secret": secret})));
    let r = app
        .pget(&format!("/users/{id}/secrets/api-key"), &token)
        .await;
    assert_eq!(r.body, json!({"secret": secret}));
    // Any JSON value, replacing the previous one.
    for value in [json!("plain"), json!(42), json!([1, "two"]), json!(false)] {
        let r = app.pput(&path, &token, json!({"secret": value})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = app.pget(&path, &token).await;
        assert_eq!(r.body, json!({"secret": value}));
    }
    // Names are per user and may hold encoded characters.
    let spaced = format!("/users/{id}/secrets/my%20secret");
    let r = app.pput(&spaced, &token, json!({"secret": "s"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app.pget(&spaced, &token).await;
    assert_eq!(r.body, json!({"secret": "s"}));
    let other = app.create_chat_user(&token, json!({"name": "bob"})).await;
    let r = app
        .pget(&format!("/users/{}/secrets/api-key", id_of(&other)), &token)
        .await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");

    // Delete answers the user; afterwards the secret is missing, the other remains.
    let r = app.pdelete(&path, &token).await;
    assert_eq!((r.status, &r.body["id"]), (200, &json!(id)), "{}", r.text);
    let r = app.pget(&path, &token).await;
    let e = assert_platform_error(&r, 404, "ResourceNotFoundError");
    assert_eq!(e, format!("User {id} has no secret named \"api-key\""));
    let r = app.pdelete(&path, &token).await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");
    let r = app.pget(&spaced, &token).await;
    assert_eq!(r.status, 200);

    // Missing or null secrets are refused; unknown users are 404.
    for body in [
        None,
        Some(json!({})),
        Some(json!({"secret": null})),
        Some(json!("x")),
    ] {
        let r = app.pcall("PUT", &path, Some(&token), &[], body).await;
        assert_platform_error(&r, 400, "InvalidParameterError");
    }
    let r = app.pget(&path, &token).await;
    assert_eq!(r.status, 404);
    let long = "s".repeat(256);
    let r = app
        .pput(
            &format!("/users/{id}/secrets/{long}"),
            &token,
            json!({"secret": 1}),
        )
        .await;
    assert_platform_error(&r, 400, "InvalidParameterError");
    for (method, body) in [
        ("GET", None),
        ("PUT", Some(json!({"secret": 1}))),
        ("DELETE", None),
    ] {
        let r = app
            .pcall(method, "/users/999999/secrets/k", Some(&token), &[], body)
            .await;
        let e = assert_platform_error(&r, 404, "ResourceNotFoundError");
        assert_eq!(e, "No user with id 999999", "{method}");
    }
}

#[tokio::test]
async fn users_of_other_applications_are_invisible() {
    let (app, token) = setup().await;
    let other = app.other_application("tenant").await;
    let mine = app
        .create_chat_user(
            &token,
            json!({"name": "alice", "properties": {"team": "a"}}),
        )
        .await;
    let id = id_of(&mine);
    app.pput(
        &format!("/users/{id}/secrets/k"),
        &token,
        json!({"secret": "mine"}),
    )
    .await;
    let t = &other.token;

    // Lists, filters and name lookups see nothing.
    for q in ["", "?name=alice", "?properties=%7B%22team%22%3A%22a%22%7D"] {
        let r = app.pget(&format!("/users{q}"), t).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["page"]["total_elements"], 0, "{q}");
    }
    let r = app
        .pcall("HEAD", "/users?name=alice", Some(t), &[], None)
        .await;
    assert_eq!(r.status, 404);

    // The id answers exactly as a missing one does.
    let missing = app.pget("/users/999999", t).await;
    let calls: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/users/{id}"), None),
        (
            "PATCH",
            format!("/users/{id}"),
            Some(json!({"display_name": "Hacked"})),
        ),
        ("DELETE", format!("/users/{id}"), None),
        (
            "POST",
            format!("/users/{id}/display-picture"),
            Some(
                json!({"url": "https://evil.example.com/x.png", "name": "x", "content_type": "image/png", "size": 1}),
            ),
        ),
        ("GET", format!("/users/{id}/secrets/k"), None),
        (
            "PUT",
            format!("/users/{id}/secrets/k"),
            Some(json!({"secret": "theirs"})),
        ),
        ("DELETE", format!("/users/{id}/secrets/k"), None),
    ];
    for (method, path, body) in calls {
        let r = app.pcall(method, &path, Some(t), &[], body).await;
        let e = assert_platform_error(&r, 404, "ResourceNotFoundError");
        assert_eq!(e, format!("No user with id {id}"), "{method} {path}");
        assert_eq!(r.body["message"], missing.body["message"]);
    }
    // Nothing of it reached the user.
    let r = app.pget(&format!("/users/{id}"), &token).await;
    assert_eq!(r.body, mine);
    let r = app.pget(&format!("/users/{id}/secrets/k"), &token).await;
    assert_eq!(r.body, json!({"secret": "mine"}));

    // The same name can live in both applications, each seeing only its own.
    let theirs = app.create_chat_user(t, json!({"name": "alice"})).await;
    assert_ne!(id_of(&theirs), id);
    let r = app.pget("/users?name=alice", &token).await;
    assert_eq!(r.body["_embedded"]["users"][0]["id"], id);
    let r = app.pget("/users?name=alice", t).await;
    assert_eq!(r.body["_embedded"]["users"][0]["id"], theirs["id"]);
    assert_eq!(r.body["page"]["total_elements"], 1);
}
