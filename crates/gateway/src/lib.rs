//! Palaver's real-time gateway: StompX, STOMP 1.2 over WebSocket, as `@chatkitty/core` speaks it.
//! A client connects to `/rtm/websocket?api-key=KEY`, starts a session with CONNECT, reads
//! through relays, writes through actions and listens on topics fed by the platform's events.

mod actions;
pub mod broker;
mod connection;
pub mod destinations;
pub mod frame;
pub mod hub;
mod paging;
pub mod rate;
mod reactions;
mod records;
mod relays;
pub mod resources;
mod resume;
pub mod telemetry;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use palaver_service::platform::{NoSessionFunction, SessionGate};
use palaver_service::Services;

use hub::Hub;
pub use rate::RateLimit;

/// The gateway's settings.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Largest STOMP frame a client may send (headers and body).
    pub max_frame_bytes: usize,
    /// Topic messages queued for one connection before it is closed as too slow.
    pub outgoing_queue: usize,
    /// How often the server sends and wants heart-beats, at least.
    pub heartbeat: Duration,
    /// How long a connection may stay silent before CONNECT.
    pub connect_timeout: Duration,
    /// How long a connection that negotiated no heart-beats may stay silent.
    pub idle_timeout: Duration,
    /// Where clients reach the server (for absolute links); else the first client's origin.
    pub public_url: Option<String>,
    /// How long this instance's sessions outlive its last lease renewal (it renews at a third).
    pub session_lease: Duration,
    /// How long a dropped connection's sessions wait for their client to reconnect (zero: they
    /// end at once).
    pub resume_grace: Duration,
    /// Actions (SENDs) one connection may make: a burst of `count`, refilled every `per`.
    pub action_limit: RateLimit,
    /// Relays (one-shot SUBSCRIBEs) one connection may make, likewise.
    pub relay_limit: RateLimit,
    /// How long a user is still typing after its last keystrokes.
    pub typing_timeout: Duration,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            max_frame_bytes: 64 * 1024,
            outgoing_queue: 1024,
            heartbeat: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(300),
            public_url: None,
            session_lease: Duration::from_secs(30),
            // The SDK reconnects 5 s after a drop.
            resume_grace: Duration::from_secs(15),
            // Generous: a chat UI opening a busy list makes dozens of relays at once.
            action_limit: RateLimit::new(100, Duration::from_secs(10)),
            relay_limit: RateLimit::new(200, Duration::from_secs(10)),
            typing_timeout: Duration::from_secs(5),
        }
    }
}

/// The gateway of one instance: services, settings, the fan-out hub and the session gate.
#[derive(Debug, Clone)]
pub struct Gateway {
    pub(crate) services: Services,
    pub(crate) config: Arc<GatewayConfig>,
    pub(crate) hub: Arc<Hub>,
    pub(crate) gate: Arc<dyn SessionGate>,
    /// This instance's name in the session leases.
    pub(crate) instance: Arc<str>,
    /// Sessions of dropped connections, waiting for their clients.
    pub(crate) resume: Arc<resume::Resumable>,
}

impl Gateway {
    pub fn new(services: Services, config: GatewayConfig) -> Self {
        Gateway {
            hub: Arc::new(
                Hub::new(config.public_url.clone()).with_typing_timeout(config.typing_timeout),
            ),
            services,
            config: Arc::new(config),
            gate: Arc::new(NoSessionFunction),
            instance: random_id().into(),
            resume: Default::default(),
        }
    }

    /// Renews this instance's session lease and ends the sessions of instances whose lease ran
    /// out (they died), for as long as the server runs.
    pub async fn run_leases(&self) {
        let ttl = self.config.session_lease;
        let ttl_millis = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        loop {
            let platform = &self.services.platform;
            if let Err(e) = platform.renew_lease(&self.instance, ttl_millis).await {
                tracing::warn!(error = %e.into_domain(), "session lease not renewed");
            }
            match platform.reap_sessions(&self.instance, false).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "ended the sessions of a stopped instance"),
                Err(e) => tracing::warn!(error = %e.into_domain(), "stale sessions not ended"),
            }
            tokio::time::sleep(ttl / 3).await;
        }
    }

    /// Decides secured session starts with `gate` (the chat functions' start-session trigger).
    pub fn with_gate(mut self, gate: Arc<dyn SessionGate>) -> Self {
        self.gate = gate;
        self
    }

    /// Feeds the topics from the platform's events until the event bus closes.
    pub async fn run_hub(&self) {
        self.hub.clone().run(self.services.clone()).await
    }

    /// Ends the sessions this instance holds (at shutdown: its clients are gone).
    pub async fn end_own_sessions(&self) {
        if let Err(e) = self
            .services
            .platform
            .reap_sessions(&self.instance, true)
            .await
        {
            tracing::warn!(error = %e.into_domain(), "sessions not ended at shutdown");
        }
    }

    /// The WebSocket route.
    pub fn router(self) -> Router {
        Router::new()
            .route("/rtm/websocket", get(upgrade))
            .with_state(self)
    }
}

/// 32 random alphanumerics: session and instance ids.
pub(crate) fn random_id() -> String {
    use rand::distributions::Alphanumeric;
    use rand::Rng;
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

fn origin(headers: &HeaderMap, public_url: Option<&str>) -> String {
    if let Some(u) = public_url {
        return u.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// Accepts every upgrade: a bad api key is refused inside STOMP, with the `AccessDeniedError`
/// the client understands (refused at the upgrade it would retry forever).
async fn upgrade(
    State(gw): State<Gateway>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let key = q.get("api-key").cloned().unwrap_or_default();
    let origin = origin(&headers, gw.config.public_url.as_deref());
    // The socket's own buffers stay small: idle connections are most of them.
    ws.protocols(["v12.stomp", "v11.stomp", "v10.stomp"])
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(gw.config.max_frame_bytes * 4)
        .on_upgrade(move |socket| connection::run(socket, gw, key, origin))
}
