//! The whole server under tight limits: request heads that trickle in, kept-alive connections
//! that idle beside WebSockets, and shutdown with a request in flight.

use std::net::SocketAddr;
use std::time::Duration;

use palaver::{App, Config, ServeLimits};
use palaver_gateway::frame::Command;
use palaver_test_support::stomp::StompClient;
use palaver_test_support::{ADMIN_EMAIL, ADMIN_PASSWORD, CLIENT_ID, CLIENT_SECRET};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::raw::{closes, get as get_on, read_answer, start_held_login, DEADLINE};

/// A server started with [`App::serve_with_limits`] on a fresh SQLite database.
struct Server {
    addr: SocketAddr,
    base: String,
    api_key: String,
    stop: Option<oneshot::Sender<()>>,
    done: JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(limits: ServeLimits) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config {
            listen: "127.0.0.1:0".parse().expect("addr"),
            database_url: format!("sqlite://{}", dir.path().join("palaver.db").display()),
            max_connections: 4,
            bcrypt_cost: 4,
            bootstrap_email: Some(ADMIN_EMAIL.into()),
            bootstrap_password: Some(ADMIN_PASSWORD.into()),
            bootstrap_client_id: Some(CLIENT_ID.into()),
            bootstrap_client_secret: Some(CLIENT_SECRET.into()),
            job_workers: 0,
            files_url: dir.path().join("files").display().to_string(),
            functions_dir: dir.path().join("functions").display().to_string(),
            function_local_dependencies: true,
            ..Config::default()
        };
        let app = App::build(config).await.expect("app builds");
        let boot = app
            .bootstrap()
            .await
            .expect("bootstrap")
            .expect("an empty database bootstraps");
        let (tx, rx) = oneshot::channel::<()>();
        let (addr, server) = app
            .serve_with_limits(limits, async move {
                let _ = rx.await;
            })
            .await
            .expect("server binds");
        Server {
            addr,
            base: format!("http://{addr}"),
            api_key: boot.application.app.api_key,
            stop: Some(tx),
            done: tokio::spawn(server),
            _dir: dir,
        }
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.addr).await.expect("connect")
    }
}

fn limits() -> ServeLimits {
    ServeLimits {
        header_read_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(120),
        max_connections: 64,
        max_concurrent_requests: 64,
        drain_timeout: Duration::from_secs(60),
    }
}

/// True when the WebSocket answers a STOMP CONNECT (CONNECTED, or ERROR for a refused user).
async fn answers(ws: &mut StompClient) -> bool {
    let f = ws.connect_as("someone").await;
    matches!(f.command, Command::Connected | Command::Error)
}

#[tokio::test]
async fn a_client_trickling_its_request_head_is_cut_off() {
    let server = Server::start(ServeLimits {
        header_read_timeout: Duration::from_secs(2),
        ..limits()
    })
    .await;
    // A head sent whole is served as ever.
    let mut normal = server.connect().await;
    assert_eq!(get_on(&mut normal, "/health", "").await.status, 200);

    // A byte every 200 ms: the whole head would take half a minute, the timeout allows two
    // seconds.
    let head = format!(
        "GET /health HTTP/1.1\r\nHost: palaver.test\r\nX-Padding: {}\r\n\r\n",
        "p".repeat(100)
    );
    let mut slow = server.connect().await;
    let mut sent = 0;
    let mut chunk = [0u8; 256];
    let cut = loop {
        if sent == head.len() {
            break false;
        }
        if slow.write_all(&head.as_bytes()[sent..=sent]).await.is_err() {
            break true;
        }
        sent += 1;
        match tokio::time::timeout(Duration::from_millis(200), slow.read(&mut chunk)).await {
            Err(_) => {}
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(n)) => panic!(
                "an answer to a partial head: {}",
                String::from_utf8_lossy(&chunk[..n])
            ),
        }
    };
    assert!(
        cut,
        "the connection outlived its header timeout ({sent} bytes sent)"
    );
    assert!(sent < head.len());
}

#[tokio::test]
async fn an_idle_connection_is_closed_while_an_older_websocket_lives_on() {
    let server = Server::start(ServeLimits {
        idle_timeout: Duration::from_secs(2),
        ..limits()
    })
    .await;
    let mut ws = StompClient::connect_to(&server.base, &server.api_key).await;
    let mut kept = server.connect().await;
    assert_eq!(get_on(&mut kept, "/health", "").await.status, 200);
    // Kept alive between requests...
    assert_eq!(get_on(&mut kept, "/health", "").await.status, 200);
    // ...until it idles past the timeout.
    assert!(closes(&mut kept).await, "the idle connection is closed");
    // The WebSocket, open for longer, is not an idle HTTP connection.
    assert!(answers(&mut ws).await, "the WebSocket still answers");
}

#[tokio::test]
async fn a_websocket_holds_no_request_slot() {
    let server = Server::start(ServeLimits {
        max_concurrent_requests: 1,
        ..limits()
    })
    .await;
    let mut first = StompClient::connect_to(&server.base, &server.api_key).await;
    let mut second = StompClient::connect_to(&server.base, &server.api_key).await;
    let mut s = server.connect().await;
    let a = get_on(&mut s, "/health", "").await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert!(answers(&mut first).await);
    assert!(answers(&mut second).await);
}

#[tokio::test]
async fn shutdown_finishes_the_request_in_flight() {
    let mut server = Server::start(limits()).await;
    let mut idle = server.connect().await;
    assert_eq!(get_on(&mut idle, "/health", "").await.status, 200);
    let mut slow = server.connect().await;
    let body = start_held_login(&mut slow).await;

    let _ = server.stop.take().map(|tx| tx.send(()));
    // The idle connection closes at once (well before the drain timeout)...
    assert!(closes(&mut idle).await, "the idle connection is closed");
    // ...while the request in flight is still read and answered, its connection closed after.
    slow.write_all(body).await.expect("the body goes through");
    let a = read_answer(&mut slow).await;
    assert_eq!(a.status, 401, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.json()["error"]["code"], "LOGIN_FAILED");
    assert_eq!(a.header("connection").as_deref(), Some("close"));
    assert!(closes(&mut slow).await);
    // The server's future completes, as App::serve promises.
    tokio::time::timeout(DEADLINE, &mut server.done)
        .await
        .expect("the server stops in time")
        .expect("the server's task")
        .expect("the server stops cleanly");
    assert!(
        TcpStream::connect(server.addr).await.is_err(),
        "nothing listens after shutdown"
    );
}
