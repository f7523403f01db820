//! Reading: a member's read cursor moves forward when it reads a message; read receipts, unread
//! counts and read summaries are derived from the cursors. Also the reported messages of a
//! channel.

use std::collections::HashMap;

use palaver_domain::platform::event::Event;
use palaver_domain::platform::paging::PageRequest;
use palaver_domain::{DomainError, ErrorCode};
use palaver_store::platform::{
    ChannelRow, ChatUserRow, History, HistoryScope, ReadCursors, Roster,
};

use super::messages::MessageView;
use super::sort_keys::{receipt_order, summary_order};
use super::{AppPrincipal, Platform};
use crate::error::Result;

/// A member that has read a message, and when its read cursor last moved.
#[derive(Debug, Clone)]
pub struct ReadReceipt {
    pub user: ChatUserRow,
    pub created: i64,
}

impl Platform {
    /// `user` has read `message` (and everything before it in the channel). Only members read;
    /// reading an older message than the cursor's changes nothing and tells nobody.
    pub async fn read_message(&self, p: &AppPrincipal, user: i64, message: i64) -> Result<()> {
        let m = self.message_row(p, message).await?;
        let u = self.get_user(p, user).await?;
        if !self
            .rosters
            .contains(Roster::Members, m.channel_id, u.id)
            .await?
        {
            return Err(DomainError::new(
                ErrorCode::AccessDenied,
                format!(
                    "User {} is not a member of channel {}",
                    u.name, m.channel_id
                ),
            )
            .into());
        }
        let mut tx = self.db.begin().await?;
        if ReadCursors::advance(&mut tx, m.channel_id, u.id, m.seq, self.now()).await? {
            let read = Event::MessageRead {
                message_id: m.id,
                channel_id: m.channel_id,
                user_id: u.id,
                seq: m.seq,
            };
            self.commit(tx, p, read).await?;
        }
        Ok(())
    }

    /// Who has read message `id` (its sender aside), sorted as `page` says
    /// ([`RECEIPT_SORTABLE`](super::RECEIPT_SORTABLE)) or in the order they read; and how many
    /// have.
    pub async fn read_receipts(
        &self,
        p: &AppPrincipal,
        id: i64,
        page: &PageRequest,
    ) -> Result<(Vec<ReadReceipt>, u64)> {
        let m = self.message_row(p, id).await?;
        let cursors = self
            .read_cursors
            .readers(
                m.channel_id,
                m.seq,
                m.user_id,
                &receipt_order(page),
                page.offset(),
                page.size,
            )
            .await?;
        let total = self
            .read_cursors
            .count_readers(m.channel_id, m.seq, m.user_id)
            .await?;
        let ids: Vec<i64> = cursors.iter().map(|c| c.user_id).collect();
        let users: HashMap<i64, ChatUserRow> = self
            .users
            .by_ids(p.application_id, &ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let items = cursors
            .iter()
            .filter_map(|c| {
                users.get(&c.user_id).map(|u| ReadReceipt {
                    user: u.clone(),
                    created: c.updated,
                })
            })
            .collect();
        Ok((items, total))
    }

    /// Messages of others in user `id`'s channels after its read cursors.
    pub async fn unread_count(&self, p: &AppPrincipal, id: i64) -> Result<u64> {
        self.get_user(p, id).await?;
        let h = History {
            scope: HistoryScope::UnreadBy(id),
            username: None,
            text: None,
            before: None,
            after: None,
            limit: 0,
        };
        Ok(self.messages.count(p.application_id, &h).await?)
    }

    /// Per channel and member: how many messages of others the member has read; sorted as
    /// `page` says ([`SUMMARY_SORTABLE`](super::SUMMARY_SORTABLE)) or by channel and member.
    pub async fn read_summaries(
        &self,
        p: &AppPrincipal,
        page: &PageRequest,
    ) -> Result<(Vec<(ChannelRow, ChatUserRow, u64)>, u64)> {
        let app = p.application_id;
        let rows = self
            .read_cursors
            .summaries(app, &summary_order(page), page.offset(), page.size)
            .await?;
        let total = self.read_cursors.count_summaries(app).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.cursor.user_id).collect();
        let users: HashMap<i64, ChatUserRow> = self
            .users
            .by_ids(app, &ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let mut channels: HashMap<i64, ChannelRow> = HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let c = match channels.get(&r.cursor.channel_id) {
                Some(c) => c.clone(),
                None => match self.channels.get(app, r.cursor.channel_id).await? {
                    Some(c) => {
                        channels.insert(c.id, c.clone());
                        c
                    }
                    None => continue,
                },
            };
            if let Some(u) = users.get(&r.cursor.user_id) {
                out.push((c, u.clone(), r.count));
            }
        }
        Ok((out, total))
    }

    /// A page of channel `id`'s reported messages, and how many there are.
    pub async fn reported_messages(
        &self,
        p: &AppPrincipal,
        id: i64,
        page: &PageRequest,
    ) -> Result<(Vec<MessageView>, u64)> {
        self.channel_row(p, id).await?;
        let rows = self
            .reports
            .messages(p.application_id, id, page.offset(), page.size)
            .await?;
        let total = self.reports.count_messages(p.application_id, id).await?;
        Ok((self.message_views(p, rows).await?, total))
    }
}
