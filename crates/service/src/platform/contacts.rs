//! A chat user's people: its contacts (the other members of the channels it is a member of) and
//! its block list (users it blocked: they no longer write to it in DIRECT channels, nor it to
//! them). Block list changes commit with their events.

use palaver_domain::platform::event::Event;
use palaver_domain::platform::paging::PageRequest;
use palaver_domain::{DomainError, ErrorCode};
use palaver_store::platform::{ChatUserRow, UserBlocks, UserFilter};

use super::channel_rosters::RosterUser;
use super::{AppPrincipal, Platform};
use crate::error::Result;

/// How a contact list is narrowed.
#[derive(Debug, Clone, Default)]
pub struct ContactsQuery {
    /// Exact username.
    pub name: Option<String>,
    /// Display name contains this, whatever its case.
    pub display_name: Option<String>,
    pub online: Option<bool>,
}

impl Platform {
    fn contact_filter(user: i64, q: &ContactsQuery) -> UserFilter {
        UserFilter {
            name: q.name.clone(),
            contact_of: Some(user),
            display_name: q.display_name.clone(),
            online: q.online,
            ..UserFilter::default()
        }
    }

    /// A page of `user`'s contacts, by display name; and how many there are.
    pub async fn contacts(
        &self,
        p: &AppPrincipal,
        user: i64,
        q: &ContactsQuery,
        page: &PageRequest,
    ) -> Result<(Vec<ChatUserRow>, u64)> {
        let f = Self::contact_filter(user, q);
        let sort = [("display_name", false)];
        let rows = self
            .users
            .page(p.application_id, &f, &sort, page.offset(), page.size)
            .await?;
        let total = self.users.count(p.application_id, &f).await?;
        Ok((rows, total))
    }

    pub async fn contacts_count(
        &self,
        p: &AppPrincipal,
        user: i64,
        q: &ContactsQuery,
    ) -> Result<u64> {
        let f = Self::contact_filter(user, q);
        Ok(self.users.count(p.application_id, &f).await?)
    }

    /// `user` blocks user `other`; answers `other` and when it was blocked.
    pub async fn block_user(&self, p: &AppPrincipal, user: i64, other: i64) -> Result<RosterUser> {
        if user == other {
            return Err(DomainError::new(
                ErrorCode::InvalidParameter,
                "A user cannot block itself",
            )
            .into());
        }
        self.get_user(p, user).await?;
        let blocked = self.get_user(p, other).await?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        if UserBlocks::add(&mut tx, user, other, now).await? {
            let e = Event::UserBlocked {
                user_id: user,
                blocked_id: other,
            };
            self.commit(tx, p, e).await?;
        }
        Ok(RosterUser {
            user: blocked,
            created: now,
        })
    }

    /// `user` takes `other` off its block list; NotFound when it was not on it.
    pub async fn unblock_user(
        &self,
        p: &AppPrincipal,
        user: i64,
        other: i64,
    ) -> Result<ChatUserRow> {
        let unblocked = self.get_user(p, other).await?;
        let mut tx = self.db.begin().await?;
        if !UserBlocks::remove(&mut tx, user, other).await? {
            return Err(DomainError::new(
                ErrorCode::NotFound,
                format!("User {other} is not on your block list"),
            )
            .into());
        }
        let e = Event::UserUnblocked {
            user_id: user,
            blocked_id: other,
        };
        self.commit(tx, p, e).await?;
        Ok(unblocked)
    }

    /// A page of `user`'s block list, oldest block first; and its length.
    pub async fn blocked_users(
        &self,
        p: &AppPrincipal,
        user: i64,
        page: &PageRequest,
    ) -> Result<(Vec<RosterUser>, u64)> {
        let entries = self
            .user_blocks
            .page(user, page.offset(), page.size)
            .await?;
        let ids: Vec<i64> = entries.iter().map(|e| e.user_id).collect();
        let users = self.users.by_ids(p.application_id, &ids).await?;
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
        Ok((items, self.user_blocks.count(user).await?))
    }
}
