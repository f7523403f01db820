//! Hosted files' rows: what the file storage does not know of an upload (its name, content type,
//! size and owner), which rows may be served, which are left over once their message or user is
//! gone, and each application's key for signing file read grants.

use sea_query::{Cond, Expr, OnConflict, Order, Query, SelectStatement, SimpleExpr};

use crate::db::Db;
use crate::error::StoreError;
use crate::row::DbRow;
use crate::Ident;

/// A FILE message's file.
pub const MESSAGE_FILE: &str = "MESSAGE";
/// A user's display picture.
pub const DISPLAY_PICTURE: &str = "DISPLAY_PICTURE";
/// An analytics export's CSV: the application's until it is deleted with it.
pub const EXPORT_FILE: &str = "EXPORT";

#[derive(Debug, Clone, PartialEq)]
pub struct FileRow {
    pub id: i64,
    pub application_id: i64,
    /// The object's key in the file storage.
    pub storage_key: String,
    /// [`MESSAGE_FILE`] or [`DISPLAY_PICTURE`].
    pub purpose: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    /// A display picture's user; a message file's sender, if any.
    pub user_id: Option<i64>,
    /// The channel a message file was sent to.
    pub channel_id: Option<i64>,
    /// A message file's message; `None` while it is being sent.
    pub message_id: Option<i64>,
    pub created: i64,
}

/// A file to record (its id is given by the insert).
#[derive(Debug, Clone)]
pub struct NewFile {
    pub application_id: i64,
    pub storage_key: String,
    pub purpose: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub user_id: Option<i64>,
    pub channel_id: Option<i64>,
    pub created: i64,
}

fn files() -> Ident {
    Ident::new("files")
}

fn keys() -> Ident {
    Ident::new("file_grant_keys")
}

fn col(c: &'static str) -> Expr {
    Expr::col((files(), Ident::new(c)))
}

const COLUMNS: [&str; 11] = [
    "id",
    "application_id",
    "storage_key",
    "purpose",
    "name",
    "content_type",
    "size",
    "user_id",
    "channel_id",
    "message_id",
    "created",
];

fn read(r: &DbRow) -> Result<FileRow, StoreError> {
    Ok(FileRow {
        id: r.int("id")?.unwrap_or_default(),
        application_id: r.int("application_id")?.unwrap_or_default(),
        storage_key: r.text("storage_key")?.unwrap_or_default(),
        purpose: r.text("purpose")?.unwrap_or_default(),
        name: r.text("name")?.unwrap_or_default(),
        content_type: r.text("content_type")?.unwrap_or_default(),
        size: r.int("size")?.unwrap_or_default(),
        user_id: r.int("user_id")?,
        channel_id: r.int("channel_id")?,
        message_id: r.int("message_id")?,
        created: r.int("created")?.unwrap_or_default(),
    })
}

/// The files of `app`.
fn select(app: i64) -> SelectStatement {
    let mut q = Query::select();
    q.from(files())
        .columns(COLUMNS.map(|c| (files(), Ident::new(c))))
        .and_where(col("application_id").eq(app));
    q
}

/// True while a row of `table` has the id in the file's column `column`.
fn owner_exists(table: &'static str, column: &'static str) -> SimpleExpr {
    let t = Ident::new(table);
    let mut q = Query::select();
    q.expr(Expr::val(1))
        .from(t.clone())
        .and_where(Expr::col((t, Ident::new("id"))).equals((files(), Ident::new(column))));
    Expr::exists(q)
}

/// The files whose owner still exists: a sent message's file while the message does, a display
/// picture while its user does.
fn owned() -> Cond {
    Cond::any()
        .add(
            Cond::all()
                .add(col("purpose").eq(MESSAGE_FILE))
                .add(col("message_id").is_not_null())
                .add(owner_exists("chat_messages", "message_id")),
        )
        .add(
            Cond::all()
                .add(col("purpose").eq(DISPLAY_PICTURE))
                .add(owner_exists("chat_users", "user_id")),
        )
        .add(col("purpose").eq(EXPORT_FILE))
}

#[derive(Debug, Clone)]
pub struct Files {
    db: Db,
}

impl Files {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    pub async fn insert(&self, f: &NewFile) -> Result<FileRow, StoreError> {
        let mut q = Query::insert();
        q.into_table(files())
            .columns(
                [
                    "application_id",
                    "storage_key",
                    "purpose",
                    "name",
                    "content_type",
                    "size",
                    "user_id",
                    "channel_id",
                    "created",
                ]
                .map(Ident::new),
            )
            .values_panic([
                f.application_id.into(),
                f.storage_key.clone().into(),
                f.purpose.clone().into(),
                f.name.clone().into(),
                f.content_type.clone().into(),
                f.size.into(),
                f.user_id.into(),
                f.channel_id.into(),
                f.created.into(),
            ])
            .returning_col(Ident::new("id"));
        let id = self
            .db
            .write_returning(&q)
            .await?
            .first()
            .map(|r| r.int("id"))
            .transpose()?
            .flatten()
            .ok_or_else(|| StoreError::Decode("inserted file".into()))?;
        Ok(FileRow {
            id,
            application_id: f.application_id,
            storage_key: f.storage_key.clone(),
            purpose: f.purpose.clone(),
            name: f.name.clone(),
            content_type: f.content_type.clone(),
            size: f.size,
            user_id: f.user_id,
            channel_id: f.channel_id,
            message_id: None,
            created: f.created,
        })
    }

    /// File `id` of `app`, whatever its state.
    pub async fn get(&self, app: i64, id: i64) -> Result<Option<FileRow>, StoreError> {
        let mut q = select(app);
        q.and_where(col("id").eq(id));
        self.db.fetch_all(&q).await?.first().map(read).transpose()
    }

    /// File `id` of `app` while it may be served: its message or user still exists.
    pub async fn live(&self, app: i64, id: i64) -> Result<Option<FileRow>, StoreError> {
        let mut q = select(app);
        q.and_where(col("id").eq(id)).cond_where(owned());
        self.db.fetch_all(&q).await?.first().map(read).transpose()
    }

    /// Gives message file `id` its message, once; false when it had one already (or is gone).
    pub async fn attach(&self, app: i64, id: i64, message: i64) -> Result<bool, StoreError> {
        let mut q = Query::update();
        q.table(files())
            .values([(Ident::new("message_id"), message.into())])
            .and_where(Expr::col(Ident::new("application_id")).eq(app))
            .and_where(Expr::col(Ident::new("id")).eq(id))
            .and_where(Expr::col(Ident::new("purpose")).eq(MESSAGE_FILE))
            .and_where(Expr::col(Ident::new("message_id")).is_null());
        Ok(self.db.execute(&q).await? > 0)
    }

    /// The display pictures of `user` of `app`, oldest first.
    pub async fn display_pictures(&self, app: i64, user: i64) -> Result<Vec<FileRow>, StoreError> {
        let mut q = select(app);
        q.and_where(col("purpose").eq(DISPLAY_PICTURE))
            .and_where(col("user_id").eq(user))
            .order_by((files(), Ident::new("id")), Order::Asc);
        self.db.fetch_all(&q).await?.iter().map(read).collect()
    }

    /// Up to `limit` files of `app` whose owner is gone: a message file whose message was
    /// deleted, a display picture whose user was.
    pub async fn orphans(&self, app: i64, limit: u64) -> Result<Vec<FileRow>, StoreError> {
        let mut q = select(app);
        q.cond_where(
            Cond::any()
                .add(
                    Cond::all()
                        .add(col("purpose").eq(MESSAGE_FILE))
                        .add(col("message_id").is_not_null())
                        .add(owner_exists("chat_messages", "message_id").not()),
                )
                .add(
                    Cond::all()
                        .add(col("purpose").eq(DISPLAY_PICTURE))
                        .add(owner_exists("chat_users", "user_id").not()),
                ),
        )
        .order_by((files(), Ident::new("id")), Order::Asc)
        .limit(limit);
        self.db.fetch_all(&q).await?.iter().map(read).collect()
    }

    /// Up to `limit` message files of `app` still without a message that were recorded before
    /// `before`: sends that failed without cleaning up (the process stopped).
    pub async fn unattached(
        &self,
        app: i64,
        before: i64,
        limit: u64,
    ) -> Result<Vec<FileRow>, StoreError> {
        let mut q = select(app);
        q.and_where(col("purpose").eq(MESSAGE_FILE))
            .and_where(col("message_id").is_null())
            .and_where(col("created").lt(before))
            .order_by((files(), Ident::new("id")), Order::Asc)
            .limit(limit);
        self.db.fetch_all(&q).await?.iter().map(read).collect()
    }

    /// The message of `channel` whose file is at `url` (which holds the file's id), if one was
    /// written: how an unattached file is told from one whose message was sent.
    pub async fn message_with_file_url(
        &self,
        app: i64,
        channel: i64,
        url: &str,
    ) -> Result<Option<i64>, StoreError> {
        let escaped = url
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let mut q = Query::select();
        q.column(Ident::new("id"))
            .from(Ident::new("chat_messages"))
            .and_where(Expr::col(Ident::new("application_id")).eq(app))
            .and_where(Expr::col(Ident::new("channel_id")).eq(channel))
            .and_where(
                Expr::col(Ident::new("file"))
                    .like(sea_query::LikeExpr::new(format!("%\"{escaped}\"%")).escape('\\')),
            )
            .limit(1);
        Ok(self
            .db
            .fetch_all(&q)
            .await?
            .first()
            .map(|r| r.int("id"))
            .transpose()?
            .flatten())
    }

    /// Forgets file `id` of `app` (its object is deleted first, by the caller).
    pub async fn delete(&self, app: i64, id: i64) -> Result<bool, StoreError> {
        let mut q = Query::delete();
        q.from_table(files())
            .and_where(Expr::col(Ident::new("application_id")).eq(app))
            .and_where(Expr::col(Ident::new("id")).eq(id));
        Ok(self.db.execute(&q).await? > 0)
    }

    /// The key `app`'s file read grants are signed with, if it has one yet.
    pub async fn get_grant_key(&self, app: i64) -> Result<Option<String>, StoreError> {
        let mut q = Query::select();
        q.column(Ident::new("secret"))
            .from(keys())
            .and_where(Expr::col(Ident::new("application_id")).eq(app));
        Ok(self
            .db
            .fetch_all(&q)
            .await?
            .first()
            .map(|r| r.text("secret"))
            .transpose()?
            .flatten())
    }

    /// The key `app`'s file read grants are signed with: `secret` when it has none yet (the
    /// first of concurrent callers wins; every caller gets the one kept).
    pub async fn grant_key(&self, app: i64, secret: &str, now: i64) -> Result<String, StoreError> {
        // Read first: the key exists on every call but the first.
        if let Some(kept) = self.get_grant_key(app).await? {
            return Ok(kept);
        }
        let mut ins = Query::insert();
        ins.into_table(keys())
            .columns(["application_id", "secret", "created"].map(Ident::new))
            .values_panic([app.into(), secret.into(), now.into()])
            .on_conflict(
                OnConflict::column(Ident::new("application_id"))
                    .do_nothing()
                    .to_owned(),
            );
        self.db.execute(&ins).await?;
        self.get_grant_key(app)
            .await?
            .ok_or_else(|| StoreError::Decode("file_grant_keys.secret".into()))
    }
}
