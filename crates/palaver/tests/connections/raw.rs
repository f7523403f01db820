//! A raw HTTP/1.1 client over one TCP connection, for what a normal client hides: keeping a
//! connection open, sending bytes slowly, seeing the server close it; and the server's log,
//! captured.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits for what must come: generous, so that only a hang fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// One answer read off a connection.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Answer {
    /// A header's value (names compared without case).
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads one answer (its head, and a body of its `Content-Length`).
pub async fn read_answer(s: &mut TcpStream) -> Answer {
    tokio::time::timeout(DEADLINE, async {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            let n = s.read(&mut chunk).await.expect("read");
            assert!(
                n > 0,
                "closed before an answer: {:?}",
                String::from_utf8_lossy(&buf)
            );
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status: {head}"));
        let mut answer = Answer {
            status,
            head,
            body: Vec::new(),
        };
        let len: usize = match answer.header("content-length") {
            Some(n) => n.parse().expect("content-length"),
            None if status < 200 || status == 101 => 0,
            None => panic!("no content-length: {}", answer.head),
        };
        while buf.len() < head_end + len {
            let n = s.read(&mut chunk).await.expect("read");
            assert!(n > 0, "closed in the body");
            buf.extend_from_slice(&chunk[..n]);
        }
        answer.body = buf[head_end..head_end + len].to_vec();
        answer
    })
    .await
    .expect("an answer in time")
}

/// Sends `GET path` (with any `extra` header lines) and reads the answer.
pub async fn get(s: &mut TcpStream, path: &str, extra: &str) -> Answer {
    let req = format!("GET {path} HTTP/1.1\r\nHost: palaver.test\r\n{extra}\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    read_answer(s).await
}

/// True once the server has closed `s` (end of stream or reset), false if it is still open at
/// the deadline. Whatever the server sends before closing is dropped.
pub async fn closes(s: &mut TcpStream) -> bool {
    let mut chunk = [0u8; 1024];
    tokio::time::timeout(DEADLINE, async {
        loop {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

/// A login whose body is announced and held back: with `Expect: 100-continue`, the server says
/// `100 Continue` once the handler reads the body, so the request is known to be in flight.
pub async fn start_held_login(s: &mut TcpStream) -> &'static [u8] {
    const BODY: &[u8] = br#"{"email":"nobody@example.com","password":"wrong-password"}"#;
    let head = format!(
        "POST /api/users/login HTTP/1.1\r\nHost: palaver.test\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        BODY.len()
    );
    s.write_all(head.as_bytes()).await.expect("write");
    let cont = read_answer(s).await;
    assert_eq!(cont.status, 100, "{}", cont.head);
    BODY
}

/// The log lines written while a [`Logs`] guard is held, on this thread (a current-thread
/// runtime runs the server's tasks on it too).
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn capture() -> (Logs, tracing::subscriber::DefaultGuard) {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("logs")).into_owned()
    }

    /// The lines containing `what`.
    pub fn lines(&self, what: &str) -> Vec<String> {
        self.text()
            .lines()
            .filter(|l| l.contains(what))
            .map(str::to_string)
            .collect()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
