//! Message, thread, read-receipt and notification resources as JSON (snake_case; the response
//! step renames for camelCase callers).

use palaver_domain::time::format_millis;
use palaver_service::platform::{
    ChannelRow, ChatUserRow, MessageView, NotificationView, ReadReceipt, ThreadRow,
};
use serde_json::{json, Value};

use super::context::Ctx;
use super::hal::links;
use super::resources::user_properties;

/// A channel without `_links`, as messages and notifications embed it.
pub fn channel_properties(c: &ChannelRow) -> Value {
    let mut out = json!({
        "type": c.r#type,
        "id": c.id,
        "created_time": format_millis(c.created),
        "properties": c.properties,
    });
    if c.r#type != "DIRECT" {
        out["name"] = json!(c.name);
        out["display_name"] = json!(c.display_name);
    }
    out
}

fn mentions(ctx: &Ctx, v: &MessageView) -> Value {
    let list = v.message.mentions.as_array().cloned().unwrap_or_default();
    Value::Array(
        list.into_iter()
            .filter_map(|mut m| {
                if m["type"] == "CHANNEL" {
                    m["channel"] = channel_properties(v.channel.as_ref()?);
                } else {
                    let id = m["user_id"].as_i64()?;
                    m["user"] = user_properties(ctx, v.mentioned.get(&id)?);
                    m.as_object_mut()?.remove("user_id");
                }
                Some(m)
            })
            .collect(),
    )
}

/// A message without `_links`, in its type's shape.
pub fn message_properties(ctx: &Ctx, v: &MessageView) -> Value {
    let m = &v.message;
    let mut out = json!({
        "type": m.r#type,
        "id": m.id,
        "channel_id": m.channel_id,
        "created_time": format_millis(m.created),
        "nested_level": m.nested_level,
        "properties": m.properties,
    });
    if let Some(t) = &m.group_tag {
        out["group_tag"] = json!(t);
    }
    if let Some(t) = m.last_edited {
        out["last_edited_time"] = json!(format_millis(t));
    }
    if v.reply_thread.is_some() {
        out["replies_count"] = json!(v.replies_count);
    }
    if let Some(b) = &m.body {
        out["body"] = json!(b);
        out["links"] = m.links.clone();
        out["mentions"] = mentions(ctx, v);
    }
    if let Some(f) = &m.file {
        out["file"] = f.clone();
    }
    if let Some(u) = &v.user {
        out["user"] = user_properties(ctx, u);
    }
    out
}

pub fn message(ctx: &Ctx, v: &MessageView) -> Value {
    let mut out = message_properties(ctx, v);
    let m = &v.message;
    let mut rels: Vec<(&str, String)> = vec![
        ("self", format!("/messages/{}", m.id)),
        ("channel", format!("/channels/{}", m.channel_id)),
        ("thread", format!("/threads/{}", m.thread_id)),
        ("read_receipts", format!("/messages/{}/read-receipts", m.id)),
    ];
    if let Some(u) = &v.user {
        rels.push(("user", format!("/users/{}", u.id)));
    }
    if let Some(t) = &v.reply_thread {
        rels.push(("reply_thread", format!("/threads/{}", t.id)));
        rels.push(("replies", format!("/threads/{}/messages", t.id)));
    }
    rels.push(("application", ctx.application_path().into()));
    out["_links"] = links(ctx, &rels);
    out
}

pub fn thread(ctx: &Ctx, t: &ThreadRow) -> Value {
    let mut rels: Vec<(&str, String)> = vec![
        ("self", format!("/threads/{}", t.id)),
        ("messages", format!("/threads/{}/messages", t.id)),
        ("channel", format!("/channels/{}", t.channel_id)),
    ];
    if let Some(m) = t.parent_message_id {
        rels.push(("message", format!("/messages/{m}")));
    }
    rels.push(("application", ctx.application_path().into()));
    json!({
        "type": t.r#type,
        "id": t.id,
        "created_time": format_millis(t.created),
        "properties": t.properties,
        "_links": links(ctx, &rels),
    })
}

pub fn receipt(ctx: &Ctx, message: i64, r: &ReadReceipt) -> Value {
    json!({
        "created_time": format_millis(r.created),
        "user": user_properties(ctx, &r.user),
        "_links": links(ctx, &[
            ("user", format!("/users/{}", r.user.id)),
            ("message", format!("/messages/{message}")),
            ("application", ctx.application_path().into()),
        ]),
    })
}

pub fn summary(c: &ChannelRow, u: &ChatUserRow, count: u64, ctx: &Ctx) -> Value {
    json!({
        "channel": channel_properties(c),
        "count": count,
        "user": user_properties(ctx, u),
    })
}

pub fn notification(ctx: &Ctx, n: &NotificationView) -> Value {
    let row = &n.notification;
    let mut data = json!({ "type": row.r#type, "_relays": {} });
    if let Some(c) = row.channel_id {
        data["channel_id"] = json!(c);
    }
    if let Some(m) = &n.message {
        data["message"] = message(ctx, m);
    }
    // The recipient was mentioned, even when an edit has since removed the mention.
    if row.r#type == "USER:MENTIONED:USER" {
        data["mentioned_user"] = super::resources::user(ctx, &n.recipient);
    }
    if row.r#type == "USER:MENTIONED:CHANNEL" {
        if let Some(c) = &n.channel {
            data["mentioned_channel"] = channel_properties(c);
        }
    }
    let mut out = json!({
        "id": row.id,
        "title": row.title,
        "body": row.body,
        "created_time": format_millis(row.created),
        "data": null,
        "muted": false,
        "_links": null,
    });
    // Moved in after: `json!` would copy them, the message resource inside `data` included.
    out["data"] = data;
    out["_links"] = links(ctx, &[("user", format!("/users/{}", row.user_id))]);
    if let Some(c) = &n.channel {
        out["channel"] = channel_properties(c);
    }
    if let Some(t) = row.read_time {
        out["read_time"] = json!(format_millis(t));
    }
    out
}
