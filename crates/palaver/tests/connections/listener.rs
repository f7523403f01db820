//! The accept loop's caps, timeouts and shutdown over routers made for the test: a route that
//! holds its request until the test lets it go shows what "in flight" means.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, State};
use axum::routing::{get, post};
use axum::Router;
use palaver::listener::{serve, ServeLimits};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio::task::JoinHandle;

use crate::raw::{closes, get as get_on, read_answer, Logs, DEADLINE};

/// Generous limits, for each test to tighten the one it is about.
fn limits() -> ServeLimits {
    ServeLimits {
        header_read_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(60),
        max_connections: 64,
        max_concurrent_requests: 64,
        drain_timeout: Duration::from_secs(30),
    }
}

/// What the holding route tells the test, and waits for.
struct Held {
    /// A message per request that reached the route.
    entered: mpsc::UnboundedReceiver<()>,
    /// A permit per request to let go.
    release: Arc<Semaphore>,
}

#[derive(Clone)]
struct Hold {
    entered: mpsc::UnboundedSender<()>,
    release: Arc<Semaphore>,
}

async fn hold(State(h): State<Hold>) -> &'static str {
    let _ = h.entered.send(());
    if let Ok(p) = h.release.acquire().await {
        p.forget();
    }
    "let go"
}

/// `/hold` (held until released), `/peer` (the caller's address as the router sees it) and
/// `/upload` (the length of the body it reads).
fn router() -> (Router, Held) {
    let (tx, rx) = mpsc::unbounded_channel();
    let release = Arc::new(Semaphore::new(0));
    let router = Router::new()
        .route("/hold", get(hold))
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        )
        .route(
            "/upload",
            post(|body: axum::body::Bytes| async move { body.len().to_string() }),
        )
        .with_state(Hold {
            entered: tx,
            release: release.clone(),
        });
    (
        router,
        Held {
            entered: rx,
            release,
        },
    )
}

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: JoinHandle<()>,
}

impl Running {
    async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.addr).await.expect("connect")
    }
}

async fn run(router: Router, limits: ServeLimits) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = oneshot::channel::<()>();
    let done = tokio::spawn(serve(listener, router, limits, async move {
        let _ = rx.await;
    }));
    Running {
        addr,
        stop: Some(tx),
        done,
    }
}

async fn entered(held: &mut Held) {
    tokio::time::timeout(DEADLINE, held.entered.recv())
        .await
        .expect("the request reaches the route in time")
        .expect("the route is there");
}

#[tokio::test]
async fn each_request_carries_the_callers_address() {
    let (router, _held) = router();
    let server = run(router, limits()).await;
    let mut s = server.connect().await;
    let mine = s.local_addr().expect("local addr");
    let a = get_on(&mut s, "/peer", "").await;
    assert_eq!(a.status, 200, "{}", a.head);
    assert_eq!(String::from_utf8_lossy(&a.body), mine.to_string());
}

#[tokio::test]
async fn requests_past_the_concurrency_cap_are_shed_with_503() {
    let (logs, _guard) = Logs::capture();
    let (router, mut held) = router();
    let server = run(
        router,
        ServeLimits {
            max_concurrent_requests: 1,
            ..limits()
        },
    )
    .await;
    let mut first = server.connect().await;
    first
        .write_all(b"GET /hold HTTP/1.1\r\nHost: palaver.test\r\n\r\n")
        .await
        .expect("write");
    entered(&mut held).await;

    // The one slot is taken: a platform API path answers in the platform's shape...
    let mut other = server.connect().await;
    let shed = get_on(&mut other, "/v1/applications/me", "").await;
    assert_eq!(shed.status, 503, "{}", shed.head);
    assert_eq!(shed.header("retry-after").as_deref(), Some("1"));
    let body = shed.json();
    assert_eq!(body["error"], "ServiceUnavailableError", "{body}");
    assert_eq!(body["message"], "Service unavailable", "{body}");
    assert!(body["timestamp"].is_string(), "{body}");
    // ...and a content API path in LoopBack's, on the same kept-alive connection.
    let shed = get_on(&mut other, "/api/users/me", "").await;
    assert_eq!(shed.status, 503, "{}", shed.head);
    assert_eq!(shed.header("retry-after").as_deref(), Some("1"));
    let body = shed.json();
    assert_eq!(body["error"]["statusCode"], 503, "{body}");
    assert_eq!(body["error"]["message"], "Service Unavailable", "{body}");

    // The held request was never disturbed, and its slot comes back once it is answered.
    held.release.add_permits(1);
    let a = read_answer(&mut first).await;
    assert_eq!((a.status, a.body.as_slice()), (200, &b"let go"[..]));
    let a = get_on(&mut other, "/peer", "").await;
    assert_eq!(a.status, 200, "{}", a.head);

    // Logged once for the burst (a line a second at most), with its count.
    let lines = logs.lines("requests shed");
    assert_eq!(lines.len(), 1, "{}", logs.text());
    assert!(lines[0].contains("count=1"), "{}", lines[0]);
    assert!(
        lines[0].contains("max_concurrent_requests=1"),
        "{}",
        lines[0]
    );
}

#[tokio::test]
async fn connections_past_the_cap_are_refused_and_logged() {
    let (logs, _guard) = Logs::capture();
    let (router, _held) = router();
    let server = run(
        router,
        ServeLimits {
            max_connections: 2,
            ..limits()
        },
    )
    .await;
    let mut open = Vec::new();
    for _ in 0..2 {
        let mut s = server.connect().await;
        assert_eq!(get_on(&mut s, "/peer", "").await.status, 200);
        open.push(s);
    }
    // A third is answered 503 before it sends anything, and closed.
    let mut third = server.connect().await;
    let refused = read_answer(&mut third).await;
    assert_eq!(refused.status, 503, "{}", refused.head);
    assert_eq!(refused.header("retry-after").as_deref(), Some("1"));
    assert!(closes(&mut third).await, "the refused connection is closed");
    let logged = logs.lines("connections refused");
    assert_eq!(logged.len(), 1, "{}", logs.text());
    assert!(logged[0].contains("count=1"), "{}", logged[0]);
    assert!(logged[0].contains("max_connections=2"), "{}", logged[0]);

    // A connection the server closes gives its place back before the client sees the close.
    let last = get_on(&mut open[0], "/peer", "Connection: close\r\n").await;
    assert_eq!(last.status, 200);
    assert!(closes(&mut open[0]).await);
    let mut next = server.connect().await;
    let a = get_on(&mut next, "/peer", "").await;
    assert_eq!(a.status, 200, "{}", a.head);
    // The one still open was served throughout.
    assert_eq!(get_on(&mut open[1], "/peer", "").await.status, 200);
}

#[tokio::test]
async fn a_request_in_flight_outlasts_the_timeouts() {
    let (router, mut held) = router();
    let tight = ServeLimits {
        header_read_timeout: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(2),
        ..limits()
    };
    let server = run(router, tight).await;
    let mut slow = server.connect().await;
    slow.write_all(b"GET /hold HTTP/1.1\r\nHost: palaver.test\r\n\r\n")
        .await
        .expect("write");
    entered(&mut held).await;
    // A connection opened after it and never used is closed by its timeout: the held request
    // has been in flight longer than that.
    let mut sentinel = server.connect().await;
    assert!(
        closes(&mut sentinel).await,
        "an unused connection is closed"
    );
    held.release.add_permits(1);
    let a = read_answer(&mut slow).await;
    assert_eq!((a.status, a.body.as_slice()), (200, &b"let go"[..]));

    // An upload trickling in for three seconds, longer than either timeout, is read whole.
    let mut upload = server.connect().await;
    const LEN: usize = 30;
    upload
        .write_all(
            format!("POST /upload HTTP/1.1\r\nHost: palaver.test\r\nContent-Length: {LEN}\r\n\r\n")
                .as_bytes(),
        )
        .await
        .expect("write");
    for _ in 0..LEN {
        tokio::time::sleep(Duration::from_millis(100)).await;
        upload.write_all(b"x").await.expect("the upload goes on");
    }
    let a = read_answer(&mut upload).await;
    assert_eq!(
        (a.status, String::from_utf8_lossy(&a.body).into_owned()),
        (200, LEN.to_string())
    );
}

#[tokio::test]
async fn shutdown_closes_idle_connections_and_bounds_the_drain() {
    let (router, mut held) = router();
    let server = run(
        router,
        ServeLimits {
            drain_timeout: Duration::from_secs(1),
            ..limits()
        },
    )
    .await;
    let mut idle = server.connect().await;
    assert_eq!(get_on(&mut idle, "/peer", "").await.status, 200);
    let mut stuck = server.connect().await;
    stuck
        .write_all(b"GET /hold HTTP/1.1\r\nHost: palaver.test\r\n\r\n")
        .await
        .expect("write");
    entered(&mut held).await;

    let Running {
        addr,
        mut stop,
        done,
    } = server;
    let _ = stop.take().map(|tx| tx.send(()));
    // The idle connection is closed; the request that never finishes is given up on after the
    // drain timeout, and the loop returns.
    assert!(closes(&mut idle).await, "the idle connection is closed");
    tokio::time::timeout(DEADLINE, done)
        .await
        .expect("the server returns in time")
        .expect("the server's task");
    assert!(
        closes(&mut stuck).await,
        "the stuck request's connection is closed"
    );
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "nothing listens after shutdown"
    );
}
