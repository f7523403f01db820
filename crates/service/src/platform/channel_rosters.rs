//! Who is in a channel and what is sent to it: members, moderators (group channels), invites
//! (PRIVATE channels), participants, custom events and keystrokes. Every write commits with its
//! event.

use palaver_domain::platform::event::{Event, RosterChange};
use palaver_domain::platform::paging::PageRequest;
use palaver_domain::{DomainError, ErrorCode};
use palaver_store::platform::{ChannelRow, ChatUserRow, Roster, RosterEntry, RosterOrder, Rosters};
use serde_json::Value;

use super::channel_input::invalid;
use super::channels::ChannelView;
use super::sort_keys::{roster_entry_order, roster_user_order};
use super::{AppPrincipal, Platform};
use crate::error::Result;

/// A roster entry with its user.
#[derive(Debug, Clone)]
pub struct RosterUser {
    pub user: ChatUserRow,
    pub created: i64,
}

/// The event of `user` being put on (`added`) or taken off a channel's roster.
pub(crate) fn roster_event(roster: Roster, added: bool, channel: i64, user: &ChatUserRow) -> Event {
    let change = RosterChange {
        channel_id: channel,
        user_id: user.id,
        username: user.name.clone(),
    };
    match (roster, added) {
        (Roster::Members, true) => Event::MemberAdded(change),
        (Roster::Members, false) => Event::MemberRemoved(change),
        (Roster::Moderators, true) => Event::ModeratorAdded(change),
        (Roster::Moderators, false) => Event::ModeratorRemoved(change),
        (Roster::Invites, true) => Event::InviteSent(change),
        (Roster::Invites, false) => Event::InviteRemoved(change),
        (Roster::Blocked, true) => Event::ChannelUserBlocked(change),
        (Roster::Blocked, false) => Event::ChannelUserUnblocked(change),
    }
}

fn role(roster: Roster) -> &'static str {
    match roster {
        Roster::Members => "a member",
        Roster::Moderators => "a moderator",
        Roster::Invites => "invited",
        Roster::Blocked => "blocked",
    }
}

/// Refuses rosters the channel's type does not have.
pub(crate) fn check_roster(c: &ChannelRow, roster: Roster, writing: bool) -> Result<()> {
    let refused = match roster {
        // DIRECT channels keep the member set they were created with.
        Roster::Members => writing && c.r#type == "DIRECT",
        Roster::Moderators => c.r#type == "DIRECT",
        Roster::Invites => c.r#type != "PRIVATE",
        // Two people block each other through their own block lists.
        Roster::Blocked => c.r#type == "DIRECT",
    };
    if !refused {
        return Ok(());
    }
    Err(invalid(match roster {
        Roster::Members => "the members of a DIRECT channel cannot change".to_string(),
        Roster::Moderators => "a DIRECT channel has no moderators".to_string(),
        Roster::Blocked => "a DIRECT channel has no block records: block the user".to_string(),
        Roster::Invites => format!(
            "only PRIVATE channels take invites; channel {} is {}",
            c.id, c.r#type
        ),
    })
    .into())
}

fn text(body: &Value, k: &str) -> Option<String> {
    body.get(k).and_then(Value::as_str).map(str::to_string)
}

impl Platform {
    /// Puts the referenced user on a roster (idempotent); answers the channel and the user.
    pub async fn add_to_roster(
        &self,
        p: &AppPrincipal,
        channel: i64,
        roster: Roster,
        user_ref: &Value,
    ) -> Result<(ChannelView, RosterUser)> {
        let c = self.channel_row(p, channel).await?;
        check_roster(&c, roster, true)?;
        let user = self.resolve_user(p, user_ref, "user").await?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        if Rosters::add(&mut tx, roster, channel, user.id, now).await? {
            self.commit(tx, p, roster_event(roster, true, channel, &user))
                .await?;
        }
        let created = self
            .rosters
            .page(roster, channel, Some(user.id), None, &[], 0, 1)
            .await?
            .first()
            .map_or(now, |e| e.created);
        Ok((self.view(c).await?, RosterUser { user, created }))
    }

    /// Takes user `user` off a roster; NotFound when not on it. Answers the channel.
    pub async fn remove_from_roster(
        &self,
        p: &AppPrincipal,
        channel: i64,
        roster: Roster,
        user: i64,
    ) -> Result<ChannelView> {
        let c = self.channel_row(p, channel).await?;
        check_roster(&c, roster, true)?;
        let u = self.get_user(p, user).await?;
        let mut tx = self.db.begin().await?;
        if !Rosters::remove(&mut tx, roster, channel, user).await? {
            return Err(DomainError::new(
                ErrorCode::NotFound,
                format!("User {user} is not {} of channel {channel}", role(roster)),
            )
            .into());
        }
        self.commit(tx, p, roster_event(roster, false, channel, &u))
            .await?;
        self.view(c).await
    }

    /// One page of a roster listed as its users (`/members`, `/moderators`), sorted by the
    /// users' fields ([`ROSTER_USER_SORTABLE`](super::ROSTER_USER_SORTABLE)), by default in the
    /// order they were added; and the roster's size. With `display_name`, only the users whose
    /// display name contains it (in any case), and how many they are.
    pub async fn list_roster(
        &self,
        p: &AppPrincipal,
        channel: i64,
        roster: Roster,
        display_name: Option<&str>,
        page: &PageRequest,
    ) -> Result<(ChannelRow, Vec<RosterUser>, u64)> {
        let order = roster_user_order(page);
        self.roster_page(p, channel, roster, display_name, &order, page)
            .await
    }

    /// One page of a roster listed as its entries (`/memberships`, `/invites`), sorted by when
    /// each user was added or by the users' fields
    /// ([`ROSTER_ENTRY_SORTABLE`](super::ROSTER_ENTRY_SORTABLE)); and the roster's size.
    pub async fn list_roster_entries(
        &self,
        p: &AppPrincipal,
        channel: i64,
        roster: Roster,
        page: &PageRequest,
    ) -> Result<(ChannelRow, Vec<RosterUser>, u64)> {
        let order = roster_entry_order(page);
        self.roster_page(p, channel, roster, None, &order, page)
            .await
    }

    async fn roster_page(
        &self,
        p: &AppPrincipal,
        channel: i64,
        roster: Roster,
        display_name: Option<&str>,
        order: &[(RosterOrder, bool)],
        page: &PageRequest,
    ) -> Result<(ChannelRow, Vec<RosterUser>, u64)> {
        let c = self.channel_row(p, channel).await?;
        check_roster(&c, roster, false)?;
        let display_name = display_name.map(str::trim).filter(|d| !d.is_empty());
        let entries: Vec<RosterEntry> = self
            .rosters
            .page(
                roster,
                channel,
                None,
                display_name,
                order,
                page.offset(),
                page.size,
            )
            .await?;
        let ids: Vec<i64> = entries.iter().map(|e| e.user_id).collect();
        let users = self.users.by_ids(p.application_id, &ids).await?;
        // In the entries' order: the users come back in none.
        let items = entries
            .iter()
            .filter_map(|e| {
                users
                    .iter()
                    .find(|u| u.id == e.user_id)
                    .map(|u| RosterUser {
                        user: u.clone(),
                        created: e.created,
                    })
            })
            .collect();
        let total = self.rosters.count(roster, channel, display_name).await?;
        Ok((c, items, total))
    }

    /// Sends a custom event `{type, properties}` to a channel's subscribers; answers it. `user`
    /// is the user who triggered it (a gateway client), `None` for the application itself: the
    /// two run different chat functions (`user.triggered.event`, `system.triggered.event`).
    pub async fn send_channel_event(
        &self,
        p: &AppPrincipal,
        channel: i64,
        user: Option<i64>,
        body: &Value,
    ) -> Result<(String, Value)> {
        let kind = text(body, "type")
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| invalid("type is required: the name of the custom event"))?;
        let properties = body
            .get("properties")
            .filter(|p| p.is_object())
            .cloned()
            .ok_or_else(|| invalid("properties is required and must be a JSON object"))?;
        self.channel_row(p, channel).await?;
        let tx = self.db.begin().await?;
        let event = Event::ChannelEventSent {
            channel_id: channel,
            r#type: kind.clone(),
            properties: properties.clone(),
            user_id: user,
        };
        self.commit(tx, p, event).await?;
        Ok((kind, properties))
    }

    /// Relays that a user is typing in a channel; answers `(keys, username)`.
    pub async fn send_channel_keystrokes(
        &self,
        p: &AppPrincipal,
        channel: i64,
        body: &Value,
    ) -> Result<(String, String)> {
        self.keystrokes(p, channel, None, body).await
    }

    /// `POST /threads/{id}/keystrokes`: someone is typing a reply in thread `thread`.
    pub async fn send_thread_keystrokes(
        &self,
        p: &AppPrincipal,
        thread: i64,
        body: &Value,
    ) -> Result<(String, String)> {
        let t = self.get_thread(p, thread).await?;
        self.keystrokes(p, t.channel_id, Some(t.id), body).await
    }

    async fn keystrokes(
        &self,
        p: &AppPrincipal,
        channel: i64,
        thread: Option<i64>,
        body: &Value,
    ) -> Result<(String, String)> {
        let keys =
            text(body, "keys").ok_or_else(|| invalid("keys is required and must be a string"))?;
        let user_ref = body
            .get("user")
            .filter(|u| !u.is_null())
            .ok_or_else(|| invalid("user is required: {\"id\": …} or {\"username\": …}"))?;
        self.channel_row(p, channel).await?;
        let user = self.resolve_user(p, user_ref, "user").await?;
        // Typing is not a durable fact: it is signalled, never stored.
        self.signal(
            p,
            Event::Keystrokes {
                channel_id: channel,
                thread_id: thread,
                keys: keys.clone(),
                user_id: user.id,
                username: user.name.clone(),
            },
        );
        Ok((keys, user.name))
    }
}
