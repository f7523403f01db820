//! Chat users of an application, their named secrets, and the user fields that pages of other
//! rows holding users (roster entries, read receipts) sort by.

use sea_query::{Cond, Expr, Func, Order, Query, SelectStatement, SimpleExpr, SubQueryStatement};
use serde_json::{Map, Value};

use super::json_match;
use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::row::Columns;
use crate::Ident;

/// A stored chat user.
#[derive(Debug, Clone)]
pub struct ChatUserRow {
    pub id: i64,
    pub application_id: i64,
    pub name: String,
    pub display_name: String,
    pub display_picture_url: String,
    pub r#type: String,
    pub is_guest: bool,
    pub properties: Value,
    pub presence_status: String,
    pub call_status: String,
    pub created: i64,
    /// Has an active user session (a connected real-time client).
    pub online: bool,
}

/// What creating a chat user needs.
#[derive(Debug, Clone)]
pub struct NewChatUser {
    pub application_id: i64,
    pub name: String,
    pub display_name: String,
    pub display_picture_url: String,
    pub r#type: String,
    pub is_guest: bool,
    pub properties: Value,
    pub created: i64,
}

/// Fields to change on a chat user; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct ChatUserChanges {
    pub display_name: Option<String>,
    pub display_picture_url: Option<String>,
    pub is_guest: Option<bool>,
    pub presence_status: Option<String>,
    pub properties: Option<Value>,
}

/// Which users a list returns.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Exact username.
    pub name: Option<String>,
    /// Users whose custom properties hold each of these key/value pairs.
    pub properties: Map<String, Value>,
    /// Users with (true) or without (false) messages they have not read: messages of others
    /// after their read cursor in a channel they are a member of.
    pub unread: Option<bool>,
    /// This user's contacts: the other users that are members of a channel it is a member of.
    pub contact_of: Option<i64>,
    /// Display name contains this text, whatever its case.
    pub display_name: Option<String>,
    /// Users with (true) or without (false) an active user session.
    pub online: Option<bool>,
}

/// A field of a chat user that pages of users, or of rows holding a user (roster entries, read
/// receipts, read summaries), can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserField {
    Id,
    Name,
    DisplayName,
    Created,
}

impl UserField {
    fn column(self) -> &'static str {
        match self {
            UserField::Id => "id",
            UserField::Name => "name",
            UserField::DisplayName => "display_name",
            UserField::Created => "created",
        }
    }

    /// Orders `q` by this field of the `chat_users` row known in `q` as `users`.
    pub(crate) fn order(self, q: &mut SelectStatement, users: &Ident, descending: bool) {
        // Every user column sorted on is NOT NULL, so the engines agree without a NULLS clause.
        q.order_by(
            (users.clone(), Ident::new(self.column())),
            if descending { Order::Desc } else { Order::Asc },
        );
    }
}

const COLUMNS: [&str; 11] = [
    "id",
    "application_id",
    "name",
    "display_name",
    "display_picture_url",
    "type",
    "is_guest",
    "properties",
    "presence_status",
    "call_status",
    "created",
];

/// Columns a page may be sorted by.
pub const SORTABLE: [&str; 4] = ["id", "name", "display_name", "created"];

fn table() -> Ident {
    Ident::new("chat_users")
}

fn col(c: &'static str) -> Expr {
    Expr::col((table(), Ident::new(c)))
}

pub(crate) fn read(r: &impl Columns) -> Result<ChatUserRow, StoreError> {
    let text =
        |c: &'static str| -> Result<String, StoreError> { Ok(r.text(c)?.unwrap_or_default()) };
    let properties = r
        .with_text("properties", |s| serde_json::from_str(s.unwrap_or("{}")))?
        .map_err(|_| StoreError::Decode("chat_users.properties".into()))?;
    Ok(ChatUserRow {
        id: r.int("id")?.unwrap_or_default(),
        application_id: r.int("application_id")?.unwrap_or_default(),
        name: text("name")?,
        display_name: text("display_name")?,
        display_picture_url: text("display_picture_url")?,
        r#type: text("type")?,
        is_guest: r.boolean("is_guest")?.unwrap_or(false),
        properties,
        presence_status: text("presence_status")?,
        call_status: text("call_status")?,
        created: r.int("created")?.unwrap_or_default(),
        online: r.boolean("online")?.unwrap_or(false),
    })
}

/// Selects into `q`, which joins `chat_users` under its own name, what [`read`] reads: rows
/// that show their users (reactions) read them in the same query.
pub(crate) fn select_joined(q: &mut SelectStatement) {
    q.columns(COLUMNS.map(|c| (table(), Ident::new(c))))
        .expr_as(online(), Ident::new("online"));
}

/// Selects into `q`, which joins `chat_users` as `alias`, what [`read`] reads, each column
/// named `prefix` and its name (read back through [`crate::row::Prefixed`]).
pub(crate) fn select_as(q: &mut SelectStatement, alias: &'static str, prefix: &str) {
    let user = Ident::new(alias);
    for c in COLUMNS {
        q.expr_as(
            Expr::col((user.clone(), Ident::new(c))),
            Ident::new(format!("{prefix}{c}")),
        );
    }
    q.expr_as(online_of(user), Ident::new(format!("{prefix}online")));
}

/// True while the user has an active user session: read with every user, one index probe.
fn online() -> SimpleExpr {
    online_of(table())
}

/// [`online`] of the user row that `user` names.
fn online_of(user: Ident) -> SimpleExpr {
    let s = Ident::new("s");
    let mut q = Query::select();
    q.expr(Expr::val(1))
        .from_as(Ident::new("user_sessions"), s.clone())
        .and_where(Expr::col((s.clone(), Ident::new("user_id"))).equals((user, Ident::new("id"))))
        .and_where(Expr::col((s, Ident::new("state"))).eq("ACTIVE"));
    Expr::exists(q)
}

/// True while the user has a message of someone else (or of the system) after its read cursor
/// in a channel it is a member of: what `Scope::UnreadBy` lists, stopping at the first such
/// message. Each membership costs one probe of the channel's messages from the cursor on.
fn has_unread() -> SimpleExpr {
    let (mm, m, rc) = (Ident::new("mm"), Ident::new("um"), Ident::new("rc"));
    let user = || (table(), Ident::new("id"));
    let mut cursor = Query::select();
    cursor
        .column((rc.clone(), Ident::new("last_read_seq")))
        .from_as(Ident::new("chat_read_cursors"), rc.clone())
        .and_where(
            Expr::col((rc.clone(), Ident::new("channel_id")))
                .equals((mm.clone(), Ident::new("channel_id"))),
        )
        .and_where(Expr::col((rc, Ident::new("user_id"))).equals(user()));
    let read_up_to = Func::coalesce([
        SimpleExpr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(cursor))),
        Expr::val(0).into(),
    ]);
    let mut message = Query::select();
    message
        .expr(Expr::val(1))
        .from_as(Ident::new("chat_messages"), m.clone())
        .and_where(
            Expr::col((m.clone(), Ident::new("channel_id")))
                .equals((mm.clone(), Ident::new("channel_id"))),
        )
        .and_where(Expr::col((m.clone(), Ident::new("seq"))).gt(read_up_to))
        .and_where(super::channels::deleted_for(&m, Expr::col(user()).into()).not())
        .cond_where(
            Cond::any()
                .add(Expr::col((m.clone(), Ident::new("user_id"))).is_null())
                .add(Expr::col((m, Ident::new("user_id"))).not_equals(user())),
        );
    let mut member = Query::select();
    member
        .expr(Expr::val(1))
        .from_as(Ident::new("chat_channel_members"), mm.clone())
        .and_where(Expr::col((mm, Ident::new("user_id"))).equals(user()))
        .and_where(Expr::exists(message));
    Expr::exists(member)
}

/// True when the user is a member of a channel that `user` is a member of too.
fn shares_a_channel_with(user: i64) -> SimpleExpr {
    let (mine, theirs) = (Ident::new("cm"), Ident::new("ct"));
    let mut q = Query::select();
    q.expr(Expr::val(1))
        .from_as(Ident::new("chat_channel_members"), mine.clone())
        .join_as(
            sea_query::JoinType::InnerJoin,
            Ident::new("chat_channel_members"),
            theirs.clone(),
            Expr::col((theirs.clone(), Ident::new("channel_id")))
                .equals((mine.clone(), Ident::new("channel_id"))),
        )
        .and_where(Expr::col((mine, Ident::new("user_id"))).eq(user))
        .and_where(Expr::col((theirs, Ident::new("user_id"))).equals((table(), Ident::new("id"))));
    Expr::exists(q)
}

#[derive(Debug, Clone)]
pub struct ChatUsers {
    db: Db,
}

impl ChatUsers {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    fn select(&self, app: i64) -> SelectStatement {
        let mut q = Query::select();
        q.from(table())
            .columns(COLUMNS.map(|c| (table(), Ident::new(c))))
            .expr_as(online(), Ident::new("online"))
            .and_where(col("application_id").eq(app));
        q
    }

    fn filtered(&self, app: i64, f: &UserFilter) -> SelectStatement {
        let mut q = self.select(app);
        if let Some(name) = &f.name {
            q.and_where(col("name").eq(name.as_str()));
        }
        for (k, v) in &f.properties {
            q.and_where(json_match::property_matches(
                self.db.dialect(),
                "chat_users",
                k,
                v,
            ));
        }
        match f.unread {
            Some(true) => {
                q.and_where(has_unread());
            }
            Some(false) => {
                q.and_where(has_unread().not());
            }
            None => {}
        }
        if let Some(u) = f.contact_of {
            q.and_where(col("id").ne(u))
                .and_where(shares_a_channel_with(u));
        }
        if let Some(text) = &f.display_name {
            let escaped = text
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            // Folded on both sides: LIKE ignores case on SQLite only.
            q.and_where(
                Expr::expr(Func::lower(col("display_name")))
                    .like(sea_query::LikeExpr::new(format!("%{escaped}%")).escape('\\')),
            );
        }
        match f.online {
            Some(true) => {
                q.and_where(online());
            }
            Some(false) => {
                q.and_where(online().not());
            }
            None => {}
        }
        q
    }

    /// Inserts `u` and reads it back.
    pub async fn insert(&self, u: &NewChatUser) -> Result<ChatUserRow, StoreError> {
        let mut tx = self.db.begin().await?;
        let id = Self::insert_in(&mut tx, u).await?;
        tx.commit().await?;
        self.get(u.application_id, id)
            .await?
            .ok_or_else(|| StoreError::Decode("inserted chat user".into()))
    }

    /// Inserts `u` inside `tx`; answers its id. Conflict when the name is taken.
    pub async fn insert_in(tx: &mut Tx, u: &NewChatUser) -> Result<i64, StoreError> {
        let mut q = Query::insert();
        q.into_table(table())
            .columns(
                [
                    "application_id",
                    "name",
                    "display_name",
                    "display_picture_url",
                    "type",
                    "is_guest",
                    "properties",
                    "created",
                ]
                .map(Ident::new),
            )
            .values_panic([
                u.application_id.into(),
                u.name.clone().into(),
                u.display_name.clone().into(),
                u.display_picture_url.clone().into(),
                u.r#type.clone().into(),
                u.is_guest.into(),
                u.properties.to_string().into(),
                u.created.into(),
            ])
            .returning_col(Ident::new("id"));
        let rows = tx.fetch_all(&q).await?;
        rows.first()
            .map(|r| r.int("id"))
            .transpose()?
            .flatten()
            .ok_or_else(|| StoreError::Decode("inserted chat user".into()))
    }

    pub async fn get(&self, app: i64, id: i64) -> Result<Option<ChatUserRow>, StoreError> {
        let mut q = self.select(app);
        q.and_where(col("id").eq(id));
        let rows = self.db.fetch_all(&q).await?;
        rows.first().map(read).transpose()
    }

    pub async fn by_name(&self, app: i64, name: &str) -> Result<Option<ChatUserRow>, StoreError> {
        let mut q = self.select(app);
        q.and_where(col("name").eq(name));
        let rows = self.db.fetch_all(&q).await?;
        rows.first().map(read).transpose()
    }

    /// The users with these names (those that exist in `app`), in no particular order.
    /// Up to `limit` of `app`'s users with ids above `after`, by id: every user, page by page.
    pub async fn after_id(
        &self,
        app: i64,
        after: i64,
        limit: u64,
    ) -> Result<Vec<ChatUserRow>, StoreError> {
        let mut q = self.select(app);
        q.and_where(Expr::col((table(), Ident::new("id"))).gt(after))
            .order_by((table(), Ident::new("id")), Order::Asc)
            .limit(limit);
        let rows = self.db.fetch_all(&q).await?;
        rows.iter().map(read).collect()
    }

    pub async fn by_names(&self, app: i64, names: &[&str]) -> Result<Vec<ChatUserRow>, StoreError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = self.select(app);
        q.and_where(col("name").is_in(names.iter().copied()));
        let rows = self.db.fetch_all(&q).await?;
        rows.iter().map(read).collect()
    }

    /// The users with these ids (those that exist in `app`), in no particular order.
    pub async fn by_ids(&self, app: i64, ids: &[i64]) -> Result<Vec<ChatUserRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = self.select(app);
        q.and_where(col("id").is_in(ids.iter().copied()));
        let rows = self.db.fetch_all(&q).await?;
        rows.iter().map(read).collect()
    }

    /// One page of users: `sort` is (column from [`SORTABLE`], descending), ties broken by id.
    pub async fn page(
        &self,
        app: i64,
        f: &UserFilter,
        sort: &[(&str, bool)],
        offset: u64,
        limit: u64,
    ) -> Result<Vec<ChatUserRow>, StoreError> {
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

    pub async fn count(&self, app: i64, f: &UserFilter) -> Result<u64, StoreError> {
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

    /// Applies the set fields of `c` inside `tx`; false when there is no such user.
    pub async fn update(
        tx: &mut Tx,
        app: i64,
        id: i64,
        c: &ChatUserChanges,
    ) -> Result<bool, StoreError> {
        let mut values: Vec<(Ident, SimpleExpr)> = Vec::new();
        let mut set = |col: &'static str, v: sea_query::Value| {
            values.push((Ident::new(col), SimpleExpr::Value(v)))
        };
        if let Some(v) = &c.display_name {
            set("display_name", v.clone().into());
        }
        if let Some(v) = &c.display_picture_url {
            set("display_picture_url", v.clone().into());
        }
        if let Some(v) = c.is_guest {
            set("is_guest", v.into());
        }
        if let Some(v) = &c.presence_status {
            set("presence_status", v.clone().into());
        }
        if let Some(v) = &c.properties {
            set("properties", v.to_string().into());
        }
        let mut q = Query::update();
        if values.is_empty() {
            // Nothing to change: still tell whether the user exists.
            values.push((Ident::new("id"), Expr::col(Ident::new("id")).into()));
        }
        q.table(table())
            .values(values)
            .and_where(Expr::col(Ident::new("application_id")).eq(app))
            .and_where(Expr::col(Ident::new("id")).eq(id));
        Ok(tx.execute(&q).await? > 0)
    }

    /// Deletes a user inside `tx` (its messages go with it); false when there was none.
    pub async fn delete(tx: &mut Tx, app: i64, id: i64) -> Result<bool, StoreError> {
        super::message_totals::lock_channels(tx, app, Some(id)).await?;
        let mut q = Query::delete();
        q.from_table(table())
            .and_where(Expr::col(Ident::new("application_id")).eq(app))
            .and_where(Expr::col(Ident::new("id")).eq(id));
        Ok(tx.execute(&q).await? > 0)
    }

    /// The stored text of a user's secret (the service seals and opens it).
    pub async fn secret(
        &self,
        app: i64,
        user: i64,
        name: &str,
    ) -> Result<Option<String>, StoreError> {
        let mut q = Query::select();
        q.from(Ident::new("chat_user_secrets"))
            .column(Ident::new("secret"))
            .and_where(Expr::col(Ident::new("application_id")).eq(app))
            .and_where(Expr::col(Ident::new("user_id")).eq(user))
            .and_where(Expr::col(Ident::new("name")).eq(name));
        let rows = self.db.fetch_all(&q).await?;
        Ok(rows
            .first()
            .map(|r| r.text("secret"))
            .transpose()?
            .flatten())
    }

    /// Sets a secret (replacing one of the same name) inside `tx`.
    pub async fn put_secret(
        tx: &mut Tx,
        app: i64,
        user: i64,
        name: &str,
        secret: &str,
    ) -> Result<(), StoreError> {
        let mut d = Query::delete();
        d.from_table(Ident::new("chat_user_secrets"))
            .and_where(Expr::col(Ident::new("application_id")).eq(app))
            .and_where(Expr::col(Ident::new("user_id")).eq(user))
            .and_where(Expr::col(Ident::new("name")).eq(name));
        tx.execute(&d).await?;
        let mut q = Query::insert();
        q.into_table(Ident::new("chat_user_secrets"))
            .columns(["application_id", "user_id", "name", "secret"].map(Ident::new))
            .values_panic([app.into(), user.into(), name.into(), secret.into()]);
        tx.execute(&q).await?;
        Ok(())
    }

    /// Removes a secret inside `tx`; false when there was none.
    pub async fn delete_secret(
        tx: &mut Tx,
        app: i64,
        user: i64,
        name: &str,
    ) -> Result<bool, StoreError> {
        let mut q = Query::delete();
        q.from_table(Ident::new("chat_user_secrets"))
            .and_where(Expr::col(Ident::new("application_id")).eq(app))
            .and_where(Expr::col(Ident::new("user_id")).eq(user))
            .and_where(Expr::col(Ident::new("name")).eq(name));
        Ok(tx.execute(&q).await? > 0)
    }
}
