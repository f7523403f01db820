//! What every platform API route shares: the three path prefixes, field naming by path and
//! Accept header, the JSON media types a body may come as, HAL links built from the host the
//! client used, and the 404/405/406 answers in the platform's error shape.

use palaver_test_support::{assert_platform_error, TestApp};
use serde_json::{json, Value};

const PERSON: &str = "application/vnd.chatkitty+json,*/*;q=0.8";

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

fn sorted(list: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

const SNAKE_USER: [&str; 11] = [
    "type",
    "id",
    "name",
    "display_name",
    "display_picture_url",
    "isGuest",
    "presence",
    "call_status",
    "properties",
    "created_time",
    "_links",
];

const CAMEL_USER: [&str; 11] = [
    "type",
    "id",
    "name",
    "displayName",
    "displayPictureUrl",
    "isGuest",
    "presence",
    "callStatus",
    "properties",
    "createdTime",
    "_links",
];

#[tokio::test]
async fn every_route_is_served_at_the_root_under_v1_and_under_the_application() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let scoped = format!("/v1/applications/{}", app.app_id);
    for (n, prefix) in ["", "/v1", scoped.as_str()].into_iter().enumerate() {
        let base = format!("{}{prefix}", app.base);
        let at = |p: &str| format!("{prefix}{p}");
        let app_link = if prefix == scoped {
            base.clone()
        } else {
            format!("{base}/application")
        };

        let r = app.pget(&at("/application"), &token).await;
        assert_eq!(r.status, 200, "{prefix}: {}", r.text);
        assert_eq!(r.body["id"], app.app_id);
        assert_eq!(r.body["_links"]["self"]["href"], app_link, "{prefix}");

        let r = app.pget(&at("/application/settings"), &token).await;
        assert_eq!(r.status, 200, "{prefix}: {}", r.text);
        assert_eq!(
            r.body["_links"]["self"]["href"],
            format!("{base}/application/settings")
        );
        let r = app
            .pput(
                &at("/application/settings"),
                &token,
                json!({"guest_users": "ENABLED", "user_created_channels": "DISABLED"}),
            )
            .await;
        assert_eq!(r.status, 200, "{prefix}: {}", r.text);

        let name = format!("user{n}");
        let r = app
            .ppost(
                &at("/users"),
                &token,
                json!({"name": name, "display_name": "U", "is_guest": false}),
            )
            .await;
        assert_eq!(r.status, 200, "{prefix}: {}", r.text);
        let id = r.body["id"].as_i64().expect("id");
        assert_eq!(
            r.body["_links"]["self"]["href"],
            format!("{base}/users/{id}"),
            "{prefix}"
        );
        assert_eq!(r.body["_links"]["application"]["href"], app_link);

        let r = app
            .pcall(
                "HEAD",
                &at(&format!("/users?name={name}")),
                Some(&token),
                &[],
                None,
            )
            .await;
        assert_eq!((r.status, r.text.as_str()), (200, ""), "{prefix}");
        let r = app.pget(&at("/users"), &token).await;
        assert_eq!(r.status, 200, "{prefix}: {}", r.text);
        assert_eq!(
            r.body["_links"]["self"]["href"],
            format!("{base}/users?page=0&size=25")
        );
        let user = at(&format!("/users/{id}"));
        let r = app.pget(&user, &token).await;
        assert_eq!((r.status, &r.body["id"]), (200, &json!(id)), "{prefix}");
        let r = app
            .ppatch(&user, &token, json!({"display_name": "V"}))
            .await;
        assert_eq!(r.status, 200, "{prefix}: {}", r.text);
        let r = app
            .ppost(
                &format!("{user}/display-picture"),
                &token,
                json!({"url": "https://cdn.example.com/a.png", "name": "a.png",
                    "content_type": "image/png", "size": 10}),
            )
            .await;
        assert_eq!(r.status, 200, "{prefix}: {}", r.text);
        let secret = format!("{user}/secrets/key");
        let r = app.pput(&secret, &token, json!({"secret": "s"})).await;
        assert_eq!(r.status, 200, "{prefix}: {}", r.text);
        let r = app.pget(&secret, &token).await;
        assert_eq!(
            (r.status, &r.body),
            (200, &json!({"secret": "s"})),
            "{prefix}"
        );
        let r = app.pdelete(&secret, &token).await;
        assert_eq!(r.status, 200, "{prefix}: {}", r.text);
        let r = app.pdelete(&user, &token).await;
        assert_eq!(r.status, 200, "{prefix}: {}", r.text);
        assert_eq!(r.body["id"], app.app_id);
    }
}

#[tokio::test]
async fn the_application_path_is_the_application() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let scoped = format!("/v1/applications/{}", app.app_id);
    let r = app.pget(&scoped, &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let plain = app.pget("/v1/application", &token).await;
    assert_eq!(r.body["id"], plain.body["id"]);
    assert_eq!(r.body["key"], Value::from(app.api_key.clone()));
    assert_eq!(r.body["createdTime"], plain.body["createdTime"]);
    assert_eq!(r.body["properties"], plain.body["properties"]);
    assert_eq!(
        r.body["_links"]["self"]["href"],
        format!("{}{scoped}", app.base)
    );
}

#[tokio::test]
async fn another_applications_id_in_the_path_is_404() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let other = app.other_application("elsewhere").await;
    let user = app
        .create_chat_user(
            &token,
            json!({"name": "alice", "display_name": "A", "is_guest": false}),
        )
        .await["id"]
        .clone();
    // Look-alikes of the token's own id (`01`, `+1`, an undecodable escape) name no application.
    let own = app.app_id;
    for appid in [
        other.app_id.to_string(),
        "999999".into(),
        "abc".into(),
        format!("0{own}"),
        format!("%2B{own}"),
        "%FF".into(),
    ] {
        let p = format!("/v1/applications/{appid}");
        let calls: Vec<(&str, String, Option<Value>)> = vec![
            ("GET", p.clone(), None),
            ("GET", format!("{p}/application"), None),
            ("GET", format!("{p}/application/settings"), None),
            (
                "PUT",
                format!("{p}/application/settings"),
                Some(json!({"guest_users": "ENABLED"})),
            ),
            ("GET", format!("{p}/users"), None),
            (
                "POST",
                format!("{p}/users"),
                Some(json!({"name": "bob", "display_name": "B", "is_guest": false})),
            ),
            ("GET", format!("{p}/users/{user}"), None),
            (
                "PATCH",
                format!("{p}/users/{user}"),
                Some(json!({"display_name": "X"})),
            ),
            ("DELETE", format!("{p}/users/{user}"), None),
            ("GET", format!("{p}/users/{user}/secrets/k"), None),
            (
                "PUT",
                format!("{p}/users/{user}/secrets/k"),
                Some(json!({"secret": 1})),
            ),
        ];
        for (method, path, body) in calls {
            let r = app.pcall(method, &path, Some(&token), &[], body).await;
            assert_platform_error(&r, 404, "ResourceNotFoundError");
            assert_eq!(r.body["message"], "Resource not found");
        }
        let r = app
            .pcall(
                "HEAD",
                &format!("{p}/users?name=alice"),
                Some(&token),
                &[],
                None,
            )
            .await;
        assert_eq!((r.status, r.text.as_str()), (404, ""));
    }
    // Nothing happened through those paths.
    let r = app.pget(&format!("/users/{user}"), &token).await;
    assert_eq!((r.status, &r.body["display_name"]), (200, &json!("A")));
    let r = app
        .pcall("HEAD", "/users?name=bob", Some(&token), &[], None)
        .await;
    assert_eq!(r.status, 404);
    let r = app.pget("/application/settings", &token).await;
    assert_eq!(r.body["guest_users"], "DISABLED");
    // The other application's own token does reach its own id.
    let r = app
        .pget(&format!("/v1/applications/{}", other.app_id), &other.token)
        .await;
    assert_eq!((r.status, &r.body["id"]), (200, &json!(other.app_id)));
}

#[tokio::test]
async fn naming_follows_the_path_and_the_accept_header() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let props = json!({"my_key": 1, "fooBar": {"inner_key": "x", "innerCamel": true}});
    let u = app
        .create_chat_user(
            &token,
            json!({"name": "alice", "display_name": "Alice", "is_guest": false, "properties": props}),
        )
        .await;
    let id = u["id"].as_i64().expect("id");
    let scoped = format!("/v1/applications/{}", app.app_id);

    let cases: Vec<(String, Option<&str>, bool)> = vec![
        (String::new(), None, false),
        (String::new(), Some("application/json"), false),
        (String::new(), Some(PERSON), false),
        ("/v1".into(), None, true),
        ("/v1".into(), Some("application/json"), true),
        (
            "/v1".into(),
            Some("application/json, text/plain, */*"),
            true,
        ),
        ("/v1".into(), Some(PERSON), false),
        (scoped.clone(), None, true),
        (
            scoped.clone(),
            Some("application/vnd.chatkitty+json"),
            false,
        ),
    ];
    for (prefix, accept, camel) in cases {
        let headers: Vec<(&str, &str)> = accept.map(|a| vec![("Accept", a)]).unwrap_or_default();
        let get = |p: String| {
            let headers = headers.clone();
            let app = &app;
            let token = &token;
            async move { app.pcall("GET", &p, Some(token), &headers, None).await }
        };
        let what = format!("{prefix} {accept:?}");
        let r = get(format!("{prefix}/users/{id}")).await;
        assert_eq!(r.status, 200, "{what}: {}", r.text);
        let want = if camel { &CAMEL_USER } else { &SNAKE_USER };
        assert_eq!(keys(&r.body), sorted(want), "{what}");
        assert_eq!(r.body["properties"], props, "{what}");
        assert_eq!(keys(&r.body["presence"]), sorted(&["online", "status"]));

        let r = get(format!("{prefix}/users")).await;
        let (te, tp) = if camel {
            ("totalElements", "totalPages")
        } else {
            ("total_elements", "total_pages")
        };
        assert_eq!(
            r.body["page"],
            json!({"size": 25, te: 1, tp: 1, "number": 0}),
            "{what}"
        );
        assert_eq!(keys(&r.body["_embedded"]["users"][0]), sorted(want));

        let r = get(format!("{prefix}/application")).await;
        let created = if camel { "createdTime" } else { "created_time" };
        assert_eq!(
            keys(&r.body),
            sorted(&["id", "name", "key", created, "properties", "_links"]),
            "{what}"
        );
        let r = get(format!("{prefix}/application/settings")).await;
        let (g, c) = if camel {
            ("guestUsers", "userCreatedChannels")
        } else {
            ("guest_users", "user_created_channels")
        };
        assert_eq!(keys(&r.body), sorted(&[g, c, "_links"]), "{what}");
    }
}

#[tokio::test]
async fn inputs_are_accepted_in_either_naming() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    // camelCase at the root, snake_case under /v1: the path does not decide how input is read.
    let r = app
        .ppost(
            "/users",
            &token,
            json!({"name": "camel", "displayName": "Camel Case", "isGuest": true,
                "properties": {"someKey": 1}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["display_name"], "Camel Case");
    assert_eq!(r.body["isGuest"], true);
    assert_eq!(r.body["properties"], json!({"someKey": 1}));
    let camel = r.body["id"].as_i64().expect("id");

    let r = app
        .ppost(
            "/v1/users",
            &token,
            json!({"name": "snake", "display_name": "Snake Case", "is_guest": true,
                "properties": {"some_key": 1}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["displayName"], "Snake Case");
    assert_eq!(r.body["isGuest"], true);
    assert_eq!(r.body["properties"], json!({"some_key": 1}));

    // Patches too.
    let r = app
        .ppatch(
            &format!("/v1/users/{camel}"),
            &token,
            json!({"displayName": "Renamed", "isGuest": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (&r.body["displayName"], &r.body["isGuest"]),
        (&json!("Renamed"), &json!(false))
    );
    let r = app
        .ppatch(
            &format!("/users/{camel}"),
            &token,
            json!({"display_name": "Again", "is_guest": true}),
        )
        .await;
    assert_eq!(
        (&r.body["display_name"], &r.body["isGuest"]),
        (&json!("Again"), &json!(true))
    );
    // Settings: B's camelCase body, A's snake_case one.
    let r = app
        .pput(
            "/v1/application/settings",
            &token,
            json!({"guestUsers": "ENABLED", "userCreatedChannels": "ENABLED"}),
        )
        .await;
    assert_eq!(
        (
            r.status,
            &r.body["guestUsers"],
            &r.body["userCreatedChannels"]
        ),
        (200, &json!("ENABLED"), &json!("ENABLED")),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn bodies_of_every_json_media_type_are_read() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let types = [
        "application/json",
        "application/json; charset=utf-8",
        "application/vnd.chatkitty+json",
        "application/json+merge-patch",
        "application/merge-patch+json",
    ];
    for (n, ct) in types.iter().enumerate() {
        let r = app
            .pcall(
                "POST",
                "/users",
                Some(&token),
                &[("Content-Type", ct)],
                Some(json!({"name": format!("u{n}"), "display_name": ct, "is_guest": false})),
            )
            .await;
        assert_eq!(r.status, 200, "{ct}: {}", r.text);
        assert_eq!(r.body["display_name"], *ct);
        let id = r.body["id"].as_i64().expect("id");
        let r = app
            .pcall(
                "PATCH",
                &format!("/users/{id}"),
                Some(&token),
                &[("Content-Type", ct)],
                Some(json!({"properties": {"via": ct}})),
            )
            .await;
        assert_eq!(r.status, 200, "{ct}: {}", r.text);
        assert_eq!(r.body["properties"], json!({"via": ct}));
        let r = app
            .pcall(
                "PUT",
                "/application/settings",
                Some(&token),
                &[("Content-Type", ct)],
                Some(json!({"guest_users": if n % 2 == 0 { "ENABLED" } else { "DISABLED" }})),
            )
            .await;
        assert_eq!(r.status, 200, "{ct}: {}", r.text);
    }
}

#[tokio::test]
async fn malformed_json_is_400_in_the_platform_shape() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let id = app
        .create_chat_user(
            &token,
            json!({"name": "alice", "display_name": "A", "is_guest": false}),
        )
        .await["id"]
        .clone();
    let calls = [
        ("POST", "/users".to_string()),
        ("POST", "/v1/users".to_string()),
        ("PATCH", format!("/users/{id}")),
        ("PUT", "/application/settings".to_string()),
        ("PUT", format!("/users/{id}/secrets/k")),
        ("POST", format!("/users/{id}/display-picture")),
    ];
    for (method, path) in &calls {
        for body in ["{", "{\"name\": }", "not json", "{\"a\":1}}"] {
            let r = app
                .send(
                    method,
                    path,
                    &[
                        ("Authorization", &format!("Bearer {token}")),
                        ("Content-Type", "application/json"),
                    ],
                    Some(body),
                )
                .await;
            assert_platform_error(&r, 400, "MalformedRequestError");
            assert_eq!(r.body["message"], "Client error", "{method} {path} {body}");
        }
    }
    // JSON of the wrong kind is a parameter error, not a malformed one.
    let auth = format!("Bearer {token}");
    for (method, path, body) in [
        ("POST", "/users", "[1,2]"),
        ("POST", "/users", "\"x\""),
        ("PUT", "/application/settings", "5"),
        ("PATCH", &format!("/users/{id}"), "[]"),
    ] {
        let r = app
            .send(
                method,
                path,
                &[
                    ("Authorization", &auth),
                    ("Content-Type", "application/json"),
                ],
                Some(body),
            )
            .await;
        assert_platform_error(&r, 400, "InvalidParameterError");
    }
}

fn user_links(base: &str, app_link: &str, id: i64) -> Value {
    let u = format!("{base}/users/{id}");
    json!({
        "self": {"href": u},
        "channels": {"href": format!("{u}/channels")},
        "messages": {"href": format!("{u}/messages")},
        "notifications": {"href": format!("{u}/notifications")},
        "application": {"href": app_link},
    })
}

#[tokio::test]
async fn links_are_absolute_urls_of_the_host_the_client_used() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let id = app
        .create_chat_user(
            &token,
            json!({"name": "alice", "display_name": "A", "is_guest": false}),
        )
        .await["id"]
        .as_i64()
        .expect("id");
    let auth = format!("Bearer {token}");
    let https_base = app.base.replacen("http", "https", 1);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], app.base.as_str()),
        (
            vec![("Host", "chat.internal:9000")],
            "http://chat.internal:9000",
        ),
        (
            vec![
                ("X-Forwarded-Proto", "https"),
                ("X-Forwarded-Host", "chat.example.com"),
            ],
            "https://chat.example.com",
        ),
        (
            vec![
                ("Host", "10.0.0.5:8080"),
                ("X-Forwarded-Proto", "https, http"),
                ("X-Forwarded-Host", "edge.example.com, proxy.local"),
            ],
            "https://edge.example.com",
        ),
        (vec![("X-Forwarded-Proto", "https")], &https_base),
    ];
    for (headers, origin) in cases {
        let mut h = headers.clone();
        h.push(("Authorization", &auth));
        for prefix in ["", "/v1"] {
            let base = format!("{origin}{prefix}");
            let r = app
                .send("GET", &format!("{prefix}/users/{id}"), &h, None)
                .await;
            assert_eq!(r.status, 200, "{headers:?}: {}", r.text);
            assert_eq!(
                r.body["_links"],
                user_links(&base, &format!("{base}/application"), id),
                "{headers:?}"
            );
            let pic = if prefix.is_empty() {
                "display_picture_url"
            } else {
                "displayPictureUrl"
            };
            assert_eq!(r.body[pic], format!("{origin}/avatars/alice.svg"));
        }
    }
}

#[tokio::test]
async fn the_configured_public_url_wins_over_request_headers() {
    let app = crate::spawn_with(|c| c.public_url = Some("https://api.example.org/".into())).await;
    let token = app.platform_token().await;
    let u = app
        .create_chat_user(
            &token,
            json!({"name": "bob", "display_name": "B", "is_guest": false}),
        )
        .await;
    let id = u["id"].as_i64().expect("id");
    assert_eq!(
        u["_links"],
        user_links(
            "https://api.example.org",
            "https://api.example.org/application",
            id
        )
    );
    assert_eq!(
        u["display_picture_url"],
        "https://api.example.org/avatars/bob.svg"
    );
    let scoped = format!("/v1/applications/{}", app.app_id);
    let r = app
        .pcall(
            "GET",
            &format!("{scoped}/users/{id}"),
            Some(&token),
            &[
                ("X-Forwarded-Host", "evil.example.com"),
                ("Host", "other:1"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let base = format!("https://api.example.org{scoped}");
    assert_eq!(r.body["_links"], user_links(&base, &base, id));
    let r = app.pget("/application", &token).await;
    assert_eq!(
        r.body["_links"],
        json!({"self": {"href": "https://api.example.org/application"},
            "settings": {"href": "https://api.example.org/application/settings"}})
    );
}

#[tokio::test]
async fn accept_headers_that_exclude_json_are_406() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let scoped = format!("/v1/applications/{}", app.app_id);
    let paths = [
        "/users".to_string(),
        "/v1/application".to_string(),
        format!("{scoped}/application/settings"),
        scoped.clone(),
    ];
    for path in &paths {
        for accept in [
            "text/html",
            "application/xml",
            "text/html, application/xhtml+xml",
            "image/png",
        ] {
            let r = app
                .pcall("GET", path, Some(&token), &[("Accept", accept)], None)
                .await;
            assert_eq!(r.status, 406, "{path} {accept}: {}", r.text);
            assert_eq!(r.body["error"], "NotAcceptableError", "{path} {accept}");
        }
        for accept in [
            "*/*",
            "application/json, text/plain, */*",
            "application/json",
            "application/hal+json",
            "application/vnd.chatkitty+json",
            PERSON,
            "text/html, */*;q=0.1",
            "application/*",
        ] {
            let r = app
                .pcall("GET", path, Some(&token), &[("Accept", accept)], None)
                .await;
            assert_eq!(r.status, 200, "{path} {accept}: {}", r.text);
        }
    }
}

#[tokio::test]
async fn unsupported_methods_are_405_in_the_platform_shape() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let id = app
        .create_chat_user(
            &token,
            json!({"name": "alice", "display_name": "A", "is_guest": false}),
        )
        .await["id"]
        .clone();
    let scoped = format!("/v1/applications/{}", app.app_id);
    let mut calls: Vec<(&str, String)> = Vec::new();
    for prefix in ["", "/v1", scoped.as_str()] {
        calls.extend([
            ("DELETE", format!("{prefix}/application")),
            ("POST", format!("{prefix}/application")),
            ("DELETE", format!("{prefix}/application/settings")),
            ("PATCH", format!("{prefix}/application/settings")),
            ("DELETE", format!("{prefix}/users")),
            ("PUT", format!("{prefix}/users/{id}")),
            ("POST", format!("{prefix}/users/{id}")),
            ("GET", format!("{prefix}/users/{id}/display-picture")),
            ("POST", format!("{prefix}/users/{id}/secrets/k")),
        ]);
    }
    calls.extend([
        ("DELETE", scoped.clone()),
        ("PUT", scoped.clone()),
        ("GET", "/oauth/token".to_string()),
        ("GET", "/v1/oauth/token".to_string()),
    ]);
    for (method, path) in calls {
        let r = app.pcall(method, &path, Some(&token), &[], None).await;
        let e = assert_platform_error(&r, 405, "MethodNotAllowedError");
        assert_eq!(r.body["message"], "Method not allowed", "{method} {path}");
        assert!(e.contains(method), "{method} {path}: {e}");
    }
    // Nothing was deleted along the way.
    let r = app.pget(&format!("/users/{id}"), &token).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn unknown_paths_are_404_in_the_platform_shape() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let scoped = format!("/v1/applications/{}", app.app_id);
    for path in [
        "/nosuch".to_string(),
        "/v1/nosuch".to_string(),
        "/v1/applications".to_string(),
        format!("{scoped}/nosuch"),
        "/users/1/nosuch".to_string(),
        "/v2/users".to_string(),
    ] {
        for method in ["GET", "POST"] {
            let r = app.pcall(method, &path, Some(&token), &[], None).await;
            let e = assert_platform_error(&r, 404, "ResourceNotFoundError");
            assert_eq!(e, format!("No resource at {method} {path}"));
            assert_eq!(r.body["message"], "Resource not found");
        }
    }
}

/// Inputs that reach the database or arithmetic in odd shapes never make the server fail, and a
/// 5xx (should one ever happen) says nothing of the server's insides.
#[tokio::test]
async fn odd_inputs_never_fail_the_server() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let id = app
        .create_chat_user(
            &token,
            json!({"name": "alice", "display_name": "A", "is_guest": false,
                "properties": {"a\"b": 1, "a.b": 2, "$": 3, "[0]": 4}}),
        )
        .await["id"]
        .clone();
    let huge = u64::MAX.to_string();
    let big = (i64::MAX / 100).to_string();
    let odd_props = [
        r#"{"a\"b":1}"#,
        r#"{"a.b":2}"#,
        r#"{"$":3}"#,
        r#"{"[0]":4}"#,
        r#"{"x":{"y":[1,{"z":null}]}}"#,
        r#"{"x":null}"#,
        r#"{"'":"'"}"#,
    ];
    let mut queries: Vec<Vec<(&str, &str)>> = vec![
        vec![("page", &huge)],
        vec![("page", &huge), ("size", "100")],
        vec![("page", &big), ("size", "100")],
        vec![("page", "99999999999999999999999")],
        vec![("name", "%'; DROP TABLE chat_users; --")],
        vec![("sort", ""), ("sort", ",")],
    ];
    for p in &odd_props {
        queries.push(vec![("properties", p)]);
    }
    for q in queries {
        let res = app
            .client
            .get(app.url("/users"))
            .bearer_auth(&token)
            .query(&q)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{q:?}: no answer: {e}"));
        let r = TestApp::read(res).await;
        assert!(r.status < 500, "{q:?}: {} {}", r.status, r.text);
        if r.status == 200 {
            assert!(r.body["_embedded"]["users"].is_array(), "{q:?}");
        }
    }
    // The odd property keys match exactly the user holding them.
    for p in &odd_props[..4] {
        let res = app
            .client
            .get(app.url("/users"))
            .bearer_auth(&token)
            .query(&[("properties", p)])
            .send()
            .await
            .expect("sent");
        let r = TestApp::read(res).await;
        assert_eq!(r.status, 200, "{p}: {}", r.text);
        assert_eq!(r.body["_embedded"]["users"][0]["id"], id, "{p}");
        assert_eq!(r.body["page"]["total_elements"], 1, "{p}");
    }
    // A huge page is simply past the end.
    let res = app
        .client
        .get(app.url("/users"))
        .bearer_auth(&token)
        .query(&[("page", big.as_str()), ("size", "100")])
        .send()
        .await
        .expect("sent");
    let r = TestApp::read(res).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["_embedded"]["users"], json!([]));
    assert!(r.body["_links"].get("next").is_none());
}

/// When the database is gone, the platform API answers 500 with a fixed body that names nothing
/// of the server's insides.
#[tokio::test]
async fn server_errors_say_nothing_of_the_inside() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    app.services.db.close().await;
    let auth = format!("Bearer {token}");
    type Call<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, Option<&'a str>);
    let calls: Vec<Call> = vec![
        ("GET", "/users", vec![("Authorization", &auth)], None),
        (
            "GET",
            "/v1/application",
            vec![("Authorization", &auth)],
            None,
        ),
        (
            "POST",
            "/oauth/token",
            vec![("Content-Type", "application/x-www-form-urlencoded")],
            Some("grant_type=client_credentials&client_id=test-client-id&client_secret=x"),
        ),
    ];
    for (method, path, headers, body) in calls {
        let r = app.send(method, path, &headers, body).await;
        assert_eq!(r.status, 500, "{method} {path}: {}", r.text);
        let obj = r.body.as_object().expect("JSON object");
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["error", "message", "timestamp"], "{}", r.text);
        assert_eq!(r.body["error"], "InternalServerError");
        assert_eq!(r.body["message"], "Server error");
        let lower = r.text.to_ascii_lowercase();
        for word in ["pool", "sql", "closed", "database", "panick", ".rs"] {
            assert!(!lower.contains(word), "{method} {path}: {}", r.text);
        }
    }
}
