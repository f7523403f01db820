//! The log of a real `palaver serve` at debug level, in JSON lines: every line is a JSON
//! object; no password, token or secret a request carried appears anywhere in it; and a
//! request that fails with a server error is logged once, with its cause and its request id.

// A test: a failed step should fail it right there.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine;
use palaver_gateway::frame::Command as Stomp;
use palaver_test_support::stomp::{FrameExt, StompClient};
use palaver_test_support::{ADMIN_EMAIL, ADMIN_PASSWORD, CLIENT_ID, CLIENT_SECRET};
use serde_json::{json, Value};

/// Secrets only this test uses, so that finding one in the log can only mean it leaked.
const WRONG_PASSWORD: &str = "wrong-password-Qx81vT";
const WRONG_CLIENT_SECRET: &str = "wrong-client-secret-Zm40pL";
const USER_SECRET: &str = "user-secret-value-Hn27cW";
const WEBHOOK_SECRET: &str = "webhook-secret-value-Pd93kR";
const AUTH_PARAM: &str = "auth-param-value-Ty65bN";
/// The request id the failing request carries.
const FAILING_ID: &str = "failing-request-7f3a9c";

/// A running `palaver serve`, its stderr collected by a thread until it exits.
struct Server {
    child: Child,
    base: String,
    /// The bootstrap application's public API key, as the first start prints it.
    api_key: String,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Server {
    /// Stops the server and answers everything it logged.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr.take().unwrap().join().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &std::path::Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_palaver"))
        .arg("serve")
        .env(
            "PALAVER_DATABASE_URL",
            format!("sqlite://{}", dir.join("palaver.db").display()),
        )
        .env("PALAVER_FILES_URL", dir.join("files"))
        .env("PALAVER_FUNCTIONS_DIR", dir.join("functions"))
        .env("PALAVER_LISTEN", "127.0.0.1:0")
        .env("PALAVER_BCRYPT_COST", "4")
        .env("PALAVER_BOOTSTRAP_EMAIL", ADMIN_EMAIL)
        .env("PALAVER_BOOTSTRAP_PASSWORD", ADMIN_PASSWORD)
        .env("PALAVER_BOOTSTRAP_CLIENT_ID", CLIENT_ID)
        .env("PALAVER_BOOTSTRAP_CLIENT_SECRET", CLIENT_SECRET)
        .env("PALAVER_LOG", "debug")
        .env("PALAVER_LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("palaver starts");
    let mut err = child.stderr.take().expect("stderr");
    let stderr = std::thread::spawn(move || {
        let mut all = String::new();
        let _ = err.read_to_string(&mut all);
        all
    });
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut api_key = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(key) = line.trim().strip_prefix("api_key:") {
                api_key = key.trim().to_string();
            }
            if let Some(url) = line.strip_prefix("Palaver listening on ") {
                let _ = tx.send((url.trim().to_string(), api_key.clone()));
            }
        }
    });
    let (base, api_key) = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the server says where it listens");
    Server {
        child,
        base,
        api_key,
        stderr: Some(stderr),
    }
}

async fn token(http: &reqwest::Client, base: &str, secret: &str) -> reqwest::Response {
    http.post(format!("{base}/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={secret}"
        ))
        .send()
        .await
        .expect("token request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_json_logs_hold_no_secret_and_tie_a_server_error_to_its_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let base = server.base.clone();
    let http = reqwest::Client::new();

    // Content API: a login with the wrong password, then the right one; its token in use.
    let r = http
        .post(format!("{base}/api/users/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": WRONG_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .post(format!("{base}/api/users/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let login: Value = r.json().await.unwrap();
    let access = login["id"].as_str().unwrap().to_string();
    let r = http
        .get(format!(
            "{base}/api/users/{}",
            login["userId"].as_str().unwrap()
        ))
        .header("KTL-Access-Token", &access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A bot's webhook, with its signing secret.
    let bot: Value = http
        .post(format!("{base}/api/bots"))
        .header("KTL-Access-Token", &access)
        .json(&json!({"name": "Hooked", "platform": "slack", "domain": "news"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bot = bot["id"].as_str().expect("bot created");
    let r = http
        .post(format!("{base}/api/bots/{bot}/webhooks"))
        .header("KTL-Access-Token", &access)
        .json(
            &json!({"url": "https://hooks.example.com/in", "secret": WEBHOOK_SECRET,
            "events": ["flake.published"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Platform API: client credentials, wrong then right (in the body and with Basic).
    assert_eq!(token(&http, &base, WRONG_CLIENT_SECRET).await.status(), 401);
    let r = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = token(&http, &base, CLIENT_SECRET).await;
    assert_eq!(r.status(), 200);
    let bearer: Value = r.json().await.unwrap();
    let bearer = bearer["access_token"].as_str().unwrap().to_string();

    // A user secret set with the bearer token.
    let user: Value = http
        .post(format!("{base}/v1/users"))
        .bearer_auth(&bearer)
        .json(&json!({"name": "alice", "display_name": "Alice"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = user["id"].as_i64().expect("user created");
    let r = http
        .put(format!("{base}/v1/users/{id}/secrets/api-key"))
        .bearer_auth(&bearer)
        .json(&json!({"secret": {"token": USER_SECRET}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // A real-time client starting its session with auth params; the gateway counts it.
    let r = http
        .put(format!("{base}/v1/application/settings"))
        .bearer_auth(&bearer)
        .json(&json!({"guest_users": "ENABLED"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let auth = json!({"token": AUTH_PARAM});
    let mut client = StompClient::connect_to(&base, &server.api_key).await;
    let answer = client.connect_with_auth("alice", &auth).await;
    assert_eq!(answer.command, Stomp::Connected, "{}", answer.describe());
    let scrape = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        scrape.lines().any(|l| l == "palaver_gateway_connections 1"),
        "{scrape}"
    );
    let auth_header = base64::engine::general_purpose::STANDARD.encode(auth.to_string());

    // A request that fails inside: the jobs table is gone from under the server.
    let url = format!("sqlite://{}", dir.path().join("palaver.db").display());
    let db = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("ALTER TABLE jobs RENAME TO jobs_gone")
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let r = http
        .get(format!("{base}/v1/jobs"))
        .bearer_auth(&bearer)
        .header("x-request-id", FAILING_ID)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(r.headers()["x-request-id"], FAILING_ID);
    let body = r.text().await.unwrap();
    assert!(!body.contains("jobs"), "{body}");

    let log = server.stop();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 10, "{log}");
    assert!(lines.iter().all(Value::is_object), "{log}");

    for secret in [
        ADMIN_PASSWORD,
        WRONG_PASSWORD,
        CLIENT_SECRET,
        WRONG_CLIENT_SECRET,
        USER_SECRET,
        WEBHOOK_SECRET,
        AUTH_PARAM,
        auth_header.as_str(),
        access.as_str(),
        bearer.as_str(),
    ] {
        assert!(!log.contains(secret), "a secret is in the log: {secret}");
    }

    // The failure is logged once, at ERROR, with its cause, carrying the request's id.
    let errors: Vec<&Value> = lines
        .iter()
        .filter(|l| l["level"] == "ERROR" && l.to_string().contains(FAILING_ID))
        .collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].to_string().contains("no such table"),
        "{:#}",
        errors[0]
    );
    assert_eq!(
        errors[0]["span"]["request_id"], FAILING_ID,
        "{:#}",
        errors[0]
    );
    assert_eq!(errors[0]["span"]["route"], "/v1/jobs", "{:#}", errors[0]);
}

#[test]
fn an_unknown_log_format_stops_the_start() {
    let out = Command::new(env!("CARGO_BIN_EXE_palaver"))
        .arg("serve")
        .env("PALAVER_LOG_FORMAT", "yaml")
        .output()
        .expect("palaver runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PALAVER_LOG_FORMAT"), "{err}");
}
