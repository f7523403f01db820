//! Real-time sessions: user sessions (one per gateway connection) and chat sessions (one per
//! channel a user opened), ACTIVE until ended, and the leases of the instances holding them, so
//! that the sessions of an instance that died are ended by another.

use sea_query::{Expr, Func, InsertStatement, Order, Query, SelectStatement};

use super::chat_users::UserField;
use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::ident::col;
use crate::row::{count_of, DbRow};
use crate::Ident;

pub const ACTIVE: &str = "ACTIVE";
pub const ENDED: &str = "ENDED";

#[derive(Debug, Clone, PartialEq)]
pub struct UserSessionRow {
    pub id: i64,
    pub application_id: i64,
    pub user_id: i64,
    pub instance_id: String,
    pub state: String,
    pub user_agent: Option<String>,
    pub created: i64,
    pub ended: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatSessionRow {
    pub id: i64,
    pub application_id: i64,
    pub user_session_id: i64,
    pub user_id: i64,
    pub channel_id: i64,
    pub state: String,
    pub created: i64,
    pub ended: Option<i64>,
}

fn users() -> Ident {
    Ident::new("user_sessions")
}

fn chats() -> Ident {
    Ident::new("chat_sessions")
}

const USER_COLUMNS: [&str; 8] = [
    "id",
    "application_id",
    "user_id",
    "instance_id",
    "state",
    "user_agent",
    "created",
    "ended",
];

const CHAT_COLUMNS: [&str; 8] = [
    "id",
    "application_id",
    "user_session_id",
    "user_id",
    "channel_id",
    "state",
    "created",
    "ended",
];

fn read_user(r: &DbRow) -> Result<UserSessionRow, StoreError> {
    Ok(UserSessionRow {
        id: r.int("id")?.unwrap_or_default(),
        application_id: r.int("application_id")?.unwrap_or_default(),
        user_id: r.int("user_id")?.unwrap_or_default(),
        instance_id: r.text("instance_id")?.unwrap_or_default(),
        state: r.text("state")?.unwrap_or_default(),
        user_agent: r.text("user_agent")?,
        created: r.int("created")?.unwrap_or_default(),
        ended: r.int("ended")?,
    })
}

fn read_chat(r: &DbRow) -> Result<ChatSessionRow, StoreError> {
    Ok(ChatSessionRow {
        id: r.int("id")?.unwrap_or_default(),
        application_id: r.int("application_id")?.unwrap_or_default(),
        user_session_id: r.int("user_session_id")?.unwrap_or_default(),
        user_id: r.int("user_id")?.unwrap_or_default(),
        channel_id: r.int("channel_id")?.unwrap_or_default(),
        state: r.text("state")?.unwrap_or_default(),
        created: r.int("created")?.unwrap_or_default(),
        ended: r.int("ended")?,
    })
}

/// The insert of an ACTIVE chat session, answering its id.
fn chat_insert(app: i64, session: i64, user: i64, channel: i64, now: i64) -> InsertStatement {
    let mut q = Query::insert();
    q.into_table(chats())
        .columns(
            [
                "application_id",
                "user_session_id",
                "user_id",
                "channel_id",
                "state",
                "created",
            ]
            .map(Ident::new),
        )
        .values_panic([
            app.into(),
            session.into(),
            user.into(),
            channel.into(),
            ACTIVE.into(),
            now.into(),
        ])
        .returning_col(Ident::new("id"));
    q
}

fn chat_row(id: i64, app: i64, session: i64, user: i64, channel: i64, now: i64) -> ChatSessionRow {
    ChatSessionRow {
        id,
        application_id: app,
        user_session_id: session,
        user_id: user,
        channel_id: channel,
        state: ACTIVE.into(),
        created: now,
        ended: None,
    }
}

fn id_of(rows: &[DbRow]) -> Result<i64, StoreError> {
    rows.first()
        .map(|r| r.int("id"))
        .transpose()?
        .flatten()
        .ok_or_else(|| StoreError::Decode("inserted session".into()))
}

/// A page of one table's sessions of `app`, newest first, optionally of one state.
fn page_of(
    table: Ident,
    columns: &[&'static str],
    app: i64,
    state: Option<&str>,
    ascending: bool,
) -> SelectStatement {
    let mut q = Query::select();
    q.from(table)
        .columns(columns.iter().map(|c| Ident::new(*c)))
        .and_where(col("application_id").eq(app));
    if let Some(s) = state {
        q.and_where(col("state").eq(s));
    }
    let order = if ascending { Order::Asc } else { Order::Desc };
    q.order_by(Ident::new("id"), order);
    q
}

#[derive(Debug, Clone)]
pub struct Sessions {
    db: Db,
}

impl Sessions {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Starts a user session of `user` held by `instance`.
    pub async fn start_user(
        &self,
        app: i64,
        user: i64,
        instance: &str,
        agent: Option<&str>,
        now: i64,
    ) -> Result<UserSessionRow, StoreError> {
        let mut q = Query::insert();
        q.into_table(users())
            .columns(
                [
                    "application_id",
                    "user_id",
                    "instance_id",
                    "state",
                    "user_agent",
                    "created",
                ]
                .map(Ident::new),
            )
            .values_panic([
                app.into(),
                user.into(),
                instance.into(),
                ACTIVE.into(),
                agent.map(str::to_string).into(),
                now.into(),
            ])
            .returning_col(Ident::new("id"));
        let id = id_of(&self.db.write_returning(&q).await?)?;
        Ok(UserSessionRow {
            id,
            application_id: app,
            user_id: user,
            instance_id: instance.to_string(),
            state: ACTIVE.into(),
            user_agent: agent.map(str::to_string),
            created: now,
            ended: None,
        })
    }

    /// Starts a chat session of user session `session` in `channel`.
    pub async fn start_chat(
        &self,
        app: i64,
        session: i64,
        user: i64,
        channel: i64,
        now: i64,
    ) -> Result<ChatSessionRow, StoreError> {
        let q = chat_insert(app, session, user, channel, now);
        let id = id_of(&self.db.write_returning(&q).await?)?;
        Ok(chat_row(id, app, session, user, channel, now))
    }

    /// As [`Sessions::start_chat`], inside `tx` (the write's event goes in the same one).
    pub async fn start_chat_in(
        tx: &mut Tx,
        app: i64,
        session: i64,
        user: i64,
        channel: i64,
        now: i64,
    ) -> Result<ChatSessionRow, StoreError> {
        let q = chat_insert(app, session, user, channel, now);
        let id = id_of(&tx.fetch_all(&q).await?)?;
        Ok(chat_row(id, app, session, user, channel, now))
    }

    /// Ends chat session `id`; false when it was not active.
    pub async fn end_chat(&self, app: i64, id: i64, now: i64) -> Result<bool, StoreError> {
        let mut q = Query::update();
        q.table(chats())
            .values([
                (Ident::new("state"), ENDED.into()),
                (Ident::new("ended"), now.into()),
            ])
            .and_where(col("application_id").eq(app))
            .and_where(col("id").eq(id))
            .and_where(col("state").eq(ACTIVE));
        Ok(self.db.execute(&q).await? > 0)
    }

    /// Ends user session `id` and its chat sessions; answers the chat sessions it ended, or
    /// `None` when the user session was not active.
    pub async fn end_user(
        &self,
        app: i64,
        id: i64,
        now: i64,
    ) -> Result<Option<Vec<ChatSessionRow>>, StoreError> {
        let mut tx = self.db.begin().await?;
        let mut q = Query::update();
        q.table(users())
            .values([
                (Ident::new("state"), ENDED.into()),
                (Ident::new("ended"), now.into()),
            ])
            .and_where(col("application_id").eq(app))
            .and_where(col("id").eq(id))
            .and_where(col("state").eq(ACTIVE));
        if tx.execute(&q).await? == 0 {
            tx.commit().await?;
            return Ok(None);
        }
        let mut open = Query::select();
        open.from(chats())
            .columns(CHAT_COLUMNS.map(Ident::new))
            .and_where(col("user_session_id").eq(id))
            .and_where(col("state").eq(ACTIVE));
        let ended: Vec<ChatSessionRow> = tx
            .fetch_all(&open)
            .await?
            .iter()
            .map(read_chat)
            .collect::<Result<_, _>>()?;
        let mut up = Query::update();
        up.table(chats())
            .values([
                (Ident::new("state"), ENDED.into()),
                (Ident::new("ended"), now.into()),
            ])
            .and_where(col("user_session_id").eq(id))
            .and_where(col("state").eq(ACTIVE));
        tx.execute(&up).await?;
        tx.commit().await?;
        Ok(Some(ended))
    }

    /// How many active user sessions `user` has: online while above zero.
    pub async fn active_count(&self, app: i64, user: i64) -> Result<u64, StoreError> {
        let mut q = Query::select();
        q.expr_as(Func::count(col("id")), Ident::new("n"))
            .from(users())
            .and_where(col("application_id").eq(app))
            .and_where(col("user_id").eq(user))
            .and_where(col("state").eq(ACTIVE));
        count_of(&self.db.fetch_all(&q).await?)
    }

    /// How many active chat sessions `user` has in `channel`: a participant while above zero.
    pub async fn active_chats(&self, app: i64, user: i64, channel: i64) -> Result<u64, StoreError> {
        let mut q = Query::select();
        q.expr_as(Func::count(col("id")), Ident::new("n"))
            .from(chats())
            .and_where(col("application_id").eq(app))
            .and_where(col("user_id").eq(user))
            .and_where(col("channel_id").eq(channel))
            .and_where(col("state").eq(ACTIVE));
        count_of(&self.db.fetch_all(&q).await?)
    }

    /// A page of `app`'s user sessions (optionally of one state) and how many there are.
    pub async fn user_page(
        &self,
        app: i64,
        state: Option<&str>,
        ascending: bool,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<UserSessionRow>, u64), StoreError> {
        let q = page_of(users(), &USER_COLUMNS, app, state, ascending);
        let (rows, total) = self.page_and_count(q, offset, limit).await?;
        Ok((rows.iter().map(read_user).collect::<Result<_, _>>()?, total))
    }

    /// A page of `app`'s chat sessions (optionally of one state) and how many there are.
    pub async fn chat_page(
        &self,
        app: i64,
        state: Option<&str>,
        ascending: bool,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<ChatSessionRow>, u64), StoreError> {
        let q = page_of(chats(), &CHAT_COLUMNS, app, state, ascending);
        let (rows, total) = self.page_and_count(q, offset, limit).await?;
        Ok((rows.iter().map(read_chat).collect::<Result<_, _>>()?, total))
    }

    /// The rows of `q` from `offset`, and how many it selects in all.
    async fn page_and_count(
        &self,
        q: SelectStatement,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<DbRow>, u64), StoreError> {
        let mut count = q.clone();
        count.clear_selects();
        count.clear_order_by();
        count.expr_as(Func::count(col("id")), Ident::new("n"));
        let total = count_of(&self.db.fetch_all(&count).await?)?;
        let mut page = q;
        page.offset(offset).limit(limit);
        Ok((self.db.fetch_all(&page).await?, total))
    }

    /// User sessions `ids` of `app` (those a chat session page names).
    pub async fn user_sessions(
        &self,
        app: i64,
        ids: &[i64],
    ) -> Result<Vec<UserSessionRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Query::select();
        q.from(users())
            .columns(USER_COLUMNS.map(Ident::new))
            .and_where(col("application_id").eq(app))
            .and_where(col("id").is_in(ids.iter().copied()));
        self.db.fetch_all(&q).await?.iter().map(read_user).collect()
    }

    /// The users with an active chat session in `channel`, sorted by `order` (each field with
    /// its descending flag; ties by id), and how many there are.
    pub async fn participants(
        &self,
        app: i64,
        channel: i64,
        order: &[(UserField, bool)],
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<i64>, u64), StoreError> {
        let mut active = Query::select();
        active
            .column(Ident::new("user_id"))
            .from(chats())
            .and_where(col("application_id").eq(app))
            .and_where(col("channel_id").eq(channel))
            .and_where(col("state").eq(ACTIVE));
        // The users are read from the channel's sessions (an index range), then each by key.
        let u = Ident::new("chat_users");
        let mut q = Query::select();
        q.column((u.clone(), Ident::new("id")))
            .from(u.clone())
            .and_where(Expr::col((u.clone(), Ident::new("application_id"))).eq(app))
            .and_where(Expr::col((u.clone(), Ident::new("id"))).in_subquery(active));
        let mut by_id = false;
        for &(f, descending) in order {
            f.order(&mut q, &u, descending);
            by_id |= f == UserField::Id;
        }
        if !by_id {
            q.order_by((u, Ident::new("id")), Order::Asc);
        }
        q.offset(offset).limit(limit);
        let ids = self
            .db
            .fetch_all(&q)
            .await?
            .iter()
            .map(|r| Ok(r.int("id")?.unwrap_or_default()))
            .collect::<Result<Vec<i64>, StoreError>>()?;
        let mut c = Query::select();
        c.expr_as(Expr::cust("COUNT(DISTINCT user_id)"), Ident::new("n"))
            .from(chats())
            .and_where(col("application_id").eq(app))
            .and_where(col("channel_id").eq(channel))
            .and_where(col("state").eq(ACTIVE));
        Ok((ids, count_of(&self.db.fetch_all(&c).await?)?))
    }

    /// Renews `instance`'s lease until `until` (epoch milliseconds).
    pub async fn renew_lease(&self, instance: &str, until: i64) -> Result<(), StoreError> {
        let mut q = Query::insert();
        q.into_table(Ident::new("gateway_instances"))
            .columns(["id", "lease_until"].map(Ident::new))
            .values_panic([instance.into(), until.into()])
            .on_conflict(
                sea_query::OnConflict::column(Ident::new("id"))
                    .update_column(Ident::new("lease_until"))
                    .to_owned(),
            );
        self.db.execute(&q).await?;
        Ok(())
    }

    /// Instances whose lease ran out before `now`, besides `except` (the caller).
    pub async fn expired(&self, now: i64, except: &str) -> Result<Vec<String>, StoreError> {
        let mut q = Query::select();
        q.column(Ident::new("id"))
            .from(Ident::new("gateway_instances"))
            .and_where(col("lease_until").lt(now))
            .and_where(col("id").ne(except));
        self.db
            .fetch_all(&q)
            .await?
            .iter()
            .map(|r| Ok(r.text("id")?.unwrap_or_default()))
            .collect()
    }

    /// The active user sessions held by `instance`.
    pub async fn held_by(&self, instance: &str) -> Result<Vec<UserSessionRow>, StoreError> {
        let mut q = Query::select();
        q.from(users())
            .columns(USER_COLUMNS.map(Ident::new))
            .and_where(col("instance_id").eq(instance))
            .and_where(col("state").eq(ACTIVE));
        self.db.fetch_all(&q).await?.iter().map(read_user).collect()
    }

    /// Forgets `instance` once its sessions are ended.
    pub async fn forget_instance(&self, instance: &str) -> Result<(), StoreError> {
        let mut q = Query::delete();
        q.from_table(Ident::new("gateway_instances"))
            .and_where(col("id").eq(instance));
        self.db.execute(&q).await?;
        Ok(())
    }
}
