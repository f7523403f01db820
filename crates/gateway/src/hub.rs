//! The fan-out hub: which connection listens to which topic, and the one task that turns each
//! event of the platform bus (committed writes and ephemeral signals, from REST and the gateway
//! alike) into topic messages, rendering each resource once for all its listeners.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use palaver_domain::platform::event::{Event, MessageRef, ReactionRef, UserRef};
use palaver_domain::platform::paging::PageRequest;
use palaver_domain::time::format_millis;
use palaver_service::platform::{Emoji, Published, ReactionView};
use palaver_service::{AppPrincipal, Services};
use palaver_views::LinkBase;
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, Notify};

use crate::destinations::{relay, Owner, CHANNEL_TOPICS};
use crate::resources;

mod catch_up;
mod channel_events;
mod typing;

/// A topic of one application's user or channel: what a subscription listens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    User(i64, &'static str),
    Channel(i64, &'static str),
}

/// One topic message for one connection: the key it was published under and its JSON body.
#[derive(Debug, Clone)]
pub struct Push {
    pub key: Key,
    pub body: Arc<str>,
}

/// How the hub reaches a connection.
#[derive(Debug, Clone)]
pub struct ConnHandle {
    pub tx: mpsc::Sender<Push>,
    /// Told when the connection's queue is full: a client that cannot keep up is closed.
    pub overflow: Arc<Notify>,
}

/// A topic's listeners: connection id → the connection's user (whose access may end) and how
/// to reach it.
type Listeners = HashMap<u64, (i64, ConnHandle)>;

/// The registry of subscriptions, shared by every connection of this instance.
#[derive(Debug, Default)]
pub struct Hub {
    next: AtomicU64,
    topics: Mutex<HashMap<(i64, Key), Listeners>>,
    /// Where avatars and other absolute links point (the configured public URL, else the
    /// first client's origin).
    origin: Mutex<Option<String>>,
    /// Who is typing where (on this instance's bus: every instance keeps its own).
    typing: typing::Typing,
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

    pub fn subscribe(&self, app: i64, key: Key, conn: u64, user: i64, handle: ConnHandle) {
        let mut t = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        t.entry((app, key))
            .or_default()
            .insert(conn, (user, handle));
    }

    /// Ends `user`'s subscriptions to the topics of `channel`: checked when they were made,
    /// they would otherwise outlive the membership that allowed them.
    fn revoke(&self, app: i64, channel: i64, user: i64) {
        let mut t = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        for name in CHANNEL_TOPICS {
            let key = (app, Key::Channel(channel, name));
            if let Some(l) = t.get_mut(&key) {
                l.retain(|_, (u, _)| *u != user);
                if l.is_empty() {
                    t.remove(&key);
                }
            }
        }
    }

    pub fn unsubscribe(&self, app: i64, key: Key, conn: u64) {
        let mut t = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(l) = t.get_mut(&(app, key)) {
            l.remove(&conn);
            if l.is_empty() {
                t.remove(&(app, key));
            }
        }
    }

    /// True when someone of `app` listens to `key`: nothing is rendered for nobody.
    fn heard(&self, app: i64, key: Key) -> bool {
        let t = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        t.contains_key(&(app, key))
    }

    /// True when someone of `app` listens to some channel's `name` topic.
    fn heard_on_any_channel(&self, app: i64, name: &str) -> bool {
        let t = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        t.keys()
            .any(|(a, k)| *a == app && matches!(k, Key::Channel(_, n) if *n == name))
    }

    /// Queues `body` for every listener of `key`; a listener whose queue is full is told to
    /// close, never waited for.
    pub fn publish(&self, app: i64, key: Key, body: Arc<str>) {
        let listeners: Vec<ConnHandle> = {
            let t = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
            match t.get(&(app, key)) {
                Some(l) => l.values().map(|(_, h)| h.clone()).collect(),
                None => return,
            }
        };
        for l in listeners {
            let push = Push {
                key,
                body: body.clone(),
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
        loop {
            tokio::select! {
                got = rx.recv() => match got {
                    Ok(e) => {
                        for earlier in seen.before(&services, &e).await {
                            if seen.fresh(&earlier) {
                                self.dispatch(&services, &earlier).await;
                            }
                        }
                        if seen.fresh(&e) {
                            self.dispatch(&services, &e).await;
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
                                self.dispatch(&services, &e).await;
                            }
                        }
                    }
                    Err(RecvError::Closed) => return,
                },
                Some(who) = stops.recv() => self.typing_stopped(&services, who).await,
            }
        }
    }

    /// The applications someone on this instance listens to.
    fn listened_apps(&self) -> std::collections::BTreeSet<i64> {
        let t = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        t.keys().map(|(app, _)| *app).collect()
    }

    async fn dispatch(&self, services: &Services, e: &Published) {
        let app = e.application_id;
        let p = AppPrincipal {
            application_id: app,
            organisation_id: String::new(),
        };
        let base = self.base();
        match &e.event {
            Event::MessageCreated(m) => {
                // Sending ends typing.
                if let Some(u) = m.user_id {
                    if self.typing.stop((app, m.channel_id, u)) {
                        self.typing_stopped(services, (app, m.channel_id, u)).await;
                    }
                }
                self.message(services, &p, &base, m, "channel.message.created")
                    .await;
                self.unhidden(services, &p, &base, m.channel_id, m.seq)
                    .await;
            }
            Event::MessageUpdated(m) => {
                self.message(services, &p, &base, m, "channel.message.updated")
                    .await
            }
            Event::MessageDeleted(m) => {
                let key = Key::Channel(m.channel_id, "messages");
                let gone = json!({"id": m.id, "type": m.r#type, "channelId": m.channel_id,
                                  "nestedLevel": m.nested_level, "properties": {}});
                self.publish(app, key, event_body("channel.message.deleted", gone));
            }
            Event::Keystrokes {
                channel_id,
                keys,
                user_id,
                username,
                ..
            } => {
                let strokes = json!({
                    "username": username,
                    "keys": keys,
                    "_relays": {"user": relay(Owner::User(*user_id), "")},
                });
                let key = Key::Channel(*channel_id, "keystrokes");
                self.publish(app, key, event_body("thread.keystrokes.created", strokes));
                if keys.is_empty() {
                    self.typing.stop((app, *channel_id, *user_id));
                } else {
                    self.typing.typed((app, *channel_id, *user_id));
                }
                let typing = Key::Channel(*channel_id, "typing");
                if self.heard(app, typing) {
                    if let Ok(u) = services.platform.get_user(&p, *user_id).await {
                        let who = resources::user(&base, &u);
                        let kind = if keys.is_empty() {
                            "thread.typing.stopped"
                        } else {
                            "thread.typing.started"
                        };
                        self.publish(app, typing, event_body(kind, who));
                    }
                }
            }
            Event::MessageRead {
                message_id,
                channel_id,
                user_id,
                ..
            } => {
                let key = Key::Channel(*channel_id, "readReceipts");
                if !self.heard(app, key) {
                    return;
                }
                if let Ok(u) = services.platform.get_user(&p, *user_id).await {
                    let receipt = json!({
                        "user": resources::user(&base, &u),
                        "createdTime": format_millis(e.created),
                        "_relays": {"message": relay(Owner::Message(*message_id), "")},
                    });
                    self.publish(
                        app,
                        key,
                        event_body("message.read_receipt.created", receipt),
                    );
                }
            }
            Event::MemberAdded(r) | Event::MemberRemoved(r) => {
                let joined = matches!(e.event, Event::MemberAdded(_));
                // One who may no longer read the channel (not PUBLIC, not its creator) stops
                // hearing it before anything more is said there.
                if !joined
                    && services
                        .platform
                        .readable_channel(&p, r.channel_id, r.user_id)
                        .await
                        .is_err()
                {
                    self.revoke(app, r.channel_id, r.user_id);
                }
                if let Ok(c) = services.platform.get_channel(&p, r.channel_id).await {
                    let resource = resources::channel(&base, &c, joined);
                    let kind = if joined {
                        "user.channel.joined"
                    } else {
                        "user.channel.left"
                    };
                    let key = Key::User(r.user_id, "channels");
                    self.publish(app, key, event_body(kind, resource));
                }
                let members = Key::Channel(r.channel_id, "members");
                if self.heard(app, members) {
                    if let Ok(u) = services.platform.get_user(&p, r.user_id).await {
                        // The names `onMemberJoined` / `onMemberLeft` listen for.
                        let kind = if joined {
                            "channel.member.joined"
                        } else {
                            "channel.member.left"
                        };
                        let who = resources::user(&base, &u);
                        self.publish(app, members, event_body(kind, who));
                    }
                }
            }
            Event::ChannelEventSent {
                channel_id,
                r#type,
                properties,
                ..
            } => {
                let ev = json!({
                    "type": r#type,
                    "properties": properties,
                    "_relays": {"channel": relay(Owner::Channel(*channel_id), "")},
                });
                let key = Key::Channel(*channel_id, "events");
                self.publish(app, key, event_body("channel.event.triggered", ev));
            }
            Event::ChannelUpdated(c) | Event::ChannelDeleted(c) => {
                let deleted = matches!(e.event, Event::ChannelDeleted(_));
                self.channel_changed(services, &p, &base, c, deleted).await
            }
            Event::ParticipantChanged {
                channel_id,
                user_id,
                active,
            } => {
                let key = Key::Channel(*channel_id, "participants");
                if !self.heard(app, key) {
                    return;
                }
                if let Ok(u) = services.platform.get_user(&p, *user_id).await {
                    let kind = if *active {
                        "channel.participant.active"
                    } else {
                        "channel.participant.inactive"
                    };
                    self.publish(app, key, event_body(kind, resources::user(&base, &u)));
                }
            }
            Event::MessageReacted(r) => {
                self.reaction(services, &p, &base, r, "message.reaction.created")
                    .await
            }
            Event::MessageReactionRemoved(r) => {
                self.reaction(services, &p, &base, r, "message.reaction.removed")
                    .await
            }
            // A user's own update may change its status.
            Event::PresenceChanged { user_id, .. }
            | Event::UserUpdated(UserRef { id: user_id, .. }) => {
                self.presence(services, &p, &base, *user_id).await
            }
            _ => self.more(services, &p, &base, e).await,
        }
    }

    /// Tells the channels a user is a member of, and the user itself, that it went online or
    /// offline (or changed its status).
    async fn presence(&self, services: &Services, p: &AppPrincipal, base: &LinkBase, user: i64) {
        let app = p.application_id;
        // Sessions start by the thousand: no reads for a change nobody listens to.
        let participants = self.heard_on_any_channel(app, "participants");
        if !participants && !self.heard(app, Key::User(user, "self")) {
            return;
        }
        let Ok(u) = services.platform.get_user(p, user).await else {
            return;
        };
        let body = event_body("participant.presence.changed", resources::user(base, &u));
        let page = PageRequest {
            page: 0,
            size: 1000,
            sort: Vec::new(),
        };
        let channels = match participants {
            true => services.platform.user_channels(p, user, &page).await.ok(),
            false => None,
        };
        if let Some((channels, _)) = channels {
            for c in channels {
                self.publish(
                    app,
                    Key::Channel(c.channel.id, "participants"),
                    body.clone(),
                );
            }
        }
        let contact = event_body("contact.presence.changed", resources::user(base, &u));
        self.publish(app, Key::User(user, "self"), contact);
    }

    /// A reaction made or taken back, on the channel's `reactions` topic and the reacting
    /// user's (its other sessions), rendered once for both.
    async fn reaction(
        &self,
        services: &Services,
        p: &AppPrincipal,
        base: &LinkBase,
        r: &ReactionRef,
        kind: &str,
    ) {
        let app = p.application_id;
        let keys = [
            Key::Channel(r.channel_id, "reactions"),
            Key::User(r.user_id, "reactions"),
        ];
        if !keys.iter().any(|k| self.heard(app, *k)) {
            return;
        }
        let Ok(user) = services.platform.get_user(p, r.user_id).await else {
            return;
        };
        let view = ReactionView {
            message_id: r.message_id,
            user,
            emoji: Emoji::stored(r.emoji.clone()),
            created: r.created,
        };
        let body = event_body(kind, resources::reaction(base, &view));
        for key in keys {
            self.publish(app, key, body.clone());
        }
    }

    /// Tells the users who had hidden channel `channel` that message `seq` brought it back
    /// (`user.channel.unhidden` on their channels topic).
    async fn unhidden(
        &self,
        services: &Services,
        p: &AppPrincipal,
        base: &LinkBase,
        channel: i64,
        seq: i64,
    ) {
        let platform = &services.platform;
        let users = match platform.unhidden_by(channel, seq).await {
            Ok(u) => u,
            Err(e) => {
                tracing::warn!(error = %e.into_domain(), "unhidden channel not announced");
                return;
            }
        };
        if users.is_empty() {
            return;
        }
        if let Ok(c) = platform.get_channel(p, channel).await {
            let body = event_body("user.channel.unhidden", resources::channel(base, &c, true));
            for u in users {
                self.publish(p.application_id, Key::User(u, "channels"), body.clone());
            }
        }
    }

    async fn message(
        &self,
        services: &Services,
        p: &AppPrincipal,
        base: &LinkBase,
        m: &MessageRef,
        kind: &str,
    ) {
        let key = Key::Channel(m.channel_id, "messages");
        if !self.heard(p.application_id, key) {
            return;
        }
        match services.platform.get_message(p, m.id).await {
            Ok(v) => {
                let resource = resources::message(base, &v);
                // A message of a reply or STANDALONE thread is also news of that thread, whose
                // topics are its channel's (`onThreadMessageReceived`).
                if m.nested_level > 0 && kind == "channel.message.created" {
                    let body = event_body("thread.message.created", resource.clone());
                    self.publish(p.application_id, key, body);
                }
                let body = event_body(kind, resource);
                self.publish(p.application_id, key, body);
            }
            // Deleted since: its deletion follows.
            Err(e) => tracing::debug!(error = %e.into_domain(), id = m.id, "message not relayed"),
        }
    }
}
