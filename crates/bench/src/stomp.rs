//! The load generator's WebSocket client: tokio-tungstenite with small buffers (thousands of
//! them share the machine with the server), STOMP frames decoded with the gateway's own decoder.

use std::collections::VecDeque;
use std::time::Duration;

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use palaver_gateway::frame::{Command, Decoder, Frame, Item};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a setup step (handshake, CONNECT, SUBSCRIBE) may take before the run fails.
pub const SETUP_WAIT: Duration = Duration::from_secs(60);

/// Largest frame the client decodes: far above anything the servers send.
const MAX_FRAME: usize = 1024 * 1024;

/// Opens a WebSocket to `url` (`ws://...`), asking for the `v12.stomp` subprotocol as
/// `@chatkitty/core` does when `stomp` is set.
pub async fn open(url: &str, stomp: bool) -> anyhow::Result<Ws> {
    let mut request = url.into_client_request()?;
    if stomp {
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("v12.stomp"),
        );
    }
    // Reads of 4 KiB (the server's own setting), writes go straight to the socket.
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0);
    let (ws, _) = tokio::time::timeout(
        SETUP_WAIT,
        tokio_tungstenite::connect_async_with_config(request, Some(config), true),
    )
    .await
    .context("WebSocket handshake timed out")??;
    Ok(ws)
}

/// The text of a frame (every frame the benchmarks send is UTF-8).
pub fn frame_text(f: &Frame) -> String {
    String::from_utf8_lossy(&f.encode()).into_owned()
}

/// One StompX connection.
pub struct Stomp {
    pub ws: Ws,
    decoder: Decoder,
    inbox: VecDeque<Frame>,
}

impl Stomp {
    /// Opens `/rtm/websocket?api-key=KEY` on the gateway at `base` (`http://host:port`).
    pub async fn open(base: &str, api_key: &str) -> anyhow::Result<Stomp> {
        let url = format!(
            "{}/rtm/websocket?api-key={api_key}",
            base.replacen("http://", "ws://", 1)
        );
        Ok(Stomp::wrap(open(&url, true).await?))
    }

    pub fn wrap(ws: Ws) -> Stomp {
        Stomp {
            ws,
            decoder: Decoder::new(MAX_FRAME),
            inbox: VecDeque::new(),
        }
    }

    pub async fn send(&mut self, f: Frame) -> anyhow::Result<()> {
        self.ws.send(Message::Text(frame_text(&f).into())).await?;
        Ok(())
    }

    /// Reads one WebSocket message by `deadline` and decodes its frames into the inbox; returns
    /// when it arrived and its length, `None` when the deadline passed or the socket closed.
    pub async fn read(&mut self, deadline: Instant) -> anyhow::Result<Option<(Instant, usize)>> {
        loop {
            let msg = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Ok(None),
                Ok(None) | Ok(Some(Ok(Message::Close(_)))) => return Ok(None),
                Ok(Some(Err(e))) => return Err(e.into()),
                Ok(Some(Ok(m))) => m,
            };
            let at = Instant::now();
            let bytes: &[u8] = match &msg {
                Message::Text(t) => t.as_bytes(),
                Message::Binary(b) => b.as_ref(),
                _ => continue,
            };
            self.decoder.push(bytes);
            loop {
                match self.decoder.next_item()? {
                    Some(Item::Frame(f)) => self.inbox.push_back(f),
                    Some(Item::HeartBeat) => {}
                    None => break,
                }
            }
            return Ok(Some((at, bytes.len())));
        }
    }

    /// The next decoded frame not yet taken, if any.
    pub fn pop(&mut self) -> Option<Frame> {
        self.inbox.pop_front()
    }

    /// The next frame by `deadline`; an error when none comes.
    pub async fn next_frame(&mut self, deadline: Instant) -> anyhow::Result<Frame> {
        loop {
            if let Some(f) = self.pop() {
                return Ok(f);
            }
            if self.read(deadline).await?.is_none() {
                anyhow::bail!("no frame came (timed out or closed)");
            }
        }
    }

    /// Frames until one that `done` accepts; an ERROR frame fails.
    async fn wait_for(
        &mut self,
        what: &str,
        mut done: impl FnMut(&Frame) -> bool,
    ) -> anyhow::Result<Frame> {
        let deadline = Instant::now() + SETUP_WAIT;
        loop {
            let f = self
                .next_frame(deadline)
                .await
                .with_context(|| format!("waiting for {what}"))?;
            if done(&f) {
                return Ok(f);
            }
            if f.command == Command::Error || f.get("destination") == Some("/user/queue/errors") {
                anyhow::bail!("{what} failed: {}", String::from_utf8_lossy(&f.body));
            }
        }
    }

    /// Starts a session as `username`, as `@chatkitty/core` does (no heart-beats).
    pub async fn connect_as(&mut self, username: &str) -> anyhow::Result<()> {
        self.connect_with_auth(username, None).await
    }

    /// Starts a session as `username` with `auth_params` (sent base64-encoded as
    /// `StompX-Auth-Params`, as `@chatkitty/core` sends a secured session's), if any.
    pub async fn connect_with_auth(
        &mut self,
        username: &str,
        auth_params: Option<&serde_json::Value>,
    ) -> anyhow::Result<()> {
        use base64::Engine;
        let mut f = Frame::new(Command::Connect)
            .header("accept-version", "1.2")
            .header("heart-beat", "0,0")
            .header("host", "localhost")
            .header("StompX-User", username);
        if let Some(params) = auth_params {
            let params = base64::engine::general_purpose::STANDARD.encode(params.to_string());
            f = f.header("StompX-Auth-Params", params);
        }
        self.send(f).await?;
        self.wait_for("CONNECTED", |f| f.command == Command::Connected)
            .await?;
        Ok(())
    }

    /// Closes the WebSocket (a close frame; errors ignored: the connection is done with).
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }

    /// Subscribes to `dest` and waits for the RECEIPT: from then on, what is published there
    /// reaches this connection.
    pub async fn listen(&mut self, id: &str, dest: &str) -> anyhow::Result<()> {
        let receipt = format!("listen-{id}");
        let f = Frame::new(Command::Subscribe)
            .header("id", id)
            .header("destination", dest)
            .header("receipt", receipt.clone());
        self.send(f).await?;
        self.wait_for("RECEIPT", |f| {
            f.command == Command::Receipt && f.get("receipt-id") == Some(receipt.as_str())
        })
        .await?;
        Ok(())
    }

    /// Asks relay `dest` once and waits for its answer.
    pub async fn relay(&mut self, id: &str, dest: &str) -> anyhow::Result<Frame> {
        let f = Frame::new(Command::Subscribe)
            .header("id", id)
            .header("destination", dest);
        self.send(f).await?;
        self.wait_for("the relay's answer", |f| {
            f.command == Command::Message && f.get("subscription") == Some(id)
        })
        .await
    }
}
