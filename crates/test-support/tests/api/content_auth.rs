//! Content API login, logout and token handling (LoopBack `User`/`AccessToken` semantics).

use palaver_test_support::{TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use serde_json::json;

#[tokio::test]
async fn login_returns_a_64_char_token_with_the_seed_user_detail() {
    let app = TestApp::spawn().await;
    let r = app
        .call(
            "POST",
            "/api/users/login",
            None,
            Some(json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "source": "platform"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = r.body["id"].as_str().unwrap();
    assert_eq!(token.len(), 64);
    assert!(token.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(r.body["ttl"], 1_209_600);
    assert_eq!(r.body["userId"], app.admin_id.as_str());
    let detail = r.body["userDetail"].as_object().unwrap();
    let keys: Vec<&str> = detail.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "organisation_id",
            "role",
            "username",
            "email",
            "emailVerified",
            "id",
            "created",
            "modified"
        ]
    );
    assert_eq!(detail["organisation_id"], app.org_id.as_str());
    assert_eq!(detail["role"], "superadmin");
    assert!(detail.get("password").is_none());
}

#[tokio::test]
async fn wrong_password_and_unknown_email_fail_identically() {
    let app = TestApp::spawn().await;
    let expected = json!({"error": {"statusCode": 401, "name": "Error", "message": "login failed", "code": "LOGIN_FAILED"}});
    for body in [
        json!({"email": ADMIN_EMAIL, "password": "wrong"}),
        json!({"email": "nobody@example.com", "password": ADMIN_PASSWORD}),
        json!({"email": ADMIN_EMAIL}),
    ] {
        let r = app.call("POST", "/api/users/login", None, Some(body)).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.body, expected);
    }
}

#[tokio::test]
async fn logout_ends_the_token() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    assert_eq!(
        app.get(&format!("/api/users/{}", app.admin_id), &token)
            .await
            .status,
        200
    );
    let r = app
        .call("POST", "/api/users/logout", Some(&token), None)
        .await;
    assert_eq!(r.status, 204);
    let r = app
        .get(&format!("/api/users/{}", app.admin_id), &token)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"]["code"], "AUTHORIZATION_REQUIRED");
    let again = app
        .call("POST", "/api/users/logout", Some(&token), None)
        .await;
    assert_eq!(again.status, 401);
    assert_eq!(
        again.body,
        json!({"error": {"statusCode": 401, "name": "Error", "message": "accessToken is required to logout"}})
    );
}

const AUTH_REQUIRED: &str = r#"{"error":{"statusCode":401,"name":"Error","message":"Authorization Required","code":"AUTHORIZATION_REQUIRED"}}"#;

fn auth_required() -> serde_json::Value {
    serde_json::from_str(AUTH_REQUIRED).unwrap()
}

async fn login_with(
    app: &TestApp,
    path: &str,
    body: serde_json::Value,
) -> palaver_test_support::Resp {
    app.call("POST", path, None, Some(body)).await
}

#[tokio::test]
async fn login_shows_username_in_the_seed_key_order_and_a_fresh_created_time() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let r = app
        .post(
            "/api/users",
            &admin,
            json!({"email": "dev@example.com", "password": "dev-pass", "role": "owner", "username": "dev"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let user_id = r.id();
    let r = login_with(
        &app,
        "/api/users/login",
        json!({"email": "dev@example.com", "password": "dev-pass", "source": "platform"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let keys: Vec<&str> = r
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["id", "ttl", "created", "userId", "userDetail"]);
    assert_eq!(r.body["userId"], user_id.as_str());
    let detail = r.body["userDetail"].as_object().unwrap();
    let keys: Vec<&str> = detail.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "organisation_id",
            "role",
            "username",
            "email",
            "emailVerified",
            "id",
            "created",
            "modified"
        ]
    );
    assert_eq!(detail["username"], "dev");
    assert_eq!(detail["role"], "owner");
    assert_eq!(detail["email"], "dev@example.com");
    assert_eq!(detail["id"], user_id.as_str());
    // `created` is an ISO-8601 UTC instant with milliseconds: 2017-08-23T06:28:45.142Z.
    let created = r.body["created"].as_str().unwrap();
    assert_eq!(created.len(), 24, "{created}");
    assert!(created.ends_with('Z') && &created[10..11] == "T" && &created[19..20] == ".");
    assert!(!r.text.contains("password"), "{}", r.text);
}

#[tokio::test]
async fn login_without_email_or_username_is_400() {
    let app = TestApp::spawn().await;
    let expected = json!({"error": {"statusCode": 400, "name": "Error", "message": "username or email is required", "code": "USERNAME_EMAIL_REQUIRED"}});
    for body in [
        json!({"password": ADMIN_PASSWORD}),
        json!({}),
        json!({"email": null, "password": "x"}),
    ] {
        let r = login_with(&app, "/api/users/login", body).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.body, expected);
    }
}

#[tokio::test]
async fn login_include_user_appends_the_account() {
    let app = TestApp::spawn().await;
    for path in [
        "/api/users/login?include=user",
        "/api/users/login?include=USER",
    ] {
        let r = login_with(
            &app,
            path,
            json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let user = r.body["user"].as_object().expect("user included");
        assert_eq!(user["id"], app.admin_id.as_str());
        assert_eq!(user["email"], ADMIN_EMAIL);
        assert!(user.get("password").is_none());
    }
    let r = login_with(
        &app,
        "/api/users/login",
        json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
    )
    .await;
    assert!(r.body.get("user").is_none(), "{}", r.text);
}

#[tokio::test]
async fn login_honours_a_requested_ttl_up_to_one_year() {
    let app = TestApp::spawn().await;
    for (asked, granted) in [
        (json!(3600), 3600),
        (json!(999_999_999), 31_556_926),
        (json!(0), 1_209_600),
    ] {
        let r = login_with(
            &app,
            "/api/users/login",
            json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "ttl": asked}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["ttl"], granted, "asked for {asked}");
    }
}

#[tokio::test]
async fn email_is_case_sensitive_at_login() {
    let app = TestApp::spawn().await;
    let r = login_with(
        &app,
        "/api/users/login",
        json!({"email": ADMIN_EMAIL.to_uppercase(), "password": ADMIN_PASSWORD}),
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"]["code"], "LOGIN_FAILED");
}

#[tokio::test]
async fn the_token_travels_in_any_header_or_query_loopback_reads() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let me = format!("/api/users/{}", app.admin_id);
    let b64 = |s: &str| {
        // Base64 of the raw token, for `Authorization: Bearer`.
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let bytes = s.as_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    };
    let bearer = format!("Bearer {}", b64(&token));
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "KTL-Access-Token",
            vec![("KTL-Access-Token", token.as_str())],
        ),
        (
            "ktl-access-token",
            vec![("ktl-access-token", token.as_str())],
        ),
        ("X-Access-Token", vec![("X-Access-Token", token.as_str())]),
        ("Authorization raw", vec![("Authorization", token.as_str())]),
        (
            "Authorization Bearer base64",
            vec![("Authorization", bearer.as_str())],
        ),
    ];
    for (what, headers) in cases {
        let r = app.send("GET", &me, &headers, None).await;
        assert_eq!(r.status, 200, "{what}: {}", r.text);
        assert_eq!(r.body["id"], app.admin_id.as_str());
    }
    let r = app
        .send("GET", &format!("{me}?access_token={token}"), &[], None)
        .await;
    assert_eq!(r.status, 200, "query: {}", r.text);
}

#[tokio::test]
async fn a_query_token_beats_a_header_token() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let r = app
        .send(
            "GET",
            &format!("/api/users/{}?access_token=bogus", app.admin_id),
            &[("KTL-Access-Token", token.as_str())],
            None,
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(r.body, auth_required());
}

#[tokio::test]
async fn missing_or_unknown_tokens_are_refused_with_the_loopback_body() {
    let app = TestApp::spawn().await;
    let paths = [
        format!("/api/users/{}", app.admin_id),
        "/api/bots".to_string(),
        format!("/api/organisations/{}", app.org_id),
    ];
    let unknown = "a".repeat(64);
    for path in &paths {
        for headers in [
            vec![],
            vec![("KTL-Access-Token", unknown.as_str())],
            vec![("KTL-Access-Token", "")],
        ] {
            let r = app.send("GET", path, &headers, None).await;
            assert_eq!(r.status, 401, "{path}: {}", r.text);
            assert_eq!(r.text, AUTH_REQUIRED, "{path}");
        }
    }
    let r = app
        .send(
            "POST",
            "/api/bots",
            &[("Content-Type", "application/json")],
            Some(r#"{"name":"x"}"#),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body, auth_required());
}

#[tokio::test]
async fn a_token_asked_to_live_one_second_expires() {
    let app = TestApp::spawn().await;
    let r = login_with(
        &app,
        "/api/users/login",
        json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "ttl": 1}),
    )
    .await;
    assert_eq!(r.body["ttl"], 1);
    let token = r.id();
    let me = format!("/api/users/{}", app.admin_id);
    assert_eq!(app.get(&me, &token).await.status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = app.get(&me, &token).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(r.body, auth_required());
    // Once seen expired, it stays refused.
    assert_eq!(app.get(&me, &token).await.body, auth_required());
}

#[tokio::test]
async fn the_configured_default_ttl_applies_and_expires() {
    let app = TestApp::spawn_with(|c| c.token_ttl_seconds = 1).await;
    let r = login_with(
        &app,
        "/api/users/login",
        json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
    )
    .await;
    assert_eq!(r.body["ttl"], 1);
    let token = r.id();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = app.get("/api/bots", &token).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body, auth_required());
}

#[tokio::test]
async fn logout_without_a_token_is_refused() {
    let app = TestApp::spawn().await;
    let r = app.call("POST", "/api/users/logout", None, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body,
        json!({"error": {"statusCode": 401, "name": "Error", "message": "accessToken is required to logout"}})
    );
}

#[tokio::test]
async fn logout_ends_only_the_token_used() {
    let app = TestApp::spawn().await;
    let one = app.admin_token().await;
    let two = app.admin_token().await;
    assert_ne!(one, two);
    let r = app
        .call("POST", "/api/users/logout", Some(&one), None)
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(r.text, "");
    assert_eq!(app.get("/api/bots", &one).await.status, 401);
    assert_eq!(app.get("/api/bots", &two).await.status, 200);
}
