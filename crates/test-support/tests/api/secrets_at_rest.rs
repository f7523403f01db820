//! Credentials at rest, read from the database itself: client secrets are bcrypt hashes (a
//! legacy SHA-256 digest still grants, and is re-hashed by the grant); users' secrets, webhook
//! secrets and runtimes' environment variables are sealed (`v1:`…) while the APIs answer the
//! plain values; a sealed value moved to another row does not open; values stored in plain text
//! are sealed at the next start; and a start with another key stops with a clear message.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hmac::{Hmac, Mac};
use palaver_service::secrets::SecretsConfig;
use palaver_store::Db;
use palaver_test_support::{random_secrets_key, TestApp, CLIENT_ID, CLIENT_SECRET};
use serde_json::json;
use sha2::{Digest, Sha256};

/// The one text value `sql` selects (test-made statements: no outside input in them).
async fn scalar(app: &TestApp, sql: &str) -> String {
    match &app.services.db {
        Db::Sqlite(p, _) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

/// Runs a write the server does not make, as an older version or an intruder would.
async fn execute(app: &TestApp, sql: &str) {
    let n = match &app.services.db {
        Db::Sqlite(p, _) => sqlx::query(sql).execute(p).await.unwrap().rows_affected(),
        Db::Postgres(p) => sqlx::query(sql).execute(p).await.unwrap().rows_affected(),
    };
    assert_eq!(n, 1, "{sql}");
}

fn assert_sealed(stored: &str, plain: &str) {
    assert!(stored.starts_with("v1:"), "not sealed: {stored}");
    assert!(!stored.contains(plain), "the plain value shows: {stored}");
}

async fn client_secret_column(app: &TestApp, app_id: i64) -> String {
    scalar(
        app,
        &format!("SELECT client_secret_digest FROM applications WHERE id = {app_id}"),
    )
    .await
}

async fn grant_status(app: &TestApp, client_id: &str, secret: &str) -> u16 {
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(client_id, Some(secret))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    let r = TestApp::read(res).await;
    if r.status != 200 {
        assert_eq!(r.body["error"], "invalid_client", "{}", r.text);
    }
    r.status
}

fn hex_sha256(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn client_secrets_are_bcrypt_hashes_checked_at_the_grant() {
    let app = crate::spawn().await;
    let stored = client_secret_column(&app, app.app_id).await;
    assert!(stored.starts_with("$2"), "not a bcrypt hash: {stored}");
    assert!(!stored.contains(CLIENT_SECRET));
    assert_eq!(grant_status(&app, CLIENT_ID, CLIENT_SECRET).await, 200);
    assert_eq!(
        grant_status(&app, CLIENT_ID, "test-client-secreT").await,
        401
    );
    assert_eq!(grant_status(&app, CLIENT_ID, "").await, 401);
    assert_eq!(
        grant_status(&app, "no-such-client", CLIENT_SECRET).await,
        401
    );
    // A secret made by the operator is hashed too; one bcrypt would cut short is refused.
    let other = app.other_application("hashed").await;
    assert!(client_secret_column(&app, other.app_id)
        .await
        .starts_with("$2"));
    let (org, _) = app.other_org("long").await;
    let refused = app
        .services
        .platform
        .create_application(&org, "long", Some(("long-id".into(), "s".repeat(72))))
        .await
        .map_err(|e| e.into_domain())
        .unwrap_err();
    assert!(refused.message.contains("8 to 71 bytes"), "{refused:?}");
}

#[tokio::test]
async fn a_legacy_digest_still_grants_and_the_grant_re_hashes_it() {
    let app = crate::spawn().await;
    let digest = hex_sha256(CLIENT_SECRET);
    execute(
        &app,
        &format!(
            "UPDATE applications SET client_secret_digest = '{digest}' WHERE id = {}",
            app.app_id
        ),
    )
    .await;
    // A wrong secret neither grants nor changes the row.
    assert_eq!(grant_status(&app, CLIENT_ID, "not-the-secret").await, 401);
    assert_eq!(client_secret_column(&app, app.app_id).await, digest);

    assert_eq!(grant_status(&app, CLIENT_ID, CLIENT_SECRET).await, 200);
    let stored = client_secret_column(&app, app.app_id).await;
    assert!(stored.starts_with("$2"), "not re-hashed: {stored}");
    assert_eq!(grant_status(&app, CLIENT_ID, CLIENT_SECRET).await, 200);
    assert_eq!(grant_status(&app, CLIENT_ID, "not-the-secret").await, 401);
}

#[tokio::test]
async fn a_rotated_secret_is_stored_as_a_new_hash() {
    let app = crate::spawn().await;
    let before = client_secret_column(&app, app.app_id).await;
    let secret = app
        .services
        .platform
        .rotate_secret(app.app_id)
        .await
        .map_err(|e| e.into_domain())
        .unwrap();
    let after = client_secret_column(&app, app.app_id).await;
    assert!(after.starts_with("$2"), "{after}");
    assert_ne!(after, before);
    assert!(!after.contains(&secret));
    assert_eq!(grant_status(&app, CLIENT_ID, &secret).await, 200);
    assert_eq!(grant_status(&app, CLIENT_ID, CLIENT_SECRET).await, 401);
}

#[tokio::test]
async fn user_secrets_are_sealed_and_answered_plain() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let ann = app
        .create_chat_user(&token, json!({"name": "ann", "isGuest": false}))
        .await["id"]
        .as_i64()
        .unwrap();
    let bob = app
        .create_chat_user(&token, json!({"name": "bob", "isGuest": false}))
        .await["id"]
        .as_i64()
        .unwrap();
    let value = json!({"password": "correct horse battery staple"});
    for (user, v) in [(ann, &value), (bob, &json!("bob's own"))] {
        let r = app
            .pput(
                &format!("/users/{user}/secrets/login"),
                &token,
                json!({ "secret": v }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let stored = scalar(
        &app,
        &format!("SELECT secret FROM chat_user_secrets WHERE user_id = {ann} AND name = 'login'"),
    )
    .await;
    assert_sealed(&stored, "correct horse");
    let r = app
        .pget(&format!("/users/{ann}/secrets/login"), &token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["secret"], value);

    // Ann's sealed secret copied into Bob's row does not open there: a bare server error.
    execute(
        &app,
        &format!(
            "UPDATE chat_user_secrets SET secret = '{stored}' WHERE user_id = {bob} AND name = 'login'"
        ),
    )
    .await;
    let r = app
        .pget(&format!("/users/{bob}/secrets/login"), &token)
        .await;
    assert_eq!(r.status, 500, "{}", r.text);
    assert!(!r.text.contains("correct horse"), "{}", r.text);
}

#[tokio::test]
async fn runtime_environment_variables_are_sealed_and_answered_plain() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    // A runtime made with defaults holds its (empty) variables sealed too.
    let r = app.pget("/runtimes/nodejs", &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_sealed(
        &scalar(&app, "SELECT environment_variables FROM runtimes").await,
        "{}",
    );
    let vars = json!({"API_KEY": "runtime-secret-value", "MODE": "live"});
    let r = app
        .pput(
            "/runtimes/nodejs/environment-variables",
            &token,
            vars.clone(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["environment_variables"], vars);
    let stored = scalar(&app, "SELECT environment_variables FROM runtimes").await;
    assert_sealed(&stored, "runtime-secret-value");
    let r = app.pget("/runtimes/nodejs", &token).await;
    assert_eq!(r.body["environment_variables"], vars);
    // What runs functions reads them opened.
    let rt = app.services.platform.runtime(app.app_id).await.unwrap();
    assert_eq!(
        rt.environment_variables.as_map()["API_KEY"],
        "runtime-secret-value"
    );
}

#[tokio::test]
async fn webhook_secrets_are_sealed_and_never_shown() {
    let app = crate::spawn_with(|c| c.outbound_allow_private = true).await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Sealed").await;
    let r = app
        .post(
            &format!("/api/bots/{bot}/webhooks"),
            &token,
            json!({"url": "http://127.0.0.1:9/hook", "secret": "webhook-secret-of-length",
                "events": ["flake.published"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let hook = r.id();
    let stored = scalar(
        &app,
        &format!("SELECT secret FROM webhooks WHERE id = '{hook}'"),
    )
    .await;
    assert_sealed(&stored, "webhook-secret-of-length");
    // A change of secret is sealed too.
    let r = app
        .patch(
            &format!("/api/bots/{bot}/webhooks/{hook}"),
            &token,
            json!({"secret": "another-webhook-secret"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body.get("secret").is_none(), "{}", r.text);
    let changed = scalar(
        &app,
        &format!("SELECT secret FROM webhooks WHERE id = '{hook}'"),
    )
    .await;
    assert_sealed(&changed, "another-webhook-secret");
    assert_ne!(changed, stored);
}

#[tokio::test]
async fn another_key_stops_the_start_with_a_clear_message() {
    let app = crate::spawn().await;
    // The same key starts again.
    app.build_again(app.secrets.clone())
        .await
        .expect("the same key starts");
    let other = SecretsConfig {
        key: Some(random_secrets_key()),
        ..app.secrets.clone()
    };
    let Err(message) = app.build_again(other).await else {
        panic!("another key started");
    };
    assert!(
        message.contains("secrets key is not the one this database's secrets are sealed with"),
        "{message}"
    );
    // With no key configured and the key file missing, no new key is made for this database.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secrets.key");
    let missing = SecretsConfig {
        key: None,
        key_file: file.clone(),
    };
    let Err(message) = app.build_again(missing).await else {
        panic!("a made-up key started");
    };
    assert!(message.contains("is missing"), "{message}");
    assert!(!file.exists(), "a key file was made");
    let bad = SecretsConfig {
        key: Some("c2hvcnQ=".into()),
        ..app.secrets.clone()
    };
    let Err(message) = app.build_again(bad).await else {
        panic!("a short key started");
    };
    assert!(message.contains("base64 of 32 bytes"), "{message}");
}

/// What a webhook receiver saw: whether each request was signed under `secret`.
#[derive(Clone)]
struct Receiver {
    secret: &'static str,
    signed: Arc<Mutex<Vec<bool>>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut mac = Hmac::<Sha256>::new_from_slice(r.secret.as_bytes()).unwrap();
    mac.update(&body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let got = headers
        .get("x-palaver-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    r.signed
        .lock()
        .unwrap()
        .push(got == format!("sha256={expected}"));
    StatusCode::OK
}

#[tokio::test]
async fn plain_values_stored_before_sealing_are_sealed_at_the_next_start() {
    // No read cache: what a restart rewrites is read from the database, not from memory.
    let app = crate::spawn_with(|c| {
        c.outbound_allow_private = true;
        c.read_cache = Some(false);
    })
    .await;
    let ptoken = app.platform_token().await;
    let ann = app
        .create_chat_user(&ptoken, json!({"name": "ann", "isGuest": false}))
        .await["id"]
        .as_i64()
        .unwrap();
    let r = app
        .pput(
            &format!("/users/{ann}/secrets/old"),
            &ptoken,
            json!({"secret": "x"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.pget("/runtimes/nodejs", &ptoken).await;
    let signed = Arc::new(Mutex::new(Vec::new()));
    let receiver = Router::new()
        .route("/hook", post(receive))
        .with_state(Receiver {
            secret: "plain-old-webhook-secret",
            signed: signed.clone(),
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, receiver).await });
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Old").await;
    let hook = app
        .post(
            &format!("/api/bots/{bot}/webhooks"),
            &token,
            json!({"url": format!("http://127.0.0.1:{port}/hook"),
                "secret": "a-newer-webhook-secret", "events": ["flake.published"]}),
        )
        .await
        .id();

    // The rows as an older version wrote them: plain text.
    execute(
        &app,
        &format!("UPDATE chat_user_secrets SET secret = '\"plain-old\"' WHERE user_id = {ann}"),
    )
    .await;
    execute(
        &app,
        "UPDATE runtimes SET environment_variables = '{\"OLD\":\"plain-old-variable\"}'",
    )
    .await;
    execute(
        &app,
        &format!("UPDATE webhooks SET secret = 'plain-old-webhook-secret' WHERE id = '{hook}'"),
    )
    .await;
    // Reads accept sealed values only: until they are sealed, they do not open.
    let r = app
        .pget(&format!("/users/{ann}/secrets/old"), &ptoken)
        .await;
    assert_eq!(r.status, 500, "{}", r.text);

    // The next start seals them, with the key it was given; a second one finds nothing to do.
    drop(app.build_again(app.secrets.clone()).await.unwrap());
    drop(app.build_again(app.secrets.clone()).await.unwrap());
    let user_secret = scalar(
        &app,
        &format!("SELECT secret FROM chat_user_secrets WHERE user_id = {ann}"),
    )
    .await;
    assert_sealed(&user_secret, "plain-old");
    assert_sealed(
        &scalar(&app, "SELECT environment_variables FROM runtimes").await,
        "plain-old-variable",
    );
    assert_sealed(
        &scalar(
            &app,
            &format!("SELECT secret FROM webhooks WHERE id = '{hook}'"),
        )
        .await,
        "plain-old-webhook-secret",
    );
    let r = app
        .pget(&format!("/users/{ann}/secrets/old"), &ptoken)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["secret"], "plain-old");
    let r = app.pget("/runtimes/nodejs", &ptoken).await;
    assert_eq!(
        r.body["environment_variables"],
        json!({"OLD": "plain-old-variable"})
    );

    // Deliveries are signed with the secret as it was stored.
    let category = app
        .post(
            &format!("/api/bots/{bot}/categories"),
            &token,
            json!({"name": "News", "slug": "news"}),
        )
        .await
        .id();
    let r = app
        .post(
            &format!("/api/bots/{bot}/flakes"),
            &token,
            json!({"title": "Old news", "description": "About old news",
                "image_url": "https://img.example.com/1.png",
                "bullet_points": [{"type": "text", "text": "Read more",
                    "button": [{"name": "Open", "action": "https://example.com/a"}]}],
                "category": [category], "status": "publish"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.run_jobs().await;
    let seen: Vec<bool> = signed.lock().unwrap().clone();
    assert_eq!(seen, [true], "one delivery, signed with the stored secret");
}
