//! Read cursors: how far each member has read its channel, as the last read sequence number.
//! Unread counts and read receipts derive from them; there is no counter to drift.

use sea_query::{
    Cond, Expr, Func, JoinType, OnConflict, Order, Query, SelectStatement, SimpleExpr,
    SubQueryStatement,
};

use super::channels::ChannelField;
use super::chat_users::UserField;
use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::row::DbRow;
use crate::Ident;

/// One member's cursor on one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadCursor {
    pub channel_id: i64,
    pub user_id: i64,
    pub last_read_seq: i64,
    /// When the cursor last moved, epoch milliseconds.
    pub updated: i64,
}

/// A cursor with how many messages of others it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadSummary {
    pub cursor: ReadCursor,
    pub count: u64,
}

/// What a page of read receipts can be sorted by: when the reader's cursor last moved, or a
/// field of the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptOrder {
    Read,
    User(UserField),
}

/// What a page of read summaries can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryOrder {
    /// How many messages the cursor covers.
    Count,
    Channel(ChannelField),
    User(UserField),
}

fn table() -> Ident {
    Ident::new("chat_read_cursors")
}

fn col(c: &'static str) -> Expr {
    Expr::col((table(), Ident::new(c)))
}

fn read(r: &DbRow) -> Result<ReadCursor, StoreError> {
    Ok(ReadCursor {
        channel_id: r.int("channel_id")?.unwrap_or_default(),
        user_id: r.int("user_id")?.unwrap_or_default(),
        last_read_seq: r.int("last_read_seq")?.unwrap_or_default(),
        updated: r.int("updated")?.unwrap_or_default(),
    })
}

fn dir(descending: bool) -> Order {
    if descending {
        Order::Desc
    } else {
        Order::Asc
    }
}

/// Joins the `chat_users` row of each cursor into `q` as `alias`.
fn join_users(q: &mut SelectStatement, alias: &Ident) {
    q.join_as(
        JoinType::InnerJoin,
        Ident::new("chat_users"),
        alias.clone(),
        Expr::col((alias.clone(), Ident::new("id"))).equals((table(), Ident::new("user_id"))),
    );
}

fn n(rows: &[DbRow]) -> Result<u64, StoreError> {
    Ok(rows
        .first()
        .map(|r| r.int("n"))
        .transpose()?
        .flatten()
        .unwrap_or(0)
        .max(0) as u64)
}

#[derive(Debug, Clone)]
pub struct ReadCursors {
    db: Db,
}

impl ReadCursors {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Moves `user`'s cursor on `channel` forward to `seq` inside `tx` (the caller checked the
    /// membership); false when it was already there or further. One statement, so that moves
    /// racing on a cursor that does not exist yet still end at the furthest: an update first and
    /// an insert after would lose every move but the first to commit.
    pub async fn advance(
        tx: &mut Tx,
        channel: i64,
        user: i64,
        seq: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut q = Query::insert();
        q.into_table(table())
            .columns(["channel_id", "user_id", "last_read_seq", "updated"].map(Ident::new))
            .values_panic([channel.into(), user.into(), seq.into(), now.into()])
            .on_conflict(
                OnConflict::columns(["channel_id", "user_id"].map(Ident::new))
                    .update_columns(["last_read_seq", "updated"].map(Ident::new))
                    .action_and_where(Expr::col((table(), Ident::new("last_read_seq"))).lt(seq))
                    .to_owned(),
            );
        Ok(tx.execute(&q).await? > 0)
    }

    /// Moves `user`'s cursor on `channel` back to just before message `seq` inside `tx`, so
    /// that message reads as unread again; false when the cursor had not reached it.
    pub async fn retreat(
        tx: &mut Tx,
        channel: i64,
        user: i64,
        seq: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut q = Query::update();
        q.table(table())
            .values([
                (Ident::new("last_read_seq"), (seq - 1).max(0).into()),
                (Ident::new("updated"), now.into()),
            ])
            .and_where(Expr::col(Ident::new("channel_id")).eq(channel))
            .and_where(Expr::col(Ident::new("user_id")).eq(user))
            .and_where(Expr::col(Ident::new("last_read_seq")).gte(seq));
        Ok(tx.execute(&q).await? > 0)
    }

    /// `user`'s cursor on `channel`, if it ever read there.
    pub async fn get(&self, channel: i64, user: i64) -> Result<Option<ReadCursor>, StoreError> {
        let mut q = Query::select();
        q.from(table())
            .columns(["channel_id", "user_id", "last_read_seq", "updated"].map(Ident::new))
            .and_where(Expr::col(Ident::new("channel_id")).eq(channel))
            .and_where(Expr::col(Ident::new("user_id")).eq(user));
        let rows = self.db.fetch_all(&q).await?;
        rows.first().map(read).transpose()
    }

    fn covering(channel: i64, seq: i64, sender: Option<i64>) -> SelectStatement {
        let mut q = Query::select();
        q.from(table())
            .and_where(col("channel_id").eq(channel))
            .and_where(col("last_read_seq").gte(seq));
        if let Some(s) = sender {
            q.and_where(col("user_id").ne(s));
        }
        q
    }

    /// The cursors past message `seq` of `channel` (its readers), but `sender`'s, sorted by
    /// `order` (each key with its descending flag), by default in the order they last moved;
    /// ties always by user id.
    pub async fn readers(
        &self,
        channel: i64,
        seq: i64,
        sender: Option<i64>,
        order: &[(ReceiptOrder, bool)],
        offset: u64,
        limit: u64,
    ) -> Result<Vec<ReadCursor>, StoreError> {
        let users = Ident::new("u");
        let mut q = Self::covering(channel, seq, sender);
        q.columns(
            ["channel_id", "user_id", "last_read_seq", "updated"].map(|c| (table(), Ident::new(c))),
        );
        if order
            .iter()
            .any(|(o, _)| matches!(o, ReceiptOrder::User(_)))
        {
            join_users(&mut q, &users);
        }
        let order: &[(ReceiptOrder, bool)] = if order.is_empty() {
            &[(ReceiptOrder::Read, false)]
        } else {
            order
        };
        let mut by_id = false;
        for &(o, descending) in order {
            match o {
                ReceiptOrder::Read => {
                    q.order_by((table(), Ident::new("updated")), dir(descending));
                }
                ReceiptOrder::User(f) => {
                    f.order(&mut q, &users, descending);
                    by_id |= f == UserField::Id;
                }
            }
        }
        if !by_id {
            q.order_by((table(), Ident::new("user_id")), Order::Asc);
        }
        q.limit(limit).offset(offset);
        let rows = self.db.fetch_all(&q).await?;
        rows.iter().map(read).collect()
    }

    pub async fn count_readers(
        &self,
        channel: i64,
        seq: i64,
        sender: Option<i64>,
    ) -> Result<u64, StoreError> {
        let mut q = Self::covering(channel, seq, sender);
        q.expr_as(Func::count(col("user_id")), Ident::new("n"));
        n(&self.db.fetch_all(&q).await?)
    }

    fn of_app(app: i64) -> SelectStatement {
        let mut channels = Query::select();
        channels
            .column(Ident::new("id"))
            .from(Ident::new("chat_channels"))
            .and_where(Expr::col(Ident::new("application_id")).eq(app));
        let mut q = Query::select();
        q.from(table())
            .and_where(col("channel_id").in_subquery(channels));
        q
    }

    /// The application's cursors, each with the messages of others it covers, in one query;
    /// sorted by `order` (each key with its descending flag), by default by channel; ties
    /// always by channel id, then user id. Sorting by the count counts for every cursor of the
    /// application, not only the page's.
    pub async fn summaries(
        &self,
        app: i64,
        order: &[(SummaryOrder, bool)],
        offset: u64,
        limit: u64,
    ) -> Result<Vec<ReadSummary>, StoreError> {
        let messages = Ident::new("chat_messages");
        let m = |c: &'static str| Expr::col((messages.clone(), Ident::new(c)));
        let mut covered = Query::select();
        covered
            .expr(Func::count(m("id")))
            .from(messages.clone())
            .and_where(m("application_id").eq(app))
            .and_where(m("channel_id").equals((table(), Ident::new("channel_id"))))
            .and_where(m("seq").lte(col("last_read_seq")))
            .cond_where(
                Cond::any()
                    .add(m("user_id").is_null())
                    .add(m("user_id").not_equals((table(), Ident::new("user_id")))),
            );
        let mut q = Self::of_app(app);
        q.columns(
            ["channel_id", "user_id", "last_read_seq", "updated"].map(|c| (table(), Ident::new(c))),
        )
        .expr_as(
            SimpleExpr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(covered))),
            Ident::new("n"),
        );
        let (channels, users) = (Ident::new("c"), Ident::new("u"));
        if order
            .iter()
            .any(|(o, _)| matches!(o, SummaryOrder::Channel(_)))
        {
            q.join_as(
                JoinType::InnerJoin,
                Ident::new("chat_channels"),
                channels.clone(),
                Expr::col((channels.clone(), Ident::new("id")))
                    .equals((table(), Ident::new("channel_id"))),
            );
        }
        if order
            .iter()
            .any(|(o, _)| matches!(o, SummaryOrder::User(_)))
        {
            join_users(&mut q, &users);
        }
        for &(o, descending) in order {
            match o {
                // By the output column: the engines accept its name alone in ORDER BY.
                SummaryOrder::Count => {
                    q.order_by(Ident::new("n"), dir(descending));
                }
                SummaryOrder::Channel(f) => f.order(&mut q, &channels, descending),
                SummaryOrder::User(f) => f.order(&mut q, &users, descending),
            }
        }
        q.order_by((table(), Ident::new("channel_id")), Order::Asc)
            .order_by((table(), Ident::new("user_id")), Order::Asc)
            .limit(limit)
            .offset(offset);
        let rows = self.db.fetch_all(&q).await?;
        rows.iter()
            .map(|r| {
                Ok(ReadSummary {
                    cursor: read(r)?,
                    count: r.int("n")?.unwrap_or(0).max(0) as u64,
                })
            })
            .collect()
    }

    pub async fn count_summaries(&self, app: i64) -> Result<u64, StoreError> {
        let mut q = Self::of_app(app);
        q.expr_as(Func::count(col("user_id")), Ident::new("n"));
        n(&self.db.fetch_all(&q).await?)
    }
}
