//! Messages of an application's channels, numbered by a per-channel sequence, and their history
//! read newest first by keyset (never by offset) so concurrent inserts neither skip nor repeat.
//! Writes take the caller's transaction.

use sea_query::{
    Cond, Expr, Func, LikeExpr, Order, Query, SelectStatement, SimpleExpr, SubQueryStatement,
};
use serde_json::Value;

use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::row::{count_of, DbRow};
use crate::Ident;

/// A stored message (`id` is ignored on insert).
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRow {
    pub id: i64,
    pub application_id: i64,
    pub channel_id: i64,
    pub thread_id: i64,
    /// Per channel, strictly increasing in commit order.
    pub seq: i64,
    /// Per application, strictly increasing in commit order (given out by `insert`).
    pub app_seq: i64,
    /// `TEXT`, `FILE`, `SYSTEM_TEXT` or `SYSTEM_FILE`.
    pub r#type: String,
    pub user_id: Option<i64>,
    pub body: Option<String>,
    pub file: Option<Value>,
    pub group_tag: Option<String>,
    pub properties: Value,
    /// `[{type, tag, start_position, end_position, user_id?}]`.
    pub mentions: Value,
    /// `[{source, start_position, end_position}]`.
    pub links: Value,
    pub nested_level: i64,
    pub created: i64,
    pub last_edited: Option<i64>,
}

/// Whose messages a history page holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every thread of a channel, keyed by the channel sequence.
    Channel(i64),
    /// One thread, keyed by the channel sequence.
    Thread(i64),
    /// The whole application, keyed by the application sequence.
    Application,
    /// Sent by this user, keyed by the application sequence.
    Sender(i64),
    /// In this member's channels, after its read cursor and sent by someone else; keyed by the
    /// application sequence.
    UnreadBy(i64),
}

impl Scope {
    /// The column pages are keyed on: a sequence given out in commit order, never the id.
    pub fn key(self) -> &'static str {
        match self {
            Scope::Channel(_) | Scope::Thread(_) => "seq",
            _ => "app_seq",
        }
    }

    /// `m`'s value of the key.
    pub fn key_of(self, m: &MessageRow) -> i64 {
        match self {
            Scope::Channel(_) | Scope::Thread(_) => m.seq,
            _ => m.app_seq,
        }
    }
}

/// One page of history, newest first: the newest keys below `before`, or with `after`, the
/// keys just above it (and below `before`).
#[derive(Debug, Clone)]
pub struct History {
    pub scope: Scope,
    /// Sent by the user of this name.
    pub username: Option<String>,
    /// Body contains this text.
    pub text: Option<String>,
    pub before: Option<i64>,
    pub after: Option<i64>,
    pub limit: u64,
}

/// What one user sees of a history, beyond its scope and filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Viewing {
    /// Leaves out what this user deleted for itself or cleared from its history.
    pub viewer: Option<i64>,
    /// MAIN-thread messages only: no replies, nothing of standalone threads.
    pub main_thread: bool,
    /// Only messages of these types (any when empty).
    pub types: Vec<String>,
    /// Only this channel's messages (narrows the scopes that span channels).
    pub channel: Option<i64>,
}

const COLUMNS: [&str; 17] = [
    "id",
    "application_id",
    "channel_id",
    "thread_id",
    "seq",
    "app_seq",
    "type",
    "user_id",
    "body",
    "file",
    "group_tag",
    "properties",
    "mentions",
    "links",
    "nested_level",
    "created",
    "last_edited",
];

fn table() -> Ident {
    Ident::new("chat_messages")
}

fn col(c: &'static str) -> Expr {
    Expr::col((table(), Ident::new(c)))
}

fn json(r: &DbRow, c: &str, default: &str) -> Result<Value, StoreError> {
    r.with_text(c, |s| serde_json::from_str(s.unwrap_or(default)))?
        .map_err(|_| StoreError::Decode(format!("chat_messages.{c}")))
}

pub(crate) fn read(r: &DbRow) -> Result<MessageRow, StoreError> {
    Ok(MessageRow {
        id: r.int("id")?.unwrap_or_default(),
        application_id: r.int("application_id")?.unwrap_or_default(),
        channel_id: r.int("channel_id")?.unwrap_or_default(),
        thread_id: r.int("thread_id")?.unwrap_or_default(),
        seq: r.int("seq")?.unwrap_or_default(),
        app_seq: r.int("app_seq")?.unwrap_or_default(),
        r#type: r.text("type")?.unwrap_or_default(),
        user_id: r.int("user_id")?,
        body: r.text("body")?,
        file: r
            .with_text("file", |s| s.map(serde_json::from_str).transpose())?
            .map_err(|_| StoreError::Decode("chat_messages.file".into()))?,
        group_tag: r.text("group_tag")?,
        properties: json(r, "properties", "{}")?,
        mentions: json(r, "mentions", "[]")?,
        links: json(r, "links", "[]")?,
        nested_level: r.int("nested_level")?.unwrap_or_default(),
        created: r.int("created")?.unwrap_or_default(),
        last_edited: r.int("last_edited")?,
    })
}

pub(crate) fn select(app: i64) -> SelectStatement {
    let mut q = Query::select();
    q.from(table())
        .columns(COLUMNS.map(|c| (table(), Ident::new(c))))
        .and_where(col("application_id").eq(app));
    q
}

/// Adds `rows` to the message counts of their threads (`message_count`) and of their channels
/// (`channel_message_count`, `channel_main_count` on each channel's MAIN thread row), in one
/// statement: `CASE` over the batch's threads and channels. The MAIN thread rows are locked by
/// the caller already (the channel sequences), so this takes no lock in a new order.
async fn count_in_threads(tx: &mut Tx, rows: &[MessageRow]) -> Result<(), StoreError> {
    use std::collections::BTreeMap;
    if rows.is_empty() {
        return Ok(());
    }
    let mut threads: BTreeMap<i64, i64> = BTreeMap::new();
    let mut channels: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for m in rows {
        *threads.entry(m.thread_id).or_default() += 1;
        let c = channels.entry(m.channel_id).or_default();
        c.0 += 1;
        c.1 += i64::from(m.nested_level == 0);
    }
    let by = |key: &'static str, adds: &mut dyn Iterator<Item = (i64, i64)>| {
        let mut case = sea_query::CaseStatement::new();
        for (k, n) in adds {
            case = case.case(Expr::col(Ident::new(key)).eq(k), Expr::val(n));
        }
        let e: SimpleExpr = case.finally(Expr::val(0i64)).into();
        e
    };
    let plus = |column: &'static str, by: SimpleExpr| {
        (Ident::new(column), Expr::col(Ident::new(column)).add(by))
    };
    let mut q = Query::update();
    q.table(Ident::new("chat_threads"))
        .values([
            plus(
                "message_count",
                by("id", &mut threads.iter().map(|(k, n)| (*k, *n))),
            ),
            plus(
                "channel_message_count",
                by("main_of", &mut channels.iter().map(|(k, n)| (*k, n.0))),
            ),
            plus(
                "channel_main_count",
                by("main_of", &mut channels.iter().map(|(k, n)| (*k, n.1))),
            ),
        ])
        .cond_where(
            Cond::any()
                .add(Expr::col(Ident::new("id")).is_in(threads.keys().copied()))
                .add(Expr::col(Ident::new("main_of")).is_in(channels.keys().copied())),
        );
    tx.execute(&q).await?;
    Ok(())
}

/// Rows a multi-row insert writes at once: 16 values a row, well under SQLite's limit of
/// bound values per statement.
const INSERT_CHUNK: usize = 500;

/// The insert of `rows` (numbered already), without `id`.
fn insert_of(rows: &[MessageRow]) -> sea_query::InsertStatement {
    let mut q = Query::insert();
    q.into_table(table())
        .columns(COLUMNS[1..].iter().map(|c| Ident::new(*c)));
    for m in rows {
        q.values_panic([
            m.application_id.into(),
            m.channel_id.into(),
            m.thread_id.into(),
            m.seq.into(),
            m.app_seq.into(),
            m.r#type.clone().into(),
            m.user_id.into(),
            m.body.clone().into(),
            m.file.as_ref().map(Value::to_string).into(),
            m.group_tag.clone().into(),
            m.properties.to_string().into(),
            m.mentions.to_string().into(),
            m.links.to_string().into(),
            m.nested_level.into(),
            m.created.into(),
            m.last_edited.into(),
        ]);
    }
    q
}

fn sub(q: SelectStatement) -> SimpleExpr {
    SimpleExpr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(q)))
}

/// Messages in `user`'s channels after its read cursor, sent by someone else.
fn unread_by(user: i64) -> SimpleExpr {
    let mut member = Query::select();
    member
        .expr(Expr::val(1))
        .from(Ident::new("chat_channel_members"))
        .and_where(Expr::col(Ident::new("user_id")).eq(user))
        .and_where(
            Expr::col((Ident::new("chat_channel_members"), Ident::new("channel_id")))
                .equals((table(), Ident::new("channel_id"))),
        );
    let mut cursor = Query::select();
    cursor
        .column(Ident::new("last_read_seq"))
        .from(Ident::new("chat_read_cursors"))
        .and_where(Expr::col(Ident::new("user_id")).eq(user))
        .and_where(
            Expr::col((Ident::new("chat_read_cursors"), Ident::new("channel_id")))
                .equals((table(), Ident::new("channel_id"))),
        );
    // Messages the user deleted for itself are not waiting to be read.
    let deletions = Ident::new("chat_message_deletions");
    let mut deleted = Query::select();
    deleted
        .expr(Expr::val(1))
        .from(deletions.clone())
        .and_where(Expr::col((deletions.clone(), Ident::new("user_id"))).eq(user))
        .and_where(
            Expr::col((deletions, Ident::new("message_id"))).equals((table(), Ident::new("id"))),
        );
    Cond::all()
        .add(Expr::exists(member))
        .add(Expr::exists(deleted).not())
        .add(col("seq").gt(Func::coalesce([sub(cursor), Expr::val(0).into()])))
        .add(
            Cond::any()
                .add(col("user_id").is_null())
                .add(col("user_id").ne(user)),
        )
        .into()
}

fn filtered(app: i64, h: &History) -> SelectStatement {
    let mut q = select(app);
    match h.scope {
        Scope::Channel(c) => {
            q.and_where(col("channel_id").eq(c));
        }
        Scope::Thread(t) => {
            q.and_where(col("thread_id").eq(t));
        }
        Scope::Application => {}
        Scope::Sender(u) => {
            q.and_where(col("user_id").eq(u));
        }
        Scope::UnreadBy(u) => {
            q.and_where(unread_by(u));
        }
    }
    if let Some(name) = &h.username {
        let mut users = Query::select();
        users
            .column(Ident::new("id"))
            .from(Ident::new("chat_users"))
            .and_where(Expr::col(Ident::new("application_id")).eq(app))
            .and_where(Expr::col(Ident::new("name")).eq(name.as_str()));
        q.and_where(col("user_id").in_subquery(users));
    }
    if let Some(text) = &h.text {
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        // LIKE ignores case on SQLite and not on PostgreSQL: fold both sides, the same everywhere.
        q.and_where(
            Expr::expr(Func::lower(col("body")))
                .like(LikeExpr::new(format!("%{}%", escaped.to_lowercase())).escape('\\')),
        );
    }
    q
}

/// `filtered` narrowed to what `v` lets through.
fn viewed(app: i64, h: &History, v: &Viewing) -> SelectStatement {
    let mut q = filtered(app, h);
    if let Some(u) = v.viewer {
        let d = Ident::new("chat_message_deletions");
        let mut deleted = Query::select();
        deleted
            .expr(Expr::val(1))
            .from(d.clone())
            .and_where(Expr::col((d.clone(), Ident::new("user_id"))).eq(u))
            .and_where(
                Expr::col((d, Ident::new("message_id"))).equals((table(), Ident::new("id"))),
            );
        let st = Ident::new("chat_channel_user_states");
        let mut cleared = Query::select();
        cleared
            .column((st.clone(), Ident::new("cleared_seq")))
            .from(st.clone())
            .and_where(Expr::col((st.clone(), Ident::new("user_id"))).eq(u))
            .and_where(
                Expr::col((st, Ident::new("channel_id")))
                    .equals((table(), Ident::new("channel_id"))),
            );
        q.and_where(Expr::exists(deleted).not())
            .and_where(col("seq").gt(Func::coalesce([sub(cleared), Expr::val(0).into()])));
    }
    if v.main_thread {
        q.and_where(col("nested_level").eq(0));
    }
    if !v.types.is_empty() {
        q.and_where(col("type").is_in(v.types.iter().map(String::as_str)));
    }
    if let Some(c) = v.channel {
        q.and_where(col("channel_id").eq(c));
    }
    q
}

/// The statement of a history page: `h`'s window of what `v` sees, in key order (ascending
/// when it reads up from `after`).
pub(crate) fn history_query(app: i64, h: &History, v: &Viewing) -> SelectStatement {
    let mut q = viewed(app, h, v);
    let key = h.scope.key();
    if let Some(b) = h.before {
        q.and_where(col(key).lt(b));
    }
    if let Some(a) = h.after {
        q.and_where(col(key).gt(a));
    }
    let order = if h.after.is_some() {
        Order::Asc
    } else {
        Order::Desc
    };
    q.order_by((table(), Ident::new(key)), order).limit(h.limit);
    q
}

#[derive(Debug, Clone)]
pub struct Messages {
    db: Db,
}

impl Messages {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// Inserts `m` inside `tx` and answers it with its new id and application sequence number.
    pub async fn insert(tx: &mut Tx, m: &MessageRow) -> Result<MessageRow, StoreError> {
        Self::insert_all(tx, std::slice::from_ref(m))
            .await?
            .pop()
            .ok_or_else(|| StoreError::Decode("chat_messages.id".into()))
    }

    /// Inserts `rows` inside `tx`, in that order, a few hundred to a statement; answers them
    /// with their new ids and application sequence numbers. Each application's counter row
    /// stays locked until `tx` ends, so the numbers follow commit order. Callers take the
    /// channels' sequences (`Threads::take_seqs`) first, and counters in ascending id order:
    /// one lock order everywhere.
    pub async fn insert_all(
        tx: &mut Tx,
        rows: &[MessageRow],
    ) -> Result<Vec<MessageRow>, StoreError> {
        let mut out = Self::numbered(tx, rows).await?;
        let mut ids = std::collections::HashMap::new();
        for chunk in out.chunks(INSERT_CHUNK) {
            let mut q = insert_of(chunk);
            // Neither engine promises RETURNING rows in VALUES order: match them by number.
            q.returning(
                Query::returning().columns(["id", "application_id", "app_seq"].map(Ident::new)),
            );
            for r in tx.fetch_all(&q).await? {
                ids.insert(
                    (
                        r.int("application_id")?.unwrap_or_default(),
                        r.int("app_seq")?.unwrap_or_default(),
                    ),
                    r.int("id")?.unwrap_or_default(),
                );
            }
        }
        for m in &mut out {
            m.id = *ids
                .get(&(m.application_id, m.app_seq))
                .ok_or_else(|| StoreError::Decode("chat_messages.id".into()))?;
        }
        Ok(out)
    }

    /// As [`Messages::insert_all`], but answers the rows with their application sequence
    /// numbers only (`id` stays 0): for bulk writes that find their rows again by number
    /// (`app_seq` is unique per application), so that no row travels back per message.
    pub async fn insert_all_unreturned(
        tx: &mut Tx,
        rows: &[MessageRow],
    ) -> Result<Vec<MessageRow>, StoreError> {
        let out = Self::numbered(tx, rows).await?;
        for chunk in out.chunks(INSERT_CHUNK) {
            tx.execute(&insert_of(chunk)).await?;
        }
        Ok(out)
    }

    /// `rows` with their application sequence numbers, taken from each application's counter
    /// row (which stays locked until `tx` ends), and counted in the histories they join: every
    /// insert passes here, so inserts are counted once per application, thread and channel of a
    /// batch instead of once per row by a trigger (deletes stay with the trigger of 0017, since
    /// cascades never pass through code).
    async fn numbered(tx: &mut Tx, rows: &[MessageRow]) -> Result<Vec<MessageRow>, StoreError> {
        let out = Self::numbered_only(tx, rows).await?;
        count_in_threads(tx, rows).await?;
        Ok(out)
    }

    async fn numbered_only(
        tx: &mut Tx,
        rows: &[MessageRow],
    ) -> Result<Vec<MessageRow>, StoreError> {
        let mut counts: std::collections::BTreeMap<i64, i64> = Default::default();
        for m in rows {
            *counts.entry(m.application_id).or_default() += 1;
        }
        // The next number to give in each application.
        let mut next: std::collections::HashMap<i64, i64> = Default::default();
        for (&app, &count) in &counts {
            let mut up = Query::update();
            up.table(Ident::new("applications"))
                .value(
                    Ident::new("last_message_seq"),
                    Expr::col(Ident::new("last_message_seq")).add(count),
                )
                .value(
                    Ident::new("message_count"),
                    Expr::col(Ident::new("message_count")).add(count),
                )
                .and_where(Expr::col(Ident::new("id")).eq(app))
                .returning_col(Ident::new("last_message_seq"));
            let last = tx
                .fetch_all(&up)
                .await?
                .first()
                .map(|r| r.int("last_message_seq"))
                .transpose()?
                .flatten()
                .ok_or_else(|| StoreError::Decode("applications.last_message_seq".into()))?;
            next.insert(app, last - count + 1);
        }
        let mut out = Vec::with_capacity(rows.len());
        for m in rows {
            let seq = next.entry(m.application_id).or_default();
            out.push(MessageRow {
                app_seq: *seq,
                ..m.clone()
            });
            *seq += 1;
        }
        Ok(out)
    }

    pub async fn get(&self, app: i64, id: i64) -> Result<Option<MessageRow>, StoreError> {
        let mut q = select(app);
        q.and_where(col("id").eq(id));
        let rows = self.db.fetch_all(&q).await?;
        rows.first().map(read).transpose()
    }

    /// Up to `limit` of `app`'s messages with ids above `after`, by id: every message, page
    /// by page (an export).
    pub async fn after_id(
        &self,
        app: i64,
        after: i64,
        limit: u64,
    ) -> Result<Vec<MessageRow>, StoreError> {
        let mut q = select(app);
        q.and_where(col("id").gt(after))
            .order_by(Ident::new("id"), Order::Asc)
            .limit(limit);
        let rows = self.db.fetch_all(&q).await?;
        rows.iter().map(read).collect()
    }

    /// Up to `limit` of the messages `user` sent in `app` with ids above `after`, by id.
    pub async fn sent_after(
        &self,
        app: i64,
        user: i64,
        after: i64,
        limit: u64,
    ) -> Result<Vec<MessageRow>, StoreError> {
        let mut q = select(app);
        q.and_where(col("user_id").eq(user))
            .and_where(col("id").gt(after))
            .order_by(Ident::new("id"), Order::Asc)
            .limit(limit);
        let rows = self.db.fetch_all(&q).await?;
        rows.iter().map(read).collect()
    }

    /// How many messages each of `users` sent in `app`; users who sent none are absent.
    pub async fn counts_by_sender(
        &self,
        app: i64,
        users: &[i64],
    ) -> Result<std::collections::HashMap<i64, u64>, StoreError> {
        if users.is_empty() {
            return Ok(Default::default());
        }
        let mut q = Query::select();
        q.from(table())
            .column(Ident::new("user_id"))
            .expr_as(Func::count(col("id")), Ident::new("n"))
            .and_where(col("application_id").eq(app))
            .and_where(col("user_id").is_in(users.iter().copied()))
            .group_by_col(Ident::new("user_id"));
        let mut out = std::collections::HashMap::new();
        for r in self.db.fetch_all(&q).await? {
            if let (Some(u), Some(n)) = (r.int("user_id")?, r.int("n")?) {
                out.insert(u, n.max(0) as u64);
            }
        }
        Ok(out)
    }

    pub async fn by_ids(&self, app: i64, ids: &[i64]) -> Result<Vec<MessageRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = select(app);
        q.and_where(col("id").is_in(ids.iter().copied()));
        let rows = self.db.fetch_all(&q).await?;
        rows.iter().map(read).collect()
    }

    /// Up to `h.limit` messages, newest first by the scope's key.
    pub async fn history(&self, app: i64, h: &History) -> Result<Vec<MessageRow>, StoreError> {
        self.history_as(app, h, &Viewing::default()).await
    }

    /// As [`Messages::history`], narrowed to what `v` lets through.
    pub async fn history_as(
        &self,
        app: i64,
        h: &History,
        v: &Viewing,
    ) -> Result<Vec<MessageRow>, StoreError> {
        let rows = self.db.fetch_all(&history_query(app, h, v)).await?;
        let mut out = rows.iter().map(read).collect::<Result<Vec<_>, _>>()?;
        if h.after.is_some() {
            out.reverse();
        }
        Ok(out)
    }

    /// How many messages `h` matches (ignoring `before` and `limit`).
    pub async fn count(&self, app: i64, h: &History) -> Result<u64, StoreError> {
        self.count_as(app, h, &Viewing::default()).await
    }

    /// As [`Messages::count`], narrowed to what `v` lets through.
    pub async fn count_as(&self, app: i64, h: &History, v: &Viewing) -> Result<u64, StoreError> {
        count_of(&self.db.fetch_all(&Self::count_query(app, h, v)).await?)
    }

    /// The statement [`Messages::count_as`] reads: `COUNT(id) AS n` of the listing.
    pub(crate) fn count_query(app: i64, h: &History, v: &Viewing) -> SelectStatement {
        let mut q = viewed(app, h, v);
        q.clear_selects();
        q.expr_as(Func::count(col("id")), Ident::new("n"));
        q
    }

    /// How many channels hold messages of `h` (for `UnreadBy`: the member's unread channels).
    pub async fn count_channels(&self, app: i64, h: &History) -> Result<u64, StoreError> {
        let mut q = filtered(app, h);
        q.clear_selects();
        q.expr_as(Expr::cust("COUNT(DISTINCT channel_id)"), Ident::new("n"));
        count_of(&self.db.fetch_all(&q).await?)
    }

    /// Sets the editable fields of `m`; false when there is no such message.
    pub async fn update(tx: &mut Tx, m: &MessageRow) -> Result<bool, StoreError> {
        let mut q = Query::update();
        q.table(table())
            .values([
                (Ident::new("body"), m.body.clone().into()),
                (Ident::new("properties"), m.properties.to_string().into()),
                (Ident::new("mentions"), m.mentions.to_string().into()),
                (Ident::new("links"), m.links.to_string().into()),
                (Ident::new("last_edited"), m.last_edited.into()),
            ])
            .and_where(Expr::col(Ident::new("application_id")).eq(m.application_id))
            .and_where(Expr::col(Ident::new("id")).eq(m.id));
        Ok(tx.execute(&q).await? > 0)
    }

    /// Deletes a message; its reply thread and the replies in it go with it.
    pub async fn delete(tx: &mut Tx, app: i64, id: i64) -> Result<bool, StoreError> {
        let mut q = Query::delete();
        q.from_table(table())
            .and_where(Expr::col(Ident::new("application_id")).eq(app))
            .and_where(Expr::col(Ident::new("id")).eq(id));
        Ok(tx.execute(&q).await? > 0)
    }

    /// Deletes every message of the application; answers how many went. Replies go first: SQLite
    /// does not count rows that a foreign key cascade deleted before the statement reached them,
    /// so replies going with their parents would be missing from its count.
    pub async fn delete_all(tx: &mut Tx, app: i64) -> Result<u64, StoreError> {
        super::message_totals::lock_channels(tx, app, None).await?;
        let mut replies = Query::delete();
        replies
            .from_table(table())
            .and_where(Expr::col(Ident::new("application_id")).eq(app))
            .and_where(Expr::col(Ident::new("nested_level")).gt(0));
        let n = tx.execute(&replies).await?;
        let mut q = Query::delete();
        q.from_table(table())
            .and_where(Expr::col(Ident::new("application_id")).eq(app));
        Ok(n + tx.execute(&q).await?)
    }
}
