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

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use palaver_test_support::{TestApp, CLIENT_ID, CLIENT_SECRET};
use tokio::sync::OnceCell;

/// Upper bound for one client script.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

/// Written next to the installed clients: the pin files they were installed from.
const STAMP: &str = ".palaver-compat-stamp";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root above crates/test-support")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        }
        None => workspace_root().join("target"),
    }
}

/// Concatenated contents of the pin files; empty for a file that does not exist.
fn pins(files: &[PathBuf]) -> Vec<u8> {
    let mut all = Vec::new();
    for f in files {
        all.extend(std::fs::read(f).unwrap_or_default());
        all.push(0);
    }
    all
}

fn installed(stamp: &Path, pins: &[u8]) -> bool {
    std::fs::read(stamp).is_ok_and(|s| s == pins)
}

/// Runs a blocking command off the async runtime, with inherited output.
async fn run_step(what: String, mut cmd: Command) -> Result<(), String> {
    tokio::task::spawn_blocking(move || match cmd.stdin(Stdio::null()).status() {
        Err(e) => Err(format!("{what}: could not start: {e}")),
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{what}: {s}")),
    })
    .await
    .map_err(|e| format!("install step panicked: {e}"))?
}

fn in_dir(program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir);
    cmd
}

/// Fails with a clear message when a required tool is not on the PATH.
fn require_tool(program: &str, purpose: &str) {
    let found = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "`{program}` is not installed or not on the PATH; it is needed to run {purpose}. \
         Install it (the CI machine has it) rather than skipping this suite."
    );
}

/// Installs the Node clients once per test process, when their pins changed.
async fn node_clients() -> PathBuf {
    static READY: OnceCell<Result<(), String>> = OnceCell::const_new();
    let dir = workspace_root().join("compat/node");
    require_tool("node", "the ChatKitty Node clients");
    let result = READY
        .get_or_init(|| async {
            let lock = dir.join("package-lock.json");
            let wanted = pins(&[dir.join("package.json"), lock.clone()]);
            let stamp = dir.join("node_modules").join(STAMP);
            if installed(&stamp, &wanted) {
                return Ok(());
            }
            require_tool("npm", "the install of the ChatKitty Node clients");
            let verb = if lock.exists() { "ci" } else { "install" };
            let mut npm = in_dir("npm", &dir);
            npm.args([verb, "--no-audit", "--no-fund"]);
            run_step(format!("npm {verb} in {}", dir.display()), npm).await?;
            // `npm install` may have written the lock just now.
            let wanted = pins(&[dir.join("package.json"), lock]);
            std::fs::write(&stamp, wanted).map_err(|e| format!("writing {}: {e}", stamp.display()))
        })
        .await;
    if let Err(e) = result {
        panic!("installing the Node clients failed: {e}");
    }
    dir
}

/// Creates `target/compat-venv` with the Python client once per test process, when its pin
/// changed; returns the environment's interpreter.
async fn python_client() -> PathBuf {
    static READY: OnceCell<Result<(), String>> = OnceCell::const_new();
    let venv = target_dir().join("compat-venv");
    let python = if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    };
    let result = READY
        .get_or_init(|| async {
            let requirements = workspace_root().join("compat/python/requirements.txt");
            let wanted = pins(std::slice::from_ref(&requirements));
            let stamp = venv.join(STAMP);
            if python.exists() && installed(&stamp, &wanted) {
                return Ok(());
            }
            if !python.exists() {
                require_tool("python3", "the ChatKitty Python client");
                let mut create = Command::new("python3");
                create.arg("-m").arg("venv").arg(&venv);
                run_step(format!("python3 -m venv {}", venv.display()), create).await?;
            }
            let mut pip = Command::new(&python);
            pip.args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "-q",
                "-r",
            ])
            .arg(&requirements);
            run_step(format!("pip install -r {}", requirements.display()), pip).await?;
            std::fs::write(&stamp, wanted).map_err(|e| format!("writing {}: {e}", stamp.display()))
        })
        .await;
    if let Err(e) = result {
        panic!("installing the Python client failed: {e}");
    }
    python
}

/// A finished script: exit status and everything it printed.
struct Finished {
    status: std::process::ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs a script to completion (killing it after [`SCRIPT_TIMEOUT`]); blocking.
fn run_script(mut cmd: Command) -> Result<Finished, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start: {e}"))?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut p) = pipe {
                let mut bytes = Vec::new();
                let _ = p.read_to_end(&mut bytes);
                text = String::from_utf8_lossy(&bytes).into_owned();
            }
            text
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + SCRIPT_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("did not finish within {SCRIPT_TIMEOUT:?}"));
            }
            Err(e) => return Err(format!("waiting for it: {e}")),
        }
    };
    Ok(Finished {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
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
    // The script blocks a pool thread; the server keeps serving on this test's runtime.
    let out = tokio::task::spawn_blocking(move || run_script(cmd))
        .await
        .expect("script runner")
        .unwrap_or_else(|e| panic!("{label}: {}: {e}", script.display()));
    println!(
        "---- {label} ({} against {}) ----",
        script.display(),
        app.base
    );
    print!("{}", out.stdout);
    if !out.stderr.trim().is_empty() {
        println!("---- {label} stderr ----");
        print!("{}", out.stderr);
    }
    let summary = out
        .stdout
        .lines()
        .rev()
        .find(|l| l.starts_with(label))
        .unwrap_or("(no summary line)");
    assert!(
        out.status.success() && summary.ends_with(" 0 failed"),
        "{label} failed ({}): {summary}",
        out.status
    );
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
