//! `palaver serve` started with a soft file limit of 512, as some systems start services: it
//! raises the limit at start, and with 2,000 idle sockets open a health check is still served.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use palaver_test_support::{CLIENT_ID, CLIENT_SECRET};
use tokio::net::TcpStream;

use crate::raw::get as get_on;

/// Idle sockets held open at once: four times the limit the process starts with.
const IDLE: usize = 2_000;

/// Kills the server when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `line` without its terminal colour codes.
fn plain(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // An escape sequence runs to its final letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_past_the_starting_file_limit_leave_health_served() {
    // The test holds its side of every socket itself.
    let limit = rlimit::increase_nofile_limit(u64::MAX).expect("the test's file limit");
    assert!(
        limit >= 2 * IDLE as u64 + 200,
        "this test needs a file limit above {} (hard limit {limit})",
        2 * IDLE + 200
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -Sn 512 && exec \"$0\" serve")
        .arg(env!("CARGO_BIN_EXE_palaver"))
        .env(
            "PALAVER_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("palaver.db").display()),
        )
        .env("PALAVER_FILES_URL", dir.path().join("files"))
        .env("PALAVER_FUNCTIONS_DIR", dir.path().join("functions"))
        .env("PALAVER_LISTEN", "127.0.0.1:0")
        .env("PALAVER_BCRYPT_COST", "4")
        .env("PALAVER_BOOTSTRAP_CLIENT_ID", CLIENT_ID)
        .env("PALAVER_BOOTSTRAP_CLIENT_SECRET", CLIENT_SECRET)
        .env("PALAVER_LOG", "info")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("palaver starts");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let _server = Killed(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("Palaver listening on ") {
                let _ = tx.send(url.trim().to_string());
            }
        }
    });
    let log = Arc::new(Mutex::new(Vec::new()));
    let lines = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            lines.lock().expect("log").push(plain(&line));
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("the server says where it listens; its log: {:?}", log));
    let addr = base.trim_start_matches("http://").to_string();

    let served = tokio::time::timeout(Duration::from_secs(120), async {
        let mut idle = Vec::with_capacity(IDLE);
        for _ in 0..IDLE {
            idle.push(TcpStream::connect(&addr).await.expect("connect"));
        }
        let health = reqwest::get(format!("{base}/health"))
            .await
            .expect("health answers");
        assert_eq!(health.status(), 200);
        // The last of the idle sockets was taken in too, and is served.
        let last = idle.last_mut().expect("sockets");
        assert_eq!(get_on(last, "/health", "").await.status, 200);
    })
    .await;
    let log = log.lock().expect("log").join("\n");
    assert!(served.is_ok(), "health not served in time; the log:\n{log}");
    let raised = log
        .lines()
        .find(|l| l.contains("file-descriptor limit raised"))
        .unwrap_or_else(|| panic!("the raise is logged:\n{log}"));
    assert!(raised.contains("from=512"), "{raised}");
}
