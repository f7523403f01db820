//! The baseline the gateway is measured against: a bare axum WebSocket server on a
//! `tokio::sync::broadcast` channel, with the gateway's socket settings. Every socket hears
//! every text a client posts, wrapped once in a STOMP MESSAGE frame; nothing is authenticated,
//! stored or rendered per subscriber. It runs as a child process (`--suite baseline-server`).

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use palaver_gateway::frame::{Command, Frame};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

/// What the server prints, followed by `http://ADDR`, once it listens.
pub const LISTENING: &str = "Baseline listening on ";

/// What the server sends a socket once it hears the broadcast.
pub const READY: &str = "ready";

/// A client's request for an answer to itself alone (connection setup).
pub const PING: &str = "ping";
pub const PONG: &str = "pong";

/// Messages a slow socket may fall behind by before it misses some (and is closed).
const CAPACITY: usize = 1024;

/// Serves the baseline on a free loopback port, on a runtime of the default size (one worker
/// per core, as `palaver serve`), until killed. Like `palaver`, it leaves Nagle's algorithm on
/// (axum's default; turning it off made no measurable difference here).
pub fn serve() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let (tx, _) = broadcast::channel::<Utf8Bytes>(CAPACITY);
        let app = Router::new().route("/ws", get(upgrade)).with_state(tx);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("{LISTENING}http://{}", listener.local_addr()?);
        axum::serve(listener, app).await?;
        anyhow::Ok(())
    })
}

async fn upgrade(State(tx): State<broadcast::Sender<Utf8Bytes>>, ws: WebSocketUpgrade) -> Response {
    // As the gateway: small reads, writes straight to the socket.
    ws.read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| connection(socket, tx))
}

/// The frame every socket is sent for a posted text: headers as the gateway's topic messages.
fn stomp_message(body: &str, n: u64) -> Utf8Bytes {
    let id = format!("m-0-{n}");
    let f = Frame::new(Command::Message)
        .header("subscription", "sub-0")
        .header("message-id", id.clone())
        .header("ack", id)
        .header("destination", "/topic/channels/1/messages")
        .header("content-type", "application/json;charset=UTF-8")
        .body(body.as_bytes().to_vec());
    String::from_utf8_lossy(&f.encode()).into_owned().into()
}

async fn connection(mut socket: WebSocket, tx: broadcast::Sender<Utf8Bytes>) {
    let mut rx = tx.subscribe();
    let mut posted = 0;
    if socket.send(Message::Text(READY.into())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            m = socket.recv() => match m {
                Some(Ok(Message::Text(t))) if t.as_str() == PING => {
                    if socket.send(Message::Text(PONG.into())).await.is_err() {
                        return;
                    }
                }
                Some(Ok(Message::Text(t))) => {
                    posted += 1;
                    let _ = tx.send(stomp_message(t.as_str(), posted));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            },
            r = rx.recv() => match r {
                Ok(frame) => {
                    if socket.send(Message::Text(frame)).await.is_err() {
                        return;
                    }
                }
                // A socket that fell behind is closed, as the gateway closes a slow client:
                // the load generator counts what it missed.
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return,
            },
        }
    }
}
