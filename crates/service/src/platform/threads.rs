//! Threads as chat users use them: named STANDALONE threads opened in a channel, replies to a
//! message (in its reply thread), and a channel's list of threads. Opening a thread commits with
//! its event; replies are messages and go through the send path.

use palaver_domain::platform::cursor::CursorRequest;
use palaver_domain::platform::event::{Event, ThreadRef};
use palaver_domain::platform::paging::PageRequest;
use palaver_store::platform::{ThreadFilter, ThreadRow, Threads};
use serde_json::{Map, Value};

use super::channel_input::invalid;
use super::history::{CursorPage, MessageFilter};
use super::message_input::NewMessageInput;
use super::messages::MessageView;
use super::{AppPrincipal, Platform};
use crate::error::Result;

const MAX_NAME_CHARS: usize = 255;

impl Platform {
    /// Member `by` opens a STANDALONE thread in channel `id` from `{name, properties?}`.
    pub async fn create_thread(
        &self,
        p: &AppPrincipal,
        id: i64,
        by: i64,
        body: &Value,
    ) -> Result<ThreadRow> {
        let name = body
            .get("name")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty() && n.chars().count() <= MAX_NAME_CHARS)
            .ok_or_else(|| invalid("name is required: 1 to 255 characters"))?
            .to_string();
        let properties = match body.get("properties") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(p @ Value::Object(_)) => p.clone(),
            Some(_) => return Err(invalid("properties must be a JSON object").into()),
        };
        let c = self.writable_channel(p, id, by).await?;
        let mut tx = self.db.begin().await?;
        let t = Threads::insert_standalone(
            &mut tx,
            p.application_id,
            c.id,
            &name,
            &properties,
            self.now(),
        )
        .await?;
        let created = Event::ThreadCreated(ThreadRef {
            id: t.id,
            channel_id: c.id,
            name: t.name.clone(),
            user_id: Some(by),
        });
        self.commit(tx, p, created).await?;
        Ok(t)
    }

    /// A page of channel `id`'s threads for `user`, and how many there are.
    pub async fn channel_threads(
        &self,
        p: &AppPrincipal,
        id: i64,
        user: i64,
        filter: ThreadFilter,
        page: &PageRequest,
    ) -> Result<(Vec<ThreadRow>, u64)> {
        self.readable_channel(p, id, user).await?;
        let app = p.application_id;
        let rows = self
            .threads
            .page(app, id, filter, page.offset(), page.size)
            .await?;
        Ok((rows, self.threads.count(app, id, filter).await?))
    }

    /// The reply thread of top-level message `id`; a reply has none (replies nest one level).
    pub async fn reply_thread(&self, p: &AppPrincipal, id: i64) -> Result<ThreadRow> {
        let m = self.message_row(p, id).await?;
        match self
            .threads
            .replies_of(p.application_id, &[id])
            .await?
            .pop()
        {
            Some((t, _)) => Ok(t),
            None => Err(invalid(format!(
                "message {id} is a reply (nested level {}): reply to the message it answers",
                m.nested_level
            ))
            .into()),
        }
    }

    /// Sends `input` as a reply to message `id`, in its reply thread.
    pub async fn reply_to_message(
        &self,
        p: &AppPrincipal,
        id: i64,
        input: NewMessageInput,
    ) -> Result<MessageView> {
        let t = self.reply_thread(p, id).await?;
        self.send_thread_message(p, t.id, input).await
    }

    /// The replies to message `id` as `user` sees them, newest first.
    pub async fn message_replies(
        &self,
        p: &AppPrincipal,
        id: i64,
        user: i64,
        req: &CursorRequest,
    ) -> Result<CursorPage<MessageView>> {
        let t = self.reply_thread(p, id).await?;
        self.readable_channel(p, t.channel_id, user).await?;
        let mut filter = MessageFilter::default();
        filter.viewing.viewer = Some(user);
        self.thread_messages_as(p, t.id, &filter, req).await
    }

    /// How many replies message `id` has (0 for a reply).
    pub async fn replies_count(&self, p: &AppPrincipal, id: i64) -> Result<u64> {
        self.message_row(p, id).await?;
        Ok(self
            .threads
            .replies_of(p.application_id, &[id])
            .await?
            .pop()
            .map_or(0, |(_, n)| n))
    }

    /// `user` reads thread `id` up to its newest message (and the channel with it: read
    /// cursors are per channel).
    pub async fn read_thread(&self, p: &AppPrincipal, id: i64, user: i64) -> Result<ThreadRow> {
        let t = self.get_thread(p, id).await?;
        let newest = CursorRequest {
            size: 1,
            ..CursorRequest::default()
        };
        let page = self.thread_messages(p, id, &newest).await?;
        if let Some(m) = page.items.first() {
            self.read_message(p, user, m.message.id).await?;
        }
        Ok(t)
    }
}
