//! Notifications: a consumer of the outbox turns each committed `message.created` into one
//! notification per other member of the channel (a mention of the member, or of the channel,
//! says so). The consumer's offset moves in the transaction that writes the notifications, so
//! each message notifies once however many workers drain.

use std::collections::{BTreeSet, HashMap, HashSet};

use palaver_domain::platform::cursor::CursorRequest;
use palaver_domain::platform::event::Event;
use palaver_store::platform::{
    ChannelRow, ChatUserRow, Consumers, MessageRow, NotificationRow, Notifications, Roster,
};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::history::CursorPage;
use super::messages::MessageView;
use super::{AppPrincipal, Platform};
use crate::error::Result;

const CONSUMER: &str = "notifications";
/// Events handled per transaction.
const BATCH: u64 = 100;

/// A notification with its channel, message and recipient.
#[derive(Debug, Clone)]
pub struct NotificationView {
    pub notification: NotificationRow,
    pub channel: Option<ChannelRow>,
    pub message: Option<MessageView>,
    /// The message a reply answered (`USER:REPLIED_TO:MESSAGE`).
    pub parent: Option<MessageView>,
    /// Who is told: the mentioned user of a `USER:MENTIONED:USER` notification, whatever the
    /// message says after an edit.
    pub recipient: ChatUserRow,
}

impl Platform {
    /// The notifications committed messages `ids` make, in that order: a few queries for the
    /// whole batch, whatever its size.
    async fn notifications_for(
        &self,
        p: &AppPrincipal,
        ids: &[i64],
    ) -> Result<Vec<NotificationRow>> {
        let app = p.application_id;
        // Messages deleted since are missing here: nobody is told of them.
        let messages: HashMap<i64, MessageRow> = self
            .messages
            .by_ids(app, ids)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        let senders: BTreeSet<i64> = messages.values().filter_map(|m| m.user_id).collect();
        let senders: Vec<i64> = senders.into_iter().collect();
        let senders: HashMap<i64, ChatUserRow> = self
            .users
            .by_ids(app, &senders)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        let channels: BTreeSet<i64> = messages.values().map(|m| m.channel_id).collect();
        let channels: Vec<i64> = channels.into_iter().collect();
        let mut members: HashMap<i64, Vec<i64>> = HashMap::new();
        for (channel, entry) in self.rosters.of_channels(Roster::Members, &channels).await? {
            members.entry(channel).or_default().push(entry.user_id);
        }
        let muted: HashSet<(i64, i64)> = self
            .channel_states
            .muted_among(&channels)
            .await?
            .into_iter()
            .collect();
        let parents = self.reply_parents(app, messages.values()).await?;
        let now = self.now();
        let mut rows = Vec::new();
        for m in ids.iter().filter_map(|id| messages.get(id)) {
            let sender = m.user_id.and_then(|u| senders.get(&u));
            let mentions = m.mentions.as_array().map_or(&[][..], Vec::as_slice);
            let everyone = mentions.iter().any(|x| x["type"] == "CHANNEL");
            let text = m
                .body
                .clone()
                .or_else(|| {
                    m.file
                        .as_ref()
                        .and_then(|f| f["name"].as_str().map(str::to_string))
                })
                .unwrap_or_default();
            let from = sender.map_or("System", |u| u.display_name.as_str());
            let recipients = members.get(&m.channel_id).map_or(&[][..], Vec::as_slice);
            for &user in recipients.iter().filter(|&&u| Some(u) != m.user_id) {
                let named = mentions.iter().any(|x| x["user_id"].as_i64() == Some(user));
                let answered = parents
                    .get(&m.id)
                    .is_some_and(|parent| parent.user_id == Some(user));
                let (kind, title) = if named && sender.is_some() {
                    ("USER:MENTIONED:USER", format!("{from} mentioned you"))
                } else if answered && sender.is_some() {
                    (
                        "USER:REPLIED_TO:MESSAGE",
                        format!("{from} replied to your message"),
                    )
                } else if everyone && sender.is_some() {
                    (
                        "USER:MENTIONED:CHANNEL",
                        format!("{from} mentioned the channel"),
                    )
                } else if sender.is_some() {
                    ("USER:SENT:MESSAGE", format!("{from} sent a message"))
                } else {
                    ("SYSTEM:SENT:MESSAGE", "New system message".to_string())
                };
                rows.push(NotificationRow {
                    id: 0,
                    application_id: app,
                    user_id: user,
                    channel_id: Some(m.channel_id),
                    message_id: Some(m.id),
                    r#type: kind.to_string(),
                    title,
                    body: text.clone(),
                    created: now,
                    read_time: None,
                    muted: muted.contains(&(m.channel_id, user)),
                });
            }
        }
        Ok(rows)
    }

    /// The message each reply among `messages` answered, by the reply's id.
    async fn reply_parents<'a>(
        &self,
        app: i64,
        messages: impl Iterator<Item = &'a MessageRow>,
    ) -> Result<HashMap<i64, MessageRow>> {
        let replies: Vec<(i64, i64)> = messages
            .filter(|m| m.nested_level > 0)
            .map(|m| (m.id, m.thread_id))
            .collect();
        if replies.is_empty() {
            return Ok(HashMap::new());
        }
        let thread_ids: Vec<i64> = replies.iter().map(|(_, t)| *t).collect();
        let threads: HashMap<i64, i64> = self
            .threads
            .by_ids(app, &thread_ids)
            .await?
            .into_iter()
            .filter_map(|t| Some((t.id, t.parent_message_id?)))
            .collect();
        let parent_ids: Vec<i64> = threads.values().copied().collect();
        let parents: HashMap<i64, MessageRow> = self
            .messages
            .by_ids(app, &parent_ids)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        Ok(replies
            .into_iter()
            .filter_map(|(reply, thread)| {
                let parent = parents.get(threads.get(&thread)?)?;
                Some((reply, parent.clone()))
            })
            .collect())
    }

    /// Handles the caller's committed events not yet handled; answers how many notifications
    /// were made. Tests call it to drain deterministically; [`Platform::run_notifier`] calls
    /// it as events are published.
    pub async fn drain_notifications(&self, p: &AppPrincipal) -> Result<usize> {
        let mut made = 0;
        loop {
            let from = self.consumers.offset(CONSUMER, p.application_id).await?;
            let events = self.events_after(p, from, BATCH).await?;
            let Some(last) = events.last().map(|e| e.seq) else {
                return Ok(made);
            };
            let ids: Vec<i64> = events
                .iter()
                .filter_map(|e| match &e.event {
                    Event::MessageCreated(m) => Some(m.id),
                    _ => None,
                })
                .collect();
            let rows = self.notifications_for(p, &ids).await?;
            let mut tx = self.db.begin().await?;
            let users = Notifications::insert_all(&mut tx, &rows).await?;
            if !Consumers::advance(&mut tx, CONSUMER, p.application_id, from, last).await? {
                // Another worker handled these events first; start again from its offset.
                continue;
            }
            if users.is_empty() {
                tx.commit().await?;
            } else {
                made += users.len();
                let made_for = Event::NotificationsCreated { user_ids: users };
                self.commit(tx, p, made_for).await?;
            }
            if (events.len() as u64) < BATCH {
                // That was all there was; the next event wakes the notifier again.
                return Ok(made);
            }
        }
    }

    /// Handles the events not yet handled of every application that has some: what was
    /// committed while no notifier ran (before a restart), or while it lagged behind the bus.
    /// Answers how many notifications were made.
    pub async fn catch_up_notifications(&self) -> Result<usize> {
        let mut made = 0;
        for app in self.consumers.behind(CONSUMER).await? {
            let p = AppPrincipal {
                application_id: app,
                organisation_id: String::new(),
            };
            made += self.drain_notifications(&p).await?;
        }
        Ok(made)
    }

    /// Makes notifications as messages are committed, until the bus closes. It first catches up
    /// on what was committed before it started; events that came in while it worked are
    /// handled together, one drain per application; when it falls so far behind that the bus
    /// drops events, it catches up from the outbox.
    pub async fn run_notifier(&self) {
        let mut rx = self.subscribe();
        let mut catch_up = true;
        loop {
            if std::mem::take(&mut catch_up) {
                if let Err(e) = self.catch_up_notifications().await {
                    tracing::error!(error = %e.into_domain(), "notifications not made");
                }
            }
            let mut apps = BTreeSet::new();
            match rx.recv().await {
                Ok(e) if matches!(e.event, Event::MessageCreated(_)) => {
                    apps.insert(e.application_id);
                }
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => {
                    catch_up = true;
                    continue;
                }
                Err(RecvError::Closed) => return,
            }
            loop {
                match rx.try_recv() {
                    Ok(e) if matches!(e.event, Event::MessageCreated(_)) => {
                        apps.insert(e.application_id);
                    }
                    Ok(_) => {}
                    Err(TryRecvError::Lagged(_)) => catch_up = true,
                    Err(TryRecvError::Empty | TryRecvError::Closed) => break,
                }
            }
            for app in apps {
                let p = AppPrincipal {
                    application_id: app,
                    organisation_id: String::new(),
                };
                if let Err(e) = self.drain_notifications(&p).await {
                    tracing::error!(error = %e.into_domain(), "notifications not made");
                }
            }
        }
    }

    /// User `id`'s notifications, newest first.
    pub async fn user_notifications(
        &self,
        p: &AppPrincipal,
        id: i64,
        req: &CursorRequest,
    ) -> Result<CursorPage<NotificationView>> {
        let recipient = self.get_user(p, id).await?;
        let listing = format!("{}:notifications:{id}", p.application_id);
        let window = req.window(&listing)?;
        let rows = self
            .notifications
            .page(
                p.application_id,
                id,
                (window.below, window.above),
                req.size + 1,
            )
            .await?;
        let total = self.notifications.count(p.application_id, id).await?;
        let mut cut = window.cut(rows, req.size, |n| n.id);
        let rows = std::mem::take(&mut cut.items);
        let ids: Vec<i64> = rows.iter().filter_map(|n| n.message_id).collect();
        let mut messages = self.messages.by_ids(p.application_id, &ids).await?;
        // Replies' notifications show the message answered, too.
        let replied: Vec<i64> = rows
            .iter()
            .filter(|n| n.r#type == "USER:REPLIED_TO:MESSAGE")
            .filter_map(|n| n.message_id)
            .collect();
        let answered: Vec<&MessageRow> = messages
            .iter()
            .filter(|m| replied.contains(&m.id))
            .collect();
        let parent_of = self
            .reply_parents(p.application_id, answered.into_iter())
            .await?;
        messages.extend(parent_of.values().cloned());
        let views: HashMap<i64, MessageView> = self
            .message_views(p, messages)
            .await?
            .into_iter()
            .map(|v| (v.message.id, v))
            .collect();
        let mut channels: HashMap<i64, ChannelRow> = HashMap::new();
        let mut items = Vec::with_capacity(rows.len());
        for n in rows {
            let channel = match n.channel_id {
                Some(c) if !channels.contains_key(&c) => {
                    let row = self.channels.get(p.application_id, c).await?;
                    if let Some(r) = &row {
                        channels.insert(c, r.clone());
                    }
                    row
                }
                Some(c) => channels.get(&c).cloned(),
                None => None,
            };
            let parent = n
                .message_id
                .and_then(|m| parent_of.get(&m))
                .and_then(|parent| views.get(&parent.id).cloned());
            items.push(NotificationView {
                message: n.message_id.and_then(|m| views.get(&m).cloned()),
                parent,
                channel,
                notification: n,
                recipient: recipient.clone(),
            });
        }
        Ok(CursorPage::of(&listing, req.size, total, cut, items))
    }
}
