//! The fan-out hub: which connection listens to which topic, and the task that turns each
//! event of the platform bus (committed writes and ephemeral signals, from REST and the gateway
//! alike) into topic messages, rendering each resource once for all its listeners and encoding
//! each topic message's frame once for all its subscribers.
//!
//! One task reads the bus and keeps track of what was passed on (`catch_up`); the renders run
//! in lanes of their own (`lanes`), so that one waiting on the store holds back nothing it
//! need not.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use palaver_service::platform::Published;
use palaver_service::Services;
use palaver_views::LinkBase;
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, Notify};

use crate::destinations::{Topic, CHANNEL_TOPICS};
use crate::frame::TopicFrame;

mod backlog;
mod catch_up;
mod channel_events;
mod lanes;
mod render;
mod topics;
mod typing;

/// A topic of one application's user or channel: what a subscription listens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    User(i64, &'static str),
    Channel(i64, &'static str),
}

impl Key {
    /// The destination its messages carry.
    pub fn destination(self) -> String {
        match self {
            Key::User(_, name) => Topic::User(name).destination(),
            Key::Channel(id, name) => Topic::Channel(id, name).destination(),
        }
    }
}

/// One topic message for one connection: the key it was published under and its frame, encoded
/// once for every listener (shared, so that queueing it copies a pointer).
#[derive(Debug, Clone)]
pub struct Push {
    pub key: Key,
    pub frame: Arc<TopicFrame>,
}

impl Push {
    /// The message's JSON body.
    pub fn body(&self) -> &str {
        self.frame.body()
    }
}

/// How the hub reaches a connection.
#[derive(Debug, Clone)]
pub struct ConnHandle {
    pub tx: mpsc::Sender<Push>,
    /// Told when the connection's queue is full: a client that cannot keep up is closed.
    pub overflow: Arc<Notify>,
}

/// Awaited before each event's render (see [`Hub::with_render_hook`]).
pub type RenderHook =
    Arc<dyn Fn(&Published) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// The registry of subscriptions, shared by every connection of this instance.
#[derive(Default)]
pub struct Hub {
    next: AtomicU64,
    /// Numbers the topic messages' `message-id`s.
    next_message: AtomicU64,
    topics: Mutex<topics::Topics>,
    /// Where avatars and other absolute links point (the configured public URL, else the
    /// first client's origin).
    origin: Mutex<Option<String>>,
    /// Who is typing where (on this instance's bus: every instance keeps its own).
    typing: typing::Typing,
    hook: Option<RenderHook>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("topics", &self.topics)
            .field("origin", &self.origin)
            .field("hook", &self.hook.is_some())
            .finish_non_exhaustive()
    }
}

/// The body of a topic message: `{type, version, resource}`.
pub fn event_body(kind: &str, resource: Value) -> Arc<str> {
    json!({"type": kind, "version": "v1", "resource": resource})
        .to_string()
        .into()
}

impl Hub {
    pub fn new(public_url: Option<String>) -> Self {
        Hub {
            origin: Mutex::new(public_url),
            ..Hub::default()
        }
    }

    /// Sets how long a user who stops typing keys is still typing.
    pub fn with_typing_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.typing = typing::Typing::new(timeout);
        self
    }

    /// Awaits `hook` before rendering each event, in the event's lane: a way to hold renders
    /// back and show what they do not hold back.
    pub fn with_render_hook(mut self, hook: RenderHook) -> Self {
        self.hook = Some(hook);
        self
    }

    pub fn connection_id(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// Remembers the first client's origin when no public URL is configured.
    pub fn saw_origin(&self, origin: &str) {
        let mut o = self.origin.lock().unwrap_or_else(PoisonError::into_inner);
        if o.is_none() {
            *o = Some(origin.to_string());
        }
    }

    fn base(&self) -> LinkBase {
        let o = self.origin.lock().unwrap_or_else(PoisonError::into_inner);
        LinkBase::root(o.as_deref().unwrap_or("http://localhost"))
    }

    fn topics(&self) -> std::sync::MutexGuard<'_, topics::Topics> {
        self.topics.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn subscribe(&self, app: i64, key: Key, conn: u64, user: i64, handle: ConnHandle) {
        self.topics().insert(app, key, conn, user, handle);
    }

    /// Ends `user`'s subscriptions to the topics of `channel`: checked when they were made,
    /// they would otherwise outlive the membership that allowed them.
    fn revoke(&self, app: i64, channel: i64, user: i64) {
        let mut t = self.topics();
        for name in CHANNEL_TOPICS {
            t.retain(app, Key::Channel(channel, name), |_, u| u != user);
        }
    }

    pub fn unsubscribe(&self, app: i64, key: Key, conn: u64) {
        self.topics().retain(app, key, |c, _| c != conn);
    }

    /// True when someone of `app` listens to `key`: nothing is rendered for nobody.
    fn heard(&self, app: i64, key: Key) -> bool {
        self.topics().heard(app, key)
    }

    /// The channels of `app` whose `name` topic someone listens to.
    fn heard_channels(&self, app: i64, name: &'static str) -> Vec<i64> {
        self.topics().channels(app, name)
    }

    /// Queues `body` for every listener of `key`, its frame encoded once for all; a listener
    /// whose queue is full is told to close, never waited for.
    pub fn publish(&self, app: i64, key: Key, body: Arc<str>) {
        let Some(listeners) = self.topics().handles(app, key) else {
            return;
        };
        let id = format!("t-{}", self.next_message.fetch_add(1, Ordering::Relaxed));
        let dest = key.destination();
        let headers = [
            ("message-id", id.as_str()),
            ("ack", id.as_str()),
            ("destination", dest.as_str()),
            ("content-type", "application/json;charset=UTF-8"),
        ];
        let frame = Arc::new(TopicFrame::new(&headers, &body));
        for l in listeners {
            let push = Push {
                key,
                frame: frame.clone(),
            };
            if l.tx.try_send(push).is_err() {
                l.overflow.notify_one();
            }
        }
    }

    /// Turns bus events into topic messages until the bus closes.
    pub async fn run(self: Arc<Self>, services: Services) {
        let rx = services.platform.subscribe();
        self.run_from(services, rx).await
    }

    /// As [`Hub::run`], from a receiver of the bus taken earlier (tests take it, write more
    /// than the bus holds, then start the hub behind).
    pub async fn run_from(
        self: Arc<Self>,
        services: Services,
        mut rx: tokio::sync::broadcast::Receiver<Arc<Published>>,
    ) {
        let stops = self
            .typing
            .stops
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // A second run (there is none) would have no typing stops to tell.
        let (_idle, idle) = mpsc::channel(1);
        let mut stops = stops.unwrap_or(idle);
        let mut seen = catch_up::Seen::default();
        let mut lanes = lanes::Lanes::new(self.clone(), services.clone());
        loop {
            tokio::select! {
                got = rx.recv() => match got {
                    Ok(e) => {
                        for earlier in seen.before(&services, &e).await {
                            if seen.fresh(&earlier) {
                                lanes.route(Arc::new(earlier)).await;
                            }
                        }
                        if seen.fresh(&e) {
                            lanes.route(e).await;
                        }
                    }
                    Err(RecvError::Lagged(n)) => {
                        // The bus dropped its oldest events for us: the committed ones are read
                        // back from the outbox (ephemeral signals are gone, as they may be).
                        let missed = seen.missed(&services, self.listened_apps(), n).await;
                        tracing::warn!(
                            missed = n,
                            recovered = missed.len(),
                            "real-time hub fell behind the event bus and caught up from the outbox"
                        );
                        for e in missed {
                            if seen.fresh(&e) {
                                lanes.route(Arc::new(e)).await;
                            }
                        }
                    }
                    Err(RecvError::Closed) => return,
                },
                Some(who) = stops.recv() => lanes.typing_stopped(who).await,
            }
        }
    }

    /// The applications someone on this instance listens to.
    fn listened_apps(&self) -> BTreeSet<i64> {
        self.topics().apps()
    }
}
