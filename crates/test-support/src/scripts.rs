//! Outside programs the suites run against a spawned server (the compatibility clients, the
//! browser tests): the workspace's folders, their packages installed once per test process
//! while their pins are unchanged, and a script run to completion with its output.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

/// Upper bound for one script.
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

/// Written next to installed packages: the pin files they were installed from.
pub const STAMP: &str = ".palaver-compat-stamp";

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root above crates/test-support")
        .to_path_buf()
}

pub fn target_dir() -> PathBuf {
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
pub fn pins(files: &[PathBuf]) -> Vec<u8> {
    let mut all = Vec::new();
    for f in files {
        all.extend(std::fs::read(f).unwrap_or_default());
        all.push(0);
    }
    all
}

pub fn installed(stamp: &Path, pins: &[u8]) -> bool {
    std::fs::read(stamp).is_ok_and(|s| s == pins)
}

/// Runs a blocking command off the async runtime, with inherited output.
pub async fn run_step(what: String, mut cmd: Command) -> Result<(), String> {
    tokio::task::spawn_blocking(move || match cmd.stdin(Stdio::null()).status() {
        Err(e) => Err(format!("{what}: could not start: {e}")),
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{what}: {s}")),
    })
    .await
    .map_err(|e| format!("install step panicked: {e}"))?
}

pub fn in_dir(program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir);
    cmd
}

/// Fails with a clear message when a required tool is not on the PATH.
pub fn require_tool(program: &str, purpose: &str) {
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

/// Installs the Node packages of `dir` (`npm ci`, or `npm install` without a lock) when its
/// pins changed since the last install, once per test process; `purpose` names them in errors.
pub async fn npm_packages(dir: &Path, purpose: &str) {
    // Folders installed (or failed) by this process; one install at a time.
    static DONE: Mutex<Vec<(PathBuf, Result<(), String>)>> = Mutex::const_new(Vec::new());
    require_tool("node", purpose);
    let mut done = DONE.lock().await;
    let result = match done.iter().find(|(d, _)| d == dir) {
        Some((_, result)) => result.clone(),
        None => {
            let result = npm_install(dir, purpose).await;
            done.push((dir.to_path_buf(), result.clone()));
            result
        }
    };
    if let Err(e) = result {
        panic!("installing {purpose} failed: {e}");
    }
}

async fn npm_install(dir: &Path, purpose: &str) -> Result<(), String> {
    let lock = dir.join("package-lock.json");
    let wanted = pins(&[dir.join("package.json"), lock.clone()]);
    let stamp = dir.join("node_modules").join(STAMP);
    if installed(&stamp, &wanted) {
        return Ok(());
    }
    require_tool("npm", &format!("the install of {purpose}"));
    let verb = if lock.exists() { "ci" } else { "install" };
    let mut npm = in_dir("npm", dir);
    npm.args([verb, "--no-audit", "--no-fund"]);
    run_step(format!("npm {verb} in {}", dir.display()), npm).await?;
    // `npm install` may have written the lock just now.
    let wanted = pins(&[dir.join("package.json"), lock]);
    std::fs::write(&stamp, wanted).map_err(|e| format!("writing {}: {e}", stamp.display()))
}

/// A finished script: exit status and everything it printed.
pub struct Finished {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs a script to completion (killing it after [`SCRIPT_TIMEOUT`]); blocking.
pub fn run_script(mut cmd: Command) -> Result<Finished, String> {
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

/// Runs `cmd` (a script started in its folder) off the async runtime, so the server the test
/// spawned keeps serving; prints its output under `label` and asserts that it passed: a zero
/// exit and a last line `LABEL: N passed, 0 failed`.
pub async fn run_and_check(label: &str, server: &str, cmd: Command) {
    let shown = cmd
        .get_args()
        .next()
        .map(|script| script.to_string_lossy().into_owned())
        .unwrap_or_default();
    let out = tokio::task::spawn_blocking(move || run_script(cmd))
        .await
        .expect("script runner")
        .unwrap_or_else(|e| panic!("{label}: {shown}: {e}"));
    println!("---- {label} ({shown} against {server}) ----");
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
        "{label} failed ({}): {summary}\n{}{}",
        out.status,
        out.stdout,
        out.stderr
    );
}

/// Makes the Python environment `venv` with the packages pinned in `requirements` (again only
/// when the pins changed); answers its interpreter. Call it once per test process (behind a
/// `OnceCell`): two installs into one environment at once would trip over each other.
pub async fn python_packages(
    venv: &Path,
    requirements: &Path,
    purpose: &str,
) -> Result<PathBuf, String> {
    let python = if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    };
    let wanted = pins(&[requirements.to_path_buf()]);
    let stamp = venv.join(STAMP);
    if python.exists() && installed(&stamp, &wanted) {
        return Ok(python);
    }
    if !python.exists() {
        require_tool("python3", purpose);
        let mut create = Command::new("python3");
        create.arg("-m").arg("venv").arg(venv);
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
    .arg(requirements);
    run_step(format!("pip install -r {}", requirements.display()), pip).await?;
    std::fs::write(&stamp, wanted).map_err(|e| format!("writing {}: {e}", stamp.display()))?;
    Ok(python)
}
