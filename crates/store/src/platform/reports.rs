//! Reports of messages by chat users, and the reported messages of a channel.

use sea_query::{Alias, Expr, Func, Order, Query};

use super::messages::{read, select, MessageRow};
use crate::db::Db;
use crate::error::StoreError;

#[derive(Debug, Clone)]
pub struct Reports {
    db: Db,
}

fn reported() -> sea_query::SimpleExpr {
    let mut q = Query::select();
    q.expr(Expr::val(1))
        .from(Alias::new("chat_message_reports"))
        .and_where(
            Expr::col((Alias::new("chat_message_reports"), Alias::new("message_id")))
                .equals((Alias::new("chat_messages"), Alias::new("id"))),
        );
    Expr::exists(q)
}

impl Reports {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// A page of `channel`'s reported messages, oldest first.
    pub async fn messages(
        &self,
        app: i64,
        channel: i64,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<MessageRow>, StoreError> {
        let mut q = select(app);
        q.and_where(Expr::col((Alias::new("chat_messages"), Alias::new("channel_id"))).eq(channel))
            .and_where(reported())
            .order_by((Alias::new("chat_messages"), Alias::new("id")), Order::Asc)
            .limit(limit)
            .offset(offset);
        let rows = self.db.fetch_all(&q).await?;
        rows.iter().map(read).collect()
    }

    pub async fn count_messages(&self, app: i64, channel: i64) -> Result<u64, StoreError> {
        let mut q = select(app);
        q.clear_selects();
        q.expr_as(
            Func::count(Expr::col((Alias::new("chat_messages"), Alias::new("id")))),
            Alias::new("n"),
        )
        .and_where(Expr::col((Alias::new("chat_messages"), Alias::new("channel_id"))).eq(channel))
        .and_where(reported());
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
