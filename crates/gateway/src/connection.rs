//! One WebSocket connection: the STOMP session from CONNECT to DISCONNECT. Frames are decoded as
//! they arrive; relays and actions are answered in order; topic messages from the hub go out
//! through a bounded queue, and a client that cannot keep up is closed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use base64::Engine;
use palaver_domain::time::format_millis;
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::platform::{ChatSessionRow, ChatUserRow, SessionAttempt, UserSessionRow};
use palaver_service::AppPrincipal;
use palaver_views::LinkBase;
use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;

use crate::destinations::{parse, Dest, Topic};
use crate::frame::{Command, Decoder, Frame, Item};
use crate::hub::{ConnHandle, Key, Push};
use crate::rate::Bucket;
use crate::resume::Parked;
use crate::Gateway;

mod limits;

/// What a relay or an action answers.
pub(crate) struct Answer {
    /// The event type of an action's result (`user.channel.created`, ...).
    pub kind: &'static str,
    pub resource: Value,
    /// The topic the result goes out on, for the client's `onSuccess`.
    pub topic: Option<Key>,
}

/// A started session: who, in which application.
pub(crate) struct Session {
    pub p: AppPrincipal,
    pub user: ChatUserRow,
    pub base: LinkBase,
    pub id: String,
    /// The user session this connection holds (ACTIVE until the connection ends).
    pub row: UserSessionRow,
}

struct Conn {
    gw: Gateway,
    id: u64,
    session: Option<Session>,
    /// Subscription id → the topic it listens to.
    subs: HashMap<String, Key>,
    /// Chat sessions open on this connection, by channel.
    chats: HashMap<i64, ChatSessionRow>,
    errors_sub: Option<String>,
    handle: ConnHandle,
    next_message: u64,
    out: Vec<u8>,
    /// This connection's rate limits (see `limits`).
    action_bucket: Bucket,
    relay_bucket: Bucket,
}

/// Why a connection ends.
enum End {
    /// The socket went away: the client may come back for its session.
    Closed,
    /// The client said DISCONNECT: its session ends now.
    Disconnected,
    Error(String, String),
}

pub(crate) async fn run(mut socket: WebSocket, gw: Gateway, api_key: String, origin: String) {
    let _open = crate::telemetry::Open::new();
    let (tx, mut rx) = mpsc::channel::<Push>(gw.config.outgoing_queue);
    let overflow = Arc::new(Notify::new());
    let id = gw.hub.connection_id();
    let mut conn = Conn {
        gw: gw.clone(),
        id,
        session: None,
        subs: HashMap::new(),
        chats: HashMap::new(),
        errors_sub: None,
        handle: ConnHandle {
            tx,
            overflow: overflow.clone(),
        },
        next_message: 0,
        out: Vec::new(),
        action_bucket: Bucket::new(gw.config.action_limit),
        relay_bucket: Bucket::new(gw.config.relay_limit),
    };
    let mut decoder = Decoder::new(gw.config.max_frame_bytes);
    // Until CONNECT says otherwise: the client must speak within the connect timeout.
    let mut silence_limit = gw.config.connect_timeout;
    let mut send_every: Option<Duration> = None;
    let mut last_in = Instant::now();
    let mut last_out = Instant::now();
    let end = loop {
        let beat_at = send_every.map_or(last_out + Duration::from_secs(3600), |d| last_out + d);
        let dead_at = last_in + silence_limit;
        tokio::select! {
            msg = socket.recv() => {
                last_in = Instant::now();
                let bytes = match msg {
                    Some(Ok(Message::Text(t))) => t.as_bytes().to_vec(),
                    Some(Ok(Message::Binary(b))) => b.to_vec(),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break End::Closed,
                    Some(Ok(_)) => continue,
                };
                decoder.push(&bytes);
                let mut ended = None;
                loop {
                    match decoder.next_item() {
                        Ok(None) => break,
                        Ok(Some(Item::HeartBeat)) => {}
                        Ok(Some(Item::Frame(f))) => {
                            // Boxed: the frame handling future is large, and held inline it
                            // would make every idle connection's task as large.
                            let handled = Box::pin(conn.frame(
                                f,
                                &api_key,
                                &origin,
                                &mut silence_limit,
                                &mut send_every,
                            ));
                            if let Some(e) = handled.await {
                                ended = Some(e);
                                break;
                            }
                        }
                        Err(e) => {
                            ended = Some(End::Error("InvalidFrameError".into(), e.to_string()));
                            break;
                        }
                    }
                }
                if !conn.out.is_empty() {
                    let bytes = std::mem::take(&mut conn.out);
                    if send(&mut socket, bytes).await.is_err() {
                        break End::Closed;
                    }
                    last_out = Instant::now();
                }
                if let Some(e) = ended {
                    break e;
                }
            }
            Some(push) = rx.recv() => {
                conn.deliver(push);
                // Send what else is queued in the same WebSocket message.
                while let Ok(more) = rx.try_recv() {
                    conn.deliver(more);
                }
                let bytes = std::mem::take(&mut conn.out);
                if !bytes.is_empty() {
                    if send(&mut socket, bytes).await.is_err() {
                        break End::Closed;
                    }
                    last_out = Instant::now();
                }
            }
            _ = overflow.notified() => {
                break End::Error(
                    "ClientTooSlowError".into(),
                    "The client did not read its messages fast enough".into(),
                );
            }
            _ = tokio::time::sleep_until(beat_at) => {
                if send(&mut socket, b"\n".to_vec()).await.is_err() {
                    break End::Closed;
                }
                last_out = Instant::now();
            }
            _ = tokio::time::sleep_until(dead_at) => {
                break End::Error(
                    "HeartbeatTimeoutError".into(),
                    "Nothing was heard from the client within the agreed heart-beat".into(),
                );
            }
        }
    };
    let resumable = matches!(end, End::Closed);
    if let End::Error(kind, message) = end {
        let mut out = Vec::new();
        error_frame(&kind, &message).encode_into(&mut out);
        let _ = send(&mut socket, out).await;
    }
    let _ = tokio::time::timeout(WRITE_TIMEOUT, socket.send(Message::Close(None))).await;
    Box::pin(conn.close(resumable)).await;
}

/// A client whose socket takes no data for this long is gone or too slow: it is closed (its
/// queue meanwhile bounded, the hub never waits for it).
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

async fn send(socket: &mut WebSocket, bytes: Vec<u8>) -> Result<(), axum::Error> {
    // Every frame we write is UTF-8 (JSON bodies, ASCII headers).
    let text = String::from_utf8(bytes).unwrap_or_default();
    match tokio::time::timeout(WRITE_TIMEOUT, socket.send(Message::Text(text.into()))).await {
        Ok(sent) => sent,
        Err(_) => Err(axum::Error::new("the client stopped reading")),
    }
}

fn error_body(kind: &str, message: &str) -> String {
    json!({"error": kind, "message": message,
           "timestamp": format_millis(palaver_domain::time::now_millis())})
    .to_string()
}

fn error_frame(kind: &str, message: &str) -> Frame {
    Frame::new(Command::Error)
        .header("message", kind)
        .header("content-type", "application/json")
        .body(error_body(kind, message))
}

/// `heart-beat:cx,cy` of a CONNECT.
fn heart_beat(f: &Frame) -> (u64, u64) {
    let hb = f.get("heart-beat").unwrap_or("0,0");
    let mut parts = hb.split(',').map(|p| p.trim().parse::<u64>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

impl Conn {
    fn push_frame(&mut self, f: Frame) {
        f.encode_into(&mut self.out);
    }

    fn message_id(&mut self) -> String {
        self.next_message += 1;
        format!("m-{}-{}", self.id, self.next_message)
    }

    /// A MESSAGE on subscription `sub`.
    fn message(&mut self, sub: &str, dest: &str, body: &str, receipt: Option<&str>) {
        let id = self.message_id();
        let mut headers = [
            ("subscription", sub),
            ("message-id", id.as_str()),
            ("ack", id.as_str()),
            ("destination", dest),
            ("content-type", "application/json;charset=UTF-8"),
            ("receipt-id", ""),
        ];
        let count = match receipt {
            Some(r) => {
                headers[5].1 = r;
                6
            }
            None => 5,
        };
        crate::frame::encode_message_into(&mut self.out, &headers[..count], body.as_bytes());
    }

    /// Writes a topic message once for each of this connection's subscriptions to its topic:
    /// the frame is encoded already, but for the subscription id.
    fn deliver(&mut self, push: Push) {
        let mut count = 0;
        for (sub, key) in &self.subs {
            if *key == push.key {
                push.frame.write_for(&mut self.out, sub);
                count += 1;
            }
        }
        crate::telemetry::delivered(count);
    }

    /// Reports a failed relay or action on `/user/queue/errors` (or, before the client listens
    /// there, as a fatal ERROR).
    fn fail(&mut self, header: &str, id: &str, e: DomainError) -> Option<End> {
        let kind = if e.code == ErrorCode::Internal {
            "InternalServerError"
        } else {
            e.code.platform_name()
        };
        let Some(sub) = self.errors_sub.clone() else {
            return Some(End::Error(kind.into(), e.message));
        };
        let mid = self.message_id();
        let f = Frame::new(Command::Message)
            .header("subscription", sub)
            .header("message-id", mid.clone())
            .header("ack", mid)
            .header("destination", "/user/queue/errors")
            .header("content-type", "application/json;charset=UTF-8")
            .header(header, id)
            .body(error_body(kind, &e.message));
        self.push_frame(f);
        None
    }

    fn receipt(&mut self, f: &Frame) {
        if let Some(r) = f.get("receipt") {
            let r = r.to_string();
            self.push_frame(Frame::new(Command::Receipt).header("receipt-id", r));
        }
    }

    /// Handles one frame; `Some` ends the connection.
    async fn frame(
        &mut self,
        f: Frame,
        api_key: &str,
        origin: &str,
        silence_limit: &mut Duration,
        send_every: &mut Option<Duration>,
    ) -> Option<End> {
        match f.command {
            Command::Connect | Command::Stomp => {
                if self.session.is_some() {
                    return Some(End::Error(
                        "InvalidFrameError".into(),
                        "The session has already started".into(),
                    ));
                }
                match self.connect(&f, api_key, origin).await {
                    Ok(s) => {
                        let (cx, cy) = heart_beat(&f);
                        let ours = self.gw.config.heartbeat;
                        let ours_ms = ours.as_millis() as u64;
                        // We send every max(ours, what the client wants); we expect its beats
                        // every max(its own, ours) and allow twice that before closing.
                        *send_every = (cy > 0).then(|| Duration::from_millis(cy.max(ours_ms)));
                        if cx > 0 {
                            *silence_limit = Duration::from_millis(cx.max(ours_ms) * 2);
                        } else {
                            *silence_limit = self.gw.config.idle_timeout;
                        }
                        let connected = Frame::new(Command::Connected)
                            .header("version", "1.2")
                            .header("heart-beat", format!("{ours_ms},{ours_ms}"))
                            .header("session", s.id.clone())
                            .header("server", "Palaver");
                        self.session = Some(s);
                        self.push_frame(connected);
                        None
                    }
                    Err(e) => Some(End::Error(e.code.platform_name().into(), e.message)),
                }
            }
            _ if self.session.is_none() => Some(End::Error(
                "AccessDeniedError".into(),
                "Send CONNECT first: no session has started".into(),
            )),
            Command::Subscribe => self.subscribe(f).await,
            Command::Unsubscribe => {
                if let Some(id) = f.get("id") {
                    if let Some(key) = self.subs.remove(id) {
                        crate::telemetry::unsubscribed(1);
                        if !self.subs.values().any(|k| *k == key) {
                            if let Some(s) = &self.session {
                                self.gw.hub.unsubscribe(s.p.application_id, key, self.id);
                            }
                            if let Key::Channel(channel, "self") = key {
                                self.close_chat(channel).await;
                            }
                        }
                    }
                    if self.errors_sub.as_deref() == Some(id) {
                        self.errors_sub = None;
                    }
                }
                self.receipt(&f);
                None
            }
            Command::Send => self.send(f).await,
            Command::Ack | Command::Nack | Command::Begin | Command::Commit | Command::Abort => {
                self.receipt(&f);
                None
            }
            Command::Disconnect => {
                self.receipt(&f);
                Some(End::Disconnected)
            }
            Command::Connected | Command::Message | Command::Receipt | Command::Error => {
                Some(End::Error(
                    "InvalidFrameError".into(),
                    format!("{} is a server frame", f.command.as_str()),
                ))
            }
        }
    }

    async fn connect(
        &mut self,
        f: &Frame,
        api_key: &str,
        origin: &str,
    ) -> Result<Session, DomainError> {
        let denied = |m: &str| DomainError::new(ErrorCode::AccessDenied, m);
        let platform = &self.gw.services.platform;
        let (p, app) = platform
            .application_by_key(api_key)
            .await
            .map_err(|e| e.into_domain())?
            .ok_or_else(|| denied("The api key names no application"))?;
        let username = f
            .get("StompX-User")
            .ok_or_else(|| denied("StompX-User is required: the username"))?
            .to_string();
        let auth_params = match f.get("StompX-Auth-Params") {
            None => Value::Null,
            Some(b64) => base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .ok_or_else(|| denied("StompX-Auth-Params must be base64 of a JSON object"))?,
        };
        let attempt = SessionAttempt {
            username,
            auth_params,
        };
        let user = platform
            .session_user(&p, &app, &attempt, self.gw.gate.as_ref())
            .await
            .map_err(|e| e.into_domain())?;
        self.gw.hub.saw_origin(origin);
        // A reconnecting client names its earlier session; it keeps that id.
        let id = f
            .get("StompX-Auth-Session-ID")
            .filter(|s| !s.is_empty() && *s != "undefined" && s.len() <= 64)
            .map(str::to_string)
            .unwrap_or_else(crate::random_id);
        let row = match self.gw.resume.take(&id, p.application_id, user.id) {
            // The client came back in time: its sessions go on, nobody saw it leave.
            Some(parked) => {
                self.chats = parked.chats;
                parked.row
            }
            None => platform
                .start_user_session(&p, &user, &self.gw.instance, f.get("StompX-User-Agent"))
                .await
                .map_err(|e| e.into_domain())?,
        };
        // Read again: the user is online now.
        let user = platform
            .get_user(&p, user.id)
            .await
            .map_err(|e| e.into_domain())?;
        Ok(Session {
            p,
            user,
            base: LinkBase::root(origin),
            id,
            row,
        })
    }

    async fn subscribe(&mut self, f: Frame) -> Option<End> {
        let Some(sub) = f.get("id").map(str::to_string) else {
            return Some(End::Error(
                "InvalidFrameError".into(),
                "SUBSCRIBE needs an id".into(),
            ));
        };
        let dest = f.get("destination").unwrap_or_default().to_string();
        match parse(&dest) {
            Some(Dest::Errors) => {
                self.errors_sub = Some(sub);
                self.receipt(&f);
                None
            }
            Some(Dest::Topic(topic)) => {
                let key = match self.topic_key(topic).await {
                    Ok(k) => k,
                    Err(e) => return self.fail("subscription-id", &sub, e),
                };
                if let Some(s) = &self.session {
                    self.gw.hub.subscribe(
                        s.p.application_id,
                        key,
                        self.id,
                        s.user.id,
                        self.handle.clone(),
                    );
                }
                if self.subs.insert(sub, key).is_none() {
                    crate::telemetry::subscribed();
                }
                if let Key::Channel(channel, "self") = key {
                    // A chat session starts when the client opens the channel (its self topic).
                    if let Err(e) = self.open_chat(channel).await {
                        return self.fail("subscription-id", f.get("id").unwrap_or_default(), e);
                    }
                }
                self.receipt(&f);
                None
            }
            Some(Dest::Relay(owner, name)) => {
                self.receipt(&f);
                if let Some(wait) = self.over_limit(limits::Kind::Relay) {
                    self.rate_limited(limits::Kind::Relay, "subscription-id", &sub, wait);
                    return None;
                }
                let answer = match self.session.as_ref() {
                    Some(s) => crate::relays::answer(&self.gw, s, owner, &name, &f).await,
                    None => return None,
                };
                match answer {
                    Ok(resource) => {
                        let kind = if name.is_empty() {
                            "relay".into()
                        } else {
                            format!("{name}.relay")
                        };
                        let body = json!({"type": kind, "version": "v1", "resource": resource})
                            .to_string();
                        self.message(&sub, &dest, &body, None);
                        None
                    }
                    Err(e) => self.fail("subscription-id", &sub, e),
                }
            }
            Some(Dest::Action(..)) | None => self.fail(
                "subscription-id",
                &sub,
                DomainError::new(
                    ErrorCode::NotFound,
                    format!("No relay or topic at \"{dest}\""),
                ),
            ),
        }
    }

    /// The hub key of a topic the session may listen to.
    async fn topic_key(&self, topic: Topic) -> Result<Key, DomainError> {
        let Some(s) = &self.session else {
            return Err(DomainError::new(ErrorCode::AccessDenied, "No session"));
        };
        match topic {
            Topic::User(name) => Ok(Key::User(s.user.id, name)),
            Topic::Channel(id, name) => {
                self.gw
                    .services
                    .platform
                    .readable_channel(&s.p, id, s.user.id)
                    .await
                    .map_err(|e| e.into_domain())?;
                Ok(Key::Channel(id, name))
            }
        }
    }

    async fn send(&mut self, f: Frame) -> Option<End> {
        let dest = f.get("destination").unwrap_or_default().to_string();
        let receipt = f.get("receipt").map(str::to_string);
        let fail_id = receipt.clone().unwrap_or_default();
        if let Some(wait) = self.over_limit(limits::Kind::Action) {
            self.receipt(&f);
            self.rate_limited(limits::Kind::Action, "receipt-id", &fail_id, wait);
            return None;
        }
        let Some(Dest::Action(owner, name)) = parse(&dest) else {
            self.receipt(&f);
            return self.fail(
                "receipt-id",
                &fail_id,
                DomainError::new(ErrorCode::NotFound, format!("No action at \"{dest}\"")),
            );
        };
        let body: Value = if f.body.is_empty() {
            json!({})
        } else {
            match serde_json::from_slice(&f.body) {
                Ok(v) => v,
                Err(e) => {
                    self.receipt(&f);
                    return self.fail(
                        "receipt-id",
                        &fail_id,
                        DomainError::new(
                            ErrorCode::MalformedBody,
                            format!("The body is not JSON: {e}"),
                        ),
                    );
                }
            }
        };
        let result = match self.session.as_ref() {
            Some(s) => crate::actions::perform(&self.gw, s, owner, &name, body).await,
            None => return None,
        };
        self.receipt(&f);
        match result {
            Ok(answer) => {
                if let Some(r) = receipt {
                    self.result(&r, answer);
                }
                None
            }
            Err(e) => self.fail("receipt-id", &fail_id, e),
        }
    }

    /// An action's result event, with `receipt-id`, on a topic the client listens to: the one
    /// the action names if subscribed, else one of the user's own.
    fn result(&mut self, receipt: &str, a: Answer) {
        let Some(s) = &self.session else {
            return;
        };
        let me = s.user.id;
        let preferred = a.topic.into_iter().chain(
            ["messages", "channels", "self", "notifications"]
                .into_iter()
                .map(|t| Key::User(me, t)),
        );
        let mut target = None;
        for key in preferred {
            if let Some((sub, _)) = self.subs.iter().find(|(_, k)| **k == key) {
                target = Some((sub.clone(), key));
                break;
            }
        }
        let Some((sub, key)) = target else {
            return;
        };
        let body = json!({"type": a.kind, "version": "v1", "resource": a.resource}).to_string();
        self.message(&sub, &key.destination(), &body, Some(receipt));
    }

    /// Starts the chat session of `channel` unless this connection has it open already.
    async fn open_chat(&mut self, channel: i64) -> Result<(), DomainError> {
        let Some(s) = &self.session else {
            return Ok(());
        };
        if self.chats.contains_key(&channel) {
            return Ok(());
        }
        let chat = self
            .gw
            .services
            .platform
            .start_chat_session(&s.p, &s.row, channel)
            .await
            .map_err(|e| e.into_domain())?;
        self.chats.insert(channel, chat);
        Ok(())
    }

    async fn close_chat(&mut self, channel: i64) {
        let (Some(s), Some(chat)) = (&self.session, self.chats.remove(&channel)) else {
            return;
        };
        if let Err(e) = self
            .gw
            .services
            .platform
            .end_chat_session(&s.p, &chat)
            .await
        {
            tracing::warn!(error = %e.into_domain(), "chat session not ended");
        }
    }

    /// Leaves every topic and ends the user session (and with it the chat sessions) — or,
    /// when the client may come back (`resumable`), parks them for the resume grace.
    async fn close(&mut self, resumable: bool) {
        let chats = std::mem::take(&mut self.chats);
        let subs = std::mem::take(&mut self.subs);
        crate::telemetry::unsubscribed(subs.len());
        let Some(s) = self.session.take() else {
            return;
        };
        for key in subs.values() {
            self.gw.hub.unsubscribe(s.p.application_id, *key, self.id);
        }
        let grace = self.gw.config.resume_grace;
        if resumable && !grace.is_zero() {
            let parked = Parked {
                application_id: s.p.application_id,
                row: s.row.clone(),
                chats,
            };
            self.gw.resume.park(&s.id, parked);
            let gw = self.gw.clone();
            tokio::spawn(async move {
                tokio::time::sleep(grace).await;
                if gw.resume.expire(&s.id, s.row.id).is_some() {
                    end_session(&gw, &s).await;
                }
            });
            return;
        }
        end_session(&self.gw, &s).await;
    }
}

/// A connection whose task ended without [`Conn::close`] (cancelled at shutdown) still gives
/// back the subscriptions it counted.
impl Drop for Conn {
    fn drop(&mut self) {
        crate::telemetry::unsubscribed(self.subs.len());
    }
}

/// Ends a session's user session and with it its chat sessions.
async fn end_session(gw: &Gateway, s: &Session) {
    let platform = &gw.services.platform;
    if let Err(e) = platform.end_user_session(&s.p, &s.user, s.row.id).await {
        // The lease ends it once this instance stops renewing.
        tracing::warn!(error = %e.into_domain(), "user session not ended");
    }
}
