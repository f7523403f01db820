//! Channels of an application: PUBLIC and PRIVATE group channels with unique names, and DIRECT
//! channels unique per member set. Writes take the caller's transaction so the service can add
//! the write's event to it.

use sea_query::{
    Cond, Expr, Func, JoinType, NullOrdering, Order, Query, SelectStatement, SimpleExpr,
    SubQueryStatement,
};
use serde_json::{Map, Value};

use super::json_match::property_matches;
use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::row::DbRow;
use crate::Ident;

/// A stored channel.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelRow {
    pub id: i64,
    pub application_id: i64,
    /// `PUBLIC`, `PRIVATE` or `DIRECT`.
    pub r#type: String,
    /// None for DIRECT channels.
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub creator_id: Option<i64>,
    /// DIRECT channels: the sorted member ids, e.g. `3,7`.
    pub direct_key: Option<String>,
    pub properties: Value,
    pub created: i64,
}

/// What creating a channel needs (`id` is ignored).
pub type NewChannel = ChannelRow;

/// Which channels a list returns.
#[derive(Debug, Clone, Default)]
pub struct ChannelFilter {
    pub r#type: Option<String>,
    /// Exact channel name.
    pub name: Option<String>,
    /// Usernames that must all be members.
    pub member_names: Vec<String>,
    /// Created at or after / at or before, epoch milliseconds.
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub properties: Map<String, Value>,
    /// Channels this user created or is a member of.
    pub user: Option<i64>,
    /// Channels this user is not a member of (with `type` PUBLIC: the ones it may join).
    pub not_member: Option<i64>,
    /// Leaves out the channels this user hid (until their next message).
    pub visible_to: Option<i64>,
    /// Channels this user is a member of that hold messages of others it has not read.
    pub unread_by: Option<i64>,
}

/// Columns a page may be sorted by.
pub const SORTABLE: [&str; 4] = ["id", "name", "display_name", "created"];

/// A field of a channel that pages of rows holding a channel (read summaries) can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelField {
    Id,
    Name,
    DisplayName,
    Created,
}

impl ChannelField {
    /// Orders `q` by this field of the `chat_channels` row known in `q` as `channels`.
    pub(crate) fn order(self, q: &mut SelectStatement, channels: &Ident, descending: bool) {
        let (c, nullable) = match self {
            ChannelField::Id => ("id", false),
            ChannelField::Name => ("name", true),
            ChannelField::DisplayName => ("display_name", true),
            ChannelField::Created => ("created", false),
        };
        let c = (channels.clone(), Ident::new(c));
        let order = if descending { Order::Desc } else { Order::Asc };
        if nullable {
            // DIRECT channels have no names. SQLite sorts NULL below every value and
            // PostgreSQL above: say which, so both engines give one order.
            let nulls = if descending {
                NullOrdering::Last
            } else {
                NullOrdering::First
            };
            q.order_by_with_nulls(c, order, nulls);
        } else {
            q.order_by(c, order);
        }
    }
}

const COLUMNS: [&str; 9] = [
    "id",
    "application_id",
    "type",
    "name",
    "display_name",
    "creator_id",
    "direct_key",
    "properties",
    "created",
];

fn table() -> Ident {
    Ident::new("chat_channels")
}

fn col(c: &'static str) -> Expr {
    Expr::col((table(), Ident::new(c)))
}

fn read(r: &DbRow) -> Result<ChannelRow, StoreError> {
    let properties = r.text("properties")?.unwrap_or_else(|| "{}".into());
    Ok(ChannelRow {
        id: r.int("id")?.unwrap_or_default(),
        application_id: r.int("application_id")?.unwrap_or_default(),
        r#type: r.text("type")?.unwrap_or_default(),
        name: r.text("name")?,
        display_name: r.text("display_name")?,
        creator_id: r.int("creator_id")?,
        direct_key: r.text("direct_key")?,
        properties: serde_json::from_str(&properties)
            .map_err(|_| StoreError::Decode("chat_channels.properties".into()))?,
        created: r.int("created")?.unwrap_or_default(),
    })
}

/// `EXISTS (a member row of this channel matching `cond`)`.
fn has_member(cond: SimpleExpr) -> SimpleExpr {
    let m = Ident::new("m");
    let mut q = Query::select();
    q.expr(Expr::val(1))
        .from_as(Ident::new("chat_channel_members"), m.clone())
        .join_as(
            JoinType::InnerJoin,
            Ident::new("chat_users"),
            Ident::new("u"),
            Expr::col((Ident::new("u"), Ident::new("id")))
                .equals((m.clone(), Ident::new("user_id"))),
        )
        .and_where(Expr::col((m, Ident::new("channel_id"))).equals((table(), Ident::new("id"))))
        .and_where(cond);
    Expr::exists(q)
}

/// `chat_channels.id`.
fn channel_id() -> (Ident, Ident) {
    (table(), Ident::new("id"))
}

/// The channel's last message number: its MAIN thread's counter (0 before its first message).
fn last_seq() -> SimpleExpr {
    let t = Ident::new("lt");
    let mut q = Query::select();
    q.column((t.clone(), Ident::new("last_seq")))
        .from_as(Ident::new("chat_threads"), t.clone())
        .and_where(Expr::col((t, Ident::new("main_of"))).equals(channel_id()));
    Func::coalesce([
        SimpleExpr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(q))),
        Expr::val(0).into(),
    ])
    .into()
}

/// True while `user` has the channel hidden: no message came since it hid it.
fn hidden_by(user: i64) -> SimpleExpr {
    let s = Ident::new("hs");
    let mut q = Query::select();
    q.expr(Expr::val(1))
        .from_as(Ident::new("chat_channel_user_states"), s.clone())
        .and_where(Expr::col((s.clone(), Ident::new("channel_id"))).equals(channel_id()))
        .and_where(Expr::col((s.clone(), Ident::new("user_id"))).eq(user))
        .and_where(Expr::col((s, Ident::new("hidden_seq"))).gte(last_seq()));
    Expr::exists(q)
}

/// True when the message aliased `m` was deleted by `user` for itself: such a message is not
/// waiting to be read.
pub(crate) fn deleted_for(m: &Ident, user: SimpleExpr) -> SimpleExpr {
    let d = Ident::new("chat_message_deletions");
    let mut q = Query::select();
    q.expr(Expr::val(1))
        .from(d.clone())
        .and_where(Expr::col((d.clone(), Ident::new("user_id"))).eq(user))
        .and_where(Expr::col((d, Ident::new("message_id"))).equals((m.clone(), Ident::new("id"))));
    Expr::exists(q)
}

/// True while the channel holds a message of someone else (or of the system) after `user`'s
/// read cursor; the caller asks for membership separately.
fn unread_for(user: i64) -> SimpleExpr {
    let (m, rc) = (Ident::new("um"), Ident::new("rc"));
    let mut cursor = Query::select();
    cursor
        .column((rc.clone(), Ident::new("last_read_seq")))
        .from_as(Ident::new("chat_read_cursors"), rc.clone())
        .and_where(Expr::col((rc.clone(), Ident::new("channel_id"))).equals(channel_id()))
        .and_where(Expr::col((rc, Ident::new("user_id"))).eq(user));
    let read_up_to = Func::coalesce([
        SimpleExpr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(cursor))),
        Expr::val(0).into(),
    ]);
    let mut q = Query::select();
    q.expr(Expr::val(1))
        .from_as(Ident::new("chat_messages"), m.clone())
        .and_where(Expr::col((m.clone(), Ident::new("channel_id"))).equals(channel_id()))
        .and_where(Expr::col((m.clone(), Ident::new("seq"))).gt(read_up_to))
        .and_where(deleted_for(&m, Expr::val(user).into()).not())
        .cond_where(
            Cond::any()
                .add(Expr::col((m.clone(), Ident::new("user_id"))).is_null())
                .add(Expr::col((m, Ident::new("user_id"))).ne(user)),
        );
    Expr::exists(q)
}

#[derive(Debug, Clone)]
pub struct Channels {
    db: Db,
}

impl Channels {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    fn select(app: i64) -> SelectStatement {
        let mut q = Query::select();
        q.from(table())
            .columns(COLUMNS.map(|c| (table(), Ident::new(c))))
            .and_where(col("application_id").eq(app));
        q
    }

    fn filtered(&self, app: i64, f: &ChannelFilter) -> SelectStatement {
        let mut q = Self::select(app);
        if let Some(t) = &f.r#type {
            q.and_where(col("type").eq(t.as_str()));
        }
        if let Some(n) = &f.name {
            q.and_where(col("name").eq(n.as_str()));
        }
        for name in &f.member_names {
            q.and_where(has_member(
                Expr::col((Ident::new("u"), Ident::new("name"))).eq(name.as_str()),
            ));
        }
        if let Some(s) = f.start {
            q.and_where(col("created").gte(s));
        }
        if let Some(e) = f.end {
            q.and_where(col("created").lte(e));
        }
        for (k, v) in &f.properties {
            q.and_where(property_matches(self.db.dialect(), "chat_channels", k, v));
        }
        if let Some(u) = f.user {
            q.cond_where(Cond::any().add(col("creator_id").eq(u)).add(has_member(
                Expr::col((Ident::new("m"), Ident::new("user_id"))).eq(u),
            )));
        }
        if let Some(u) = f.not_member {
            q.and_where(
                has_member(Expr::col((Ident::new("m"), Ident::new("user_id"))).eq(u)).not(),
            );
        }
        if let Some(u) = f.visible_to {
            q.and_where(hidden_by(u).not());
        }
        if let Some(u) = f.unread_by {
            q.and_where(has_member(
                Expr::col((Ident::new("m"), Ident::new("user_id"))).eq(u),
            ))
            .and_where(unread_for(u));
        }
        q
    }

    pub async fn get(&self, app: i64, id: i64) -> Result<Option<ChannelRow>, StoreError> {
        let mut q = Self::select(app);
        q.and_where(col("id").eq(id));
        let rows = self.db.fetch_all(&q).await?;
        rows.first().map(read).transpose()
    }

    /// The channels of `ids` that belong to `app`, in id order: one query for many.
    pub async fn by_ids(&self, app: i64, ids: &[i64]) -> Result<Vec<ChannelRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Self::select(app);
        q.and_where(col("id").is_in(ids.iter().copied()))
            .order_by((table(), Ident::new("id")), Order::Asc);
        let rows = self.db.fetch_all(&q).await?;
        rows.iter().map(read).collect()
    }

    /// The DIRECT channel of exactly this member set, if there is one.
    pub async fn direct(&self, app: i64, key: &str) -> Result<Option<ChannelRow>, StoreError> {
        let mut q = Self::select(app);
        q.and_where(col("direct_key").eq(key));
        let rows = self.db.fetch_all(&q).await?;
        rows.first().map(read).transpose()
    }

    /// The group channel named `name`, if there is one.
    pub async fn by_name(&self, app: i64, name: &str) -> Result<Option<ChannelRow>, StoreError> {
        let mut q = Self::select(app);
        q.and_where(col("name").eq(name));
        let rows = self.db.fetch_all(&q).await?;
        rows.first().map(read).transpose()
    }

    /// One page of channels: `sort` is (column from [`SORTABLE`], descending), ties broken by id.
    pub async fn page(
        &self,
        app: i64,
        f: &ChannelFilter,
        sort: &[(&str, bool)],
        offset: u64,
        limit: u64,
    ) -> Result<Vec<ChannelRow>, StoreError> {
        let mut q = self.filtered(app, f);
        let mut by_id = false;
        for (c, desc) in sort {
            // Only a sortable column, named by the list's own spelling.
            if let Some(&c) = SORTABLE.iter().find(|s| *s == c) {
                q.order_by(
                    (table(), Ident::new(c)),
                    if *desc { Order::Desc } else { Order::Asc },
                );
                by_id |= c == "id";
            }
        }
        if !by_id {
            q.order_by((table(), Ident::new("id")), Order::Asc);
        }
        q.limit(limit).offset(offset);
        let rows = self.db.fetch_all(&q).await?;
        rows.iter().map(read).collect()
    }

    pub async fn count(&self, app: i64, f: &ChannelFilter) -> Result<u64, StoreError> {
        let mut q = self.filtered(app, f);
        q.clear_selects();
        q.expr_as(sea_query::Func::count(col("id")), Ident::new("n"));
        let rows = self.db.fetch_all(&q).await?;
        Ok(rows
            .first()
            .map(|r| r.int("n"))
            .transpose()?
            .flatten()
            .unwrap_or(0)
            .max(0) as u64)
    }

    /// Inserts `c` inside `tx` and answers it with its new id. A taken name or DIRECT member
    /// set is [`StoreError::Conflict`].
    pub async fn insert(tx: &mut Tx, c: &NewChannel) -> Result<ChannelRow, StoreError> {
        let mut q = Query::insert();
        q.into_table(table())
            .columns(COLUMNS[1..].iter().map(|c| Ident::new(*c)))
            .values_panic([
                c.application_id.into(),
                c.r#type.clone().into(),
                c.name.clone().into(),
                c.display_name.clone().into(),
                c.creator_id.into(),
                c.direct_key.clone().into(),
                c.properties.to_string().into(),
                c.created.into(),
            ])
            .returning_col(Ident::new("id"));
        let rows = tx.fetch_all(&q).await?;
        let id = rows
            .first()
            .map(|r| r.int("id"))
            .transpose()?
            .flatten()
            .ok_or_else(|| StoreError::Decode("chat_channels.id".into()))?;
        Ok(ChannelRow { id, ..c.clone() })
    }

    /// Sets the display name and properties of a channel; false when there is no such channel.
    pub async fn update(tx: &mut Tx, c: &ChannelRow) -> Result<bool, StoreError> {
        let mut q = Query::update();
        q.table(table())
            .values([
                (Ident::new("display_name"), c.display_name.clone().into()),
                (Ident::new("properties"), c.properties.to_string().into()),
            ])
            .and_where(Expr::col(Ident::new("application_id")).eq(c.application_id))
            .and_where(Expr::col(Ident::new("id")).eq(c.id));
        Ok(tx.execute(&q).await? > 0)
    }

    /// Deletes a channel with its members, moderators and invites.
    pub async fn delete(tx: &mut Tx, app: i64, id: i64) -> Result<bool, StoreError> {
        let mut q = Query::delete();
        q.from_table(table())
            .and_where(Expr::col(Ident::new("application_id")).eq(app))
            .and_where(Expr::col(Ident::new("id")).eq(id));
        Ok(tx.execute(&q).await? > 0)
    }
}
