//! The smaller resources relays list and actions answer: threads, read receipts, channel block
//! records and block list items, in camelCase with their StompX hypermedia.

use palaver_domain::time::format_millis;
use palaver_service::platform::{ReadReceipt, RosterUser, ThreadRow};
use palaver_views::streams::THREAD_MESSAGES;
use palaver_views::LinkBase;
use serde_json::{json, Value};

use crate::destinations::{action, relay, Owner, Topic};
use crate::resources;

/// A thread. Its topics are its channel's: thread events go out there, where a chat session
/// already listens (the client never subscribes to a thread's topics of its own).
pub fn thread(base: &LinkBase, t: &ThreadRow) -> Value {
    let owner = Owner::Thread(t.id);
    let topic = |name: &'static str| Topic::Channel(t.channel_id, name).destination();
    let mut relays = json!({"channel": relay(Owner::Channel(t.channel_id), "")});
    if let Some(m) = t.parent_message_id {
        relays["message"] = json!(relay(Owner::Message(m), ""));
    }
    let mut v = json!({
        "id": t.id,
        "type": t.r#type,
        "properties": t.properties,
        "createdTime": format_millis(t.created),
        "_relays": relays,
        "_topics": {"self": topic("self"), "messages": topic("messages"),
                    "keystrokes": topic("keystrokes"), "typing": topic("typing")},
        "_actions": {"message": action(owner, "message"),
                     "keystrokes": action(owner, "keystrokes"),
                     "read": action(owner, "read")},
        "_streams": {"messages": resources::stream(base, THREAD_MESSAGES, t.id)},
    });
    if let Some(n) = &t.name {
        v["name"] = json!(n);
    }
    v
}

/// Who read a message, and when its cursor last moved.
pub fn read_receipt(base: &LinkBase, message: i64, r: &ReadReceipt) -> Value {
    json!({
        "user": resources::user(base, &r.user),
        "createdTime": format_millis(r.created),
        "_relays": {"message": relay(Owner::Message(message), "")},
    })
}

/// Where a channel block record is deleted (the user unblocked).
pub fn unblock_in_channel(channel: i64, user: i64) -> String {
    action(Owner::Channel(channel), &format!("users/{user}/unblock"))
}

/// A user blocked from writing to `channel`.
pub fn block_record(base: &LinkBase, channel: i64, r: &RosterUser) -> Value {
    json!({
        "user": resources::user(base, &r.user),
        "createdTime": format_millis(r.created),
        "_actions": {"delete": unblock_in_channel(channel, r.user.id)},
    })
}

/// A user on the session user's block list.
pub fn blocked_item(base: &LinkBase, r: &RosterUser) -> Value {
    json!({
        "user": resources::user(base, &r.user),
        "createdTime": format_millis(r.created),
        "_actions": {"delete": action(Owner::User(r.user.id), "unblock")},
    })
}
