//! What a chat user may do to a channel as itself, and the rosters it manages that way.
//!
//! The rule: a group channel (PUBLIC, PRIVATE) is managed by its creator and its moderators; a
//! DIRECT channel by each of its members (it has neither). Managing is changing its display name
//! and properties, deleting it, naming and removing moderators, and blocking users from writing to
//! it (its block records). Any member of a PRIVATE channel may invite. The Platform API acts for
//! the whole application and is held to none of this.

use palaver_domain::platform::paging::PageRequest;
use palaver_domain::{DomainError, ErrorCode};
use palaver_store::platform::{ChannelRow, Roster};
use serde_json::Value;

use super::channel_input::ChannelPatch;
use super::channel_rosters::RosterUser;
use super::channels::ChannelView;
use super::{AppPrincipal, Platform};
use crate::error::Result;

fn denied(message: impl Into<String>) -> DomainError {
    DomainError::new(ErrorCode::AccessDenied, message)
}

/// The other members of a DIRECT channel, as its key names them (`3,7`).
pub(crate) fn direct_members(c: &ChannelRow) -> impl Iterator<Item = i64> + '_ {
    c.direct_key
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter_map(|id| id.parse().ok())
}

impl Platform {
    /// Whether `user` manages channel `c` (see the module's rule).
    pub async fn manages(&self, c: &ChannelRow, user: i64) -> Result<bool> {
        if c.r#type == "DIRECT" {
            return self.is_member(c.id, user).await;
        }
        Ok(c.creator_id == Some(user)
            || self
                .rosters
                .contains(Roster::Moderators, c.id, user)
                .await?)
    }

    /// Channel `id` if `user` manages it.
    pub async fn managed_channel(
        &self,
        p: &AppPrincipal,
        id: i64,
        user: i64,
    ) -> Result<ChannelRow> {
        let c = self.channel_row(p, id).await?;
        if self.manages(&c, user).await? {
            return Ok(c);
        }
        Err(denied(format!(
            "Only the creator and the moderators of channel {id} may do that"
        ))
        .into())
    }

    /// Channel `id` if `user` is a member (blocked or not).
    pub async fn member_channel(&self, p: &AppPrincipal, id: i64, user: i64) -> Result<ChannelRow> {
        let c = self.channel_row(p, id).await?;
        if self.is_member(id, user).await? {
            return Ok(c);
        }
        Err(denied(format!("You are not a member of channel {id}")).into())
    }

    /// Refuses `user` where it was blocked: by a channel's block records, or, in a DIRECT
    /// channel, by the block list of (or of the other) member.
    pub async fn check_not_blocked(&self, c: &ChannelRow, user: i64) -> Result<()> {
        if c.r#type == "DIRECT" {
            for other in direct_members(c).filter(|&o| o != user) {
                if self.user_blocks.between(user, other).await? {
                    return Err(denied(format!(
                        "You cannot write to channel {}: one of you blocked the other",
                        c.id
                    ))
                    .into());
                }
            }
            return Ok(());
        }
        if self.rosters.contains(Roster::Blocked, c.id, user).await? {
            return Err(denied(format!("You are blocked from channel {}", c.id)).into());
        }
        Ok(())
    }

    /// `by` changes channel `id`'s display name and properties.
    pub async fn update_channel_as(
        &self,
        p: &AppPrincipal,
        id: i64,
        by: i64,
        patch: &ChannelPatch,
    ) -> Result<ChannelView> {
        self.managed_channel(p, id, by).await?;
        self.update_channel(p, id, patch).await
    }

    /// `by` deletes channel `id`; answers the channel as it was.
    pub async fn delete_channel_as(
        &self,
        p: &AppPrincipal,
        id: i64,
        by: i64,
    ) -> Result<ChannelView> {
        let c = self.managed_channel(p, id, by).await?;
        let view = self.view(c).await?;
        self.delete_channel(p, id).await?;
        Ok(view)
    }

    /// `by` makes the member `user_ref` names a moderator of channel `id` (or, with `add`
    /// false, no longer one).
    pub async fn set_moderator_as(
        &self,
        p: &AppPrincipal,
        id: i64,
        by: i64,
        user_ref: &Value,
        add: bool,
    ) -> Result<(ChannelView, RosterUser)> {
        self.managed_channel(p, id, by).await?;
        let user = self.resolve_user(p, user_ref, "user").await?;
        if add {
            if !self.is_member(id, user.id).await? {
                return Err(DomainError::new(
                    ErrorCode::InvalidParameter,
                    format!("{} is not a member of channel {id}", user.name),
                )
                .into());
            }
            return self
                .add_to_roster(
                    p,
                    id,
                    Roster::Moderators,
                    &serde_json::json!({"id": user.id}),
                )
                .await;
        }
        let c = self
            .remove_from_roster(p, id, Roster::Moderators, user.id)
            .await?;
        let created = self.now();
        Ok((c, RosterUser { user, created }))
    }

    /// Member `by` invites the user `user_ref` names to PRIVATE channel `id`.
    pub async fn invite_as(
        &self,
        p: &AppPrincipal,
        id: i64,
        by: i64,
        user_ref: &Value,
    ) -> Result<RosterUser> {
        self.member_channel(p, id, by).await?;
        let (_, invited) = self.add_to_roster(p, id, Roster::Invites, user_ref).await?;
        Ok(invited)
    }

    /// Whether `user` was invited to channel `id`.
    pub async fn is_invited(&self, id: i64, user: i64) -> Result<bool> {
        Ok(self.rosters.contains(Roster::Invites, id, user).await?)
    }

    /// `by` blocks the user `user_ref` names from writing to channel `id` (a block record).
    /// Nobody blocks itself or the channel's creator.
    pub async fn block_in_channel(
        &self,
        p: &AppPrincipal,
        id: i64,
        by: i64,
        user_ref: &Value,
    ) -> Result<RosterUser> {
        let c = self.managed_channel(p, id, by).await?;
        let user = self.resolve_user(p, user_ref, "user").await?;
        if user.id == by || c.creator_id == Some(user.id) {
            return Err(
                denied(format!("{} cannot be blocked from channel {id}", user.name)).into(),
            );
        }
        let (_, record) = self
            .add_to_roster(p, id, Roster::Blocked, &serde_json::json!({"id": user.id}))
            .await?;
        Ok(record)
    }

    /// `by` deletes the block record of `user` in channel `id`; answers the user.
    pub async fn unblock_in_channel(
        &self,
        p: &AppPrincipal,
        id: i64,
        by: i64,
        user: i64,
    ) -> Result<RosterUser> {
        self.managed_channel(p, id, by).await?;
        let u = self.get_user(p, user).await?;
        self.remove_from_roster(p, id, Roster::Blocked, user)
            .await?;
        Ok(RosterUser {
            user: u,
            created: self.now(),
        })
    }

    /// A page of channel `id`'s block records, for a user who may read the channel.
    pub async fn channel_block_records(
        &self,
        p: &AppPrincipal,
        id: i64,
        user: i64,
        page: &PageRequest,
    ) -> Result<(Vec<RosterUser>, u64)> {
        self.readable_channel(p, id, user).await?;
        let (_, items, total) = self.list_roster(p, id, Roster::Blocked, None, page).await?;
        Ok((items, total))
    }
}

impl Platform {
    /// The ids of channel `id`'s members: whom the real-time hub tells of changes to it.
    pub async fn member_ids(&self, p: &AppPrincipal, id: i64) -> Result<Vec<i64>> {
        self.channel_row(p, id).await?;
        Ok(self
            .rosters
            .of_channels(Roster::Members, &[id])
            .await?
            .into_iter()
            .map(|(_, e)| e.user_id)
            .collect())
    }
}
