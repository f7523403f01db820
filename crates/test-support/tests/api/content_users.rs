//! `/api/users`: read, partial update, create, delete, uniqueness, password changes and the role
//! rules (bot users see only themselves; owners cannot mint superadmins).

use palaver_test_support::{Resp, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use serde_json::{json, Value};

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn auth_required() -> Value {
    json!({"error": {"statusCode": 401, "name": "Error", "message": "Authorization Required", "code": "AUTHORIZATION_REQUIRED"}})
}

async fn login_status(app: &TestApp, email: &str, password: &str) -> u16 {
    app.call(
        "POST",
        "/api/users/login",
        None,
        Some(json!({"email": email, "password": password})),
    )
    .await
    .status
}

/// An owner account made over the API; returns its id.
async fn create_owner(app: &TestApp, admin: &str, email: &str, password: &str) -> String {
    let r = app
        .post(
            "/api/users",
            admin,
            json!({"email": email, "password": password, "role": "owner"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.id()
}

#[tokio::test]
async fn get_user_has_the_seed_shape_without_password() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let r = app
        .get(&format!("/api/users/{}", app.admin_id), &token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        keys(&r.body),
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
    assert_eq!(r.body["organisation_id"], app.org_id.as_str());
    assert_eq!(r.body["role"], "superadmin");
    assert_eq!(r.body["email"], ADMIN_EMAIL);
    assert_eq!(r.body["emailVerified"], true);
    assert_eq!(r.body["id"], app.admin_id.as_str());
    assert!(!r.text.contains("password"));
    assert!(!r.text.contains("$2"), "no hash leaks: {}", r.text);
}

#[tokio::test]
async fn patch_user_with_only_phone_no_returns_the_seed_shape() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let path = format!("/api/users/{}", app.admin_id);
    let before = app.get(&path, &token).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let r = app
        .patch(
            &path,
            &token,
            json!({"phone_no": "+91-9876543210", "username": "boss"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        keys(&r.body),
        [
            "organisation_id",
            "role",
            "phone_no",
            "username",
            "email",
            "emailVerified",
            "id",
            "created",
            "modified"
        ]
    );
    assert_eq!(r.body["phone_no"], "+91-9876543210");
    assert_eq!(r.body["username"], "boss");
    assert_eq!(r.body["email"], ADMIN_EMAIL);
    assert_eq!(r.body["role"], "superadmin");
    assert_eq!(r.body["created"], before.body["created"]);
    assert!(
        r.body["modified"].as_str().unwrap() > before.body["modified"].as_str().unwrap(),
        "modified moves on: {} vs {}",
        r.body["modified"],
        before.body["modified"]
    );
    // The change is stored, and the rest is untouched.
    let again = app.get(&path, &token).await;
    assert_eq!(again.body, r.body);
    let r = app.patch(&path, &token, json!({"phone_no": "12345"})).await;
    assert_eq!(r.body["phone_no"], "12345");
    assert_eq!(r.body["username"], "boss");
}

#[tokio::test]
async fn patch_missing_user_is_model_not_found() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let r = app
        .patch("/api/users/nosuchuser", &token, json!({"phone_no": "1"}))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"error": {"statusCode": 404, "name": "Error", "message": "could not find a model with id nosuchuser", "code": "MODEL_NOT_FOUND"}})
    );
}

#[tokio::test]
async fn get_missing_user_is_unknown_user_id() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let r = app.get("/api/users/5a0000000000000000000000", &token).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"error": {"statusCode": 404, "name": "Error", "message": "Unknown \"user\" id \"5a0000000000000000000000\".", "code": "MODEL_NOT_FOUND"}})
    );
}

#[tokio::test]
async fn post_user_creates_an_account_that_can_log_in() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let r = app
        .post(
            "/api/users",
            &token,
            json!({"email": "new@example.com", "password": "s3cret-pw", "role": "owner", "username": "newbie", "emailVerified": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        keys(&r.body),
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
    assert_eq!(r.body["organisation_id"], app.org_id.as_str());
    // A client cannot mark its own email verified.
    assert_eq!(r.body["emailVerified"], false);
    assert!(!r.text.contains("s3cret-pw") && !r.text.contains("password"));
    assert_eq!(r.body["created"], r.body["modified"]);
    assert_eq!(
        login_status(&app, "new@example.com", "s3cret-pw").await,
        200
    );
    let got = app.get(&format!("/api/users/{}", r.id()), &token).await;
    assert_eq!(got.body, r.body);
}

#[tokio::test]
async fn post_user_with_an_invalid_email_is_a_validation_error() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let r = app
        .post(
            "/api/users",
            &token,
            json!({"email": "not-an-email", "password": "pw-123456", "role": "owner"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"error": {"statusCode": 422, "name": "ValidationError", "message": "The `user` instance is not valid. Details: `email` is invalid (value: \"not-an-email\").", "details": {"context": "user", "codes": {"email": ["custom.email"]}, "messages": {"email": ["is invalid"]}}}})
    );
}

#[tokio::test]
async fn post_user_without_password_is_a_presence_error() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let r = app
        .post(
            "/api/users",
            &token,
            json!({"email": "nopw@example.com", "role": "owner"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["error"]["name"], "ValidationError");
    assert_eq!(
        r.body["error"]["details"],
        json!({"context": "user", "codes": {"password": ["presence"]}, "messages": {"password": ["can't be blank"]}})
    );
    assert_eq!(login_status(&app, "nopw@example.com", "").await, 401);
}

#[tokio::test]
async fn email_is_unique_within_an_organisation() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let expected = json!({"error": {"statusCode": 422, "name": "ValidationError", "message": "The `user` instance is not valid. Details: `email` Email already exists (value: \"admin@example.com\").", "details": {"context": "user", "codes": {"email": ["uniqueness"]}, "messages": {"email": ["Email already exists"]}}}});
    let r = app
        .post(
            "/api/users",
            &token,
            json!({"email": ADMIN_EMAIL, "password": "another-pw", "role": "owner"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body, expected);
    // Changing another account's email to a taken one fails the same way.
    let other = create_owner(&app, &token, "second@example.com", "pw-second").await;
    let r = app
        .patch(
            &format!("/api/users/{other}"),
            &token,
            json!({"email": ADMIN_EMAIL}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body, expected);
    // Re-sending one's own email is no clash.
    let r = app
        .patch(
            &format!("/api/users/{}", app.admin_id),
            &token,
            json!({"email": ADMIN_EMAIL}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn the_same_email_may_exist_in_another_organisation() {
    let app = TestApp::spawn().await;
    let (_, other_token) = app.other_org("acme").await;
    let r = app
        .post(
            "/api/users",
            &other_token,
            json!({"email": ADMIN_EMAIL, "password": "acme-pw-1", "role": "owner"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Each password finds its own account.
    assert_eq!(login_status(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await, 200);
    let r = app
        .call(
            "POST",
            "/api/users/login",
            None,
            Some(json!({"email": ADMIN_EMAIL, "password": "acme-pw-1"})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_ne!(r.body["userId"], app.admin_id.as_str());
}

#[tokio::test]
async fn a_password_change_rehashes_and_ends_the_other_sessions() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let id = create_owner(&app, &admin, "pw@example.com", "old-password").await;
    let one = app.login("pw@example.com", "old-password").await;
    let two = app.login("pw@example.com", "old-password").await;
    let me = format!("/api/users/{id}");
    let r = app
        .patch(&me, &one, json!({"password": "new-password"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!r.text.contains("password"));
    assert_eq!(
        login_status(&app, "pw@example.com", "old-password").await,
        401
    );
    assert_eq!(
        login_status(&app, "pw@example.com", "new-password").await,
        200
    );
    // The token that made the change lives on; the account's other token does not.
    assert_eq!(app.get(&me, &one).await.status, 200);
    let r = app.get(&me, &two).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body, auth_required());
}

#[tokio::test]
async fn an_admin_setting_a_password_ends_all_of_that_accounts_sessions() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let id = create_owner(&app, &admin, "reset@example.com", "first-pass").await;
    let theirs = app.login("reset@example.com", "first-pass").await;
    let r = app
        .patch(
            &format!("/api/users/{id}"),
            &admin,
            json!({"password": "second-pass"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.get("/api/bots", &theirs).await.status, 401);
    assert_eq!(app.get("/api/bots", &admin).await.status, 200);
    assert_eq!(
        login_status(&app, "reset@example.com", "second-pass").await,
        200
    );
}

#[tokio::test]
async fn delete_user_counts_and_ends_its_sessions() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let id = create_owner(&app, &admin, "gone@example.com", "gone-pass").await;
    let theirs = app.login("gone@example.com", "gone-pass").await;
    let r = app.delete(&format!("/api/users/{id}"), &admin).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"count": 1}));
    let r = app.delete(&format!("/api/users/{id}"), &admin).await;
    assert_eq!(r.body, json!({"count": 0}));
    assert_eq!(app.get("/api/bots", &theirs).await.status, 401);
    assert_eq!(
        login_status(&app, "gone@example.com", "gone-pass").await,
        401
    );
    assert_eq!(
        app.get(&format!("/api/users/{id}"), &admin).await.status,
        404
    );
}

/// A bot, a bot user of it and the bot user's token.
async fn bot_user(app: &TestApp) -> (String, String, String, String) {
    let admin = app.admin_token().await;
    let bot = app.create_bot(&admin, "Helper").await;
    let id = app
        .create_account(
            &app.org_id,
            "fan@example.com",
            "fan-password",
            "customer",
            Some(&bot),
        )
        .await;
    let token = app.login("fan@example.com", "fan-password").await;
    (admin, bot, id, token)
}

#[tokio::test]
async fn a_bot_user_reads_and_edits_only_itself() {
    let app = TestApp::spawn().await;
    let (_, bot, id, token) = bot_user(&app).await;
    let me = format!("/api/users/{id}");
    let r = app.get(&me, &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["role"], "customer");
    assert_eq!(r.body["bot_id"], bot.as_str());
    let r = app.patch(&me, &token, json!({"phone_no": "555"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["phone_no"], "555");
    let admin = format!("/api/users/{}", app.admin_id);
    for r in [
        app.get(&admin, &token).await,
        app.patch(&admin, &token, json!({"phone_no": "1"})).await,
        // Even an id that does not exist: the access check comes first.
        app.get("/api/users/nosuch", &token).await,
        app.patch("/api/users/nosuch", &token, json!({"phone_no": "1"}))
            .await,
    ] {
        assert_eq!(r.status, 401, "{}", r.text);
        assert_eq!(r.body, auth_required());
    }
}

#[tokio::test]
async fn a_bot_user_cannot_change_its_role_or_bot() {
    let app = TestApp::spawn().await;
    let (admin, _, id, token) = bot_user(&app).await;
    let me = format!("/api/users/{id}");
    let other_bot = app.create_bot(&admin, "Other").await;
    for body in [
        json!({"role": "owner"}),
        json!({"role": "superadmin"}),
        json!({"bot_id": other_bot}),
    ] {
        let r = app.patch(&me, &token, body.clone()).await;
        assert_eq!(r.status, 401, "{body}: {}", r.text);
        assert_eq!(r.body, auth_required());
    }
    let r = app.get(&me, &admin).await;
    assert_eq!(r.body["role"], "customer");
}

#[tokio::test]
async fn a_bot_user_cannot_manage_the_organisation() {
    let app = TestApp::spawn().await;
    let (_, bot, _, token) = bot_user(&app).await;
    let refused: Vec<Resp> = vec![
        app.get("/api/bots", &token).await,
        app.get("/api/bots/count", &token).await,
        app.get(&format!("/api/bots/{bot}"), &token).await,
        app.get(&format!("/api/bots/{bot}/flakes"), &token).await,
        app.post("/api/bots", &token, json!({"name": "mine"})).await,
        app.post(
            "/api/users",
            &token,
            json!({"email": "x@example.com", "password": "pw-123456", "role": "owner"}),
        )
        .await,
        app.get(&format!("/api/organisations/{}", app.org_id), &token)
            .await,
        app.get(&format!("/api/organisations/{}/users", app.org_id), &token)
            .await,
    ];
    for r in refused {
        assert_eq!(r.status, 401, "{}", r.text);
        assert_eq!(r.body, auth_required());
    }
}

#[tokio::test]
async fn an_owner_cannot_create_or_promote_to_superadmin() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let owner_id = create_owner(&app, &admin, "owner@example.com", "owner-pass").await;
    let owner = app.login("owner@example.com", "owner-pass").await;
    let r = app
        .post(
            "/api/users",
            &owner,
            json!({"email": "boss2@example.com", "password": "pw-123456", "role": "superadmin"}),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(r.body, auth_required());
    assert_eq!(
        login_status(&app, "boss2@example.com", "pw-123456").await,
        401
    );
    let r = app
        .patch(
            &format!("/api/users/{owner_id}"),
            &owner,
            json!({"role": "superadmin"}),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
    // An owner may create another owner, and the superadmin may create a superadmin.
    let r = app
        .post(
            "/api/users",
            &owner,
            json!({"email": "owner2@example.com", "password": "pw-123456", "role": "owner"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .post(
            "/api/users",
            &admin,
            json!({"email": "boss3@example.com", "password": "pw-123456", "role": "superadmin"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["role"], "superadmin");
}

#[tokio::test]
async fn a_bot_user_shows_the_seed_profile_fields_with_nulls() {
    let app = TestApp::spawn().await;
    let (_, bot, id, token) = bot_user(&app).await;
    let r = app.get(&format!("/api/users/{id}"), &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        keys(&r.body),
        [
            "organisation_id",
            "bot_id",
            "role",
            "platform",
            "email",
            "emailVerified",
            "id",
            "created",
            "modified",
            "displayName",
            "profilePic",
            "bot",
            "url",
            "type",
            "quiz_sets",
            "read_stories",
            "context_session",
            "level",
            "user_id"
        ]
    );
    assert_eq!(r.body["bot_id"], bot.as_str());
    assert_eq!(r.body["url"], Value::Null);
    assert_eq!(r.body["type"], Value::Null);
}

#[tokio::test]
async fn an_owner_cannot_change_or_remove_the_superadmin() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    create_owner(&app, &admin, "owner@example.com", "owner-pass").await;
    let owner = app.login("owner@example.com", "owner-pass").await;
    let boss = format!("/api/users/{}", app.admin_id);
    for body in [
        json!({"password": "taken-over"}),
        json!({"email": "owner-controlled@example.com"}),
        json!({"phone_no": "1"}),
    ] {
        let r = app.patch(&boss, &owner, body.clone()).await;
        assert_eq!(r.status, 401, "{body}: {}", r.text);
        assert_eq!(r.body, auth_required());
    }
    let r = app.delete(&boss, &owner).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(login_status(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await, 200);
    assert_eq!(app.get("/api/bots", &admin).await.status, 200);
    let r = app.get(&boss, &admin).await;
    assert!(r.body.get("phone_no").is_none(), "{}", r.text);
    // An owner may still read the superadmin.
    assert_eq!(app.get(&boss, &owner).await.status, 200);
}

#[tokio::test]
async fn a_role_change_applies_to_existing_tokens() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let bot = app.create_bot(&admin, "Demoted").await;
    let id = create_owner(&app, &admin, "demote@example.com", "demote-pass").await;
    let theirs = app.login("demote@example.com", "demote-pass").await;
    assert_eq!(app.get("/api/bots", &theirs).await.status, 200);
    let r = app
        .patch(
            &format!("/api/users/{id}"),
            &admin,
            json!({"role": "customer", "bot_id": bot}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app.get("/api/bots", &theirs).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(r.body, auth_required());
    assert_eq!(
        app.get(&format!("/api/users/{id}"), &theirs).await.status,
        200
    );
}

#[tokio::test]
async fn passwords_must_be_non_empty_and_at_most_72_bytes() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let long = "p".repeat(73);
    let r = app
        .post(
            "/api/users",
            &admin,
            json!({"email": "long@example.com", "password": long, "role": "owner"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"error": {"statusCode": 422, "name": "Error", "message": "The password entered was too long. Max length is 72 (entered 73)", "code": "PASSWORD_TOO_LONG"}})
    );
    let r = app
        .patch(
            &format!("/api/users/{}", app.admin_id),
            &admin,
            json!({"password": ""}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"error": {"statusCode": 422, "name": "Error", "message": "Invalid password.", "code": "INVALID_PASSWORD"}})
    );
    assert_eq!(login_status(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await, 200);
    // Exactly 72 bytes is fine.
    let r = app
        .post(
            "/api/users",
            &admin,
            json!({"email": "max@example.com", "password": "p".repeat(72), "role": "owner"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        login_status(&app, "max@example.com", &"p".repeat(72)).await,
        200
    );
}

#[tokio::test]
async fn login_by_username_and_a_non_string_email() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let r = app
        .post(
            "/api/users",
            &admin,
            json!({"email": "named@example.com", "username": "named", "password": "named-pass", "role": "owner"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .call(
            "POST",
            "/api/users/login",
            None,
            Some(json!({"username": "named", "password": "named-pass"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["userDetail"]["email"], "named@example.com");
    let r = app
        .call(
            "POST",
            "/api/users/login",
            None,
            Some(json!({"email": ["named@example.com"], "password": "named-pass"})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"]["code"], "INVALID_EMAIL");
}

#[tokio::test]
async fn a_bot_user_cannot_reach_the_organisation_through_include() {
    let app = TestApp::spawn().await;
    let (_, _, id, token) = bot_user(&app).await;
    let me = format!("/api/users/{id}");
    for include in [
        json!({"include": "organisation"}),
        json!({"include": {"organisation": ["users", {"bots": "flakes"}]}}),
    ] {
        let r = app.get_filter(&me, &token, include).await;
        assert_eq!(r.status, 401, "{}", r.text);
        assert_eq!(r.body, auth_required());
    }
    // Fields alone stay allowed.
    let r = app
        .get_filter(&me, &token, json!({"fields": ["email"]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"email": "fan@example.com"}));
}
