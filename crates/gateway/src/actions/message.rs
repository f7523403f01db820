//! Message and thread actions beyond reading, editing and deleting: replies, unread, deleting
//! for oneself, properties; and writing to a thread (messages, keystrokes, reading it).

use palaver_domain::platform::naming;
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::platform::{MessagePatch, NewMessageInput};
use serde_json::{json, Value};

use super::{denied, fail, invalid, with};
use crate::connection::{Answer, Session};
use crate::destinations::Owner;
use crate::hub::Key;
use crate::{records, resources, Gateway};

/// `name` on message or thread `owner` for the session's user.
pub(super) async fn perform(
    gw: &Gateway,
    s: &Session,
    owner: Owner,
    name: &str,
    body: Value,
) -> Result<Answer, DomainError> {
    let platform = &gw.services.platform;
    let (p, me, base) = (&s.p, s.user.id, &s.base);
    let me_ref = json!({ "id": me });
    let sent = |m| Answer {
        kind: "user.message.created",
        resource: resources::message(base, &m),
        topic: Some(Key::User(me, "messages")),
    };
    match (owner, name) {
        (Owner::Message(id), "reply") => {
            let m = platform.get_message(p, id).await.map_err(fail)?;
            platform
                .writable_channel(p, m.message.channel_id, me)
                .await
                .map_err(fail)?;
            let input = NewMessageInput::from_body(&with(body, "user", me_ref)?)?;
            let reply = platform
                .reply_to_message(p, id, input)
                .await
                .map_err(fail)?;
            Ok(sent(reply))
        }
        (Owner::Message(id), "unread") => {
            platform.unread_message(p, me, id).await.map_err(fail)?;
            let m = platform.get_message(p, id).await.map_err(fail)?;
            Ok(Answer {
                kind: "message.read_receipt.deleted",
                resource: resources::message(base, &m),
                topic: Some(Key::User(me, "readReceipts")),
            })
        }
        (Owner::Message(id), "delete_for_me") => {
            let m = platform.get_message(p, id).await.map_err(fail)?;
            platform.delete_message_for(p, id, me).await.map_err(fail)?;
            Ok(Answer {
                kind: "user.message.deleted",
                resource: resources::message(base, &m),
                topic: Some(Key::User(me, "messages")),
            })
        }
        (Owner::Message(id), "update_properties") => {
            let m = platform.get_message(p, id).await.map_err(fail)?;
            if m.message.user_id != Some(me) {
                return Err(denied(format!("Message {id} was sent by someone else")));
            }
            let properties = naming::read(body)
                .get("properties")
                .filter(|v| v.is_object())
                .cloned()
                .ok_or_else(|| invalid("properties is required and must be a JSON object"))?;
            let patch = MessagePatch::from_body(&json!({ "properties": properties }))?;
            let m = platform.update_message(p, id, &patch).await.map_err(fail)?;
            Ok(Answer {
                kind: "user.message.updated",
                resource: resources::message(base, &m),
                topic: Some(Key::User(me, "messages")),
            })
        }
        (Owner::Thread(id), "message") => {
            let t = platform.get_thread(p, id).await.map_err(fail)?;
            platform
                .writable_channel(p, t.channel_id, me)
                .await
                .map_err(fail)?;
            let input = NewMessageInput::from_body(&with(body, "user", me_ref)?)?;
            let m = platform
                .send_thread_message(p, id, input)
                .await
                .map_err(fail)?;
            Ok(sent(m))
        }
        (Owner::Thread(id), "keystrokes") => {
            let t = platform.get_thread(p, id).await.map_err(fail)?;
            platform
                .writable_channel(p, t.channel_id, me)
                .await
                .map_err(fail)?;
            let body = with(body, "user", me_ref)?;
            let (keys, username) = platform
                .send_thread_keystrokes(p, id, &body)
                .await
                .map_err(fail)?;
            Ok(Answer {
                kind: "thread.keystrokes.created",
                resource: json!({"username": username, "keys": keys}),
                topic: Some(Key::Channel(t.channel_id, "keystrokes")),
            })
        }
        (Owner::Thread(id), "read") => {
            let t = platform.read_thread(p, id, me).await.map_err(fail)?;
            Ok(Answer {
                kind: "user.thread.read",
                resource: records::thread(base, &t),
                topic: Some(Key::User(me, "threads")),
            })
        }
        _ => Err(DomainError::new(
            ErrorCode::NotFound,
            format!("No action \"{name}\" for {owner:?}"),
        )),
    }
}
