//! What a user sets for itself in its channels (mute, hide, clear history, delete a message for
//! itself) and what it sees because of it: its channel list without hidden channels, unread
//! channels, and a channel's history without what it cleared or deleted. Each setting commits
//! with its event.

use palaver_domain::platform::event::Event;
use palaver_domain::platform::paging::PageRequest;
use palaver_domain::{DomainError, ErrorCode};
use palaver_store::platform::{
    ChannelFilter, ChannelState, ChannelStates, History, HistoryScope, MessageRow, Viewing,
};

use super::channels::ChannelView;
use super::{AppPrincipal, Platform};
use crate::error::Result;

/// The newest message of `scope` (below `before`): a history of one.
fn newest(scope: HistoryScope, before: Option<i64>) -> History {
    History {
        scope,
        username: None,
        text: None,
        before,
        after: None,
        limit: 1,
    }
}

impl Platform {
    /// `user`'s settings in channel `id` (the channel must be the caller's).
    pub async fn channel_state(
        &self,
        p: &AppPrincipal,
        id: i64,
        user: i64,
    ) -> Result<ChannelState> {
        self.channel_row(p, id).await?;
        Ok(self.channel_states.get(id, user).await?)
    }

    /// Mutes (or unmutes) channel `id` for member `user`: the notifications its messages make
    /// for `user` say `muted: true`.
    pub async fn mute_channel(
        &self,
        p: &AppPrincipal,
        id: i64,
        user: i64,
        muted: bool,
    ) -> Result<ChannelView> {
        let c = self.member_channel(p, id, user).await?;
        let mut tx = self.db.begin().await?;
        ChannelStates::set_muted(&mut tx, id, user, muted, self.now()).await?;
        let change = if muted { "muted" } else { "unmuted" };
        self.commit(tx, p, state_changed(id, user, change)).await?;
        self.view(c).await
    }

    /// Hides channel `id` from `user`'s channel list until a message is sent to it.
    pub async fn hide_channel(&self, p: &AppPrincipal, id: i64, user: i64) -> Result<ChannelView> {
        let c = self.readable_channel(p, id, user).await?;
        let mut tx = self.db.begin().await?;
        ChannelStates::hide(&mut tx, id, user, self.now()).await?;
        self.commit(tx, p, state_changed(id, user, "hidden"))
            .await?;
        self.view(c).await
    }

    /// Clears `user`'s history of channel `id`: the messages sent so far are gone for it (and
    /// read: its cursor moves past them), not for anyone else.
    pub async fn clear_channel_history(
        &self,
        p: &AppPrincipal,
        id: i64,
        user: i64,
    ) -> Result<ChannelView> {
        let c = self.readable_channel(p, id, user).await?;
        let member = self.is_member(id, user).await?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let seq = ChannelStates::clear(&mut tx, id, user, now).await?;
        if member && seq > 0 {
            palaver_store::platform::ReadCursors::advance(&mut tx, id, user, seq, now).await?;
        }
        self.commit(tx, p, state_changed(id, user, "cleared"))
            .await?;
        self.view(c).await
    }

    /// The users to whom message number `seq` of `channel` brought the channel back: they had
    /// hidden it when the message before was its last.
    pub async fn unhidden_by(&self, channel: i64, seq: i64) -> Result<Vec<i64>> {
        Ok(self.channel_states.hidden_at(channel, seq - 1).await?)
    }

    /// Deletes message `id` for `user` alone: it is gone from that user's history.
    pub async fn delete_message_for(&self, p: &AppPrincipal, id: i64, user: i64) -> Result<()> {
        let m = self.message_row(p, id).await?;
        self.readable_channel(p, m.channel_id, user).await?;
        let mut tx = self.db.begin().await?;
        if ChannelStates::delete_message_for(&mut tx, id, user, self.now()).await? {
            let e = Event::MessageDeletedForUser {
                message_id: id,
                channel_id: m.channel_id,
                user_id: user,
            };
            self.commit(tx, p, e).await?;
        }
        Ok(())
    }

    /// The channels `user` created or joined, without those it hid; `type` and `name` narrow
    /// them.
    pub async fn visible_channels(
        &self,
        p: &AppPrincipal,
        user: i64,
        (r#type, name): (Option<String>, Option<String>),
        page: &PageRequest,
    ) -> Result<(Vec<ChannelView>, u64)> {
        let filter = ChannelFilter {
            user: Some(user),
            visible_to: Some(user),
            r#type,
            name,
            ..ChannelFilter::default()
        };
        self.page_channels(p, &filter, page).await
    }

    /// The channels of `user` that hold messages of others it has not read.
    pub async fn unread_channels(
        &self,
        p: &AppPrincipal,
        user: i64,
        r#type: Option<String>,
        page: &PageRequest,
    ) -> Result<(Vec<ChannelView>, u64)> {
        let filter = ChannelFilter {
            unread_by: Some(user),
            r#type,
            ..ChannelFilter::default()
        };
        self.page_channels(p, &filter, page).await
    }

    /// How many messages of channel `id` `user` sees (`unread`: of others, after its cursor).
    pub async fn channel_message_count(
        &self,
        p: &AppPrincipal,
        id: i64,
        user: i64,
        unread: bool,
    ) -> Result<u64> {
        self.readable_channel(p, id, user).await?;
        let (scope, channel) = if unread {
            (HistoryScope::UnreadBy(user), Some(id))
        } else {
            (HistoryScope::Channel(id), None)
        };
        let v = Viewing {
            viewer: Some(user),
            channel,
            ..Viewing::default()
        };
        Ok(self
            .messages
            .count_as(p.application_id, &newest(scope, None), &v)
            .await?)
    }

    /// Whether channel `id` holds a message of others that `user` has not read.
    pub async fn channel_unread(&self, p: &AppPrincipal, id: i64, user: i64) -> Result<bool> {
        self.readable_channel(p, id, user).await?;
        let v = Viewing {
            viewer: Some(user),
            channel: Some(id),
            ..Viewing::default()
        };
        let h = newest(HistoryScope::UnreadBy(user), None);
        Ok(!self
            .messages
            .history_as(p.application_id, &h, &v)
            .await?
            .is_empty())
    }

    /// The newest message of channel `id` that `user` sees.
    pub async fn last_channel_message(
        &self,
        p: &AppPrincipal,
        id: i64,
        user: i64,
    ) -> Result<super::MessageView> {
        self.readable_channel(p, id, user).await?;
        let v = Viewing {
            viewer: Some(user),
            ..Viewing::default()
        };
        let h = newest(HistoryScope::Channel(id), None);
        let rows = self.messages.history_as(p.application_id, &h, &v).await?;
        self.only(p, rows, || format!("Channel {id} has no messages"))
            .await
    }

    /// The last message of channel `id` that `reader` has read.
    pub async fn last_read_message(
        &self,
        p: &AppPrincipal,
        id: i64,
        reader: i64,
    ) -> Result<super::MessageView> {
        self.channel_row(p, id).await?;
        let none = || format!("User {reader} has read no message of channel {id}");
        let Some(cursor) = self.read_cursors.get(id, reader).await? else {
            return Err(DomainError::new(ErrorCode::NotFound, none()).into());
        };
        let h = newest(
            HistoryScope::Channel(id),
            Some(cursor.last_read_seq.saturating_add(1)),
        );
        let rows = self.messages.history(p.application_id, &h).await?;
        self.only(p, rows, none).await
    }

    /// The one message of `rows`, as a view; NotFound saying `why` when there is none.
    async fn only(
        &self,
        p: &AppPrincipal,
        rows: Vec<MessageRow>,
        why: impl FnOnce() -> String,
    ) -> Result<super::MessageView> {
        match rows.into_iter().next() {
            Some(m) => self.message_view(p, m).await,
            None => Err(DomainError::new(ErrorCode::NotFound, why()).into()),
        }
    }
}

fn state_changed(channel: i64, user: i64, change: &str) -> Event {
    Event::ChannelStateChanged {
        channel_id: channel,
        user_id: user,
        change: change.to_string(),
    }
}

impl Platform {
    /// Member `user` marks message `id` unread: its read cursor moves back to just before it.
    /// A message it had not read yet changes nothing and tells nobody.
    pub async fn unread_message(&self, p: &AppPrincipal, user: i64, id: i64) -> Result<()> {
        let m = self.message_row(p, id).await?;
        self.member_channel(p, m.channel_id, user).await?;
        let mut tx = self.db.begin().await?;
        let moved = palaver_store::platform::ReadCursors::retreat(
            &mut tx,
            m.channel_id,
            user,
            m.seq,
            self.now(),
        )
        .await?;
        if moved {
            let e = Event::MessageUnread {
                message_id: m.id,
                channel_id: m.channel_id,
                user_id: user,
                seq: m.seq,
            };
            self.commit(tx, p, e).await?;
        }
        Ok(())
    }
}

impl Platform {
    /// How many of `user`'s channels (of `type`, if given) hold messages it has not read.
    pub async fn unread_channels_of_type(
        &self,
        p: &AppPrincipal,
        user: i64,
        r#type: Option<String>,
    ) -> Result<u64> {
        let filter = ChannelFilter {
            unread_by: Some(user),
            r#type,
            ..ChannelFilter::default()
        };
        Ok(self.channels.count(p.application_id, &filter).await?)
    }
}

/// What a chat client shows of a channel around a span of its messages: the channel, the
/// user's standing in it, and who has read each message of the span.
#[derive(Debug, Clone)]
pub struct ChannelContext {
    pub channel: ChannelView,
    pub member: bool,
    pub state: ChannelState,
    /// The span: the ids of its oldest and newest messages.
    pub start: Option<i64>,
    pub end: Option<i64>,
    /// Per message of the span (newest first): who else has read it.
    pub read_by: Vec<(i64, Vec<i64>)>,
}

/// Messages a context covers at most.
const CONTEXT_SPAN: u64 = 50;
/// Readers a context names at most.
const CONTEXT_READERS: u64 = 500;

impl Platform {
    /// Channel `id` as `user` sees it, with the messages between ids `start` and `end` (the
    /// newest ones when not given) and who has read each.
    pub async fn channel_context(
        &self,
        p: &AppPrincipal,
        id: i64,
        user: i64,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<ChannelContext> {
        let c = self.readable_channel(p, id, user).await?;
        let member = self.is_member(id, user).await?;
        let state = self.channel_states.get(id, user).await?;
        let v = Viewing {
            viewer: Some(user),
            ..Viewing::default()
        };
        let mut h = newest(HistoryScope::Channel(id), None);
        h.limit = CONTEXT_SPAN;
        // Message ids grow with the channel's sequence: the span's ends bound it.
        if let Some(e) = end {
            if let Some(m) = self.messages.get(p.application_id, e).await? {
                h.before = Some(m.seq.saturating_add(1));
            }
        }
        let rows: Vec<MessageRow> = self
            .messages
            .history_as(p.application_id, &h, &v)
            .await?
            .into_iter()
            .filter(|m| start.is_none_or(|s| m.id >= s))
            .collect();
        let oldest = rows.last().map(|m| m.seq).unwrap_or(i64::MAX);
        let cursors = self
            .read_cursors
            .readers(id, oldest, None, &[], 0, CONTEXT_READERS)
            .await?;
        let read_by = rows
            .iter()
            .map(|m| {
                let who = cursors
                    .iter()
                    .filter(|c| c.last_read_seq >= m.seq && Some(c.user_id) != m.user_id)
                    .map(|c| c.user_id)
                    .collect();
                (m.id, who)
            })
            .collect();
        Ok(ChannelContext {
            start: rows.last().map(|m| m.id),
            end: rows.first().map(|m| m.id),
            channel: self.view(c).await?,
            member,
            state,
            read_by,
        })
    }
}
