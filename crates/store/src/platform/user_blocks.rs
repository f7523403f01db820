//! Users' block lists: whom each user blocked, and since when. Callers check first that both
//! users belong to their application; rows here are keyed by user.

use sea_query::{Expr, Func, OnConflict, Order, Query};

use super::rosters::RosterEntry;
use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::Ident;

fn table() -> Ident {
    Ident::new("chat_user_blocks")
}

#[derive(Debug, Clone)]
pub struct UserBlocks {
    db: Db,
}

impl UserBlocks {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Puts `blocked` on `user`'s block list inside `tx`; false when already there.
    pub async fn add(tx: &mut Tx, user: i64, blocked: i64, now: i64) -> Result<bool, StoreError> {
        let mut q = Query::insert();
        q.into_table(table())
            .columns(["user_id", "blocked_id", "created"].map(Ident::new))
            .values_panic([user.into(), blocked.into(), now.into()])
            .on_conflict(
                OnConflict::columns(["user_id", "blocked_id"].map(Ident::new))
                    .do_nothing()
                    .to_owned(),
            );
        Ok(tx.execute(&q).await? > 0)
    }

    /// Takes `blocked` off `user`'s block list inside `tx`; false when not there.
    pub async fn remove(tx: &mut Tx, user: i64, blocked: i64) -> Result<bool, StoreError> {
        let mut q = Query::delete();
        q.from_table(table())
            .and_where(Expr::col(Ident::new("user_id")).eq(user))
            .and_where(Expr::col(Ident::new("blocked_id")).eq(blocked));
        Ok(tx.execute(&q).await? > 0)
    }

    /// Whether either of `a` and `b` blocked the other: one lookup.
    pub async fn between(&self, a: i64, b: i64) -> Result<bool, StoreError> {
        let pair = |x: i64, y: i64| {
            Expr::col(Ident::new("user_id"))
                .eq(x)
                .and(Expr::col(Ident::new("blocked_id")).eq(y))
        };
        let mut q = Query::select();
        q.from(table())
            .expr_as(Expr::val(1), Ident::new("present"))
            .cond_where(sea_query::Cond::any().add(pair(a, b)).add(pair(b, a)))
            .limit(1);
        Ok(!self.db.fetch_all(&q).await?.is_empty())
    }

    /// One page of `user`'s block list, oldest block first (the blocked user's id in
    /// `user_id`).
    pub async fn page(
        &self,
        user: i64,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<RosterEntry>, StoreError> {
        let mut q = Query::select();
        q.from(table())
            .columns(["blocked_id", "created"].map(Ident::new))
            .and_where(Expr::col(Ident::new("user_id")).eq(user))
            .order_by(Ident::new("created"), Order::Asc)
            .order_by(Ident::new("blocked_id"), Order::Asc)
            .limit(limit)
            .offset(offset);
        let rows = self.db.fetch_all(&q).await?;
        rows.iter()
            .map(|r| {
                Ok(RosterEntry {
                    user_id: r.int("blocked_id")?.unwrap_or_default(),
                    created: r.int("created")?.unwrap_or_default(),
                })
            })
            .collect()
    }

    pub async fn count(&self, user: i64) -> Result<u64, StoreError> {
        let mut q = Query::select();
        q.from(table())
            .expr_as(
                Func::count(Expr::col(Ident::new("blocked_id"))),
                Ident::new("n"),
            )
            .and_where(Expr::col(Ident::new("user_id")).eq(user));
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
