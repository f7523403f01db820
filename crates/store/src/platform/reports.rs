//! Reports of messages by chat users (at most one a user and message: reporting again replaces
//! the reason and properties), their counts a page of messages at a time, and the reported
//! messages of a channel. Writes take the caller's transaction; callers check first that the
//! message belongs to their application. Each row carries its message's application, which
//! every read is scoped by (and served by an index on).

use std::collections::HashMap;

use sea_query::{Expr, Func, OnConflict, Order, Query, SelectStatement};
use serde_json::Value;

use super::messages::{read, select, MessageRow};
use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::row::DbRow;
use crate::Ident;

/// One user's report of one message.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    /// The message's application.
    pub application_id: i64,
    pub message_id: i64,
    pub user_id: i64,
    pub reason: String,
    /// The reporter's custom properties (an object).
    pub properties: Value,
    /// When the user first reported the message, epoch milliseconds.
    pub created: i64,
}

#[derive(Debug, Clone)]
pub struct Reports {
    db: Db,
}

const COLUMNS: [&str; 6] = [
    "application_id",
    "message_id",
    "user_id",
    "reason",
    "properties",
    "created",
];

fn table() -> Ident {
    Ident::new("chat_message_reports")
}

fn col(c: &'static str) -> Expr {
    Expr::col((table(), Ident::new(c)))
}

fn read_report(r: &DbRow) -> Result<ReportRow, StoreError> {
    let properties = r.text("properties")?.unwrap_or_else(|| "{}".into());
    Ok(ReportRow {
        application_id: r.int("application_id")?.unwrap_or_default(),
        message_id: r.int("message_id")?.unwrap_or_default(),
        user_id: r.int("user_id")?.unwrap_or_default(),
        reason: r.text("reason")?.unwrap_or_default(),
        properties: serde_json::from_str(&properties)
            .map_err(|_| StoreError::Decode("chat_message_reports.properties".into()))?,
        created: r.int("created")?.unwrap_or_default(),
    })
}

/// The reports of `app`'s messages.
fn of_app(app: i64) -> SelectStatement {
    let mut q = Query::select();
    q.from(table()).and_where(col("application_id").eq(app));
    q
}

fn reported() -> sea_query::SimpleExpr {
    let mut q = Query::select();
    q.expr(Expr::val(1))
        .from(Ident::new("chat_message_reports"))
        .and_where(
            Expr::col((Ident::new("chat_message_reports"), Ident::new("message_id")))
                .equals((Ident::new("chat_messages"), Ident::new("id"))),
        );
    Expr::exists(q)
}

impl Reports {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Stores `r` inside `tx`: a new report, or for a message the user had reported already,
    /// its new reason and properties (the first report's time stays). Answers the stored report.
    pub async fn put(tx: &mut Tx, r: &ReportRow) -> Result<ReportRow, StoreError> {
        let mut q = Query::insert();
        q.into_table(table())
            .columns(COLUMNS.map(Ident::new))
            .values_panic([
                r.application_id.into(),
                r.message_id.into(),
                r.user_id.into(),
                r.reason.clone().into(),
                r.properties.to_string().into(),
                r.created.into(),
            ])
            .on_conflict(
                OnConflict::columns(["message_id", "user_id"].map(Ident::new))
                    .update_columns(["reason", "properties"].map(Ident::new))
                    .to_owned(),
            )
            .returning(Query::returning().columns(COLUMNS.map(Ident::new)));
        let rows = tx.fetch_all(&q).await?;
        rows.first()
            .map(read_report)
            .transpose()?
            .ok_or_else(|| StoreError::Decode("chat_message_reports: stored row".into()))
    }

    /// Removes `user`'s report of `message` inside `tx`; answers it, or `None` when there was
    /// none.
    pub async fn remove(
        tx: &mut Tx,
        message: i64,
        user: i64,
    ) -> Result<Option<ReportRow>, StoreError> {
        let mut q = Query::delete();
        q.from_table(table())
            .and_where(Expr::col(Ident::new("message_id")).eq(message))
            .and_where(Expr::col(Ident::new("user_id")).eq(user))
            .returning(Query::returning().columns(COLUMNS.map(Ident::new)));
        tx.fetch_all(&q).await?.first().map(read_report).transpose()
    }

    /// `user`'s report of `message`, if any.
    pub async fn by(
        &self,
        app: i64,
        message: i64,
        user: i64,
    ) -> Result<Option<ReportRow>, StoreError> {
        let mut q = of_app(app);
        q.columns(COLUMNS.map(|c| (table(), Ident::new(c))))
            .and_where(col("message_id").eq(message))
            .and_where(col("user_id").eq(user));
        let rows = self.db.fetch_all(&q).await?;
        rows.first().map(read_report).transpose()
    }

    /// How many users reported each of `messages` (those reported at all): one query whatever
    /// their number (none for no messages).
    pub async fn counts(
        &self,
        app: i64,
        messages: &[i64],
    ) -> Result<HashMap<i64, u64>, StoreError> {
        if messages.is_empty() {
            return Ok(HashMap::new());
        }
        let mut q = of_app(app);
        q.column((table(), Ident::new("message_id")))
            .expr_as(Func::count(col("user_id")), Ident::new("n"))
            .and_where(col("message_id").is_in(messages.iter().copied()))
            .group_by_col((table(), Ident::new("message_id")));
        let mut out = HashMap::new();
        for r in self.db.fetch_all(&q).await? {
            out.insert(
                r.int("message_id")?.unwrap_or_default(),
                r.int("n")?.unwrap_or_default().max(0) as u64,
            );
        }
        Ok(out)
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
        q.and_where(Expr::col((Ident::new("chat_messages"), Ident::new("channel_id"))).eq(channel))
            .and_where(reported())
            .order_by((Ident::new("chat_messages"), Ident::new("id")), Order::Asc)
            .limit(limit)
            .offset(offset);
        let rows = self.db.fetch_all(&q).await?;
        rows.iter().map(read).collect()
    }

    pub async fn count_messages(&self, app: i64, channel: i64) -> Result<u64, StoreError> {
        let mut q = select(app);
        q.clear_selects();
        q.expr_as(
            Func::count(Expr::col((Ident::new("chat_messages"), Ident::new("id")))),
            Ident::new("n"),
        )
        .and_where(Expr::col((Ident::new("chat_messages"), Ident::new("channel_id"))).eq(channel))
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
