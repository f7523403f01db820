//! Resources as the real-time client sees them: the shared views' fields, in camelCase, with
//! StompX hypermedia (`_relays`, `_topics`, `_actions`, `_streams`) in place of HAL `_links`.

use palaver_domain::platform::naming::{Naming, Rendered};
use palaver_service::platform::{ChannelView, ChatUserRow, MessageView, ReactionView, ReportView};
use palaver_views::messages::MessageFields;
use palaver_views::streams::{self, CHANNEL_MESSAGES, MESSAGE_REPLIES};
use palaver_views::users::UserJson;
use palaver_views::{channels, LinkBase};
use serde_json::{json, Map, Value};

use crate::destinations::{action, relay, Owner, Topic, CHANNEL_TOPICS, USER_TOPICS};

/// `v` with its keys in camelCase (user data kept as it is).
pub fn camel(v: &Value) -> Value {
    serde_json::to_value(Rendered {
        value: v,
        naming: Naming::Camel,
    })
    .unwrap_or(Value::Null)
}

fn map(pairs: impl IntoIterator<Item = (&'static str, String)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::String(v)))
            .collect(),
    )
}

/// The absolute URL of upload stream `pattern` (see [`streams`]) for resource `id`, on the
/// origin the client reached.
pub(crate) fn stream(base: &LinkBase, pattern: &str, id: i64) -> String {
    format!("{}{}", base.origin, streams::path(pattern, id))
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A user's own fields (its presence included).
fn user_fields(base: &LinkBase, u: &ChatUserRow) -> Map<String, Value> {
    object(camel(&json!(UserJson(base, u))))
}

/// The session's own user (the answer to `/application/user.relay`).
pub fn current_user(base: &LinkBase, u: &ChatUserRow) -> Value {
    let me = Owner::Me;
    let mut m = user_fields(base, u);
    m.insert(
        "_relays".into(),
        map([
            ("self", relay(me, "")),
            ("readFileAccessGrant", relay(me, "read_file_access_grant")),
            ("writeFileAccessGrant", relay(me, "write_file_access_grant")),
            ("channelsCount", relay(me, "channels.count")),
            ("channels", relay(me, "channels")),
            ("messages", relay(me, "messages")),
            ("joinableChannels", relay(me, "joinable_channels")),
            ("unreadChannelsCount", relay(me, "unread_channels.count")),
            ("unreadChannels", relay(me, "unread_channels")),
            ("unreadMessagesCount", relay(me, "unread_messages.count")),
            ("contactsCount", relay(me, "contacts.count")),
            ("contacts", relay(me, "contacts")),
            ("userBlockListItems", relay(me, "user_block_list_items")),
        ]),
    );
    m.insert(
        "_topics".into(),
        Value::Object(
            USER_TOPICS
                .iter()
                .map(|t| (t.to_string(), Value::String(Topic::User(t).destination())))
                .collect(),
        ),
    );
    m.insert(
        "_actions".into(),
        map([
            ("update", action(me, "update")),
            ("delete", action(me, "delete")),
            ("createChannel", action(me, "create_channel")),
            ("updateDisplayPicture", action(me, "update_display_picture")),
        ]),
    );
    let picture = format!("{}{}", base.origin, streams::DISPLAY_PICTURE);
    m.insert("_streams".into(), json!({ "displayPicture": picture }));
    Value::Object(m)
}

/// Another user, as lists and messages show it.
pub fn user(base: &LinkBase, u: &ChatUserRow) -> Value {
    let owner = Owner::User(u.id);
    let mut m = user_fields(base, u);
    m.insert(
        "_relays".into(),
        map([
            ("self", relay(owner, "")),
            ("channelMember", relay(owner, "channel_member")),
        ]),
    );
    m.insert(
        "_actions".into(),
        map([
            ("block", action(owner, "block")),
            ("delete", action(owner, "delete")),
        ]),
    );
    Value::Object(m)
}

/// A channel with what its user may do there: `join` only where it may join (a PUBLIC channel,
/// or a PRIVATE one it was invited to — the only way a non-member sees one), `leave` only where
/// it is a member.
pub fn channel(base: &LinkBase, v: &ChannelView, member: bool) -> Value {
    let c = &v.channel;
    let owner = Owner::Channel(c.id);
    let mut m = object(camel(&channels::channel_properties(base, v)));
    let relays = [
        "",
        "context",
        "messages",
        "messages.count",
        "last_received_message",
        "last_read_message",
        "unread",
        "members",
        "threads",
        "calls",
        "block_records",
        "moderators",
    ];
    let rel_names = [
        "self",
        "context",
        "messages",
        "messagesCount",
        "lastReceivedMessage",
        "lastReadMessage",
        "unread",
        "members",
        "threads",
        "calls",
        "blockRecords",
        "moderators",
    ];
    m.insert(
        "_relays".into(),
        map(rel_names
            .into_iter()
            .zip(relays)
            .map(|(k, name)| (k, relay(owner, name)))),
    );
    m.insert(
        "_topics".into(),
        Value::Object(
            CHANNEL_TOPICS
                .iter()
                .map(|t| {
                    let dest = Topic::Channel(c.id, t).destination();
                    (t.to_string(), Value::String(dest))
                })
                .collect(),
        ),
    );
    let mut actions = vec![
        ("message", action(owner, "message")),
        ("keystrokes", action(owner, "keystrokes")),
        ("read", action(owner, "read")),
        ("mute", action(owner, "mute")),
        ("triggerEvent", action(owner, "trigger_event")),
        ("update", action(owner, "update")),
        ("delete", action(owner, "delete")),
        ("clearHistory", action(owner, "clear_history")),
        ("hide", action(owner, "hide")),
        ("createThread", action(owner, "create_thread")),
        ("block", action(owner, "block")),
    ];
    if c.r#type != "DIRECT" && !member {
        actions.push(("join", action(owner, "join")));
    }
    if member && c.r#type != "DIRECT" {
        actions.push(("leave", action(owner, "leave")));
        actions.push(("addModerator", action(owner, "add_moderator")));
        actions.push(("deleteModerator", action(owner, "delete_moderator")));
    }
    if member && c.r#type == "PRIVATE" {
        actions.push(("invite", action(owner, "invite")));
    }
    m.insert("_actions".into(), map(actions));
    let messages = stream(base, CHANNEL_MESSAGES, c.id);
    m.insert("_streams".into(), json!({ "messages": messages }));
    Value::Object(m)
}

/// A message with the relays and actions the client follows.
pub fn message(base: &LinkBase, v: &MessageView) -> Value {
    let id = v.message.id;
    let owner = Owner::Message(id);
    let mut m = object(camel(&json!(MessageFields(base, v))));
    let mut relays = vec![
        ("self", relay(owner, "")),
        ("channel", relay(Owner::Channel(v.message.channel_id), "")),
        ("readReceipts", relay(owner, "read_receipts")),
        ("repliesCount", relay(owner, "replies.count")),
        ("reportCount", relay(owner, "reports.count")),
        ("replies", relay(owner, "replies")),
        ("reactions", relay(owner, "reactions")),
        ("reports", relay(owner, "reports")),
    ];
    // A reply names the message it answers: the client fetches it before its callback fires.
    if let Some(parent) = v.parent_id {
        relays.push(("parent", relay(Owner::Message(parent), "")));
    }
    m.insert("_relays".into(), map(relays));
    m.insert("_topics".into(), json!({}));
    m.insert(
        "_actions".into(),
        map([
            ("read", action(owner, "read")),
            ("unread", action(owner, "unread")),
            ("reply", action(owner, "reply")),
            ("deleteForMe", action(owner, "delete_for_me")),
            ("delete", action(owner, "delete")),
            ("react", action(owner, "react")),
            ("edit", action(owner, "edit")),
            ("report", action(owner, "report")),
            ("removeReport", action(owner, "remove_report")),
            ("removeReaction", action(owner, "remove_reaction")),
            ("updateProperties", action(owner, "update_properties")),
        ]),
    );
    let replies = stream(base, MESSAGE_REPLIES, id);
    m.insert("_streams".into(), json!({ "replies": replies }));
    Value::Object(m)
}

/// A reaction (`Reaction`: `{emoji, user, createdTime, _relays: {message}}`): the client's
/// reaction callbacks relay `_relays.message` before they fire.
pub fn reaction(base: &LinkBase, r: &ReactionView) -> Value {
    let mut m = object(camel(&palaver_views::messages::reaction(base, r)));
    m.insert("user".into(), user(base, &r.user));
    m.insert(
        "_relays".into(),
        map([("message", relay(Owner::Message(r.message_id), ""))]),
    );
    Value::Object(m)
}

/// A report (the SDK's `MessageReport`: `{user, reason, properties, createdTime}`), with the
/// message it is about as a relay.
pub fn report(base: &LinkBase, r: &ReportView) -> Value {
    let mut m = object(camel(&palaver_views::messages::report(base, r)));
    m.insert("user".into(), user(base, &r.user));
    m.insert(
        "_relays".into(),
        map([("message", relay(Owner::Message(r.message_id), ""))]),
    );
    Value::Object(m)
}

/// A page as a relay answers it: `_embedded.<name>` and `page`; one page holds the whole list
/// the client asked for (`_relays` has no `next`).
pub fn page(name: &str, items: Vec<Value>, total: u64, self_relay: String) -> Value {
    let mut embedded = Map::new();
    embedded.insert(name.to_string(), Value::Array(items));
    let size = embedded[name].as_array().map_or(0, Vec::len);
    json!({
        "_embedded": embedded,
        "page": {"size": size, "totalElements": total, "totalElement": total,
                 "totalPages": 1, "number": 0},
        "_relays": {"self": self_relay},
    })
}
