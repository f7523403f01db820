//! Platform API authentication: `POST /oauth/token` (client credentials by HTTP Basic or form
//! fields, urlencoded, multipart or JSON) and bearer tokens on resources (missing, bogus,
//! expired, revoked by a secret rotation).

use std::time::Duration;

use palaver_test_support::{Resp, TestApp, CLIENT_ID, CLIENT_SECRET};
use serde_json::{json, Value};

/// base64("test-client-id:test-client-secret"), computed outside the code under test.
const BASIC: &str = "Basic dGVzdC1jbGllbnQtaWQ6dGVzdC1jbGllbnQtc2VjcmV0";
/// base64("acme:acmesecret"): the seed's own header.
const ACME_BASIC: &str = "Basic YWNtZTphY21lc2VjcmV0";
const BOUNDARY: &str = "--------------------------a1b2c3d4e5f6a7b8c9d0e1f2";

/// A multipart/form-data body of text fields, as the `form-data` package writes it.
fn multipart(fields: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body
}

fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

async fn token_request(app: &TestApp, headers: &[(&str, &str)], body: &str) -> Resp {
    app.send("POST", "/oauth/token", headers, Some(body)).await
}

/// Checks a 200 token response and returns its access token.
fn granted(r: &Resp, scope: &str, expires_in: i64) -> String {
    assert_eq!(r.status, 200, "{}", r.text);
    let obj = r.body.as_object().expect("object");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["access_token", "expires_in", "scope", "token_type"],
        "{}",
        r.text
    );
    assert_eq!(r.body["token_type"], "bearer");
    assert_eq!(r.body["expires_in"], expires_in);
    assert_eq!(r.body["scope"], scope);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let token = r.body["access_token"].as_str().expect("token").to_string();
    assert!(token.len() >= 20, "token too short: {token}");
    token
}

fn scope_of(org: &str, app_id: i64) -> String {
    format!("org:{org}:app:{app_id} create:* read:* update:* delete:*")
}

fn oauth_error(r: &Resp, status: u16, error: &str, description: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"error": error, "error_description": description}),
        "{}",
        r.text
    );
    assert_eq!(r.header("cache-control"), Some("no-store"), "{}", r.text);
}

/// The token works: `GET /application` answers the application it was granted to.
async fn works_for(app: &TestApp, token: &str, app_id: i64) {
    let r = app.pget("/application", token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["id"], app_id);
}

#[tokio::test]
async fn multipart_with_basic_auth_as_the_official_clients_send_it() {
    let app = crate::spawn().await;
    let ct = multipart_type();
    let r = token_request(
        &app,
        &[
            ("Authorization", BASIC),
            ("Content-Type", &ct),
            ("Accept", "application/json, text/plain, */*"),
        ],
        &multipart(&[("grant_type", "client_credentials")]),
    )
    .await;
    let token = granted(&r, &scope_of(&app.org_id, app.app_id), 43_200);
    assert_eq!(r.header("pragma"), Some("no-cache"));
    works_for(&app, &token, app.app_id).await;
}

#[tokio::test]
async fn the_seeds_curl_with_username_and_password_fields() {
    let app = crate::spawn().await;
    let (org, _) = app.other_org("acme").await;
    let created = app
        .services
        .platform
        .create_application(
            &org,
            "Acme",
            Some(("acme".to_string(), "acmesecret".to_string())),
        )
        .await
        .map_err(|e| e.into_domain())
        .expect("application");
    let ct = multipart_type();
    let r = token_request(
        &app,
        &[("Authorization", ACME_BASIC), ("Content-Type", &ct)],
        &multipart(&[
            ("grant_type", "client_credentials"),
            ("username", "acme"),
            ("password", "acmesecret"),
        ]),
    )
    .await;
    let token = granted(&r, &scope_of(&org, created.app.id), 43_200);
    works_for(&app, &token, created.app.id).await;

    // The seed's Python: the same fields urlencoded, with Basic auth.
    let r = token_request(
        &app,
        &[
            ("Authorization", ACME_BASIC),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        "grant_type=client_credentials&username=acme&password=acmesecret",
    )
    .await;
    let token = granted(&r, &scope_of(&org, created.app.id), 43_200);
    works_for(&app, &token, created.app.id).await;
}

#[tokio::test]
async fn credentials_as_form_fields_urlencoded_multipart_or_json() {
    let app = crate::spawn().await;
    let scope = scope_of(&app.org_id, app.app_id);
    let form = format!(
        "grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}"
    );
    let r = token_request(
        &app,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &form,
    )
    .await;
    let t1 = granted(&r, &scope, 43_200);

    let ct = multipart_type();
    let r = token_request(
        &app,
        &[("Content-Type", &ct)],
        &multipart(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ]),
    )
    .await;
    let t2 = granted(&r, &scope, 43_200);

    let body = json!({"grant_type": "client_credentials", "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET})
    .to_string();
    let r = token_request(&app, &[("Content-Type", "application/json")], &body).await;
    let t3 = granted(&r, &scope, 43_200);

    // The same path under /v1.
    let r = app
        .send(
            "POST",
            "/v1/oauth/token",
            &[
                ("Authorization", BASIC),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            Some("grant_type=client_credentials"),
        )
        .await;
    let t4 = granted(&r, &scope, 43_200);

    // Every grant is a new token, and all of them work side by side.
    let mut all = vec![t1.clone(), t2.clone(), t3.clone(), t4.clone()];
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 4);
    for t in [&t1, &t2, &t3, &t4] {
        works_for(&app, t, app.app_id).await;
    }
}

#[tokio::test]
async fn bad_client_credentials_are_401_invalid_client() {
    let app = crate::spawn().await;
    let wrong_secret = format!("{CLIENT_ID}:not-the-secret");
    let unknown = format!("nosuch-client:{CLIENT_SECRET}");
    for (id, secret) in [
        (CLIENT_ID, "not-the-secret"),
        ("nosuch-client", CLIENT_SECRET),
        (CLIENT_ID, ""),
    ] {
        let res = app
            .client
            .post(app.url("/oauth/token"))
            .basic_auth(id, Some(secret))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .expect("sent");
        let r = TestApp::read(res).await;
        oauth_error(&r, 401, "invalid_client", "Bad client credentials");
        assert_eq!(
            r.header("www-authenticate"),
            Some("Basic realm=\"palaver\""),
            "{id}:{secret}"
        );
    }
    // The same as form fields.
    for pair in [&wrong_secret, &unknown] {
        let (id, secret) = pair.split_once(':').expect("pair");
        let r = token_request(
            &app,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            &format!("grant_type=client_credentials&client_id={id}&client_secret={secret}"),
        )
        .await;
        oauth_error(&r, 401, "invalid_client", "Bad client credentials");
        assert!(r.header("www-authenticate").is_some());
    }
    // No client authentication at all.
    let r = token_request(
        &app,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "grant_type=client_credentials",
    )
    .await;
    oauth_error(
        &r,
        401,
        "invalid_client",
        "Client authentication is required",
    );
    assert!(r.header("www-authenticate").is_some());
}

#[tokio::test]
async fn malformed_token_requests_are_400() {
    let app = crate::spawn().await;
    let form = [
        ("Authorization", BASIC),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    for grant in [
        "password",
        "authorization_code",
        "refresh_token",
        "CLIENT_CREDENTIALS",
    ] {
        let r = token_request(&app, &form, &format!("grant_type={grant}")).await;
        oauth_error(
            &r,
            400,
            "unsupported_grant_type",
            "Only the client_credentials grant is supported",
        );
    }
    for body in ["", "scope=read", "username=acme&password=acmesecret"] {
        let r = token_request(&app, &form, body).await;
        oauth_error(&r, 400, "invalid_request", "grant_type is required");
    }
    let ct = multipart_type();
    let r = token_request(
        &app,
        &[("Authorization", BASIC), ("Content-Type", &ct)],
        &multipart(&[("scope", "read")]),
    )
    .await;
    oauth_error(&r, 400, "invalid_request", "grant_type is required");

    // A client id without its secret.
    let r = token_request(
        &app,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &format!("grant_type=client_credentials&client_id={CLIENT_ID}"),
    )
    .await;
    oauth_error(
        &r,
        400,
        "invalid_request",
        "client_secret is required with client_id",
    );
    // A broken multipart body.
    let r = token_request(
        &app,
        &[("Authorization", BASIC), ("Content-Type", &ct)],
        "this is not multipart",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"], "invalid_request", "{}", r.text);
    // JSON that is not JSON.
    let r = token_request(
        &app,
        &[
            ("Authorization", BASIC),
            ("Content-Type", "application/json"),
        ],
        "{grant_type",
    )
    .await;
    oauth_error(&r, 400, "invalid_request", "The body is not valid JSON");
}

#[tokio::test]
async fn resources_need_a_bearer_token() {
    let app = crate::spawn().await;
    let unauthorized = json!({"error": "unauthorized",
        "error_description": "Full authentication is required to access this resource"});
    for path in ["/application", "/v1/users", "/application/settings"] {
        let r = app.pcall("GET", path, None, &[], None).await;
        assert_eq!(r.status, 401, "{path}: {}", r.text);
        assert_eq!(r.body, unauthorized, "{path}");
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"palaver\"")
        );
    }
    let p = format!("/v1/applications/{}", app.app_id);
    let r = app.pcall("GET", &p, None, &[], None).await;
    assert_eq!((r.status, &r.body), (401, &unauthorized), "{}", r.text);
    // Not a bearer: Basic client credentials, an empty bearer, a bare token.
    for auth in [BASIC, "Bearer", "Bearer ", "sometoken"] {
        let r = app
            .send("GET", "/users", &[("Authorization", auth)], None)
            .await;
        assert_eq!(r.status, 401, "{auth}: {}", r.text);
        assert_eq!(r.body, unauthorized, "{auth}");
    }
    // Writes are refused the same way, before their bodies are looked at.
    let r = app
        .pcall("POST", "/users", None, &[], Some(json!({"name": "x"})))
        .await;
    assert_eq!((r.status, &r.body), (401, &unauthorized));
    let r = app.pcall("HEAD", "/users?name=x", None, &[], None).await;
    assert_eq!((r.status, r.text.as_str()), (401, ""));
}

#[tokio::test]
async fn bogus_tokens_are_401_invalid_token() {
    let app = crate::spawn().await;
    let good = app.platform_token().await;
    let long = "x".repeat(600);
    for token in ["nosuch", &format!("{good}x"), &good[1..], &long] {
        let r = app.pget("/users", token).await;
        assert_eq!(r.status, 401, "{}", r.text);
        assert_eq!(
            r.body,
            json!({"error": "invalid_token", "error_description": "Invalid or expired access token"})
        );
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"palaver\", error=\"invalid_token\"")
        );
    }
    // The scheme is case-insensitive.
    let r = app
        .send(
            "GET",
            "/application",
            &[("Authorization", &format!("bearer {good}"))],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn tokens_expire() {
    let app = crate::spawn_with(|c| c.oauth_token_ttl_seconds = 1).await;
    let r = token_request(
        &app,
        &[
            ("Authorization", BASIC),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        "grant_type=client_credentials",
    )
    .await;
    let token = granted(&r, &scope_of(&app.org_id, app.app_id), 1);
    works_for(&app, &token, app.app_id).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let r = app.pget("/application", &token).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(r.body["error"], "invalid_token");
    // A new grant works again.
    let fresh = app.platform_token().await;
    works_for(&app, &fresh, app.app_id).await;
}

#[tokio::test]
async fn rotating_the_secret_revokes_tokens_and_the_old_secret() {
    let app = crate::spawn().await;
    let other = app.other_application("rotation").await;
    let old = app.platform_token().await;
    works_for(&app, &old, app.app_id).await;

    let secret = app
        .services
        .platform
        .rotate_secret(app.app_id)
        .await
        .map_err(|e| e.into_domain())
        .expect("rotated");
    assert_ne!(secret, CLIENT_SECRET);

    let r = app.pget("/application", &old).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(r.body["error"], "invalid_token");
    let r = token_request(
        &app,
        &[
            ("Authorization", BASIC),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        "grant_type=client_credentials",
    )
    .await;
    oauth_error(&r, 401, "invalid_client", "Bad client credentials");

    let new = app.token_for(CLIENT_ID, &secret).await;
    works_for(&app, &new, app.app_id).await;
    // Another application's tokens are untouched.
    works_for(&app, &other.token, other.app_id).await;
}

/// Rotates the application's secret as another process on the same database would (the
/// operator command, another instance): through a `Platform` of its own.
async fn rotate_elsewhere(app: &TestApp) {
    let files = app.services.platform.file_store().clone();
    let sealer = palaver_service::secrets::open(&app.services.db, &app.secrets)
        .await
        .expect("the same secrets key");
    palaver_service::Platform::new(app.services.db.clone(), Default::default(), files, sealer)
        .rotate_secret(app.app_id)
        .await
        .map_err(|e| e.into_domain())
        .expect("rotated");
}

/// With a memo of `memo_ms`, a token revoked elsewhere is refused `wait_ms` later.
async fn refused_after_rotation_elsewhere(memo_ms: u64, wait_ms: u64) {
    let app = crate::spawn_with(|c| c.oauth_token_memo_millis = memo_ms).await;
    let token = app.platform_token().await;
    works_for(&app, &token, app.app_id).await;
    rotate_elsewhere(&app).await;
    tokio::time::sleep(Duration::from_millis(wait_ms)).await;
    let r = app.pget("/application", &token).await;
    assert_eq!(
        r.status, 401,
        "memo {memo_ms} ms, after {wait_ms} ms: {}",
        r.text
    );
    assert_eq!(r.body["error"], "invalid_token");
}

#[tokio::test]
async fn a_rotation_elsewhere_revokes_tokens_within_the_memo_age() {
    refused_after_rotation_elsewhere(300, 400).await;
}

#[tokio::test]
async fn without_a_memo_a_rotation_elsewhere_revokes_tokens_at_once() {
    refused_after_rotation_elsewhere(0, 0).await;
}

#[tokio::test]
async fn a_token_speaks_for_its_own_application_only() {
    let app = crate::spawn().await;
    let other = app.other_application("second").await;
    let mine = app.platform_token().await;
    let r = app.pget("/application", &other.token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["id"], other.app_id);
    assert_eq!(r.body["key"], Value::from(other.api_key.clone()));
    let r = app.pget("/application", &mine).await;
    assert_eq!(r.body["id"], app.app_id);
    assert_eq!(r.body["key"], Value::from(app.api_key.clone()));
    assert_ne!(other.app_id, app.app_id);
}
