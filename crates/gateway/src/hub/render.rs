//! Rendering one event of the bus: the topic messages it makes and the subscriptions it ends,
//! decided without delivering them, so that renders can run side by side while their lane
//! applies each one's outputs in the order of the events.

use std::sync::Arc;

use palaver_domain::platform::event::{Event, MessageRef, ReactionRef, UserRef};
use palaver_domain::platform::paging::PageRequest;
use palaver_domain::time::format_millis;
use palaver_service::platform::{Emoji, Published, ReactionView};
use palaver_service::{AppPrincipal, Services};
use palaver_views::LinkBase;
use serde_json::json;

use super::typing::Typist;
use super::{event_body, Hub, Key};
use crate::destinations::{relay, Owner};
use crate::resources;

/// Up to this many listened participants channels, a user's membership is asked of each;
/// past it, its channels are read in one page.
const MEMBERSHIP_POINT_READS: usize = 8;

/// What one render decided, applied in its lane's order.
#[derive(Debug, Default)]
pub(super) struct Outputs(Vec<Out>);

#[derive(Debug)]
enum Out {
    Publish {
        app: i64,
        key: Key,
        body: Arc<str>,
    },
    /// `user` stops hearing `channel`'s topics.
    Revoke {
        app: i64,
        channel: i64,
        user: i64,
    },
}

impl Outputs {
    pub(super) fn publish(&mut self, app: i64, key: Key, body: Arc<str>) {
        self.0.push(Out::Publish { app, key, body });
    }

    fn revoke(&mut self, app: i64, channel: i64, user: i64) {
        self.0.push(Out::Revoke { app, channel, user });
    }
}

/// One piece of a lane's work.
#[derive(Debug)]
pub(super) enum Work {
    Event(Arc<Published>),
    /// A typist fell silent (its typing timer ran out).
    TypingStopped(Typist),
}

/// What the typing state said when the event came (see [`Hub::admit`]).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Admitted {
    /// The sender of a new message was typing there.
    was_typing: bool,
}

impl Hub {
    /// Updates the typing state for `work`, in the order work comes: renders run side by
    /// side, but who is typing must follow the events.
    pub(super) fn admit(&self, work: &Work) -> Admitted {
        let Work::Event(e) = work else {
            return Admitted::default();
        };
        let app = e.application_id;
        match &e.event {
            // Sending ends typing.
            Event::MessageCreated(m) => Admitted {
                was_typing: m
                    .user_id
                    .is_some_and(|u| self.typing.stop((app, m.channel_id, u))),
            },
            Event::Keystrokes {
                channel_id,
                keys,
                user_id,
                ..
            } => {
                if keys.is_empty() {
                    self.typing.stop((app, *channel_id, *user_id));
                } else {
                    self.typing.typed((app, *channel_id, *user_id));
                }
                Admitted::default()
            }
            _ => Admitted::default(),
        }
    }

    /// Renders `work` (reading what it needs), delivering nothing yet.
    pub(super) async fn render(&self, services: &Services, work: Work, a: Admitted) -> Outputs {
        let mut out = Outputs::default();
        match work {
            Work::Event(e) => {
                if let Some(hook) = &self.hook {
                    hook(&e).await;
                }
                self.dispatch(services, &e, a.was_typing, &mut out).await;
            }
            Work::TypingStopped(who) => self.typing_stopped(services, who, &mut out).await,
        }
        out
    }

    /// Delivers what a render decided.
    pub(super) fn apply(&self, out: Outputs) {
        for o in out.0 {
            match o {
                Out::Publish { app, key, body } => self.publish(app, key, body),
                Out::Revoke { app, channel, user } => self.revoke(app, channel, user),
            }
        }
    }

    async fn dispatch(
        &self,
        services: &Services,
        e: &Published,
        was_typing: bool,
        out: &mut Outputs,
    ) {
        let app = e.application_id;
        let p = AppPrincipal {
            application_id: app,
            organisation_id: String::new(),
        };
        let base = self.base();
        match &e.event {
            Event::MessageCreated(m) => {
                // Sending ends typing.
                if let (Some(u), true) = (m.user_id, was_typing) {
                    self.typing_stopped(services, (app, m.channel_id, u), out)
                        .await;
                }
                self.message(services, &p, &base, m, "channel.message.created", out)
                    .await;
                self.unhidden(services, &p, &base, m.channel_id, m.seq, out)
                    .await;
            }
            Event::MessageUpdated(m) => {
                self.message(services, &p, &base, m, "channel.message.updated", out)
                    .await
            }
            Event::MessageDeleted(m) => {
                let key = Key::Channel(m.channel_id, "messages");
                let gone = json!({"id": m.id, "type": m.r#type, "channelId": m.channel_id,
                                  "nestedLevel": m.nested_level, "properties": {}});
                out.publish(app, key, event_body("channel.message.deleted", gone));
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
                out.publish(app, key, event_body("thread.keystrokes.created", strokes));
                let typing = Key::Channel(*channel_id, "typing");
                if self.heard(app, typing) {
                    if let Ok(u) = services.platform.get_user(&p, *user_id).await {
                        let who = resources::user(&base, &u);
                        let kind = if keys.is_empty() {
                            "thread.typing.stopped"
                        } else {
                            "thread.typing.started"
                        };
                        out.publish(app, typing, event_body(kind, who));
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
                    out.publish(
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
                    out.revoke(app, r.channel_id, r.user_id);
                }
                if let Ok(c) = services.platform.get_channel(&p, r.channel_id).await {
                    let resource = resources::channel(&base, &c, joined);
                    let kind = if joined {
                        "user.channel.joined"
                    } else {
                        "user.channel.left"
                    };
                    let key = Key::User(r.user_id, "channels");
                    out.publish(app, key, event_body(kind, resource));
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
                        out.publish(app, members, event_body(kind, who));
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
                out.publish(app, key, event_body("channel.event.triggered", ev));
            }
            Event::ChannelUpdated(c) | Event::ChannelDeleted(c) => {
                let deleted = matches!(e.event, Event::ChannelDeleted(_));
                self.channel_changed(services, &p, &base, c, deleted, out)
                    .await
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
                    out.publish(app, key, event_body(kind, resources::user(&base, &u)));
                }
            }
            Event::MessageReacted(r) => {
                self.reaction(services, &p, &base, r, "message.reaction.created", out)
                    .await
            }
            Event::MessageReactionRemoved(r) => {
                self.reaction(services, &p, &base, r, "message.reaction.removed", out)
                    .await
            }
            // A user's own update may change its status.
            Event::PresenceChanged { user_id, .. }
            | Event::UserUpdated(UserRef { id: user_id, .. }) => {
                self.presence(services, &p, &base, *user_id, out).await
            }
            _ => self.more(services, &p, &base, e, out).await,
        }
    }

    /// Tells the listened channels a user is a member of, and the user itself, that it went
    /// online or offline (or changed its status). Sessions start by the thousand: nothing is
    /// read for a change nobody listens to, and the user's membership is asked of the listened
    /// channels only.
    async fn presence(
        &self,
        services: &Services,
        p: &AppPrincipal,
        base: &LinkBase,
        user: i64,
        out: &mut Outputs,
    ) {
        let app = p.application_id;
        let own = Key::User(user, "self");
        let heard_own = self.heard(app, own);
        let watched = self.heard_channels(app, "participants");
        if watched.is_empty() && !heard_own {
            return;
        }
        let channels = self.member_of(services, p, user, watched).await;
        if channels.is_empty() && !heard_own {
            return;
        }
        let Ok(u) = services.platform.get_user(p, user).await else {
            return;
        };
        let resource = resources::user(base, &u);
        if !channels.is_empty() {
            let body = event_body("participant.presence.changed", resource.clone());
            for c in channels {
                out.publish(app, Key::Channel(c, "participants"), body.clone());
            }
        }
        let contact = event_body("contact.presence.changed", resource);
        out.publish(app, own, contact);
    }

    /// Which of the `watched` channels `user` is a member of: asked channel by channel when
    /// they are few, else read from the user's channels.
    async fn member_of(
        &self,
        services: &Services,
        p: &AppPrincipal,
        user: i64,
        mut watched: Vec<i64>,
    ) -> Vec<i64> {
        let platform = &services.platform;
        if watched.len() <= MEMBERSHIP_POINT_READS {
            let mut member = Vec::new();
            for c in watched {
                if platform.is_member(c, user).await.unwrap_or(false) {
                    member.push(c);
                }
            }
            return member;
        }
        let page = PageRequest {
            page: 0,
            size: 1000,
            sort: Vec::new(),
        };
        let Ok((mine, _)) = platform.user_channels(p, user, &page).await else {
            return Vec::new();
        };
        watched.sort_unstable();
        mine.into_iter()
            .map(|c| c.channel.id)
            .filter(|id| watched.binary_search(id).is_ok())
            .collect()
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
        out: &mut Outputs,
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
            out.publish(app, key, body.clone());
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
        out: &mut Outputs,
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
                out.publish(p.application_id, Key::User(u, "channels"), body.clone());
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
        out: &mut Outputs,
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
                    out.publish(p.application_id, key, body);
                }
                let body = event_body(kind, resource);
                out.publish(p.application_id, key, body);
            }
            // Deleted since: its deletion follows.
            Err(e) => tracing::debug!(error = %e.into_domain(), id = m.id, "message not relayed"),
        }
    }
}
