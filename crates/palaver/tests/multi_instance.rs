//! Two Palaver processes on one PostgreSQL database and one NATS server, as a scaled-out
//! deployment runs: a chat client on one instance hears what a client on the other sends, in
//! order; presence crosses over; and the sessions of an instance killed outright end once its
//! lease runs out. Needs PostgreSQL (`PALAVER_TEST_DATABASE_URL`, else the local server) and
//! NATS (`PALAVER_TEST_NATS_URL`, else `nats://127.0.0.1:4222`), as CI provides.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use palaver_gateway::frame::Command as Stomp;
use palaver_test_support::stomp::{FrameExt, StompClient, WAIT};
use palaver_test_support::{postgres_url, CLIENT_ID, CLIENT_SECRET};
use serde_json::{json, Value};

/// Short, so that a killed instance's sessions end within the test.
const LEASE_SECONDS: &str = "2";

fn nats_url() -> String {
    std::env::var("PALAVER_TEST_NATS_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "nats://127.0.0.1:4222".into())
}

/// A running `palaver serve` and where it listens.
struct Instance {
    child: Child,
    base: String,
    /// The instance's own chat functions folder.
    _functions: tempfile::TempDir,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts an instance on `database_url`, its hosted files in folder `files` (shared, as a
/// bucket would be).
fn start(database_url: &str, files: &std::path::Path) -> Instance {
    let functions = tempfile::tempdir().expect("functions folder");
    let mut child = Command::new(env!("CARGO_BIN_EXE_palaver"))
        .arg("serve")
        // One working folder for both, so that both read the secrets key file the first one
        // makes there (`./data/secrets.key`), as instances given the same key do.
        .current_dir(files)
        .env("PALAVER_FUNCTIONS_DIR", functions.path())
        .env("PALAVER_DATABASE_URL", database_url)
        .env("PALAVER_FILES_URL", files)
        .env("PALAVER_LISTEN", "127.0.0.1:0")
        .env("PALAVER_NATS_URL", nats_url())
        .env("PALAVER_SESSION_LEASE_SECONDS", LEASE_SECONDS)
        .env("PALAVER_BCRYPT_COST", "4")
        .env("PALAVER_BOOTSTRAP_CLIENT_ID", CLIENT_ID)
        .env("PALAVER_BOOTSTRAP_CLIENT_SECRET", CLIENT_SECRET)
        .env("PALAVER_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("palaver starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("Palaver listening on ") {
                let _ = tx.send(url.trim().to_string());
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the instance says where it listens");
    Instance {
        child,
        base,
        _functions: functions,
    }
}

async fn token(http: &reqwest::Client, base: &str) -> String {
    let form = reqwest::multipart::Form::new().text("grant_type", "client_credentials");
    let r: Value = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .multipart(form)
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    r["access_token"]
        .as_str()
        .expect("access token")
        .to_string()
}

async fn call(
    http: &reqwest::Client,
    method: &str,
    url: String,
    token: &str,
    body: Option<Value>,
) -> Value {
    let mut req = http
        .request(method.parse().expect("method"), url)
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("request");
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status}: {body}");
    body
}

async fn session(base: &str, key: &str, user: &str) -> StompClient {
    let mut c = StompClient::connect_to(base, key).await;
    let f = c.connect_as(user).await;
    assert_eq!(f.command, Stomp::Connected, "{}", f.describe());
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_events_presence_and_session_ends() {
    let url = postgres_url();
    let schema = format!("multi_{}", palaver_domain::id::new_object_id());
    palaver_store::Db::connect_postgres_schema(&url, &schema)
        .await
        .expect("PostgreSQL (PALAVER_TEST_DATABASE_URL)")
        .close()
        .await;
    let sep = if url.contains('?') { '&' } else { '?' };
    let database_url = format!("{url}{sep}options=-c%20search_path%3D{schema}");

    // A bootstraps the empty database; B joins it.
    let files = tempfile::tempdir().expect("a folder for files");
    let mut a = start(&database_url, files.path());
    let b = start(&database_url, files.path());
    let http = reqwest::Client::new();
    let t = token(&http, &b.base).await;
    let app = call(&http, "GET", format!("{}/application", b.base), &t, None).await;
    let key = app["key"].as_str().expect("api key").to_string();
    call(
        &http,
        "PUT",
        format!("{}/application/settings", a.base),
        &t,
        Some(json!({"guest_users": "ENABLED"})),
    )
    .await;
    for name in ["alice", "bob"] {
        call(
            &http,
            "POST",
            format!("{}/users", a.base),
            &t,
            Some(json!({"name": name})),
        )
        .await;
    }
    let room = call(
        &http,
        "POST",
        format!("{}/channels", a.base),
        &t,
        Some(
            json!({"type": "PUBLIC", "name": "room", "creator": {"username": "alice"},
                    "members": [{"username": "bob"}]}),
        ),
    )
    .await;
    let id = room["id"].as_i64().expect("channel id");

    // Bob listens on B; alice is on A.
    let mut bob = session(&b.base, &key, "bob").await;
    bob.listen("m", &format!("/topic/channels/{id}/messages"))
        .await;
    bob.listen("p", &format!("/topic/channels/{id}/participants"))
        .await;
    let mut alice = session(&a.base, &key, "alice").await;
    alice
        .listen("self", &format!("/topic/channels/{id}/self"))
        .await;
    alice
        .listen("m", &format!("/topic/channels/{id}/messages"))
        .await;

    // Alice entering the channel on A reaches bob on B.
    let entered = bob
        .wait_for(|f| f.is_event("channel.participant.active"))
        .await;
    assert_eq!(entered.json()["resource"]["name"], "alice");

    // Twenty messages sent on A arrive on B, all of them, in order.
    let dest = format!("/application/channels/{id}/message.action");
    for i in 0..20 {
        alice
            .send_action(
                &dest,
                &format!("r{i}"),
                &json!({"type": "TEXT", "body": format!("m{i}")}),
            )
            .await;
    }
    let mut bodies = Vec::new();
    while bodies.len() < 20 {
        let f = bob
            .wait_for(|f| f.is_event("channel.message.created"))
            .await;
        bodies.push(
            f.json()["resource"]["body"]
                .as_str()
                .expect("body")
                .to_string(),
        );
    }
    let sent: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
    assert_eq!(bodies, sent);

    // A message sent over REST to B reaches alice on A.
    call(
        &http,
        "POST",
        format!("{}/channels/{id}/messages", b.base),
        &t,
        Some(json!({"type": "TEXT", "body": "from rest", "user": {"username": "bob"}})),
    )
    .await;
    let f = alice
        .wait_for(|f| {
            f.is_event("channel.message.created") && f.json()["resource"]["body"] == "from rest"
        })
        .await;
    assert_eq!(f.json()["resource"]["user"]["name"], "bob");

    // B sees alice online.
    let users = call(
        &http,
        "GET",
        format!("{}/users?name=alice", b.base),
        &t,
        None,
    )
    .await;
    assert_eq!(users["_embedded"]["users"][0]["presence"]["online"], true);

    // A is killed outright: nothing ends its sessions but B, once A's lease has run out.
    a.child.kill().expect("SIGKILL");
    a.child.wait().expect("A is gone");
    let left = bob
        .frames_until(
            |f| f.is_event("channel.participant.inactive"),
            Duration::from_secs(30),
        )
        .await;
    let left = left.last().expect("bob hears alice leave");
    assert!(
        left.is_event("channel.participant.inactive"),
        "{}",
        left.describe()
    );
    assert_eq!(left.json()["resource"]["name"], "alice");
    let deadline = Instant::now() + WAIT;
    let active = loop {
        let page = call(
            &http,
            "GET",
            format!("{}/user-sessions?state=ACTIVE", b.base),
            &t,
            None,
        )
        .await;
        let names: Vec<String> = page["_embedded"]["sessions"]
            .as_array()
            .map(|s| {
                s.iter()
                    .filter_map(|s| s["user"]["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if !names.contains(&"alice".to_string()) || Instant::now() > deadline {
            break names;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(active, ["bob"]);
    let users = call(
        &http,
        "GET",
        format!("{}/users?name=alice", b.base),
        &t,
        None,
    )
    .await;
    assert_eq!(users["_embedded"]["users"][0]["presence"]["online"], false);

    drop(bob);
    drop(b);
    if let Ok(admin) = palaver_store::Db::connect_postgres_schema(&url, &schema).await {
        let _ = admin.drop_schema(&schema).await;
        admin.close().await;
    }
}
