//! Real-time sessions as the platform keeps them: user sessions (a connected client) and chat
//! sessions (a channel open in it), their listing over REST, the presence and participation they
//! make, and the leases that end the sessions of an instance that died. Going online or offline
//! and entering or leaving a channel are signalled on the bus, never stored as events.

use palaver_domain::platform::event::Event;
use palaver_domain::platform::paging::PageRequest;
use palaver_store::platform::{ChatSessionRow, ChatUserRow, Sessions, UserSessionRow};

use super::channel_input::invalid;
use super::sort_keys::user_order;
use super::{AppPrincipal, Platform};
use crate::error::Result;

/// Properties session pages may be sorted by.
pub const SESSION_SORTABLE: [&str; 2] = ["id", "created_time"];

/// A chat session with the user session it belongs to and its user.
#[derive(Debug, Clone)]
pub struct ChatSessionView {
    pub chat: ChatSessionRow,
    pub session: UserSessionRow,
    pub user: ChatUserRow,
}

fn state_filter(state: Option<&str>) -> Result<Option<&'static str>> {
    match state.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some("ACTIVE") => Ok(Some("ACTIVE")),
        Some("ENDED") => Ok(Some("ENDED")),
        Some(other) => {
            Err(invalid(format!("state must be ACTIVE or ENDED, not \"{other}\"")).into())
        }
    }
}

/// Sessions are listed by id (their creation order); `sort=...,desc` turns it around.
fn ascending(page: &PageRequest) -> bool {
    page.sort.first().is_none_or(|s| !s.descending)
}

fn principal(app: i64) -> AppPrincipal {
    AppPrincipal {
        application_id: app,
        organisation_id: String::new(),
    }
}

impl Platform {
    /// Starts a user session for `user` held by `instance`; the user is online from now on.
    pub async fn start_user_session(
        &self,
        p: &AppPrincipal,
        user: &ChatUserRow,
        instance: &str,
        agent: Option<&str>,
    ) -> Result<UserSessionRow> {
        let app = p.application_id;
        let row = self
            .sessions
            .start_user(app, user.id, instance, agent, self.now())
            .await?;
        if self.sessions.active_count(app, user.id).await? == 1 {
            self.signal(p, presence(user, true));
        }
        Ok(row)
    }

    /// Ends user session `id` and the chat sessions open in it.
    pub async fn end_user_session(
        &self,
        p: &AppPrincipal,
        user: &ChatUserRow,
        id: i64,
    ) -> Result<()> {
        let app = p.application_id;
        let Some(chats) = self.sessions.end_user(app, id, self.now()).await? else {
            return Ok(());
        };
        for c in &chats {
            self.left_channel(p, c).await?;
        }
        if self.sessions.active_count(app, user.id).await? == 0 {
            self.signal(p, presence(user, false));
        }
        Ok(())
    }

    /// Opens channel `channel` in user session `session`: its user is a participant from now on.
    pub async fn start_chat_session(
        &self,
        p: &AppPrincipal,
        session: &UserSessionRow,
        channel: i64,
    ) -> Result<ChatSessionRow> {
        let app = p.application_id;
        let user = session.user_id;
        let mut tx = self.db.begin().await?;
        let row =
            Sessions::start_chat_in(&mut tx, app, session.id, user, channel, self.now()).await?;
        let started = Event::ChatSessionStarted {
            chat_session_id: row.id,
            channel_id: channel,
            user_id: user,
        };
        self.commit(tx, p, started).await?;
        if self.sessions.active_chats(app, user, channel).await? == 1 {
            self.signal(
                p,
                Event::ParticipantChanged {
                    channel_id: channel,
                    user_id: user,
                    active: true,
                },
            );
        }
        Ok(row)
    }

    /// Ends chat session `chat`.
    pub async fn end_chat_session(&self, p: &AppPrincipal, chat: &ChatSessionRow) -> Result<()> {
        if self
            .sessions
            .end_chat(p.application_id, chat.id, self.now())
            .await?
        {
            self.left_channel(p, chat).await?;
        }
        Ok(())
    }

    /// Signals that `chat`'s user left its channel, unless another of its sessions is there.
    async fn left_channel(&self, p: &AppPrincipal, chat: &ChatSessionRow) -> Result<()> {
        let (app, user, channel) = (p.application_id, chat.user_id, chat.channel_id);
        if self.sessions.active_chats(app, user, channel).await? == 0 {
            self.signal(
                p,
                Event::ParticipantChanged {
                    channel_id: channel,
                    user_id: user,
                    active: false,
                },
            );
        }
        Ok(())
    }

    /// `GET /user-sessions`: a page of the application's user sessions with their users.
    pub async fn list_user_sessions(
        &self,
        p: &AppPrincipal,
        state: Option<&str>,
        page: &PageRequest,
    ) -> Result<(Vec<(UserSessionRow, ChatUserRow)>, u64)> {
        let app = p.application_id;
        let state = state_filter(state)?;
        let (rows, total) = self
            .sessions
            .user_page(app, state, ascending(page), page.offset(), page.size)
            .await?;
        let ids: Vec<i64> = rows.iter().map(|s| s.user_id).collect();
        let users = self.users.by_ids(app, &ids).await?;
        let items = rows
            .into_iter()
            .filter_map(|s| {
                let u = users.iter().find(|u| u.id == s.user_id)?.clone();
                Some((s, u))
            })
            .collect();
        Ok((items, total))
    }

    /// `GET /chat-sessions`: a page of the application's chat sessions.
    pub async fn list_chat_sessions(
        &self,
        p: &AppPrincipal,
        state: Option<&str>,
        page: &PageRequest,
    ) -> Result<(Vec<ChatSessionView>, u64)> {
        let app = p.application_id;
        let state = state_filter(state)?;
        let (rows, total) = self
            .sessions
            .chat_page(app, state, ascending(page), page.offset(), page.size)
            .await?;
        let session_ids: Vec<i64> = rows.iter().map(|c| c.user_session_id).collect();
        let sessions = self.sessions.user_sessions(app, &session_ids).await?;
        let user_ids: Vec<i64> = rows.iter().map(|c| c.user_id).collect();
        let users = self.users.by_ids(app, &user_ids).await?;
        let items = rows
            .into_iter()
            .filter_map(|chat| {
                let session = sessions.iter().find(|s| s.id == chat.user_session_id)?;
                let user = users.iter().find(|u| u.id == chat.user_id)?;
                Some(ChatSessionView {
                    session: session.clone(),
                    user: user.clone(),
                    chat,
                })
            })
            .collect();
        Ok((items, total))
    }

    /// Users with an active chat session in channel `channel`, sorted by the users' fields
    /// ([`ROSTER_USER_SORTABLE`](super::ROSTER_USER_SORTABLE)) or by id; and how many there are.
    pub async fn channel_participants(
        &self,
        p: &AppPrincipal,
        channel: i64,
        page: &PageRequest,
    ) -> Result<(Vec<ChatUserRow>, u64)> {
        self.channel_row(p, channel).await?;
        let (ids, total) = self
            .sessions
            .participants(
                p.application_id,
                channel,
                &user_order(page),
                page.offset(),
                page.size,
            )
            .await?;
        let users = self.users.by_ids(p.application_id, &ids).await?;
        // In the page's order: the users come back in none.
        let users = ids
            .iter()
            .filter_map(|id| users.iter().find(|u| u.id == *id).cloned())
            .collect();
        Ok((users, total))
    }

    /// Keeps `instance`'s sessions alive for `ttl_millis` more.
    pub async fn renew_lease(&self, instance: &str, ttl_millis: i64) -> Result<()> {
        Ok(self
            .sessions
            .renew_lease(instance, self.now() + ttl_millis)
            .await?)
    }

    /// Ends the sessions held by `instance` (at its start, the ones a crash left behind) and
    /// by every other instance whose lease ran out; answers how many user sessions ended.
    pub async fn reap_sessions(&self, instance: &str, own_too: bool) -> Result<usize> {
        let mut dead = self.sessions.expired(self.now(), instance).await?;
        if own_too {
            dead.push(instance.to_string());
        }
        let mut ended = 0;
        for i in dead {
            for s in self.sessions.held_by(&i).await? {
                let p = principal(s.application_id);
                if let Ok(user) = self.get_user(&p, s.user_id).await {
                    self.end_user_session(&p, &user, s.id).await?;
                    ended += 1;
                }
            }
            if i != instance {
                self.sessions.forget_instance(&i).await?;
            }
        }
        Ok(ended)
    }
}

fn presence(user: &ChatUserRow, online: bool) -> Event {
    Event::PresenceChanged {
        user_id: user.id,
        online,
        status: user.presence_status.clone(),
    }
}
