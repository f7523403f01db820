//! Notifications of chat users, one per recipient and message, read newest first by keyset on
//! their id. Written inside the transaction of the consumer that makes them.

use sea_query::{Expr, Func, OnConflict, Order, Query, SelectStatement};

use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::row::{count_of, DbRow};
use crate::Ident;

/// A stored notification (`id` is ignored on insert).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRow {
    pub id: i64,
    pub application_id: i64,
    pub user_id: i64,
    pub channel_id: Option<i64>,
    pub message_id: Option<i64>,
    /// `USER:SENT:MESSAGE`, `SYSTEM:SENT:MESSAGE`, `USER:MENTIONED:USER`, …
    pub r#type: String,
    pub title: String,
    pub body: String,
    pub created: i64,
    pub read_time: Option<i64>,
    /// Made while its recipient had the channel muted.
    pub muted: bool,
}

const COLUMNS: [&str; 11] = [
    "id",
    "application_id",
    "user_id",
    "channel_id",
    "message_id",
    "type",
    "title",
    "body",
    "created",
    "read_time",
    "muted",
];

fn table() -> Ident {
    Ident::new("chat_notifications")
}

fn read(r: &DbRow) -> Result<NotificationRow, StoreError> {
    Ok(NotificationRow {
        id: r.int("id")?.unwrap_or_default(),
        application_id: r.int("application_id")?.unwrap_or_default(),
        user_id: r.int("user_id")?.unwrap_or_default(),
        channel_id: r.int("channel_id")?,
        message_id: r.int("message_id")?,
        r#type: r.text("type")?.unwrap_or_default(),
        title: r.text("title")?.unwrap_or_default(),
        body: r.text("body")?.unwrap_or_default(),
        created: r.int("created")?.unwrap_or_default(),
        read_time: r.int("read_time")?,
        muted: r.boolean("muted")?.unwrap_or(false),
    })
}

/// `user` when it is a user of `app`: scopes a read keyed by user alone.
fn owned_by(app: i64, user: i64) -> SelectStatement {
    let mut q = Query::select();
    q.expr(Expr::val(1))
        .from(Ident::new("chat_users"))
        .and_where(Expr::col(Ident::new("application_id")).eq(app))
        .and_where(Expr::col(Ident::new("id")).eq(user));
    q
}

#[derive(Debug, Clone)]
pub struct Notifications {
    db: Db,
}

impl Notifications {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Adds `n` inside `tx`; false when that message already notified that user.
    pub async fn insert(tx: &mut Tx, n: &NotificationRow) -> Result<bool, StoreError> {
        Ok(!Self::insert_all(tx, std::slice::from_ref(n))
            .await?
            .is_empty())
    }

    /// Adds `rows` inside `tx`, a few hundred to a statement; a second notification of one
    /// message to one user is ignored. Answers the recipients of the rows that were added.
    pub async fn insert_all(tx: &mut Tx, rows: &[NotificationRow]) -> Result<Vec<i64>, StoreError> {
        // Well under SQLite's limit of bound values per statement (10 a row).
        const CHUNK: usize = 500;
        let mut added = Vec::new();
        for chunk in rows.chunks(CHUNK) {
            let mut q = Query::insert();
            q.into_table(table())
                .columns(COLUMNS[1..].iter().map(|c| Ident::new(*c)));
            for n in chunk {
                q.values_panic([
                    n.application_id.into(),
                    n.user_id.into(),
                    n.channel_id.into(),
                    n.message_id.into(),
                    n.r#type.clone().into(),
                    n.title.clone().into(),
                    n.body.clone().into(),
                    n.created.into(),
                    n.read_time.into(),
                    n.muted.into(),
                ]);
            }
            q.on_conflict(
                OnConflict::columns(["message_id", "user_id"].map(Ident::new))
                    .do_nothing()
                    .to_owned(),
            )
            .returning_col(Ident::new("user_id"));
            for r in tx.fetch_all(&q).await? {
                added.push(r.int("user_id")?.unwrap_or_default());
            }
        }
        Ok(added)
    }

    /// How many notifications `user` has: counted, through the `(user_id, id)` index alone, so
    /// it costs one user's notifications, never the application's. (A count kept on the user's
    /// row would lock that row in every batch of notifications.)
    pub async fn count(&self, app: i64, user: i64) -> Result<u64, StoreError> {
        let mut q = Query::select();
        q.from(table())
            .expr_as(Func::count(Expr::col(Ident::new("id"))), Ident::new("n"))
            .and_where(Expr::col(Ident::new("user_id")).eq(user))
            .and_where(Expr::exists(owned_by(app, user)));
        count_of(&self.db.fetch_all(&q).await?)
    }

    /// Up to `limit` of `user`'s notifications, newest first: the newest with ids below
    /// `before`, or with `after`, the ones just above it (and below `before`).
    pub async fn page(
        &self,
        app: i64,
        user: i64,
        (before, after): (Option<i64>, Option<i64>),
        limit: u64,
    ) -> Result<Vec<NotificationRow>, StoreError> {
        let order = if after.is_some() {
            Order::Asc
        } else {
            Order::Desc
        };
        let mut q = Query::select();
        q.from(table())
            .columns(COLUMNS.map(Ident::new))
            .and_where(Expr::col(Ident::new("application_id")).eq(app))
            .and_where(Expr::col(Ident::new("user_id")).eq(user))
            .order_by(Ident::new("id"), order)
            .limit(limit);
        if let Some(b) = before {
            q.and_where(Expr::col(Ident::new("id")).lt(b));
        }
        if let Some(a) = after {
            q.and_where(Expr::col(Ident::new("id")).gt(a));
        }
        let rows = self.db.fetch_all(&q).await?;
        let mut out = rows.iter().map(read).collect::<Result<Vec<_>, _>>()?;
        if after.is_some() {
            out.reverse();
        }
        Ok(out)
    }
}
