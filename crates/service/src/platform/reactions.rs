//! Reactions and reports of messages, made by the chat users who can read them (members, or
//! anyone for a PUBLIC channel): react with an emoji (once per emoji: reacting again is no new
//! reaction), take a reaction back, report a message (once per user: reporting again replaces
//! the reason and properties — an upsert, not a 409, so a client retrying its report succeeds),
//! take a report back. Each commits with its event, but a repeated reaction, which changes
//! nothing, commits none. Also what message resources show of them, read a page of messages at
//! a time.

use std::collections::HashMap;

use palaver_domain::platform::emoji::Emoji;
use palaver_domain::platform::event::{Event, ReactionRef, ReportRef};
use palaver_domain::platform::paging::PageRequest;
use palaver_domain::{DomainError, ErrorCode};
use palaver_store::platform::{
    ChatUserRow, MessageRow, ReactionRow, Reactions, ReportRow, Reports,
};
use palaver_store::StoreError;
use serde_json::{Map, Value};

use super::channel_input::invalid;
use super::{AppPrincipal, Platform};
use crate::error::Result;

/// The longest report reason, in characters.
const MAX_REASON_CHARS: usize = 1000;

/// The users that reacted to a message with one emoji, in the order they did
/// (`MessageReactionsSummaryProperties`: its `count` is `users.len()`).
#[derive(Debug, Clone)]
pub struct ReactionSummary {
    pub emoji: Emoji,
    pub users: Vec<ChatUserRow>,
}

/// One user's reaction to one message.
#[derive(Debug, Clone)]
pub struct ReactionView {
    pub message_id: i64,
    pub user: ChatUserRow,
    pub emoji: Emoji,
    pub created: i64,
}

/// One user's report of one message.
#[derive(Debug, Clone)]
pub struct ReportView {
    pub message_id: i64,
    pub user: ChatUserRow,
    pub reason: String,
    pub properties: Value,
    pub created: i64,
}

/// A validated reaction body: `{emoji}`, the emoji itself or one of its shortcodes.
#[derive(Debug, Clone)]
pub struct ReactionInput {
    pub emoji: Emoji,
}

/// A validated report body: `{reason, properties?}`.
#[derive(Debug, Clone)]
pub struct ReportInput {
    pub reason: String,
    pub properties: Value,
}

fn object(body: &Value) -> std::result::Result<&Map<String, Value>, DomainError> {
    body.as_object()
        .ok_or_else(|| invalid("the request body must be a JSON object"))
}

impl ReactionInput {
    pub fn from_body(body: &Value) -> std::result::Result<Self, DomainError> {
        match object(body)?.get("emoji") {
            Some(Value::String(s)) => Ok(Self {
                emoji: Emoji::parse(s)?,
            }),
            None | Some(Value::Null) => {
                Err(invalid("emoji is required: an emoji or its shortcode"))
            }
            Some(_) => Err(invalid("emoji must be a string")),
        }
    }
}

impl ReportInput {
    pub fn from_body(body: &Value) -> std::result::Result<Self, DomainError> {
        let obj = object(body)?;
        let reason = match obj.get("reason") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            None | Some(Value::Null) | Some(Value::String(_)) => {
                return Err(invalid("reason is required: why the message is reported"))
            }
            Some(_) => return Err(invalid("reason must be a string")),
        };
        if reason.chars().count() > MAX_REASON_CHARS {
            return Err(invalid(format!(
                "reason must be at most {MAX_REASON_CHARS} characters"
            )));
        }
        let properties = match obj.get("properties") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(v @ Value::Object(_)) => v.clone(),
            Some(_) => return Err(invalid("properties must be a JSON object")),
        };
        Ok(Self { reason, properties })
    }
}

/// What a page of messages shows of their reactions and reports.
#[derive(Debug, Default)]
pub(crate) struct Feedback {
    /// By message: its reactions summarised by emoji, emojis in the order first used.
    pub reactions: HashMap<i64, Vec<ReactionSummary>>,
    /// By message: how many users reported it (reported messages only).
    pub report_counts: HashMap<i64, u64>,
}

fn reaction_ref(m: &MessageRow, r: &ReactionRow) -> ReactionRef {
    ReactionRef {
        message_id: m.id,
        channel_id: m.channel_id,
        user_id: r.user_id,
        emoji: r.emoji.clone(),
        created: r.created,
    }
}

fn report_ref(m: &MessageRow, r: &ReportRow) -> ReportRef {
    ReportRef {
        message_id: m.id,
        channel_id: m.channel_id,
        user_id: r.user_id,
        reason: r.reason.clone(),
        properties: r.properties.clone(),
        created: r.created,
    }
}

fn reaction_view(user: ChatUserRow, r: ReactionRow) -> ReactionView {
    ReactionView {
        message_id: r.message_id,
        user,
        emoji: Emoji::stored(r.emoji),
        created: r.created,
    }
}

fn report_view(user: ChatUserRow, r: ReportRow) -> ReportView {
    ReportView {
        message_id: r.message_id,
        user,
        reason: r.reason,
        properties: r.properties,
        created: r.created,
    }
}

impl Platform {
    /// Message `id` and user `user`, when the user may read the message's channel.
    async fn readable_message(
        &self,
        p: &AppPrincipal,
        id: i64,
        user: i64,
    ) -> Result<(MessageRow, ChatUserRow)> {
        let m = self.message_row(p, id).await?;
        let u = self.get_user(p, user).await?;
        self.readable_channel(p, m.channel_id, u.id).await?;
        Ok((m, u))
    }

    /// `user` reacts to message `id` with `emoji`; answers the reaction (the first one when the
    /// user had reacted so already: nothing changes, and no event is sent).
    pub async fn react(
        &self,
        p: &AppPrincipal,
        user: i64,
        id: i64,
        emoji: &Emoji,
    ) -> Result<ReactionView> {
        let (m, u) = self.readable_message(p, id, user).await?;
        let new = ReactionRow {
            application_id: m.application_id,
            message_id: m.id,
            user_id: u.id,
            emoji: emoji.character().to_string(),
            created: self.now(),
        };
        let mut tx = self.db.begin().await?;
        let (row, made) = Reactions::add(&mut tx, &new).await?;
        if made {
            self.commit(tx, p, Event::MessageReacted(reaction_ref(&m, &row)))
                .await?;
        }
        Ok(reaction_view(u, row))
    }

    /// `user` takes back its `emoji` reaction to message `id`; answers it. NotFound when it had
    /// none.
    pub async fn remove_reaction(
        &self,
        p: &AppPrincipal,
        user: i64,
        id: i64,
        emoji: &Emoji,
    ) -> Result<ReactionView> {
        let (m, u) = self.readable_message(p, id, user).await?;
        let mut tx = self.db.begin().await?;
        let row = Reactions::remove(&mut tx, m.id, u.id, emoji.character())
            .await?
            .ok_or_else(|| {
                DomainError::new(
                    ErrorCode::NotFound,
                    format!(
                        "User {} has no {} reaction to message {id}",
                        u.name,
                        emoji.character()
                    ),
                )
            })?;
        self.commit(tx, p, Event::MessageReactionRemoved(reaction_ref(&m, &row)))
            .await?;
        Ok(reaction_view(u, row))
    }

    /// `user` reports message `id`, or reports it again: the new reason and properties replace
    /// the old (one report a user). Nobody reports their own message.
    pub async fn report_message(
        &self,
        p: &AppPrincipal,
        user: i64,
        id: i64,
        input: &ReportInput,
    ) -> Result<ReportView> {
        let (m, u) = self.readable_message(p, id, user).await?;
        if m.user_id == Some(u.id) {
            return Err(DomainError::new(
                ErrorCode::AccessDenied,
                format!("Message {id} is your own: it cannot be reported"),
            )
            .into());
        }
        let new = ReportRow {
            application_id: m.application_id,
            message_id: m.id,
            user_id: u.id,
            reason: input.reason.clone(),
            properties: input.properties.clone(),
            created: self.now(),
        };
        let mut tx = self.db.begin().await?;
        let row = Reports::put(&mut tx, &new).await?;
        self.commit(tx, p, Event::MessageReported(report_ref(&m, &row)))
            .await?;
        Ok(report_view(u, row))
    }

    /// `user` takes back its report of message `id`; answers it. NotFound when it had none.
    pub async fn remove_report(&self, p: &AppPrincipal, user: i64, id: i64) -> Result<ReportView> {
        let (m, u) = self.readable_message(p, id, user).await?;
        let mut tx = self.db.begin().await?;
        let row = Reports::remove(&mut tx, m.id, u.id).await?.ok_or_else(|| {
            DomainError::new(
                ErrorCode::NotFound,
                format!("User {} has not reported message {id}", u.name),
            )
        })?;
        self.commit(tx, p, Event::MessageReportRemoved(report_ref(&m, &row)))
            .await?;
        Ok(report_view(u, row))
    }

    /// A page of the reactions to message `id`, in the order they were made, as `user` (who
    /// must be able to read it) sees them; and how many there are.
    pub async fn message_reactions(
        &self,
        p: &AppPrincipal,
        user: i64,
        id: i64,
        page: &PageRequest,
    ) -> Result<(Vec<ReactionView>, u64)> {
        let (m, _) = self.readable_message(p, id, user).await?;
        let app = p.application_id;
        let (rows, total) = tokio::try_join!(
            self.reactions.page(app, m.id, page.offset(), page.size),
            self.reactions.count(app, m.id),
        )?;
        let items = rows.into_iter().map(|(r, u)| reaction_view(u, r)).collect();
        Ok((items, total))
    }

    /// `user`'s own report of message `id`, if any: who else reported a message is for the
    /// application's moderators (`GET /channels/{id}/reported-messages`), not for other users.
    pub async fn own_report(
        &self,
        p: &AppPrincipal,
        user: i64,
        id: i64,
    ) -> Result<Option<ReportView>> {
        let (m, u) = self.readable_message(p, id, user).await?;
        let row = self.reports.by(p.application_id, m.id, u.id).await?;
        Ok(row.map(|r| report_view(u, r)))
    }

    /// How many users reported message `id`, as `user` (who must be able to read it) sees it.
    pub async fn report_count(&self, p: &AppPrincipal, user: i64, id: i64) -> Result<u64> {
        let (m, _) = self.readable_message(p, id, user).await?;
        let counts = self.reports.counts(p.application_id, &[m.id]).await?;
        Ok(counts.get(&m.id).copied().unwrap_or(0))
    }

    /// The reactions of `reacted` and the report counts of `reported`: two queries whatever
    /// their number, run side by side (none for no messages). A store result, to be joined
    /// with other reads.
    pub(crate) async fn feedback(
        &self,
        app: i64,
        reacted: &[i64],
        reported: &[i64],
    ) -> std::result::Result<Feedback, StoreError> {
        // Each read answers at once, without a statement, for no messages.
        let (reactions, report_counts) = tokio::try_join!(
            self.reactions.of_messages(app, reacted),
            self.reports.counts(app, reported),
        )?;
        let mut by_message: HashMap<i64, Vec<ReactionSummary>> = HashMap::new();
        // In the order they were made: each emoji's users, and the emojis, in first-use order.
        for (r, u) in reactions {
            let summaries = by_message.entry(r.message_id).or_default();
            match summaries
                .iter_mut()
                .find(|s| s.emoji.character() == r.emoji)
            {
                Some(s) => s.users.push(u),
                None => summaries.push(ReactionSummary {
                    emoji: Emoji::stored(r.emoji),
                    users: vec![u],
                }),
            }
        }
        Ok(Feedback {
            reactions: by_message,
            report_counts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reaction_bodies_need_an_emoji() {
        let ok = ReactionInput::from_body(&json!({"emoji": ":thumbsup:"})).unwrap();
        assert_eq!(ok.emoji.character(), "👍");
        for bad in [
            json!({}),
            json!({"emoji": null}),
            json!({"emoji": 1}),
            json!({"emoji": "not an emoji"}),
            json!(["👍"]),
        ] {
            let e = ReactionInput::from_body(&bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidParameter, "{bad}");
        }
    }

    #[test]
    fn report_bodies_need_a_reason_and_may_have_properties() {
        let r = ReportInput::from_body(&json!({"reason": " spam "})).unwrap();
        assert_eq!((r.reason.as_str(), &r.properties), ("spam", &json!({})));
        let r = ReportInput::from_body(&json!({"reason": "x", "properties": {"a": 1}})).unwrap();
        assert_eq!(r.properties, json!({"a": 1}));
        for bad in [
            json!({}),
            json!({"reason": ""}),
            json!({"reason": "  "}),
            json!({"reason": 3}),
            json!({"reason": "x", "properties": [1]}),
            json!({"reason": "x".repeat(MAX_REASON_CHARS + 1)}),
            json!("spam"),
        ] {
            let e = ReportInput::from_body(&bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidParameter, "{bad}");
        }
    }
}
