//! Channel resources as JSON (snake_case; the response step renames for camelCase callers):
//! PUBLIC/PRIVATE and DIRECT channels, memberships and invites.

use palaver_domain::time::format_millis;
use palaver_service::platform::{ChannelView, RosterUser};
use serde_json::{json, Value};

use crate::links::links;
use crate::users::user_properties;
use crate::LinkBase;

/// A channel without `_links`, in its type's shape.
pub fn channel_properties(ctx: &LinkBase, v: &ChannelView) -> Value {
    let c = &v.channel;
    let mut out = json!({ "type": c.r#type, "id": c.id });
    if c.r#type == "DIRECT" {
        out["created_time"] = json!(format_millis(c.created));
        if let Some(u) = &v.creator {
            out["creator"] = user_properties(ctx, u);
        }
        out["members"] = Value::Array(v.members.iter().map(|u| user_properties(ctx, u)).collect());
    } else {
        out["name"] = json!(c.name);
        out["display_name"] = json!(c.display_name);
        out["created_time"] = json!(format_millis(c.created));
        if let Some(u) = &v.creator {
            out["creator"] = user_properties(ctx, u);
        }
    }
    out["properties"] = c.properties.clone();
    out
}

pub fn channel(ctx: &LinkBase, v: &ChannelView) -> Value {
    let mut out = channel_properties(ctx, v);
    let base = format!("/channels/{}", v.channel.id);
    let mut rels: Vec<(&str, String)> = vec![
        ("self", base.clone()),
        ("participants", format!("{base}/participants")),
        ("members", format!("{base}/members")),
        ("memberships", format!("{base}/memberships")),
        ("messages", format!("{base}/messages")),
        ("events", format!("{base}/events")),
        ("keystrokes", format!("{base}/keystrokes")),
    ];
    if v.channel.r#type != "DIRECT" {
        rels.push(("moderators", format!("{base}/moderators")));
    }
    if v.channel.r#type == "PRIVATE" {
        rels.push(("invites", format!("{base}/invites")));
    }
    rels.push(("application", ctx.application_path().into()));
    out["_links"] = links(ctx, &rels);
    out
}

/// A membership or an invite: when, and links to the user and the channel.
pub fn roster_entry(ctx: &LinkBase, channel: i64, e: &RosterUser) -> Value {
    json!({
        "created_time": format_millis(e.created),
        "_links": links(ctx, &[
            ("user", format!("/users/{}", e.user.id)),
            ("channel", format!("/channels/{channel}")),
        ]),
    })
}
