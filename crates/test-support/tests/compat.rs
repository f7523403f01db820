//! Compatibility suite: the official ChatKitty platform clients, pinned in `compat/`, run against
//! a spawned Palaver with nothing changed but their base URL.
//!
//! - client A: npm `chatkitty@2.106.8` (`compat/node/client_a.mjs`)
//! - client B: npm `chatkitty-platform-sdk@2.4.0` (`compat/node/client_b.mjs`)
//! - client PY: PyPI `chatkitty-server-side-sdk==1.0.0` (`compat/python/client_py.py`)
//! - client CORE: npm `@chatkitty/core@2.106.2`, the browser SDK, over the real-time gateway
//!   (`compat/node/client_core.mjs`; secured sessions decided by a start-session chat function in
//!   `compat/node/client_core_secured.mjs`)
//!
//! The clients are installed on first use (`npm ci` into `compat/node/node_modules`, a virtual
//! environment at `target/compat-venv`) and reused while their pins are unchanged. Node and
//! Python 3 must be on the PATH: without them these tests fail rather than skip.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use palaver_test_support::scripts::{
    in_dir, npm_packages, python_packages, run_and_check, target_dir, workspace_root,
};
use palaver_test_support::{TestApp, CLIENT_ID, CLIENT_SECRET};
use tokio::sync::OnceCell;

/// Installs the Node clients once per test process, when their pins changed.
async fn node_clients() -> PathBuf {
    let dir = workspace_root().join("compat/node");
    npm_packages(&dir, "the ChatKitty Node clients").await;
    dir
}

/// Creates `target/compat-venv` with the Python client once per test process, when its pin
/// changed; returns the environment's interpreter.
async fn python_client() -> PathBuf {
    static READY: OnceCell<Result<PathBuf, String>> = OnceCell::const_new();
    let venv = target_dir().join("compat-venv");
    let requirements = workspace_root().join("compat/python/requirements.txt");
    let result = READY
        .get_or_init(|| async {
            python_packages(&venv, &requirements, "the ChatKitty Python client").await
        })
        .await;
    match result {
        Ok(python) => python.clone(),
        Err(e) => panic!("installing the Python client failed: {e}"),
    }
}

/// Job workers of the servers the platform clients run against: as many as a `palaver serve`
/// starts by default, so that the imports and exports the clients start run by themselves while
/// the clients poll them (a [`TestApp`] has none unless asked).
const JOB_WORKERS: usize = 2;

/// Runs one platform client script against a fresh server; prints its output and asserts it
/// passed.
async fn run_client(label: &str, program: &Path, script: &Path, dir: &Path) {
    let app = TestApp::spawn_with(|c| c.job_workers = JOB_WORKERS).await;
    run_script_against(
        &app,
        label,
        program,
        script,
        dir,
        &[app.base.as_str(), CLIENT_ID, CLIENT_SECRET],
    )
    .await;
}

/// Runs `script` with `args` against `app`; prints its output and asserts it passed.
async fn run_script_against(
    app: &TestApp,
    label: &str,
    program: &Path,
    script: &Path,
    dir: &Path,
    args: &[&str],
) {
    let mut cmd = in_dir(program, dir);
    cmd.arg(script)
        .args(args)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    run_and_check(label, &app.base, cmd).await;
}

#[tokio::test]
async fn client_a_chatkitty_npm() {
    let dir = node_clients().await;
    run_client(
        "client A",
        Path::new("node"),
        &dir.join("client_a.mjs"),
        &dir,
    )
    .await;
}

#[tokio::test]
async fn client_b_chatkitty_platform_sdk_npm() {
    let dir = node_clients().await;
    run_client(
        "client B",
        Path::new("node"),
        &dir.join("client_b.mjs"),
        &dir,
    )
    .await;
}

#[tokio::test]
async fn client_py_chatkitty_server_side_sdk() {
    let python = python_client().await;
    let dir = workspace_root().join("compat/python");
    run_client("client PY", &python, &dir.join("client_py.py"), &dir).await;
}

#[tokio::test]
async fn client_core_chatkitty_browser_sdk_npm() {
    let dir = node_clients().await;
    let app = TestApp::spawn().await;
    // The script starts guest sessions: any username, the user made on the way.
    let token = app.platform_token().await;
    let r = app
        .pput(
            "/application/settings",
            &token,
            serde_json::json!({"guest_users": "ENABLED"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    run_script_against(
        &app,
        "client CORE",
        Path::new("node"),
        &dir.join("client_core.mjs"),
        &dir,
        &[
            app.base.as_str(),
            app.api_key.as_str(),
            CLIENT_ID,
            CLIENT_SECRET,
        ],
    )
    .await;
}

#[tokio::test]
async fn client_core_secured_sessions_by_a_start_session_function() {
    let dir = node_clients().await;
    // The script turns guest users off and deploys the function itself, over REST with the
    // client credentials.
    let app = TestApp::spawn().await;
    run_script_against(
        &app,
        "client CORE secured",
        Path::new("node"),
        &dir.join("client_core_secured.mjs"),
        &dir,
        &[
            app.base.as_str(),
            app.api_key.as_str(),
            CLIENT_ID,
            CLIENT_SECRET,
        ],
    )
    .await;
}
