//! The hub's fan-out of channel changes, rosters beyond members, what users set for themselves,
//! threads, blocks and typing stops: each event turned into the topic messages the client's
//! callbacks listen for (`onChannelUpdated`, `onModeratorAdded`, `onMemberBlocked`,
//! `onUserBlocked`, `onTypingStopped`, …).

use palaver_domain::platform::event::{ChannelRef, Event, RosterChange};
use palaver_domain::time::format_millis;
use palaver_service::platform::{Published, RosterUser};
use palaver_service::{AppPrincipal, Services};
use palaver_views::LinkBase;
use serde_json::json;

use super::render::Outputs;
use super::typing::Typist;
use super::{event_body, Hub, Key};
use crate::destinations::{relay, Owner};
use crate::{records, resources};

impl Hub {
    /// Tells `who`'s channel that it stopped typing.
    pub(super) async fn typing_stopped(&self, services: &Services, who: Typist, out: &mut Outputs) {
        let (app, channel, user) = who;
        let key = Key::Channel(channel, "typing");
        if !self.heard(app, key) {
            return;
        }
        let p = principal(app);
        if let Ok(u) = services.platform.get_user(&p, user).await {
            let body = event_body("thread.typing.stopped", resources::user(&self.base(), &u));
            out.publish(app, key, body);
        }
    }

    /// A channel changed or went: its own topic, and each member's channel list, are told.
    pub(super) async fn channel_changed(
        &self,
        services: &Services,
        p: &AppPrincipal,
        base: &LinkBase,
        c: &ChannelRef,
        deleted: bool,
        out: &mut Outputs,
    ) {
        let app = p.application_id;
        let (resource, members) = if deleted {
            let gone = json!({"id": c.id, "type": c.r#type, "name": c.name,
                              "displayName": c.display_name, "properties": c.properties});
            (gone, c.member_ids.clone())
        } else {
            let Ok(v) = services.platform.get_channel(p, c.id).await else {
                return;
            };
            let members = services
                .platform
                .member_ids(p, c.id)
                .await
                .unwrap_or_default();
            (resources::channel(base, &v, true), members)
        };
        let (own, theirs) = if deleted {
            ("channel.self.deleted", "user.channel.deleted")
        } else {
            ("channel.self.updated", "user.channel.updated")
        };
        out.publish(
            app,
            Key::Channel(c.id, "self"),
            event_body(own, resource.clone()),
        );
        let body = event_body(theirs, resource);
        for m in members {
            out.publish(app, Key::User(m, "channels"), body.clone());
        }
    }

    /// The events not handled in `dispatch`.
    pub(super) async fn more(
        &self,
        services: &Services,
        p: &AppPrincipal,
        base: &LinkBase,
        e: &Published,
        out: &mut Outputs,
    ) {
        let app = p.application_id;
        let platform = &services.platform;
        match &e.event {
            Event::ModeratorAdded(r) | Event::ModeratorRemoved(r) => {
                let kind = if matches!(e.event, Event::ModeratorAdded(_)) {
                    "channel.moderator.added"
                } else {
                    "channel.moderator.deleted"
                };
                let key = Key::Channel(r.channel_id, "moderators");
                if self.heard(app, key) {
                    if let Ok(u) = platform.get_user(p, r.user_id).await {
                        out.publish(app, key, event_body(kind, resources::user(base, &u)));
                    }
                }
            }
            Event::InviteSent(r) => {
                if let Ok(c) = platform.get_channel(p, r.channel_id).await {
                    let body =
                        event_body("user.channel.invited", resources::channel(base, &c, false));
                    out.publish(app, Key::User(r.user_id, "channels"), body);
                }
            }
            Event::ChannelUserBlocked(r) | Event::ChannelUserUnblocked(r) => {
                self.block_record(services, p, base, r, e, out).await
            }
            Event::UserBlocked {
                user_id,
                blocked_id,
            } => {
                if let Ok(u) = platform.get_user(p, *blocked_id).await {
                    let item = RosterUser {
                        user: u,
                        created: e.created,
                    };
                    let body = event_body(
                        "user.user_blocklist_item.created",
                        records::blocked_item(base, &item),
                    );
                    out.publish(app, Key::User(*user_id, "users"), body);
                }
            }
            Event::UserUnblocked {
                user_id,
                blocked_id,
            } => {
                if let Ok(u) = platform.get_user(p, *blocked_id).await {
                    let body = event_body("user.user.unblocked", resources::user(base, &u));
                    out.publish(app, Key::User(*user_id, "users"), body);
                }
            }
            Event::ChannelStateChanged {
                channel_id,
                user_id,
                change,
            } => {
                let kind = match change.as_str() {
                    "hidden" => "user.channel.hidden",
                    "muted" => "user.channel.muted",
                    "unmuted" => "user.channel.unmuted",
                    _ => "user.channel.history_cleared",
                };
                let key = Key::User(*user_id, "channels");
                if self.heard(app, key) {
                    if let Ok(c) = platform.get_channel(p, *channel_id).await {
                        let member = platform
                            .is_member(*channel_id, *user_id)
                            .await
                            .unwrap_or(false);
                        let body = event_body(kind, resources::channel(base, &c, member));
                        out.publish(app, key, body);
                    }
                }
            }
            Event::ThreadCreated(t) => {
                if let Ok(t) = platform.get_thread(p, t.id).await {
                    let key = Key::Channel(t.channel_id, "self");
                    out.publish(
                        app,
                        key,
                        event_body("channel.thread.created", records::thread(base, &t)),
                    );
                }
            }
            Event::MessageUnread {
                message_id,
                channel_id,
                user_id,
                ..
            } => {
                let key = Key::Channel(*channel_id, "readReceipts");
                if self.heard(app, key) {
                    if let Ok(u) = platform.get_user(p, *user_id).await {
                        let receipt = json!({
                            "user": resources::user(base, &u),
                            "createdTime": format_millis(e.created),
                            "_relays": {"message": relay(Owner::Message(*message_id), "")},
                        });
                        out.publish(
                            app,
                            key,
                            event_body("message.read_receipt.deleted", receipt),
                        );
                    }
                }
            }
            Event::MessageDeletedForUser {
                message_id,
                channel_id,
                user_id,
            } => {
                let gone = json!({"id": message_id, "channelId": channel_id, "properties": {}});
                let key = Key::User(*user_id, "messages");
                out.publish(app, key, event_body("user.message.deleted", gone));
            }
            _ => {}
        }
    }

    /// A block record made or deleted: the channel's block records topic is told.
    async fn block_record(
        &self,
        services: &Services,
        p: &AppPrincipal,
        base: &LinkBase,
        r: &RosterChange,
        e: &Published,
        out: &mut Outputs,
    ) {
        let (created, blocked) = (e.created, matches!(e.event, Event::ChannelUserBlocked(_)));
        let app = p.application_id;
        let key = Key::Channel(r.channel_id, "blockRecords");
        if !self.heard(app, key) {
            return;
        }
        let Ok(u) = services.platform.get_user(p, r.user_id).await else {
            return;
        };
        let record = records::block_record(base, r.channel_id, &RosterUser { user: u, created });
        let kind = if blocked {
            "channel.block_record.created"
        } else {
            "channel.block_record.deleted"
        };
        out.publish(app, key, event_body(kind, record));
    }
}

/// The application `app` acts for in the hub's reads.
fn principal(app: i64) -> AppPrincipal {
    AppPrincipal {
        application_id: app,
        organisation_id: String::new(),
    }
}
