//! Actions: writes a client makes by SEND to a destination. Each goes through the same service
//! call as its REST operation, acting as the session's user, and answers the event its client
//! waits for.

use palaver_domain::platform::cursor::CursorRequest;
use palaver_domain::platform::naming;
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::platform::{
    MessageFilter, MessagePatch, NewChannelInput, NewMessageInput, Roster, UserPatch,
};
use palaver_service::ServiceError;
use serde_json::{json, Map, Value};

use crate::connection::{Answer, Session};
use crate::destinations::Owner;
use crate::hub::Key;
use crate::resources;
use crate::Gateway;

mod channel;
mod message;
mod user;

fn fail(e: ServiceError) -> DomainError {
    e.into_domain()
}

fn denied(m: impl Into<String>) -> DomainError {
    DomainError::new(ErrorCode::AccessDenied, m)
}

fn invalid(m: impl Into<String>) -> DomainError {
    DomainError::new(ErrorCode::InvalidParameter, m)
}

/// `body` read as snake_case, as an object, with `key` set to `value`.
fn with(body: Value, key: &str, value: Value) -> Result<Value, DomainError> {
    match naming::read(body) {
        Value::Object(mut m) => {
            m.insert(key.into(), value);
            Ok(Value::Object(m))
        }
        _ => Err(DomainError::new(
            ErrorCode::InvalidParameter,
            "The body must be a JSON object",
        )),
    }
}

/// Performs `name` on `owner` for the session's user.
pub(crate) async fn perform(
    gw: &Gateway,
    s: &Session,
    owner: Owner,
    name: &str,
    body: Value,
) -> Result<Answer, DomainError> {
    let platform = &gw.services.platform;
    let (p, me, base) = (&s.p, s.user.id, &s.base);
    let me_ref = json!({ "id": me });
    match (owner, name) {
        (Owner::Me, "create_channel") => {
            let body = with(body, "creator", me_ref)?;
            let input = NewChannelInput::from_body(&body)?;
            let c = platform.create_channel(p, input).await.map_err(fail)?;
            Ok(Answer {
                kind: "user.channel.created",
                resource: resources::channel(base, &c, true),
                topic: Some(Key::User(me, "channels")),
            })
        }
        (Owner::Me, "update") => {
            // The client sends its whole (mutated) user: only what may change is read.
            let body = naming::read(body);
            let mut patch = Map::new();
            for k in ["display_name", "presence", "properties"] {
                if let Some(v) = body.get(k) {
                    patch.insert(k.into(), v.clone());
                }
            }
            let patch = UserPatch::from_body(&Value::Object(patch))?;
            let u = platform.update_user(p, me, &patch).await.map_err(fail)?;
            Ok(Answer {
                kind: "user.self.updated",
                resource: resources::current_user(base, &u),
                topic: Some(Key::User(me, "self")),
            })
        }
        (Owner::Channel(id), "message") => {
            platform.writable_channel(p, id, me).await.map_err(fail)?;
            let body = with(body, "user", me_ref)?;
            let input = NewMessageInput::from_body(&body)?;
            let m = platform
                .send_channel_message(p, id, input)
                .await
                .map_err(fail)?;
            Ok(Answer {
                kind: "user.message.created",
                resource: resources::message(base, &m),
                topic: Some(Key::User(me, "messages")),
            })
        }
        (Owner::Channel(id), "keystrokes") => {
            platform.writable_channel(p, id, me).await.map_err(fail)?;
            let body = with(body, "user", me_ref)?;
            let (keys, username) = platform
                .send_channel_keystrokes(p, id, &body)
                .await
                .map_err(fail)?;
            Ok(Answer {
                kind: "thread.keystrokes.created",
                resource: json!({"username": username, "keys": keys}),
                topic: Some(Key::Channel(id, "keystrokes")),
            })
        }
        (Owner::Channel(id), "join") => {
            let c = platform.get_channel(p, id).await.map_err(fail)?;
            // A PRIVATE channel is joined by the users invited to it: joining takes the invite.
            let invited =
                c.channel.r#type == "PRIVATE" && platform.is_invited(id, me).await.map_err(fail)?;
            if c.channel.r#type != "PUBLIC" && !invited {
                return Err(denied(format!(
                    "Channel {id} is not public and you are not invited: it cannot be joined"
                )));
            }
            platform
                .check_not_blocked(&c.channel, me)
                .await
                .map_err(fail)?;
            let (c, _) = platform
                .add_to_roster(p, id, Roster::Members, &me_ref)
                .await
                .map_err(fail)?;
            if invited {
                platform
                    .remove_from_roster(p, id, Roster::Invites, me)
                    .await
                    .map_err(fail)?;
            }
            Ok(Answer {
                kind: "user.channel.joined",
                resource: resources::channel(base, &c, true),
                topic: Some(Key::User(me, "channels")),
            })
        }
        (Owner::Channel(id), "leave") => {
            let c = platform
                .remove_from_roster(p, id, Roster::Members, me)
                .await
                .map_err(fail)?;
            Ok(Answer {
                kind: "user.channel.left",
                resource: resources::channel(base, &c, false),
                topic: Some(Key::User(me, "channels")),
            })
        }
        (Owner::Channel(id), "read") => {
            // Reading is no writing: a member blocked from the channel still reads it.
            platform.member_channel(p, id, me).await.map_err(fail)?;
            let newest = CursorRequest {
                size: 1,
                ..CursorRequest::default()
            };
            let page = platform
                .channel_messages(p, id, &MessageFilter::default(), &newest)
                .await
                .map_err(fail)?;
            if let Some(m) = page.items.first() {
                platform
                    .read_message(p, me, m.message.id)
                    .await
                    .map_err(fail)?;
            }
            let c = platform.get_channel(p, id).await.map_err(fail)?;
            Ok(Answer {
                kind: "user.channel.read",
                resource: resources::channel(base, &c, true),
                topic: Some(Key::User(me, "channels")),
            })
        }
        (Owner::Channel(id), "trigger_event") => {
            platform.writable_channel(p, id, me).await.map_err(fail)?;
            let (kind, properties) = platform
                .send_channel_event(p, id, Some(me), &body)
                .await
                .map_err(fail)?;
            Ok(Answer {
                kind: "channel.event.triggered",
                resource: json!({"type": kind, "properties": properties}),
                topic: Some(Key::Channel(id, "events")),
            })
        }
        (Owner::Message(id), "read") => {
            platform.read_message(p, me, id).await.map_err(fail)?;
            let m = platform.get_message(p, id).await.map_err(fail)?;
            Ok(Answer {
                kind: "message.read_receipt.created",
                resource: resources::message(base, &m),
                topic: Some(Key::User(me, "readReceipts")),
            })
        }
        (Owner::Message(id), "edit" | "delete") => {
            let m = platform.get_message(p, id).await.map_err(fail)?;
            if m.message.user_id != Some(me) {
                return Err(denied(format!("Message {id} was sent by someone else")));
            }
            if name == "delete" {
                platform.delete_message(p, id).await.map_err(fail)?;
                return Ok(Answer {
                    kind: "user.message.deleted",
                    resource: resources::message(base, &m),
                    topic: Some(Key::User(me, "messages")),
                });
            }
            let patch = MessagePatch::from_body(&naming::read(body))?;
            let m = platform.update_message(p, id, &patch).await.map_err(fail)?;
            Ok(Answer {
                kind: "user.message.updated",
                resource: resources::message(base, &m),
                topic: Some(Key::User(me, "messages")),
            })
        }
        (Owner::Message(id), "react" | "remove_reaction" | "report" | "remove_report") => {
            crate::reactions::act(gw, s, id, name, body).await
        }
        (Owner::Channel(id), _) => channel::perform(gw, s, id, name, body).await,
        (Owner::Message(_) | Owner::Thread(_), _) => {
            message::perform(gw, s, owner, name, body).await
        }
        (Owner::Me | Owner::User(_), _) => user::perform(gw, s, owner, name, body).await,
    }
}
