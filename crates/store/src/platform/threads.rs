//! Threads of a channel: its one MAIN thread, which also holds the channel's message sequence,
//! a MESSAGE reply thread per top-level message, and named STANDALONE threads its users open.
//! Writes take the caller's transaction.

use sea_query::{Expr, Func, OnConflict, Query, SelectStatement};
use serde_json::Value;

use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::row::{Columns, DbRow};
use crate::Ident;

/// A stored thread.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadRow {
    pub id: i64,
    pub application_id: i64,
    pub channel_id: i64,
    /// `MAIN`, `MESSAGE` or `STANDALONE`.
    pub r#type: String,
    /// MESSAGE threads: the message they reply to.
    pub parent_message_id: Option<i64>,
    /// STANDALONE threads: the name they were opened with.
    pub name: Option<String>,
    pub properties: Value,
    pub created: i64,
}

/// Which threads of a channel a list holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThreadFilter {
    /// Leave the MAIN thread out.
    pub without_main: bool,
    /// STANDALONE threads only.
    pub standalone_only: bool,
}

const COLUMNS: [&str; 8] = [
    "id",
    "application_id",
    "channel_id",
    "type",
    "parent_message_id",
    "name",
    "properties",
    "created",
];

fn table() -> Ident {
    Ident::new("chat_threads")
}

/// Selects into `q`, which joins `chat_threads` as `alias`, what [`read`] reads, each column
/// named `prefix` and its name (read back through [`crate::row::Prefixed`]).
pub(crate) fn select_as(q: &mut SelectStatement, alias: &'static str, prefix: &str) {
    for c in COLUMNS {
        q.expr_as(
            Expr::col((Ident::new(alias), Ident::new(c))),
            Ident::new(format!("{prefix}{c}")),
        );
    }
}

pub(crate) fn read(r: &impl Columns) -> Result<ThreadRow, StoreError> {
    let properties = r
        .with_text("properties", |s| serde_json::from_str(s.unwrap_or("{}")))?
        .map_err(|_| StoreError::Decode("chat_threads.properties".into()))?;
    Ok(ThreadRow {
        id: r.int("id")?.unwrap_or_default(),
        application_id: r.int("application_id")?.unwrap_or_default(),
        channel_id: r.int("channel_id")?.unwrap_or_default(),
        r#type: r.text("type")?.unwrap_or_default(),
        parent_message_id: r.int("parent_message_id")?,
        name: r.text("name")?,
        properties,
        created: r.int("created")?.unwrap_or_default(),
    })
}

fn one_int(rows: &[DbRow], col: &str) -> Result<i64, StoreError> {
    rows.first()
        .map(|r| r.int(col))
        .transpose()?
        .flatten()
        .ok_or_else(|| StoreError::Decode(format!("chat_threads.{col}")))
}

#[derive(Debug, Clone)]
pub struct Threads {
    db: Db,
}

impl Threads {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Makes sure `channel` has its MAIN thread and takes the channel's next message sequence
    /// number: `(main thread id, seq)`.
    pub async fn next_seq(
        tx: &mut Tx,
        app: i64,
        channel: i64,
        now: i64,
    ) -> Result<(i64, i64), StoreError> {
        Self::take_seqs(tx, app, channel, 1, now).await
    }

    /// Makes sure `channel` has its MAIN thread and takes the channel's next `count` message
    /// sequence numbers: `(main thread id, last of them)`. The counter row stays locked until
    /// `tx` ends, so sequence order is commit order and history pages never skip a late commit.
    /// The thread is made on a channel's first message; later ones take their numbers in one
    /// statement.
    pub async fn take_seqs(
        tx: &mut Tx,
        app: i64,
        channel: i64,
        count: i64,
        now: i64,
    ) -> Result<(i64, i64), StoreError> {
        let mut up = Query::update();
        up.table(table())
            .value(
                Ident::new("last_seq"),
                Expr::col(Ident::new("last_seq")).add(count),
            )
            .and_where(Expr::col(Ident::new("main_of")).eq(channel))
            .returning(Query::returning().columns(["id", "last_seq"].map(Ident::new)));
        let rows = tx.fetch_all(&up).await?;
        if !rows.is_empty() {
            return Ok((one_int(&rows, "id")?, one_int(&rows, "last_seq")?));
        }
        let mut ins = Query::insert();
        ins.into_table(table())
            .columns(["application_id", "channel_id", "type", "main_of", "created"].map(Ident::new))
            .values_panic([
                app.into(),
                channel.into(),
                "MAIN".into(),
                channel.into(),
                now.into(),
            ])
            .on_conflict(
                OnConflict::column(Ident::new("main_of"))
                    .do_nothing()
                    .to_owned(),
            );
        tx.execute(&ins).await?;
        let rows = tx.fetch_all(&up).await?;
        Ok((one_int(&rows, "id")?, one_int(&rows, "last_seq")?))
    }

    /// Opens the reply thread of message `parent`.
    pub async fn insert_reply(
        tx: &mut Tx,
        app: i64,
        channel: i64,
        parent: i64,
        now: i64,
    ) -> Result<ThreadRow, StoreError> {
        Self::insert_replies(tx, app, &[(channel, parent)], now)
            .await?
            .pop()
            .ok_or_else(|| StoreError::Decode("chat_threads.id".into()))
    }

    /// Opens the reply threads of `(channel, parent message)` pairs of application `app`, in
    /// one statement per few hundred; answers them in the order asked.
    pub async fn insert_replies(
        tx: &mut Tx,
        app: i64,
        parents: &[(i64, i64)],
        now: i64,
    ) -> Result<Vec<ThreadRow>, StoreError> {
        let mut ids = std::collections::HashMap::new();
        for chunk in parents.chunks(500) {
            let mut q = Query::insert();
            q.into_table(table()).columns(
                [
                    "application_id",
                    "channel_id",
                    "type",
                    "parent_message_id",
                    "created",
                ]
                .map(Ident::new),
            );
            for (channel, parent) in chunk {
                q.values_panic([
                    app.into(),
                    (*channel).into(),
                    "MESSAGE".into(),
                    (*parent).into(),
                    now.into(),
                ]);
            }
            // Neither engine promises RETURNING rows in VALUES order: match them by parent.
            q.returning(Query::returning().columns(["id", "parent_message_id"].map(Ident::new)));
            for r in tx.fetch_all(&q).await? {
                ids.insert(
                    r.int("parent_message_id")?.unwrap_or_default(),
                    r.int("id")?.unwrap_or_default(),
                );
            }
        }
        parents
            .iter()
            .map(|&(channel, parent)| {
                Ok(ThreadRow {
                    id: *ids
                        .get(&parent)
                        .ok_or_else(|| StoreError::Decode("chat_threads.id".into()))?,
                    application_id: app,
                    channel_id: channel,
                    r#type: "MESSAGE".into(),
                    parent_message_id: Some(parent),
                    name: None,
                    properties: Value::Object(Default::default()),
                    created: now,
                })
            })
            .collect()
    }

    /// Opens the reply threads of `app`'s top-level messages numbered `first..=last` in the
    /// application (its `app_seq`), in that order, in one statement that reads the messages
    /// where they are: a bulk write that did not read back its messages' ids opens their
    /// threads without them. Answers how many it opened.
    pub async fn insert_replies_numbered(
        tx: &mut Tx,
        app: i64,
        first: i64,
        last: i64,
        now: i64,
    ) -> Result<u64, StoreError> {
        let m = Ident::new("chat_messages");
        let mut parents = Query::select();
        parents
            .from(m.clone())
            .column((m.clone(), Ident::new("application_id")))
            .column((m.clone(), Ident::new("channel_id")))
            .expr(Expr::val("MESSAGE"))
            .column((m.clone(), Ident::new("id")))
            .expr(Expr::val(now))
            .and_where(Expr::col((m.clone(), Ident::new("application_id"))).eq(app))
            .and_where(Expr::col((m.clone(), Ident::new("app_seq"))).between(first, last))
            .and_where(Expr::col((m.clone(), Ident::new("nested_level"))).eq(0))
            .order_by((m, Ident::new("app_seq")), sea_query::Order::Asc);
        let mut q = Query::insert();
        q.into_table(table())
            .columns(
                [
                    "application_id",
                    "channel_id",
                    "type",
                    "parent_message_id",
                    "created",
                ]
                .map(Ident::new),
            )
            .select_from(parents)
            .map_err(|e| StoreError::Database(sqlx::Error::Protocol(e.to_string())))?;
        tx.execute(&q).await
    }

    /// Opens a STANDALONE thread named `name` in `channel`.
    pub async fn insert_standalone(
        tx: &mut Tx,
        app: i64,
        channel: i64,
        name: &str,
        properties: &Value,
        now: i64,
    ) -> Result<ThreadRow, StoreError> {
        let mut q = Query::insert();
        q.into_table(table())
            .columns(
                [
                    "application_id",
                    "channel_id",
                    "type",
                    "name",
                    "properties",
                    "created",
                ]
                .map(Ident::new),
            )
            .values_panic([
                app.into(),
                channel.into(),
                "STANDALONE".into(),
                name.into(),
                properties.to_string().into(),
                now.into(),
            ])
            .returning_col(Ident::new("id"));
        let id = one_int(&tx.fetch_all(&q).await?, "id")?;
        Ok(ThreadRow {
            id,
            application_id: app,
            channel_id: channel,
            r#type: "STANDALONE".into(),
            parent_message_id: None,
            name: Some(name.to_string()),
            properties: properties.clone(),
            created: now,
        })
    }

    /// The threads of `ids` that belong to `app`, in no particular order.
    pub async fn by_ids(&self, app: i64, ids: &[i64]) -> Result<Vec<ThreadRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Query::select();
        q.from(table())
            .columns(COLUMNS.map(Ident::new))
            .and_where(Expr::col(Ident::new("application_id")).eq(app))
            .and_where(Expr::col(Ident::new("id")).is_in(ids.iter().copied()));
        let rows = self.db.fetch_all(&q).await?;
        rows.iter().map(read).collect()
    }

    /// A channel's threads that `f` lets through: its MAIN thread, its STANDALONE threads, and
    /// the reply threads that hold replies (every top-level message has one; empty ones are
    /// noise in a list).
    fn of_channel(app: i64, channel: i64, f: ThreadFilter) -> sea_query::SelectStatement {
        let t = || Expr::col((table(), Ident::new("type")));
        let mut replies = Query::select();
        let m = Ident::new("tm");
        replies
            .expr(Expr::val(1))
            .from_as(Ident::new("chat_messages"), m.clone())
            .and_where(Expr::col((m, Ident::new("thread_id"))).equals((table(), Ident::new("id"))));
        let mut kinds = sea_query::Cond::any();
        if !f.without_main && !f.standalone_only {
            kinds = kinds.add(t().eq("MAIN"));
        }
        kinds = kinds.add(t().eq("STANDALONE"));
        if !f.standalone_only {
            kinds = kinds.add(
                sea_query::Cond::all()
                    .add(t().eq("MESSAGE"))
                    .add(Expr::exists(replies)),
            );
        }
        let mut q = Query::select();
        q.from(table())
            .and_where(Expr::col((table(), Ident::new("application_id"))).eq(app))
            .and_where(Expr::col((table(), Ident::new("channel_id"))).eq(channel))
            .cond_where(kinds);
        q
    }

    /// One page of a channel's threads (see [`ThreadFilter`]): the MAIN thread, then the others
    /// oldest first.
    pub async fn page(
        &self,
        app: i64,
        channel: i64,
        f: ThreadFilter,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<ThreadRow>, StoreError> {
        let mut q = Self::of_channel(app, channel, f);
        let main = Expr::col((table(), Ident::new("type"))).eq("MAIN");
        q.columns(COLUMNS.map(|c| (table(), Ident::new(c))))
            .order_by_expr(main, sea_query::Order::Desc)
            .order_by((table(), Ident::new("id")), sea_query::Order::Asc)
            .limit(limit)
            .offset(offset);
        let rows = self.db.fetch_all(&q).await?;
        rows.iter().map(read).collect()
    }

    pub async fn count(&self, app: i64, channel: i64, f: ThreadFilter) -> Result<u64, StoreError> {
        let mut q = Self::of_channel(app, channel, f);
        q.expr_as(
            Func::count(Expr::col((table(), Ident::new("id")))),
            Ident::new("n"),
        );
        Ok(one_int(&self.db.fetch_all(&q).await?, "n")?.max(0) as u64)
    }

    pub async fn get(&self, app: i64, id: i64) -> Result<Option<ThreadRow>, StoreError> {
        let mut q = Query::select();
        q.from(table())
            .columns(COLUMNS.map(Ident::new))
            .and_where(Expr::col(Ident::new("application_id")).eq(app))
            .and_where(Expr::col(Ident::new("id")).eq(id));
        let rows = self.db.fetch_all(&q).await?;
        rows.first().map(read).transpose()
    }

    /// The reply threads of `parents`, each with how many replies it holds. The counts are a
    /// second query naming the threads as values: a subquery correlated with each thread
    /// leads PostgreSQL, whose statistics see one MAIN thread holding most messages, to scan
    /// every message of the application for each thread.
    pub async fn replies_of(
        &self,
        app: i64,
        parents: &[i64],
    ) -> Result<Vec<(ThreadRow, u64)>, StoreError> {
        if parents.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Query::select();
        q.from(table())
            .columns(COLUMNS.map(Ident::new))
            .and_where(Expr::col(Ident::new("application_id")).eq(app))
            .and_where(Expr::col(Ident::new("parent_message_id")).is_in(parents.iter().copied()));
        let rows = self.db.fetch_all(&q).await?;
        let threads = rows.iter().map(read).collect::<Result<Vec<_>, _>>()?;
        if threads.is_empty() {
            return Ok(Vec::new());
        }
        let messages = Ident::new("chat_messages");
        let mut count = Query::select();
        count
            .from(messages.clone())
            .column(Ident::new("thread_id"))
            .expr_as(
                Func::count(Expr::col((messages.clone(), Ident::new("id")))),
                Ident::new("n"),
            )
            .and_where(Expr::col(Ident::new("application_id")).eq(app))
            .and_where(Expr::col(Ident::new("thread_id")).is_in(threads.iter().map(|t| t.id)))
            .group_by_col(Ident::new("thread_id"));
        let mut sizes = std::collections::HashMap::new();
        for r in self.db.fetch_all(&count).await? {
            sizes.insert(
                r.int("thread_id")?.unwrap_or_default(),
                r.int("n")?.unwrap_or_default().max(0) as u64,
            );
        }
        Ok(threads
            .into_iter()
            .map(|t| {
                let n = sizes.get(&t.id).copied().unwrap_or(0);
                (t, n)
            })
            .collect())
    }
}
