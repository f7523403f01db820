//! LoopBack's stock routes beyond CRUD (`findOne`, `exists`, `HEAD`, belongsTo gets, replace,
//! the organisation's relation routes by fk), the bootstrap superadmin's username and CORS.

use serde_json::{json, Value};

use crate::{spawn, spawn_with};

/// Asserts a LoopBack error body exactly: status, message and (or no) code.
fn assert_lb_error(r: &palaver_test_support::Resp, status: u16, message: &str, code: Option<&str>) {
    let mut want = json!({"statusCode": status, "name": "Error", "message": message});
    if let Some(c) = code {
        want["code"] = json!(c);
    }
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.body, json!({ "error": want }), "{}", r.text);
}

#[tokio::test]
async fn the_bootstrap_superadmin_logs_in_with_a_username() {
    let app = spawn().await;
    let r = app
        .call(
            "POST",
            "/api/users/login",
            None,
            Some(json!({"email": palaver_test_support::ADMIN_EMAIL, "password": palaver_test_support::ADMIN_PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The email's local part, when no username is configured.
    assert_eq!(r.body["userDetail"]["username"], "admin");
    assert_eq!(r.body["userDetail"]["role"], "superadmin");

    let app = spawn_with(|c| c.bootstrap_username = Some("root".into())).await;
    let token = app.admin_token().await;
    let me = app
        .get(&format!("/api/users/{}", app.admin_id), &token)
        .await;
    assert_eq!(me.body["username"], "root", "{}", me.text);
    // Logging in by username works too.
    let r = app
        .call(
            "POST",
            "/api/users/login",
            None,
            Some(json!({"username": "root", "password": palaver_test_support::ADMIN_PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn find_one_answers_the_first_match_or_loopbacks_404() {
    let app = spawn().await;
    let token = app.admin_token().await;
    app.create_bot(&token, "Alpha").await;
    let beta = app.create_bot(&token, "Beta").await;
    let (_, other) = app.other_org("findone").await;
    app.create_bot(&other, "Gamma").await;

    let r = app
        .get_filter("/api/bots/findOne", &token, json!({"order": "name DESC"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["id"], beta.as_str());
    let r = app
        .get_filter(
            "/api/bots/findOne",
            &token,
            json!({"where": {"name": "Gamma"}}),
        )
        .await;
    assert_lb_error(
        &r,
        404,
        "Unknown \"bot\" id \"undefined\".",
        Some("MODEL_NOT_FOUND"),
    );
    // The bracket form, and fields.
    let r = app
        .get_query(
            "/api/bots/findOne",
            &token,
            &[("filter[where][name]", "Alpha"), ("filter[fields]", "name")],
        )
        .await;
    assert_eq!(r.body, json!({"name": "Alpha"}), "{}", r.text);

    let r = app
        .get_filter(
            "/api/users/findOne",
            &token,
            json!({"where": {"email": palaver_test_support::ADMIN_EMAIL}}),
        )
        .await;
    assert_eq!(r.body["id"], app.admin_id.as_str(), "{}", r.text);
    let r = app
        .get_filter("/api/organisations/findOne", &token, json!({}))
        .await;
    assert_eq!(r.body["id"], app.org_id.as_str(), "{}", r.text);
    let r = app
        .get_filter(
            "/api/organisations/findOne",
            &token,
            json!({"where": {"company_name": "findone"}}),
        )
        .await;
    assert_lb_error(
        &r,
        404,
        "Unknown \"organisation\" id \"undefined\".",
        Some("MODEL_NOT_FOUND"),
    );

    // A bot user finds only itself.
    let customer = app
        .create_account(
            &app.org_id,
            "bu@example.com",
            "bu-password-1",
            "customer",
            Some(&beta),
        )
        .await;
    let bu = app.login("bu@example.com", "bu-password-1").await;
    let r = app.get_filter("/api/users/findOne", &bu, json!({})).await;
    assert_eq!(r.body["id"], customer.as_str(), "{}", r.text);
    let r = app
        .get_filter(
            "/api/users/findOne",
            &bu,
            json!({"where": {"email": palaver_test_support::ADMIN_EMAIL}}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = app.get_filter("/api/bots/findOne", &bu, json!({})).await;
    assert_eq!(r.status, 401, "{}", r.text);
}

#[tokio::test]
async fn exists_and_head_answer_without_404_bodies() {
    let app = spawn().await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Here").await;
    let (other_org, other) = app.other_org("exists").await;
    let theirs = app.create_bot(&other, "There").await;

    for (path, want) in [
        (format!("/api/bots/{bot}/exists"), true),
        ("/api/bots/999/exists".to_string(), false),
        (format!("/api/bots/{theirs}/exists"), false),
        (format!("/api/users/{}/exists", app.admin_id), true),
        ("/api/users/nobody/exists".to_string(), false),
        (format!("/api/organisations/{}/exists", app.org_id), true),
        (format!("/api/organisations/{other_org}/exists"), false),
    ] {
        let r = app.get(&path, &token).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert_eq!(r.body, json!({ "exists": want }), "{path}");
    }

    for (path, want) in [
        (format!("/api/bots/{bot}"), 200),
        ("/api/bots/999".to_string(), 404),
        (format!("/api/bots/{theirs}"), 404),
        (format!("/api/users/{}", app.admin_id), 200),
        ("/api/users/nobody".to_string(), 404),
        (format!("/api/organisations/{}", app.org_id), 200),
        (format!("/api/organisations/{other_org}"), 404),
    ] {
        let r = app.call("HEAD", &path, Some(&token), None).await;
        assert_eq!(r.status, want, "HEAD {path}");
        assert_eq!(r.text, "", "HEAD {path}");
    }
    let r = app
        .call("GET", &format!("/api/bots/{bot}/exists"), None, None)
        .await;
    assert_lb_error(
        &r,
        401,
        "Authorization Required",
        Some("AUTHORIZATION_REQUIRED"),
    );
}

#[tokio::test]
async fn belongs_to_routes_answer_the_parent() {
    let app = spawn().await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Parent").await;
    let flake = app
        .post(
            &format!("/api/bots/{bot}/flakes"),
            &token,
            json!({"title": "Child"}),
        )
        .await
        .id();

    let org = app
        .get(&format!("/api/organisations/{}", app.org_id), &token)
        .await;
    let r = app
        .get(&format!("/api/bots/{bot}/organisation"), &token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, org.body);
    let r = app.get("/api/bots/nobot/organisation", &token).await;
    assert_lb_error(
        &r,
        404,
        "could not find a model with id nobot",
        Some("MODEL_NOT_FOUND"),
    );

    let got = app.get(&format!("/api/bots/{bot}"), &token).await;
    let r = app.get(&format!("/api/flakes/{flake}/bot"), &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, got.body);
    let r = app.get("/api/flakes/noflake/bot", &token).await;
    assert_lb_error(
        &r,
        404,
        "could not find a model with id noflake",
        Some("MODEL_NOT_FOUND"),
    );
    // Another organisation's flake is missing to this caller.
    let (_, other) = app.other_org("belongs").await;
    let r = app.get(&format!("/api/flakes/{flake}/bot"), &other).await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[tokio::test]
async fn put_replaces_an_account_whole() {
    let app = spawn().await;
    let token = app.admin_token().await;
    let id = app
        .create_account(
            &app.org_id,
            "owner@example.com",
            "owner-password-1",
            "owner",
            None,
        )
        .await;
    let r = app
        .patch(
            &format!("/api/users/{id}"),
            &token,
            json!({"phone_no": "123", "username": "own"}),
        )
        .await;
    assert_eq!(r.body["phone_no"], "123", "{}", r.text);

    let r = app
        .put(
            &format!("/api/users/{id}"),
            &token,
            json!({"email": "owner@example.com", "role": "owner", "password": "new-password-1"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body.get("phone_no").is_none(), "{}", r.text);
    assert!(r.body.get("username").is_none(), "{}", r.text);
    assert_eq!(r.body["email"], "owner@example.com");
    app.login("owner@example.com", "new-password-1").await;

    // The password is required, as on create.
    let r = app
        .put(
            &format!("/api/users/{id}"),
            &token,
            json!({"email": "owner@example.com", "role": "owner"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(
        r.body["error"]["details"]["codes"],
        json!({"password": ["presence"]})
    );

    let r = app
        .put(
            "/api/users/999",
            &token,
            json!({"email": "x@example.com", "role": "owner", "password": "p-1"}),
        )
        .await;
    assert_lb_error(
        &r,
        404,
        "Could not replace. Object with id 999 does not exist!",
        None,
    );
}

#[tokio::test]
async fn patch_updates_a_bot_in_part() {
    let app = spawn().await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Patchy").await;
    let r = app
        .patch(
            &format!("/api/bots/{bot}"),
            &token,
            json!({"domain": "sports"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["domain"], "sports");
    assert_eq!(r.body["name"], "Patchy");
    assert_eq!(r.body["platform"], "slack");
    let r = app
        .patch("/api/bots/999", &token, json!({"domain": "x"}))
        .await;
    assert_lb_error(
        &r,
        404,
        "could not find a model with id 999",
        Some("MODEL_NOT_FOUND"),
    );
}

#[tokio::test]
async fn organisation_relations_by_fk_and_their_counts() {
    let app = spawn().await;
    let token = app.admin_token().await;
    let org = app.org_id.clone();
    let bot = app.create_bot(&token, "Org bot").await;
    let user = app
        .create_account(
            &org,
            "member@example.com",
            "member-password-1",
            "owner",
            None,
        )
        .await;

    let r = app
        .get(&format!("/api/organisations/{org}/users/{user}"), &token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["email"], "member@example.com");
    let r = app
        .get_filter(
            &format!("/api/organisations/{org}/bots/{bot}"),
            &token,
            json!({"fields": ["name"]}),
        )
        .await;
    assert_eq!(r.body, json!({"name": "Org bot"}), "{}", r.text);
    let r = app
        .get(&format!("/api/organisations/{org}/users/999"), &token)
        .await;
    assert_lb_error(&r, 404, "No instance with id 999 found for user", None);
    let r = app
        .get(&format!("/api/organisations/{org}/bots/999"), &token)
        .await;
    assert_lb_error(&r, 404, "No instance with id 999 found for bot", None);
    let r = app
        .get(&format!("/api/organisations/noorg/bots/{bot}"), &token)
        .await;
    assert_lb_error(
        &r,
        404,
        "could not find a model with id noorg",
        Some("MODEL_NOT_FOUND"),
    );

    let r = app
        .put(
            &format!("/api/organisations/{org}/bots/{bot}"),
            &token,
            json!({"domain": "weather"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["domain"], "weather");
    assert_eq!(r.body["name"], "Org bot");
    let r = app
        .put(
            &format!("/api/organisations/{org}/users/{user}"),
            &token,
            json!({"phone_no": "42"}),
        )
        .await;
    assert_eq!(r.body["phone_no"], "42", "{}", r.text);
    assert_eq!(r.body["email"], "member@example.com");

    let count = |path: String| {
        let app = &app;
        let token = token.clone();
        async move { app.get(&path, &token).await.body }
    };
    assert_eq!(
        count(format!("/api/organisations/{org}/users/count")).await,
        json!({"count": 2})
    );
    assert_eq!(
        count(format!("/api/organisations/{org}/bots/count")).await,
        json!({"count": 1})
    );

    let r = app
        .delete(&format!("/api/organisations/{org}/users/{user}"), &token)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = app
        .delete(&format!("/api/organisations/{org}/users/{user}"), &token)
        .await;
    assert_lb_error(
        &r,
        404,
        &format!("No instance with id {user} found for user"),
        None,
    );
    let r = app
        .delete(&format!("/api/organisations/{org}/bots/{bot}"), &token)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        count(format!("/api/organisations/{org}/users/count")).await,
        json!({"count": 1})
    );
    assert_eq!(
        count(format!("/api/organisations/{org}/bots/count")).await,
        json!({"count": 0})
    );

    // Another organisation's rows are missing ones.
    let (other_org, other) = app.other_org("fkroutes").await;
    let theirs = app.create_bot(&other, "Theirs").await;
    let r = app
        .get(&format!("/api/organisations/{org}/bots/{theirs}"), &token)
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = app
        .delete(
            &format!("/api/organisations/{other_org}/bots/{theirs}"),
            &token,
        )
        .await;
    assert_lb_error(
        &r,
        404,
        &format!("could not find a model with id {other_org}"),
        Some("MODEL_NOT_FOUND"),
    );
    let r = app.get(&format!("/api/bots/{theirs}"), &other).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

fn header<'a>(r: &'a palaver_test_support::Resp, name: &str) -> Option<&'a str> {
    r.header(name)
}

#[tokio::test]
async fn cors_reflects_any_origin_with_credentials_by_default() {
    let app = spawn().await;
    let token = app.admin_token().await;
    let origin = "https://dash.example.com";
    let r = app
        .send(
            "OPTIONS",
            "/api/bots",
            &[
                ("Origin", origin),
                ("Access-Control-Request-Method", "PATCH"),
                (
                    "Access-Control-Request-Headers",
                    "ktl-access-token,content-type",
                ),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(header(&r, "access-control-allow-origin"), Some(origin));
    assert_eq!(header(&r, "access-control-allow-credentials"), Some("true"));
    let methods = header(&r, "access-control-allow-methods").unwrap_or_default();
    for m in ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"] {
        assert!(methods.contains(m), "{methods}");
    }
    let headers = header(&r, "access-control-allow-headers").unwrap_or_default();
    assert!(headers.contains("ktl-access-token"), "{headers}");

    let r = app
        .send(
            "GET",
            "/api/bots",
            &[("Origin", origin), ("KTL-Access-Token", &token)],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(header(&r, "access-control-allow-origin"), Some(origin));
    assert_eq!(header(&r, "access-control-allow-credentials"), Some("true"));
    let vary: Vec<&str> = r
        .headers
        .get_all("vary")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert!(
        vary.iter()
            .any(|v| v.to_ascii_lowercase().contains("origin")),
        "{vary:?}"
    );
    // Errors carry the headers too, so a browser can read them.
    let r = app
        .send("GET", "/api/bots", &[("Origin", origin)], None)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(header(&r, "access-control-allow-origin"), Some(origin));
}

#[tokio::test]
async fn configured_cors_origins_refuse_the_others() {
    let app = spawn_with(|c| {
        c.content_cors_origins = Some(vec!["https://dash.example.com".into()]);
    })
    .await;
    let token = app.admin_token().await;
    let preflight = |origin: &'static str| {
        let app = &app;
        async move {
            app.send(
                "OPTIONS",
                "/api/bots",
                &[("Origin", origin), ("Access-Control-Request-Method", "GET")],
                None,
            )
            .await
        }
    };
    let r = preflight("https://dash.example.com").await;
    assert_eq!(
        header(&r, "access-control-allow-origin"),
        Some("https://dash.example.com")
    );
    let r = preflight("https://evil.example.com").await;
    assert_eq!(header(&r, "access-control-allow-origin"), None);
    let r = app
        .send(
            "GET",
            "/api/bots",
            &[
                ("Origin", "https://evil.example.com"),
                ("KTL-Access-Token", &token),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(header(&r, "access-control-allow-origin"), None);
    assert_eq!(r.body, Value::Array(vec![]));
}
