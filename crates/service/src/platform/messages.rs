//! Messages of the caller's application: send to a channel (its MAIN thread) or a thread, look
//! up, edit, delete (one, or all of the application), and the views their resources show.
//! Every write commits with its event.

use std::collections::{BTreeSet, HashMap};

use palaver_domain::platform::event::{Event, MessageRef};
use palaver_domain::platform::merge_patch;
use palaver_domain::{DomainError, ErrorCode};
use palaver_store::platform::{
    ApplicationRow, Beside, ChannelRow, ChatUserRow, MessageRow, Messages, Roster, ThreadRow,
};
use serde_json::{json, Map, Value};

use super::channel_input::invalid;
use super::message_input::{link_spans, mention_tags, MessagePatch, NewMessageInput};
use super::reactions::ReactionSummary;
use super::send_queue::{NewSend, Sent};
use super::user_refs::{no_user, username_of};
use super::{AppPrincipal, Platform};
use crate::error::Result;

/// A message with what its resource shows besides its row.
#[derive(Debug, Clone)]
pub struct MessageView {
    pub message: MessageRow,
    pub user: Option<ChatUserRow>,
    /// Users its mentions name, by id.
    pub mentioned: HashMap<i64, ChatUserRow>,
    /// Its channel, when a mention names it.
    pub channel: Option<ChannelRow>,
    /// Top-level messages: the thread replies to it go to.
    pub reply_thread: Option<ThreadRow>,
    pub replies_count: u64,
    /// Replies: the message they reply to (the parent of their thread).
    pub parent_id: Option<i64>,
    /// Its reactions by emoji, emojis in the order first used.
    pub reactions: Vec<ReactionSummary>,
    /// How many users reported it.
    pub report_count: u64,
}

/// What a message body says besides its text.
pub(crate) struct ParsedBody {
    pub(crate) mentions: Value,
    pub(crate) links: Value,
    /// The users its mentions name, by id.
    mentioned: HashMap<i64, ChatUserRow>,
}

/// The names a body's `@name` mentions give (not `@channel`).
pub(crate) fn mention_names(body: &str) -> Vec<String> {
    let mut names: Vec<String> = mention_tags(body)
        .into_iter()
        .map(|t| t.text)
        .filter(|t| t != "channel")
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The mentions and links of `body`, its `@name`s looked up in `users` (by name); a name that is
/// no user of the application is no mention.
pub(crate) fn parse_body(body: &str, users: &HashMap<String, ChatUserRow>) -> ParsedBody {
    let mut mentions = Vec::new();
    let mut mentioned = HashMap::new();
    for tag in mention_tags(body) {
        let mut m = json!({"tag": tag.text, "start_position": tag.start, "end_position": tag.end});
        if tag.text == "channel" {
            m["type"] = json!("CHANNEL");
        } else {
            let Some(user) = users.get(&tag.text) else {
                continue;
            };
            m["type"] = json!("USER");
            m["user_id"] = json!(user.id);
            mentioned.insert(user.id, user.clone());
        }
        mentions.push(m);
    }
    let links = link_spans(body)
        .into_iter()
        .map(|l| json!({"source": l.text, "start_position": l.start, "end_position": l.end}))
        .collect();
    ParsedBody {
        mentions: Value::Array(mentions),
        links: Value::Array(links),
        mentioned,
    }
}

pub(crate) fn no_message(id: i64) -> DomainError {
    DomainError::new(ErrorCode::NotFound, format!("No message with id {id}"))
}

pub(crate) fn no_thread(id: i64) -> DomainError {
    DomainError::new(ErrorCode::NotFound, format!("No thread with id {id}"))
}

/// What an event says about a message.
pub(crate) fn message_ref(m: &MessageRow) -> MessageRef {
    MessageRef {
        id: m.id,
        channel_id: m.channel_id,
        thread_id: m.thread_id,
        seq: m.seq,
        r#type: m.r#type.clone(),
        user_id: m.user_id,
        nested_level: m.nested_level,
        mentions: m.mentions.clone(),
    }
}

impl Platform {
    /// The caller's users named by `names`, by name: one read.
    pub(crate) async fn users_named(
        &self,
        p: &AppPrincipal,
        names: &[&str],
    ) -> Result<HashMap<String, ChatUserRow>> {
        Ok(self
            .users
            .by_names(p.application_id, names)
            .await?
            .into_iter()
            .map(|u| (u.name.clone(), u))
            .collect())
    }

    /// The mentions and links of a body: `@channel`, and `@name` of the application's users.
    async fn parse_body(&self, p: &AppPrincipal, body: &str) -> Result<ParsedBody> {
        let names = mention_names(body);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let users = self.users_named(p, &names).await?;
        Ok(parse_body(body, &users))
    }

    /// Sends a message to channel `id`'s MAIN thread.
    pub async fn send_channel_message(
        &self,
        p: &AppPrincipal,
        id: i64,
        input: NewMessageInput,
    ) -> Result<MessageView> {
        let channel = self.channel_row(p, id).await?;
        self.send(p, &channel, None, input).await
    }

    /// Sends a message to thread `id` (a MAIN thread, or a message's replies).
    pub async fn send_thread_message(
        &self,
        p: &AppPrincipal,
        id: i64,
        input: NewMessageInput,
    ) -> Result<MessageView> {
        let thread = self.get_thread(p, id).await?;
        let channel = self.channel_row(p, thread.channel_id).await?;
        self.send(p, &channel, Some(thread), input).await
    }

    async fn send(
        &self,
        p: &AppPrincipal,
        channel: &ChannelRow,
        thread: Option<ThreadRow>,
        input: NewMessageInput,
    ) -> Result<MessageView> {
        // The sender, when named, and the body's mentions are looked up in one read.
        let sender = input.user.as_ref().and_then(username_of);
        let names = input.body.as_deref().map(mention_names).unwrap_or_default();
        let mut wanted: Vec<&str> = names.iter().map(String::as_str).collect();
        wanted.extend(sender);
        let users = self.users_named(p, &wanted).await?;
        let user = match (&input.user, sender) {
            (Some(_), Some(name)) => Some(
                users
                    .get(name)
                    .cloned()
                    .ok_or_else(|| no_user("user", format!("No user named \"{name}\"")))?,
            ),
            (Some(r), None) => Some(self.resolve_user(p, r, "user").await?),
            (None, _) => None,
        };
        if let Some(u) = &user {
            // Anyone may speak in a PUBLIC channel; PRIVATE and DIRECT ones are for members.
            if channel.r#type != "PUBLIC"
                && !self
                    .rosters
                    .contains(Roster::Members, channel.id, u.id)
                    .await?
            {
                return Err(DomainError::new(
                    ErrorCode::AccessDenied,
                    format!(
                        "User {} is not a member of {} channel {}",
                        u.name, channel.r#type, channel.id
                    ),
                )
                .into());
            }
        }
        let parsed = match &input.body {
            Some(b) => parse_body(b, &users),
            None => ParsedBody {
                mentions: json!([]),
                links: json!([]),
                mentioned: HashMap::new(),
            },
        };
        let kind = match (user.is_some(), input.r#type.as_str()) {
            (true, t) => t.to_string(),
            (false, t) => format!("SYSTEM_{t}"),
        };
        let message = MessageRow {
            id: 0,
            application_id: p.application_id,
            channel_id: channel.id,
            // Thread, numbers and nesting are given when the message is written.
            thread_id: 0,
            seq: 0,
            app_seq: 0,
            r#type: kind,
            user_id: user.as_ref().map(|u| u.id),
            body: input.body,
            file: input.file,
            group_tag: input.group_tag,
            properties: input.properties,
            mentions: parsed.mentions,
            links: parsed.links,
            nested_level: 0,
            created: self.now(),
            last_edited: None,
        };
        let parent_id = thread.as_ref().and_then(|t| t.parent_message_id);
        let Sent {
            message: row,
            reply_thread,
        } = self.write_send(NewSend { message, thread }).await?;
        // Everything the new message's resource shows is at hand: no need to read it back.
        let everyone = row
            .mentions
            .as_array()
            .is_some_and(|l| l.iter().any(|m| m["type"] == "CHANNEL"));
        Ok(MessageView {
            parent_id,
            message: row,
            user,
            mentioned: parsed.mentioned,
            channel: everyone.then(|| channel.clone()),
            reply_thread,
            replies_count: 0,
            // A new message has none yet.
            reactions: Vec::new(),
            report_count: 0,
        })
    }

    /// The caller's message `id`, or NotFound.
    pub(crate) async fn message_row(&self, p: &AppPrincipal, id: i64) -> Result<MessageRow> {
        self.messages
            .get(p.application_id, id)
            .await?
            .ok_or_else(|| no_message(id).into())
    }

    pub async fn get_message(&self, p: &AppPrincipal, id: i64) -> Result<MessageView> {
        let row = self.message_row(p, id).await?;
        self.message_view(p, row).await
    }

    pub async fn get_thread(&self, p: &AppPrincipal, id: i64) -> Result<ThreadRow> {
        self.threads
            .get(p.application_id, id)
            .await?
            .ok_or_else(|| no_thread(id).into())
    }

    pub(crate) async fn message_view(
        &self,
        p: &AppPrincipal,
        row: MessageRow,
    ) -> Result<MessageView> {
        let id = row.id;
        self.message_views(p, vec![row])
            .await?
            .pop()
            .ok_or_else(|| no_message(id).into())
    }

    /// Loads what `rows` show with a handful of queries, whatever their number.
    pub(crate) async fn message_views(
        &self,
        p: &AppPrincipal,
        rows: Vec<MessageRow>,
    ) -> Result<Vec<MessageView>> {
        self.message_views_beside(p, rows.into_iter().map(|m| (m, None)).collect(), Vec::new())
            .await
    }

    /// As [`Platform::message_views`], for rows some of which come with what they show beside
    /// them already (a history page reads it with the messages, and `senders`, the users who
    /// sent those): for those, users are read only for mentions, reactions only when there are
    /// some, reply threads and report counts not at all.
    pub(crate) async fn message_views_beside(
        &self,
        p: &AppPrincipal,
        rows: Vec<(MessageRow, Option<Beside>)>,
        senders: Vec<ChatUserRow>,
    ) -> Result<Vec<MessageView>> {
        let app = p.application_id;
        let known_users: HashMap<i64, ChatUserRow> =
            senders.into_iter().map(|u| (u.id, u)).collect();
        let mut known_threads: HashMap<i64, (ThreadRow, u64)> = HashMap::new();
        let mut report_counts = HashMap::new();
        let mut user_ids = BTreeSet::new();
        let mut channel_ids = BTreeSet::new();
        let (mut reacted, mut unknown) = (Vec::new(), Vec::new());
        let rows: Vec<MessageRow> = rows
            .into_iter()
            .map(|(m, beside)| {
                match beside {
                    Some(b) => {
                        if let Some(t) = b.reply_thread {
                            known_threads.insert(m.id, t);
                        }
                        if b.report_count > 0 {
                            report_counts.insert(m.id, b.report_count);
                        }
                        if b.reacted {
                            reacted.push(m.id);
                        }
                    }
                    None => {
                        user_ids.extend(m.user_id);
                        reacted.push(m.id);
                        unknown.push(m.id);
                    }
                }
                for men in m.mentions.as_array().into_iter().flatten() {
                    user_ids.extend(men["user_id"].as_i64());
                    if men["type"] == "CHANNEL" {
                        channel_ids.insert(m.channel_id);
                    }
                }
                m
            })
            .collect();
        let ids: Vec<i64> = user_ids
            .into_iter()
            .filter(|id| !known_users.contains_key(id))
            .collect();
        let channel_ids: Vec<i64> = channel_ids.into_iter().collect();
        // Replies name their parent: the parent of the thread they are in.
        let mut reply_threads: Vec<i64> = rows
            .iter()
            .filter(|m| m.nested_level > 0)
            .map(|m| m.thread_id)
            .collect();
        reply_threads.sort_unstable();
        reply_threads.dedup();
        // Independent reads, on connections of their own: a page waits for the slowest only.
        // Each is skipped when its list is empty.
        let (users_read, channels, threads_read, in_threads, mut feedback) = tokio::try_join!(
            self.users.by_ids(app, &ids),
            self.channels.by_ids(app, &channel_ids),
            self.threads.replies_of(app, &unknown),
            self.threads.by_ids(app, &reply_threads),
            self.feedback(app, &reacted, &unknown),
        )?;
        feedback.report_counts.extend(report_counts);
        let parent_of: HashMap<i64, i64> = in_threads
            .into_iter()
            .filter_map(|t| t.parent_message_id.map(|m| (t.id, m)))
            .collect();
        let mut users = known_users;
        users.extend(users_read.into_iter().map(|u| (u.id, u)));
        let channels: HashMap<i64, ChannelRow> = channels.into_iter().map(|c| (c.id, c)).collect();
        let mut threads = known_threads;
        threads.extend(
            threads_read
                .into_iter()
                .filter_map(|(t, n)| t.parent_message_id.map(|m| (m, (t, n)))),
        );
        Ok(rows
            .into_iter()
            .map(|m| {
                let (reply_thread, replies_count) = threads
                    .remove(&m.id)
                    .map_or((None, 0), |(t, n)| (Some(t), n));
                let mentioned = m
                    .mentions
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|x| x["user_id"].as_i64())
                    .filter_map(|id| users.get(&id).map(|u| (id, u.clone())))
                    .collect();
                MessageView {
                    parent_id: (m.nested_level > 0)
                        .then(|| parent_of.get(&m.thread_id).copied())
                        .flatten(),
                    user: m.user_id.and_then(|id| users.get(&id).cloned()),
                    mentioned,
                    channel: channels.get(&m.channel_id).cloned(),
                    replies_count,
                    reply_thread,
                    reactions: feedback.reactions.remove(&m.id).unwrap_or_default(),
                    report_count: feedback.report_counts.get(&m.id).copied().unwrap_or(0),
                    message: m,
                }
            })
            .collect())
    }

    /// Edits the body (TEXT messages) and merge-patches the properties; sets the edit time.
    pub async fn update_message(
        &self,
        p: &AppPrincipal,
        id: i64,
        patch: &MessagePatch,
    ) -> Result<MessageView> {
        let mut row = self.message_row(p, id).await?;
        if let Some(body) = &patch.body {
            if row.body.is_none() {
                return Err(invalid(format!(
                    "message {id} is a {} message without a body",
                    row.r#type
                ))
                .into());
            }
            let parsed = self.parse_body(p, body).await?;
            row.body = Some(body.clone());
            row.mentions = parsed.mentions;
            row.links = parsed.links;
        }
        if let Some(props) = &patch.properties {
            merge_patch::apply(&mut row.properties, props);
            if !row.properties.is_object() {
                row.properties = Value::Object(Map::new());
            }
        }
        row.last_edited = Some(self.now());
        let mut tx = self.db.begin().await?;
        if !Messages::update(&mut tx, &row).await? {
            return Err(no_message(id).into());
        }
        self.commit(tx, p, Event::MessageUpdated(message_ref(&row)))
            .await?;
        self.message_view(p, row).await
    }

    /// Deletes a message with its replies; answers its reply thread (or, for a reply, the
    /// thread it was in).
    pub async fn delete_message(&self, p: &AppPrincipal, id: i64) -> Result<ThreadRow> {
        let row = self.message_row(p, id).await?;
        let thread = match self
            .threads
            .replies_of(p.application_id, &[id])
            .await?
            .pop()
        {
            Some((t, _)) => t,
            None => self.get_thread(p, row.thread_id).await?,
        };
        let mut tx = self.db.begin().await?;
        if !Messages::delete(&mut tx, p.application_id, id).await? {
            return Err(no_message(id).into());
        }
        self.enqueue_file_cleanup(&mut tx, p.application_id).await?;
        self.commit(tx, p, Event::MessageDeleted(message_ref(&row)))
            .await?;
        self.jobs.wake();
        Ok(thread)
    }

    /// Deletes every message of the caller's application; answers the application.
    pub async fn delete_all_messages(&self, p: &AppPrincipal) -> Result<ApplicationRow> {
        let mut tx = self.db.begin().await?;
        let n = Messages::delete_all(&mut tx, p.application_id).await?;
        self.enqueue_file_cleanup(&mut tx, p.application_id).await?;
        self.commit(tx, p, Event::MessagesDeleted { count: n })
            .await?;
        self.jobs.wake();
        self.application(p).await
    }
}
