//! Channel actions beyond sending and joining: invites, moderators, changing and deleting the
//! channel (see the service's `moderation` for who may), the session user's own settings of it
//! (mute, hide, clear history), threads, and block records.

use palaver_domain::platform::naming;
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::platform::{ChannelPatch, ChannelView};
use serde_json::{Map, Value};

use super::{fail, invalid};
use crate::connection::{Answer, Session};
use crate::hub::Key;
use crate::{records, resources, Gateway};

/// The body read as snake_case, required to be an object.
fn object(body: Value) -> Result<Map<String, Value>, DomainError> {
    match naming::read(body) {
        Value::Object(m) => Ok(m),
        _ => Err(invalid("The body must be a JSON object")),
    }
}

/// The user reference a body is or holds (`{id}`, `{username}`, or `{user: …}`).
fn user_ref(body: Value) -> Result<Value, DomainError> {
    let mut m = object(body)?;
    match m.remove("user") {
        Some(u @ Value::Object(_)) => Ok(u),
        Some(_) => Err(invalid("user must be {\"id\": …} or {\"username\": …}")),
        None if m.contains_key("id") || m.contains_key("username") => Ok(Value::Object(m)),
        None => Err(invalid(
            "A user is required: {\"id\": …} or {\"username\": …}",
        )),
    }
}

/// `name` on channel `id` for the session's user.
pub(super) async fn perform(
    gw: &Gateway,
    s: &Session,
    id: i64,
    name: &str,
    body: Value,
) -> Result<Answer, DomainError> {
    let platform = &gw.services.platform;
    let (p, me, base) = (&s.p, s.user.id, &s.base);
    let channel_answer = |kind: &'static str, c: &ChannelView, member: bool| Answer {
        kind,
        resource: resources::channel(base, c, member),
        topic: Some(Key::User(me, "channels")),
    };
    match name {
        "invite" => {
            let user = user_ref(body)?;
            let invited = platform.invite_as(p, id, me, &user).await.map_err(fail)?;
            Ok(Answer {
                kind: "channel.member.invited",
                resource: resources::user(base, &invited.user),
                topic: Some(Key::User(me, "channels")),
            })
        }
        "add_moderator" | "delete_moderator" => {
            let add = name == "add_moderator";
            let user = user_ref(body)?;
            let (c, _) = platform
                .set_moderator_as(p, id, me, &user, add)
                .await
                .map_err(fail)?;
            let kind = if add {
                "channel.moderator.added"
            } else {
                "channel.moderator.deleted"
            };
            Ok(channel_answer(kind, &c, true))
        }
        "update" => {
            // The client sends its whole (changed) channel: only what may change is read.
            let body = object(body)?;
            let mut patch = Map::new();
            if let Some(p) = body.get("properties") {
                patch.insert("properties".into(), p.clone());
            }
            let c = platform.get_channel(p, id).await.map_err(fail)?;
            if c.channel.r#type != "DIRECT" {
                if let Some(d) = body.get("display_name").filter(|d| !d.is_null()) {
                    patch.insert("display_name".into(), d.clone());
                }
            }
            let patch = ChannelPatch::from_body(&Value::Object(patch))?;
            let c = platform
                .update_channel_as(p, id, me, &patch)
                .await
                .map_err(fail)?;
            let member = platform.is_member(id, me).await.map_err(fail)?;
            Ok(channel_answer("user.channel.updated", &c, member))
        }
        "delete" => {
            let c = platform.delete_channel_as(p, id, me).await.map_err(fail)?;
            Ok(channel_answer("user.channel.deleted", &c, false))
        }
        "mute" => {
            let body = object(body)?;
            let muted = match body.get("state").and_then(Value::as_str) {
                Some("ON") => true,
                Some("OFF") => false,
                _ => return Err(invalid("state must be \"ON\" or \"OFF\"")),
            };
            let c = platform
                .mute_channel(p, id, me, muted)
                .await
                .map_err(fail)?;
            let kind = if muted {
                "user.channel.muted"
            } else {
                "user.channel.unmuted"
            };
            Ok(channel_answer(kind, &c, true))
        }
        "hide" => {
            let c = platform.hide_channel(p, id, me).await.map_err(fail)?;
            let member = platform.is_member(id, me).await.map_err(fail)?;
            Ok(channel_answer("user.channel.hidden", &c, member))
        }
        "clear_history" => {
            let c = platform
                .clear_channel_history(p, id, me)
                .await
                .map_err(fail)?;
            let member = platform.is_member(id, me).await.map_err(fail)?;
            Ok(channel_answer("user.channel.history_cleared", &c, member))
        }
        "create_thread" => {
            let body = Value::Object(object(body)?);
            let t = platform
                .create_thread(p, id, me, &body)
                .await
                .map_err(fail)?;
            Ok(Answer {
                kind: "channel.thread.created",
                resource: records::thread(base, &t),
                topic: Some(Key::User(me, "threads")),
            })
        }
        "block" => {
            let user = user_ref(body)?;
            let r = platform
                .block_in_channel(p, id, me, &user)
                .await
                .map_err(fail)?;
            Ok(Answer {
                kind: "user.channel.block_record_created",
                resource: records::block_record(base, id, &r),
                topic: Some(Key::User(me, "channels")),
            })
        }
        _ => {
            // `users/{id}/unblock`: a block record's delete action.
            let unblock = name
                .strip_prefix("users/")
                .and_then(|r| r.strip_suffix("/unblock"))
                .and_then(|u| u.parse::<i64>().ok());
            let Some(user) = unblock else {
                return Err(DomainError::new(
                    ErrorCode::NotFound,
                    format!("No action \"{name}\" for channel {id}"),
                ));
            };
            let r = platform
                .unblock_in_channel(p, id, me, user)
                .await
                .map_err(fail)?;
            Ok(Answer {
                kind: "channel.block_record.deleted",
                resource: records::block_record(base, id, &r),
                topic: Some(Key::User(me, "channels")),
            })
        }
    }
}
