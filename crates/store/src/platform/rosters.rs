//! The users attached to a channel in one role: members, moderators, invitees or blocked users.
//! Callers check first that the channel belongs to their application; rows here are keyed by
//! channel.

use sea_query::{Expr, JoinType, OnConflict, Order, Query};

use super::chat_users::UserField;
use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::Ident;

/// Which roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Roster {
    Members,
    Moderators,
    Invites,
    /// Users a channel's moderators blocked from writing to it (its block records).
    Blocked,
}

/// One user on a roster, and since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RosterEntry {
    pub user_id: i64,
    pub created: i64,
}

/// What a page of a roster can be sorted by: when each user was put on it, or a field of the
/// user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RosterOrder {
    Added,
    User(UserField),
}

impl Roster {
    fn table(self) -> Ident {
        Ident::new(match self {
            Roster::Members => "chat_channel_members",
            Roster::Moderators => "chat_channel_moderators",
            Roster::Invites => "chat_channel_invites",
            Roster::Blocked => "chat_channel_blocks",
        })
    }
}

#[derive(Debug, Clone)]
pub struct Rosters {
    db: Db,
}

/// The user aliased `users` has a display name containing `text`, in any case (folded on both
/// sides: LIKE ignores case on SQLite only).
fn display_name_contains(users: &Ident, text: &str) -> sea_query::SimpleExpr {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Expr::expr(sea_query::Func::lower(Expr::col((
        users.clone(),
        Ident::new("display_name"),
    ))))
    .like(sea_query::LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

impl Rosters {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Puts `user` on the roster inside `tx`; false when already there.
    pub async fn add(
        tx: &mut Tx,
        roster: Roster,
        channel: i64,
        user: i64,
        created: i64,
    ) -> Result<bool, StoreError> {
        let mut q = Query::insert();
        q.into_table(roster.table())
            .columns(["channel_id", "user_id", "created"].map(Ident::new))
            .values_panic([channel.into(), user.into(), created.into()])
            .on_conflict(
                OnConflict::columns(["channel_id", "user_id"].map(Ident::new))
                    .do_nothing()
                    .to_owned(),
            );
        Ok(tx.execute(&q).await? > 0)
    }

    /// Takes `user` off the roster inside `tx`; false when not there.
    pub async fn remove(
        tx: &mut Tx,
        roster: Roster,
        channel: i64,
        user: i64,
    ) -> Result<bool, StoreError> {
        let mut q = Query::delete();
        q.from_table(roster.table())
            .and_where(Expr::col(Ident::new("channel_id")).eq(channel))
            .and_where(Expr::col(Ident::new("user_id")).eq(user));
        Ok(tx.execute(&q).await? > 0)
    }

    /// Whether `user` is on the roster: one lookup by key.
    pub async fn contains(
        &self,
        roster: Roster,
        channel: i64,
        user: i64,
    ) -> Result<bool, StoreError> {
        let mut q = Query::select();
        q.from(roster.table())
            .expr_as(Expr::val(1), Ident::new("present"))
            .and_where(Expr::col(Ident::new("channel_id")).eq(channel))
            .and_where(Expr::col(Ident::new("user_id")).eq(user));
        Ok(!self.db.fetch_all(&q).await?.is_empty())
    }

    /// Every entry of `channels`' rosters as `(channel id, entry)`, each channel's in the order
    /// they joined (ties by user id): one query for a whole page of channels.
    pub async fn of_channels(
        &self,
        roster: Roster,
        channels: &[i64],
    ) -> Result<Vec<(i64, RosterEntry)>, StoreError> {
        if channels.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Query::select();
        q.from(roster.table())
            .columns(["channel_id", "user_id", "created"].map(Ident::new))
            .and_where(Expr::col(Ident::new("channel_id")).is_in(channels.iter().copied()))
            .order_by(Ident::new("channel_id"), Order::Asc)
            .order_by(Ident::new("created"), Order::Asc)
            .order_by(Ident::new("user_id"), Order::Asc);
        let rows = self.db.fetch_all(&q).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.int("channel_id")?.unwrap_or_default(),
                    RosterEntry {
                        user_id: r.int("user_id")?.unwrap_or_default(),
                        created: r.int("created")?.unwrap_or_default(),
                    },
                ))
            })
            .collect()
    }

    /// Entries sorted by `order` (each key with its descending flag), by default in the order
    /// they joined; ties always by user id. Optionally only `user`'s, or those whose display
    /// name contains `display_name` (in any case).
    #[allow(clippy::too_many_arguments)]
    pub async fn page(
        &self,
        roster: Roster,
        channel: i64,
        user: Option<i64>,
        display_name: Option<&str>,
        order: &[(RosterOrder, bool)],
        offset: u64,
        limit: u64,
    ) -> Result<Vec<RosterEntry>, StoreError> {
        let r = Ident::new("r");
        let users = Ident::new("u");
        let rc = |c: &'static str| (r.clone(), Ident::new(c));
        let mut q = Query::select();
        q.from_as(roster.table(), r.clone())
            .columns(["user_id", "created"].map(rc))
            .and_where(Expr::col(rc("channel_id")).eq(channel));
        // The users' rows are read only to sort or filter by them: a page in join order stays
        // on the roster's own rows.
        if display_name.is_some() || order.iter().any(|(o, _)| matches!(o, RosterOrder::User(_))) {
            q.join_as(
                JoinType::InnerJoin,
                Ident::new("chat_users"),
                users.clone(),
                Expr::col((users.clone(), Ident::new("id"))).equals(rc("user_id")),
            );
        }
        if let Some(text) = display_name {
            q.and_where(display_name_contains(&users, text));
        }
        let order: &[(RosterOrder, bool)] = if order.is_empty() {
            &[(RosterOrder::Added, false)]
        } else {
            order
        };
        let mut by_id = false;
        for &(o, descending) in order {
            match o {
                RosterOrder::Added => {
                    let dir = if descending { Order::Desc } else { Order::Asc };
                    q.order_by(rc("created"), dir);
                }
                RosterOrder::User(f) => {
                    f.order(&mut q, &users, descending);
                    by_id |= f == UserField::Id;
                }
            }
        }
        if !by_id {
            q.order_by(rc("user_id"), Order::Asc);
        }
        q.limit(limit).offset(offset);
        if let Some(u) = user {
            q.and_where(Expr::col(rc("user_id")).eq(u));
        }
        let rows = self.db.fetch_all(&q).await?;
        rows.iter()
            .map(|row| {
                Ok(RosterEntry {
                    user_id: row.int("user_id")?.unwrap_or_default(),
                    created: row.int("created")?.unwrap_or_default(),
                })
            })
            .collect()
    }

    /// How many users the roster holds (whose display name contains `display_name`, when
    /// given).
    pub async fn count(
        &self,
        roster: Roster,
        channel: i64,
        display_name: Option<&str>,
    ) -> Result<u64, StoreError> {
        let r = Ident::new("r");
        let users = Ident::new("u");
        let mut q = Query::select();
        q.from_as(roster.table(), r.clone())
            .expr_as(
                sea_query::Func::count(Expr::col((r.clone(), Ident::new("user_id")))),
                Ident::new("n"),
            )
            .and_where(Expr::col((r.clone(), Ident::new("channel_id"))).eq(channel));
        if let Some(text) = display_name {
            q.join_as(
                JoinType::InnerJoin,
                Ident::new("chat_users"),
                users.clone(),
                Expr::col((users.clone(), Ident::new("id"))).equals((r, Ident::new("user_id"))),
            )
            .and_where(display_name_contains(&users, text));
        }
        let rows = self.db.fetch_all(&q).await?;
        Ok(rows
            .first()
            .map(|r| r.int("n"))
            .transpose()?
            .flatten()
            .unwrap_or(0)
            .max(0) as u64)
    }
}
