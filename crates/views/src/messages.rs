//! Message, thread, read-receipt, reaction, report and notification resources (snake_case; the
//! response step renames for camelCase callers). Messages fill history pages, so they are written straight
//! into the response as they are serialised rather than built as JSON trees first.

use palaver_domain::time::format_millis;
use palaver_service::platform::{
    ChannelRow, ChatUserRow, Emoji, MessageView, NotificationView, ReactionSummary, ReactionView,
    ReadReceipt, ReportView, ThreadRow,
};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Map, Value};

use crate::links::{links, At, Link};
use crate::users::{user_properties, UserJson};
use crate::LinkBase;

/// A channel without `_links`, as messages and notifications embed it.
pub struct ChannelJson<'a>(pub &'a ChannelRow);

impl Serialize for ChannelJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("type", &c.r#type)?;
        m.serialize_entry("id", &c.id)?;
        m.serialize_entry("created_time", &format_millis(c.created))?;
        m.serialize_entry("properties", &c.properties)?;
        if c.r#type != "DIRECT" {
            m.serialize_entry("name", &c.name)?;
            m.serialize_entry("display_name", &c.display_name)?;
        }
        m.end()
    }
}

/// [`ChannelJson`] as a JSON tree, for the resources still built as trees.
pub fn channel_properties(c: &ChannelRow) -> Value {
    json!(ChannelJson(c))
}

/// Whom a mention names, as its resource shows it.
enum Mentioned<'a> {
    Channel(&'a ChannelRow),
    User(UserJson<'a>),
}

/// One stored mention (`tag`, positions, `type`, `user_id`) with what it names in place of the id.
struct Mention<'a> {
    stored: &'a Map<String, Value>,
    names: Mentioned<'a>,
}

impl<'a> Mention<'a> {
    /// `None` when what the mention named is gone (a deleted user): it is not shown.
    fn of(ctx: &'a LinkBase, v: &'a MessageView, stored: &'a Value) -> Option<Self> {
        let stored = stored.as_object()?;
        let names = if stored.get("type").is_some_and(|t| t == "CHANNEL") {
            Mentioned::Channel(v.channel.as_ref()?)
        } else {
            let id = stored.get("user_id")?.as_i64()?;
            Mentioned::User(UserJson(ctx, v.mentioned.get(&id)?))
        };
        Some(Mention { stored, names })
    }
}

impl Serialize for Mention<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (k, v) in self.stored {
            if k != "user_id" {
                m.serialize_entry(k, v)?;
            }
        }
        match &self.names {
            Mentioned::Channel(c) => m.serialize_entry("channel", &ChannelJson(c))?,
            Mentioned::User(u) => m.serialize_entry("user", u)?,
        }
        m.end()
    }
}

struct Mentions<'a>(&'a LinkBase, &'a MessageView);

impl Serialize for Mentions<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Mentions(ctx, v) = *self;
        let stored = v.message.mentions.as_array().map(Vec::as_slice);
        s.collect_seq(
            stored
                .unwrap_or_default()
                .iter()
                .filter_map(|m| Mention::of(ctx, v, m)),
        )
    }
}

/// A message's `_links`.
struct MessageLinks<'a>(&'a LinkBase, &'a MessageView);

impl Serialize for MessageLinks<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let MessageLinks(ctx, v) = *self;
        let (base, m) = (ctx.base.as_str(), &v.message);
        let mut out = s.serialize_map(None)?;
        let mut link =
            |rel: &str, path: At<'_, i64>| out.serialize_entry(rel, &Link { base, path });
        link("self", At("/messages/", m.id, ""))?;
        link("channel", At("/channels/", m.channel_id, ""))?;
        link("thread", At("/threads/", m.thread_id, ""))?;
        link("read_receipts", At("/messages/", m.id, "/read-receipts"))?;
        if let Some(u) = &v.user {
            link("user", At("/users/", u.id, ""))?;
        }
        if let Some(t) = &v.reply_thread {
            link("reply_thread", At("/threads/", t.id, ""))?;
            link("replies", At("/threads/", t.id, "/messages"))?;
        }
        let app = ctx.application_path();
        out.serialize_entry("application", &Link { base, path: app })?;
        out.end()
    }
}

/// A message in its type's shape, with its `_links`.
pub struct MessageJson<'a>(pub &'a LinkBase, pub &'a MessageView);

pub fn message<'a>(ctx: &'a LinkBase, v: &'a MessageView) -> MessageJson<'a> {
    MessageJson(ctx, v)
}

impl Serialize for MessageJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let MessageJson(ctx, v) = *self;
        let mut out = s.serialize_map(None)?;
        write_message_fields(&mut out, ctx, v)?;
        out.serialize_entry("_links", &MessageLinks(ctx, v))?;
        out.end()
    }
}

/// A message in its type's shape without hypermedia: what the gateway adds its `_relays`,
/// `_topics` and `_actions` to.
pub struct MessageFields<'a>(pub &'a LinkBase, pub &'a MessageView);

impl Serialize for MessageFields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_map(None)?;
        write_message_fields(&mut out, self.0, self.1)?;
        out.end()
    }
}

/// The fields every face shows of a message, in order.
fn write_message_fields<M: SerializeMap>(
    out: &mut M,
    ctx: &LinkBase,
    v: &MessageView,
) -> Result<(), M::Error> {
    {
        let m = &v.message;
        out.serialize_entry("type", &m.r#type)?;
        out.serialize_entry("id", &m.id)?;
        out.serialize_entry("channel_id", &m.channel_id)?;
        out.serialize_entry("created_time", &format_millis(m.created))?;
        out.serialize_entry("nested_level", &m.nested_level)?;
        out.serialize_entry("properties", &m.properties)?;
        if let Some(t) = &m.group_tag {
            out.serialize_entry("group_tag", t)?;
        }
        if let Some(t) = m.last_edited {
            out.serialize_entry("last_edited_time", &format_millis(t))?;
        }
        if v.reply_thread.is_some() {
            out.serialize_entry("replies_count", &v.replies_count)?;
        }
        // Always there, empty or zero when none: clients need not tell "none" from "unknown".
        out.serialize_entry("reactions", &Reactions(ctx, &v.reactions))?;
        out.serialize_entry("report_count", &v.report_count)?;
        if let Some(b) = &m.body {
            out.serialize_entry("body", b)?;
            out.serialize_entry("links", &m.links)?;
            out.serialize_entry("mentions", &Mentions(ctx, v))?;
        }
        if let Some(f) = &m.file {
            out.serialize_entry("file", &FileJson(ctx, f))?;
        }
        if let Some(u) = &v.user {
            out.serialize_entry("user", &UserJson(ctx, u))?;
        }
        Ok(())
    }
}

/// A message's file. A hosted file's URL is kept as a path on this server; it is shown on the
/// origin the caller reached, as every other link is.
struct FileJson<'a>(&'a LinkBase, &'a Value);

impl Serialize for FileJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let FileJson(ctx, file) = *self;
        let Some(fields) = file.as_object() else {
            return file.serialize(s);
        };
        let mut m = s.serialize_map(Some(fields.len()))?;
        for (k, v) in fields {
            match v.as_str() {
                Some(path) if k == "url" && path.starts_with('/') => {
                    m.serialize_entry(k, &crate::links::absolute(ctx, path))?
                }
                _ => m.serialize_entry(k, v)?,
            }
        }
        m.end()
    }
}

/// An emoji as ChatKitty shows it (`EmojiProperties`).
pub struct EmojiJson<'a>(pub &'a Emoji);

impl Serialize for EmojiJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("character", e.character())?;
        m.serialize_entry("description", e.description())?;
        m.serialize_entry("aliases", &e.aliases())?;
        m.serialize_entry("tags", &e.tags())?;
        m.end()
    }
}

/// A message's reactions, one `MessageReactionsSummaryProperties` per emoji:
/// `{emoji, count, users}`.
struct Reactions<'a>(&'a LinkBase, &'a [ReactionSummary]);

struct Summary<'a>(&'a LinkBase, &'a ReactionSummary);

impl Serialize for Summary<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Summary(ctx, r) = *self;
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("emoji", &EmojiJson(&r.emoji))?;
        m.serialize_entry("count", &r.users.len())?;
        m.serialize_entry("users", &Users(ctx, &r.users))?;
        m.end()
    }
}

struct Users<'a>(&'a LinkBase, &'a [ChatUserRow]);

impl Serialize for Users<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.1.iter().map(|u| UserJson(self.0, u)))
    }
}

impl Serialize for Reactions<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.1.iter().map(|r| Summary(self.0, r)))
    }
}

/// One user's reaction, without hypermedia: `{emoji, user, created_time}` (the gateway's
/// `Reaction` adds `_relays.message`).
pub fn reaction(ctx: &LinkBase, r: &ReactionView) -> Value {
    json!({
        "emoji": EmojiJson(&r.emoji),
        "user": UserJson(ctx, &r.user),
        "created_time": format_millis(r.created),
    })
}

/// One user's report, without hypermedia: `{user, reason, properties, created_time}` (the
/// SDK's `MessageReport`).
pub fn report(ctx: &LinkBase, r: &ReportView) -> Value {
    json!({
        "user": UserJson(ctx, &r.user),
        "reason": r.reason,
        "properties": r.properties,
        "created_time": format_millis(r.created),
    })
}

pub fn thread(ctx: &LinkBase, t: &ThreadRow) -> Value {
    let mut rels: Vec<(&str, String)> = vec![
        ("self", format!("/threads/{}", t.id)),
        ("messages", format!("/threads/{}/messages", t.id)),
        ("channel", format!("/channels/{}", t.channel_id)),
    ];
    if let Some(m) = t.parent_message_id {
        rels.push(("message", format!("/messages/{m}")));
    }
    rels.push(("application", ctx.application_path().into()));
    let mut v = json!({
        "type": t.r#type,
        "id": t.id,
        "created_time": format_millis(t.created),
        "properties": t.properties,
        "_links": links(ctx, &rels),
    });
    // STANDALONE threads are named.
    if let Some(name) = &t.name {
        v["name"] = json!(name);
    }
    v
}

pub fn receipt(ctx: &LinkBase, message: i64, r: &ReadReceipt) -> Value {
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

pub fn summary(c: &ChannelRow, u: &ChatUserRow, count: u64, ctx: &LinkBase) -> Value {
    json!({
        "channel": channel_properties(c),
        "count": count,
        "user": user_properties(ctx, u),
    })
}

/// What a notification is about: its type, channel, message, and whom or what it mentioned.
struct NotificationData<'a>(&'a LinkBase, &'a NotificationView);

impl Serialize for NotificationData<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let NotificationData(ctx, n) = *self;
        let row = &n.notification;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("type", &row.r#type)?;
        m.serialize_entry("_relays", &Map::new())?;
        if let Some(c) = row.channel_id {
            m.serialize_entry("channel_id", &c)?;
        }
        if let Some(message) = &n.message {
            m.serialize_entry("message", &MessageJson(ctx, message))?;
        }
        if let Some(parent) = &n.parent {
            m.serialize_entry("parent", &MessageJson(ctx, parent))?;
        }
        // The recipient was mentioned, even when an edit has since removed the mention.
        if row.r#type == "USER:MENTIONED:USER" {
            m.serialize_entry("mentioned_user", &crate::users::user(ctx, &n.recipient))?;
        }
        if row.r#type == "USER:MENTIONED:CHANNEL" {
            if let Some(c) = &n.channel {
                m.serialize_entry("mentioned_channel", &ChannelJson(c))?;
            }
        }
        m.end()
    }
}

/// A notification with its `_links`; notification pages are written straight into the
/// response, as message pages are.
pub struct NotificationJson<'a>(pub &'a LinkBase, pub &'a NotificationView);

impl Serialize for NotificationJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let NotificationJson(ctx, n) = *self;
        let row = &n.notification;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &row.id)?;
        m.serialize_entry("title", &row.title)?;
        m.serialize_entry("body", &row.body)?;
        m.serialize_entry("created_time", &format_millis(row.created))?;
        m.serialize_entry("data", &NotificationData(ctx, n))?;
        // Made while its recipient had the channel muted.
        m.serialize_entry("muted", &row.muted)?;
        let user = format!("/users/{}", row.user_id);
        m.serialize_entry("_links", &links(ctx, &[("user", user)]))?;
        if let Some(c) = &n.channel {
            m.serialize_entry("channel", &ChannelJson(c))?;
        }
        if let Some(t) = row.read_time {
            m.serialize_entry("read_time", &format_millis(t))?;
        }
        m.end()
    }
}
