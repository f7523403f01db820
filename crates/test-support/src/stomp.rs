//! `StompClient`: a small StompX (STOMP 1.2 over WebSocket) client for the gateway's tests, that
//! speaks to a spawned server the way `@chatkitty/core` does and decodes with the gateway's own
//! frame decoder.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use palaver_gateway::frame::{Command, Decoder, Frame, Item};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::TestApp;

/// How long a test waits for a frame it expects: long enough for a loaded CI machine, and only
/// ever spent when the frame does not come (the test then fails).
pub const WAIT: Duration = Duration::from_secs(10);

/// How long a test listens for a frame that must not come, when nothing else can tell it that
/// the server is done (prefer a sentinel frame that arrives after it).
pub const QUIET: Duration = Duration::from_millis(300);

/// The subprotocol `@chatkitty/core` asks for.
pub const SUBPROTOCOL: &str = "v12.stomp";

/// Frames the client may need to decode: the server's limit is on what clients send, so this
/// only guards against a runaway server.
const MAX_SERVER_FRAME: usize = 16 * 1024 * 1024;

/// What a test reads of a received frame.
pub trait FrameExt {
    /// The body as UTF-8 text (lossy).
    fn text(&self) -> String;
    /// The body as JSON (panics with the frame when it is not).
    fn json(&self) -> Value;
    /// True for a MESSAGE whose body's `type` is `kind`.
    fn is_event(&self, kind: &str) -> bool;
    /// One line for assertion messages: command, headers and body.
    fn describe(&self) -> String;
}

impl FrameExt for Frame {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.describe()))
    }

    fn is_event(&self, kind: &str) -> bool {
        self.command == Command::Message
            && serde_json::from_slice::<Value>(&self.body)
                .is_ok_and(|v| v.get("type").and_then(Value::as_str) == Some(kind))
    }

    fn describe(&self) -> String {
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(k, v)| format!("{k}:{v}"))
            .collect();
        format!(
            "{} [{}] {}",
            self.command.as_str(),
            headers.join(", "),
            self.text()
        )
    }
}

/// One WebSocket connection to `/rtm/websocket`.
pub struct StompClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The subprotocol the server chose, if any.
    pub protocol: Option<String>,
    decoder: Decoder,
    /// Decoded frames not yet looked at.
    inbox: VecDeque<Frame>,
    /// Frames looked at and set aside while waiting for another one: read first.
    stash: VecDeque<Frame>,
    closed: bool,
    next_id: u64,
}

impl StompClient {
    /// Opens the WebSocket with subprotocol `v12.stomp`; no STOMP frame is sent yet.
    pub async fn connect(app: &TestApp, api_key: &str) -> StompClient {
        Self::connect_to(&app.base, api_key).await
    }

    /// As [`StompClient::connect`], to the server at `base` (`http://host:port`).
    pub async fn connect_to(base: &str, api_key: &str) -> StompClient {
        let base = base.replacen("http://", "ws://", 1);
        let mut url = reqwest::Url::parse(&format!("{base}/rtm/websocket")).expect("gateway url");
        url.query_pairs_mut().append_pair("api-key", api_key);
        let mut request = url.as_str().into_client_request().expect("request");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(SUBPROTOCOL),
        );
        let (ws, response) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
            .await
            .expect("WebSocket handshake in time")
            .expect("WebSocket handshake");
        let protocol = response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        StompClient {
            ws,
            protocol,
            decoder: Decoder::new(MAX_SERVER_FRAME),
            inbox: VecDeque::new(),
            stash: VecDeque::new(),
            closed: false,
            next_id: 0,
        }
    }

    /// Opens the WebSocket and starts a session as `username`, panicking unless CONNECTED.
    pub async fn session(app: &TestApp, username: &str) -> StompClient {
        let mut c = StompClient::connect(app, &app.api_key).await;
        let f = c.connect_as(username).await;
        assert_eq!(f.command, Command::Connected, "{}", f.describe());
        c
    }

    /// Sends one text WebSocket message as it is: for frames a well-behaved client never sends.
    pub async fn raw(&mut self, text: impl Into<String>) {
        self.ws
            .send(Message::Text(text.into().into()))
            .await
            .expect("WebSocket send");
    }

    /// Encodes and sends one frame (`content-length` is added for a non-empty body).
    pub async fn send_frame(&mut self, command: Command, headers: &[(&str, &str)], body: &[u8]) {
        let mut f = Frame::new(command).body(body.to_vec());
        for (k, v) in headers {
            f = f.header(*k, *v);
        }
        let text = String::from_utf8(f.encode()).expect("frames the tests send are UTF-8");
        self.raw(text).await;
    }

    /// Sends CONNECT as `@chatkitty/core` does (no heart-beats) and returns the answer: CONNECTED
    /// or ERROR.
    pub async fn connect_as(&mut self, username: &str) -> Frame {
        self.send_frame(
            Command::Connect,
            &[
                ("accept-version", "1.2"),
                ("heart-beat", "0,0"),
                ("host", "localhost"),
                ("StompX-User", username),
            ],
            b"",
        )
        .await;
        self.expect_frame("an answer to CONNECT").await
    }

    /// As [`StompClient::connect_as`], with the client's `authParams` (base64 JSON in
    /// `StompX-Auth-Params`, as `@chatkitty/core` sends them for a secured session).
    pub async fn connect_with_auth(&mut self, username: &str, auth_params: &Value) -> Frame {
        use base64::Engine;
        let params = base64::engine::general_purpose::STANDARD.encode(auth_params.to_string());
        self.send_frame(
            Command::Connect,
            &[
                ("accept-version", "1.2"),
                ("heart-beat", "0,0"),
                ("host", "localhost"),
                ("StompX-User", username),
                ("StompX-Auth-Params", &params),
            ],
            b"",
        )
        .await;
        self.expect_frame("an answer to CONNECT").await
    }

    /// Sends SUBSCRIBE; `extra` headers follow `id` and `destination`.
    pub async fn subscribe(&mut self, id: &str, dest: &str, extra: &[(&str, &str)]) {
        let mut headers = vec![("id", id), ("destination", dest)];
        headers.extend_from_slice(extra);
        self.send_frame(Command::Subscribe, &headers, b"").await;
    }

    /// Subscribes to a topic (or the errors queue) and waits for the RECEIPT that says the
    /// server listens for us there: after it, whatever is published reaches this client.
    pub async fn listen(&mut self, id: &str, dest: &str) {
        let receipt = format!("listen-{id}");
        self.subscribe(id, dest, &[("receipt", &receipt)]).await;
        let deadline = Instant::now() + WAIT;
        loop {
            let Some(f) = self.read_until(deadline).await else {
                panic!("no RECEIPT for SUBSCRIBE {id} to {dest}");
            };
            if f.command == Command::Receipt && f.get("receipt-id") == Some(receipt.as_str()) {
                return;
            }
            if f.command == Command::Error || f.get("subscription-id") == Some(id) {
                panic!("SUBSCRIBE {id} to {dest} failed: {}", f.describe());
            }
            self.stash.push_back(f);
        }
    }

    /// Sends SEND with a JSON body, as the client's actions do.
    pub async fn send_action(&mut self, dest: &str, receipt: &str, body: &Value) {
        self.send_frame(
            Command::Send,
            &[
                ("destination", dest),
                ("receipt", receipt),
                ("content-type", "application/json;charset=UTF-8"),
            ],
            body.to_string().as_bytes(),
        )
        .await;
    }

    /// Subscribes to a relay and returns the `resource` of its answer, panicking on an error;
    /// frames of other subscriptions that arrive meanwhile are kept for later reads.
    pub async fn relay(&mut self, dest: &str, headers: &[(&str, &str)]) -> Value {
        self.next_id += 1;
        let id = format!("relay-{}", self.next_id);
        self.subscribe(&id, dest, headers).await;
        let deadline = Instant::now() + WAIT;
        loop {
            let Some(f) = self.read_until(deadline).await else {
                panic!("no answer from relay {dest}");
            };
            if f.command == Command::Error || f.get("subscription-id") == Some(id.as_str()) {
                panic!("relay {dest} failed: {}", f.describe());
            }
            if f.command == Command::Message && f.get("subscription") == Some(id.as_str()) {
                let body = f.json();
                assert_eq!(body["version"], "v1", "{}", f.describe());
                return body["resource"].clone();
            }
            self.stash.push_back(f);
        }
    }

    /// The next frame within `timeout`; `None` when none came or the connection closed.
    /// Heart-beats are skipped.
    pub async fn next_frame(&mut self, timeout: Duration) -> Option<Frame> {
        if let Some(f) = self.stash.pop_front() {
            return Some(f);
        }
        self.read_until(Instant::now() + timeout).await
    }

    /// The next frame, panicking with `what` when none comes within [`WAIT`].
    pub async fn expect_frame(&mut self, what: &str) -> Frame {
        match self.next_frame(WAIT).await {
            Some(f) => f,
            None => panic!("expected {what}, got nothing (closed: {})", self.closed),
        }
    }

    /// Frames up to and including the first that `done` accepts, panicking (with what came)
    /// when none does within `timeout`.
    pub async fn frames_until(
        &mut self,
        mut done: impl FnMut(&Frame) -> bool,
        timeout: Duration,
    ) -> Vec<Frame> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let next = match self.stash.pop_front() {
                Some(f) => Some(f),
                None => self.read_until(deadline).await,
            };
            let Some(f) = next else {
                let seen: Vec<String> = seen.iter().map(FrameExt::describe).collect();
                panic!(
                    "the awaited frame did not come (closed: {}); came: {seen:#?}",
                    self.closed
                );
            };
            let last = done(&f);
            seen.push(f);
            if last {
                return seen;
            }
        }
    }

    /// The first frame `want` accepts within [`WAIT`]; the ones before it are dropped.
    pub async fn wait_for(&mut self, want: impl FnMut(&Frame) -> bool) -> Frame {
        let mut frames = self.frames_until(want, WAIT).await;
        frames
            .pop()
            .expect("frames_until returns the awaited frame")
    }

    /// True when the server closes the connection within `timeout`; frames that come before
    /// the close are kept for later reads.
    pub async fn is_closed(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut kept = VecDeque::new();
        while !self.closed {
            match self.read_until(deadline).await {
                Some(f) => kept.push_back(f),
                None if self.closed => break,
                None => {
                    self.stash.extend(kept);
                    return false;
                }
            }
        }
        self.stash.extend(kept);
        true
    }

    /// Reads the next frame from the socket, up to `deadline`.
    async fn read_until(&mut self, deadline: Instant) -> Option<Frame> {
        loop {
            if let Some(f) = self.inbox.pop_front() {
                return Some(f);
            }
            if self.closed {
                return None;
            }
            let msg = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return None,
                Ok(msg) => msg,
            };
            let bytes = match msg {
                Some(Ok(Message::Text(t))) => t.as_str().as_bytes().to_vec(),
                Some(Ok(Message::Binary(b))) => b.to_vec(),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                    self.closed = true;
                    continue;
                }
                Some(Ok(_)) => continue,
            };
            // One WebSocket message may carry several frames and heart-beats.
            self.decoder.push(&bytes);
            loop {
                match self.decoder.next_item() {
                    Ok(Some(Item::Frame(f))) => self.inbox.push_back(f),
                    Ok(Some(Item::HeartBeat)) => {}
                    Ok(None) => break,
                    Err(e) => panic!("the server sent an invalid frame: {e}"),
                }
            }
        }
    }
}
