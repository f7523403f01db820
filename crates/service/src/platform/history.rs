//! Message history as cursor pages, newest first: a channel's (keyed by its sequence), a
//! thread's, the application's, a sender's or a member's unread ones (keyed by message id).
//! Cursors are bound to their listing and checked when they come back.

use palaver_domain::platform::cursor::{self, CursorRequest, Cut};
use palaver_store::platform::{History, HistoryPage, HistoryScope, Viewing};

use super::messages::MessageView;
use super::{AppPrincipal, Platform};
use crate::error::Result;

/// Filters of the channel and application histories.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    /// Sent by the user of this name.
    pub username: Option<String>,
    /// Body contains this text.
    pub query: Option<String>,
    /// What one user sees: its cleared and deleted messages left out, MAIN thread or types only.
    pub viewing: Viewing,
}

/// One cursor page: its items, how many the whole listing holds, and the encoded cursors its
/// links carry.
#[derive(Debug, Clone)]
pub struct CursorPage<T> {
    pub items: Vec<T>,
    pub size: u64,
    /// Items of the whole listing now (not only up to the traversal's `start`): each page of one
    /// traversal says how many there are when it is read.
    pub total: u64,
    /// The newest position the traversal started from.
    pub start: Option<i64>,
    /// Where the next (older) page starts; None on the last page.
    pub next: Option<i64>,
    /// Where the previous (newer) page starts; None on the first page.
    pub prev: Option<i64>,
    /// What reads this page again (as `next` with relation SELF); None on the first page.
    pub this: Option<i64>,
}

impl<T> CursorPage<T> {
    /// The page `cut` from `listing` showing `items`, of `total` in all, its cursors encoded
    /// for that listing.
    pub(crate) fn of<R>(listing: &str, size: u64, total: u64, cut: Cut<R>, items: Vec<T>) -> Self {
        let enc = |k: Option<i64>| k.map(|k| cursor::encode(listing, k));
        CursorPage {
            items,
            size,
            total,
            start: enc(cut.start),
            next: enc(cut.next),
            prev: enc(cut.prev),
            this: enc(cut.this),
        }
    }
}

impl Platform {
    async fn history_page(
        &self,
        p: &AppPrincipal,
        listing: &str,
        scope: HistoryScope,
        filter: &MessageFilter,
        req: &CursorRequest,
    ) -> Result<CursorPage<MessageView>> {
        let listing = format!("{}:{listing}", p.application_id);
        let window = req.window(&listing)?;
        let history = History {
            scope,
            username: filter.username.clone(),
            text: filter.query.clone(),
            before: window.below,
            after: window.above,
            limit: req.size + 1,
        };
        // The messages, what each shows beside it, and the total (kept counts for the
        // unfiltered listings, a count for the filtered ones): one statement, see
        // `Messages::history_page_as`.
        let HistoryPage {
            rows,
            senders,
            total,
        } = self
            .messages
            .history_page_as(p.application_id, &history, &filter.viewing)
            .await?;
        let mut cut = window.cut(rows, req.size, |(m, _)| scope.key_of(m));
        let items = self
            .message_views_beside(
                p,
                std::mem::take(&mut cut.items)
                    .into_iter()
                    .map(|(m, b)| (m, Some(b)))
                    .collect(),
                senders,
            )
            .await?;
        Ok(CursorPage::of(&listing, req.size, total, cut, items))
    }

    pub async fn channel_messages(
        &self,
        p: &AppPrincipal,
        channel: i64,
        filter: &MessageFilter,
        req: &CursorRequest,
    ) -> Result<CursorPage<MessageView>> {
        let listing = format!("channel:{channel}");
        let page = self
            .history_page(p, &listing, HistoryScope::Channel(channel), filter, req)
            .await;
        let page = match page {
            Ok(page) => page,
            // An unknown channel is a 404, whatever else was wrong with the request.
            Err(e) => return Err(self.channel_row(p, channel).await.err().unwrap_or(e)),
        };
        // Messages are only ever found in a channel of the caller's application: an empty
        // page is the one that must say whether the channel exists.
        if page.items.is_empty() {
            self.channel_row(p, channel).await?;
        }
        Ok(page)
    }

    pub async fn thread_messages(
        &self,
        p: &AppPrincipal,
        thread: i64,
        req: &CursorRequest,
    ) -> Result<CursorPage<MessageView>> {
        self.thread_messages_as(p, thread, &MessageFilter::default(), req)
            .await
    }

    /// As [`Platform::thread_messages`], with `filter`'s viewer and types.
    pub async fn thread_messages_as(
        &self,
        p: &AppPrincipal,
        thread: i64,
        filter: &MessageFilter,
        req: &CursorRequest,
    ) -> Result<CursorPage<MessageView>> {
        let listing = format!("thread:{thread}");
        let page = self
            .history_page(p, &listing, HistoryScope::Thread(thread), filter, req)
            .await;
        let page = match page {
            Ok(page) => page,
            Err(e) => return Err(self.get_thread(p, thread).await.err().unwrap_or(e)),
        };
        if page.items.is_empty() {
            self.get_thread(p, thread).await?;
        }
        Ok(page)
    }

    pub async fn list_messages(
        &self,
        p: &AppPrincipal,
        filter: &MessageFilter,
        req: &CursorRequest,
    ) -> Result<CursorPage<MessageView>> {
        self.history_page(p, "messages", HistoryScope::Application, filter, req)
            .await
    }

    /// Messages user `id` sent or, with `unread`, the messages of others it has not read.
    pub async fn user_messages(
        &self,
        p: &AppPrincipal,
        id: i64,
        unread: bool,
        req: &CursorRequest,
    ) -> Result<CursorPage<MessageView>> {
        self.user_messages_as(p, id, unread, &MessageFilter::default(), req)
            .await
    }

    /// As [`Platform::user_messages`], with `filter`'s viewer and types.
    pub async fn user_messages_as(
        &self,
        p: &AppPrincipal,
        id: i64,
        unread: bool,
        filter: &MessageFilter,
        req: &CursorRequest,
    ) -> Result<CursorPage<MessageView>> {
        self.get_user(p, id).await?;
        let (listing, scope) = if unread {
            (format!("unread:{id}"), HistoryScope::UnreadBy(id))
        } else {
            (format!("user:{id}"), HistoryScope::Sender(id))
        };
        self.history_page(p, &listing, scope, filter, req).await
    }
}
