//! Reactions to messages: one user's emoji on one message, at most once per emoji. Read with
//! their users in one query, a page of messages at a time. Writes take the caller's transaction;
//! callers check first that the message belongs to their application. Each row carries its
//! message's application, which every read is scoped by (and served by an index on).

use sea_query::{Expr, Func, JoinType, OnConflict, Order, Query, SelectStatement};

use super::chat_users::{self, ChatUserRow};
use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::row::DbRow;
use crate::Ident;

/// One reaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionRow {
    /// The message's application.
    pub application_id: i64,
    pub message_id: i64,
    pub user_id: i64,
    /// The emoji's Unicode character sequence.
    pub emoji: String,
    /// When it was made, epoch milliseconds.
    pub created: i64,
}

const COLUMNS: [&str; 5] = [
    "application_id",
    "message_id",
    "user_id",
    "emoji",
    "created",
];

fn table() -> Ident {
    Ident::new("chat_message_reactions")
}

fn col(c: &'static str) -> Expr {
    Expr::col((table(), Ident::new(c)))
}

fn read(r: &DbRow) -> Result<ReactionRow, StoreError> {
    Ok(ReactionRow {
        application_id: r.int("application_id")?.unwrap_or_default(),
        message_id: r.int("message_id")?.unwrap_or_default(),
        user_id: r.int("user_id")?.unwrap_or_default(),
        emoji: r.text("emoji")?.unwrap_or_default(),
        created: r.int("created")?.unwrap_or_default(),
    })
}

/// A reaction read with its user: the user's columns keep their names, so the reaction's own
/// `created` comes as `reacted`.
fn read_joined(r: &DbRow) -> Result<(ReactionRow, ChatUserRow), StoreError> {
    let user = chat_users::read(r)?;
    let reaction = ReactionRow {
        application_id: user.application_id,
        message_id: r.int("message_id")?.unwrap_or_default(),
        user_id: user.id,
        emoji: r.text("emoji")?.unwrap_or_default(),
        created: r.int("reacted")?.unwrap_or_default(),
    };
    Ok((reaction, user))
}

#[derive(Debug, Clone)]
pub struct Reactions {
    db: Db,
}

impl Reactions {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Adds `r` inside `tx`. Answers the stored reaction and whether this call made it: a user
    /// reacting again with the same emoji gets the first reaction back, unchanged.
    pub async fn add(tx: &mut Tx, r: &ReactionRow) -> Result<(ReactionRow, bool), StoreError> {
        let mut q = Query::insert();
        q.into_table(table())
            .columns(COLUMNS.map(Ident::new))
            .values_panic([
                r.application_id.into(),
                r.message_id.into(),
                r.user_id.into(),
                r.emoji.clone().into(),
                r.created.into(),
            ])
            .on_conflict(
                OnConflict::columns(["message_id", "user_id", "emoji"].map(Ident::new))
                    .do_nothing()
                    .to_owned(),
            )
            .returning(Query::returning().columns(COLUMNS.map(Ident::new)));
        if let Some(made) = tx.fetch_all(&q).await?.first() {
            return Ok((read(made)?, true));
        }
        let mut there = Query::select();
        there
            .columns(COLUMNS.map(|c| (table(), Ident::new(c))))
            .from(table())
            .and_where(col("message_id").eq(r.message_id))
            .and_where(col("user_id").eq(r.user_id))
            .and_where(col("emoji").eq(r.emoji.as_str()));
        let rows = tx.fetch_all(&there).await?;
        let row = rows
            .first()
            .ok_or_else(|| StoreError::Decode("chat_message_reactions: conflicting row".into()))?;
        Ok((read(row)?, false))
    }

    /// Removes `user`'s `emoji` reaction to `message` inside `tx`; answers it, or `None` when
    /// there was none.
    pub async fn remove(
        tx: &mut Tx,
        message: i64,
        user: i64,
        emoji: &str,
    ) -> Result<Option<ReactionRow>, StoreError> {
        let mut q = Query::delete();
        q.from_table(table())
            .and_where(Expr::col(Ident::new("message_id")).eq(message))
            .and_where(Expr::col(Ident::new("user_id")).eq(user))
            .and_where(Expr::col(Ident::new("emoji")).eq(emoji))
            .returning(Query::returning().columns(COLUMNS.map(Ident::new)));
        tx.fetch_all(&q).await?.first().map(read).transpose()
    }

    /// The reactions of `app`'s messages, joined with their users (the application's, too).
    fn select(app: i64) -> SelectStatement {
        let users = Ident::new("chat_users");
        let mut q = Query::select();
        q.from(table())
            .join(
                JoinType::InnerJoin,
                users.clone(),
                Expr::col((users.clone(), Ident::new("id")))
                    .equals((table(), Ident::new("user_id"))),
            )
            .column((table(), Ident::new("message_id")))
            .column((table(), Ident::new("emoji")))
            .expr_as(col("created"), Ident::new("reacted"));
        chat_users::select_joined(&mut q);
        q.and_where(col("application_id").eq(app));
        q
    }

    /// The reactions to `messages`, each with its user: one query whatever their number (none
    /// for no messages). In the order they were made.
    pub async fn of_messages(
        &self,
        app: i64,
        messages: &[i64],
    ) -> Result<Vec<(ReactionRow, ChatUserRow)>, StoreError> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Self::select(app);
        q.and_where(col("message_id").is_in(messages.iter().copied()))
            .order_by((table(), Ident::new("id")), Order::Asc);
        let rows = self.db.fetch_all(&q).await?;
        rows.iter().map(read_joined).collect()
    }

    /// How many reactions each of `messages` has; messages without any are absent.
    pub async fn counts(
        &self,
        app: i64,
        messages: &[i64],
    ) -> Result<std::collections::HashMap<i64, u64>, StoreError> {
        if messages.is_empty() {
            return Ok(Default::default());
        }
        let mut q = Query::select();
        q.from(table())
            .column(Ident::new("message_id"))
            .expr_as(Func::count(col("id")), Ident::new("n"))
            .and_where(col("application_id").eq(app))
            .and_where(col("message_id").is_in(messages.iter().copied()))
            .group_by_col(Ident::new("message_id"));
        let mut out = std::collections::HashMap::new();
        for r in self.db.fetch_all(&q).await? {
            if let (Some(m), Some(n)) = (r.int("message_id")?, r.int("n")?) {
                out.insert(m, n.max(0) as u64);
            }
        }
        Ok(out)
    }

    /// A page of the reactions to `message`, each with its user, in the order they were made.
    pub async fn page(
        &self,
        app: i64,
        message: i64,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<(ReactionRow, ChatUserRow)>, StoreError> {
        let mut q = Self::select(app);
        q.and_where(col("message_id").eq(message))
            .order_by((table(), Ident::new("id")), Order::Asc)
            .limit(limit)
            .offset(offset);
        let rows = self.db.fetch_all(&q).await?;
        rows.iter().map(read_joined).collect()
    }

    /// How many reactions `message` of `app` has.
    pub async fn count(&self, app: i64, message: i64) -> Result<u64, StoreError> {
        let mut q = Query::select();
        q.from(table())
            .expr_as(Func::count(col("user_id")), Ident::new("n"))
            .and_where(col("application_id").eq(app))
            .and_where(col("message_id").eq(message));
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
