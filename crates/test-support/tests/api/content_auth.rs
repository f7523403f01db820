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
