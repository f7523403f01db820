//! Applications: an organisation's chat apps, with their public API key, client credentials
//! (the secret kept only as a bcrypt hash, or as the hex SHA-256 digest older rows hold, in
//! `client_secret_digest`) and settings.

use sea_query::{Expr, Query, SelectStatement};
use serde_json::Value;

use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::row::DbRow;
use crate::Ident;

/// A stored application.
#[derive(Debug, Clone)]
pub struct ApplicationRow {
    pub id: i64,
    pub organisation_id: String,
    pub name: String,
    pub api_key: String,
    pub client_id: String,
    pub client_secret_digest: String,
    pub guest_users: String,
    pub user_created_channels: String,
    pub properties: Value,
    pub created: i64,
}

/// What creating an application needs.
#[derive(Debug, Clone)]
pub struct NewApplication {
    pub organisation_id: String,
    pub name: String,
    pub api_key: String,
    pub client_id: String,
    pub client_secret_digest: String,
    pub created: i64,
}

const COLUMNS: [&str; 10] = [
    "id",
    "organisation_id",
    "name",
    "api_key",
    "client_id",
    "client_secret_digest",
    "guest_users",
    "user_created_channels",
    "properties",
    "created",
];

fn table() -> Ident {
    Ident::new("applications")
}

fn select() -> SelectStatement {
    let mut q = Query::select();
    q.from(table())
        .columns(COLUMNS.map(|c| (table(), Ident::new(c))));
    q
}

fn read(r: &DbRow) -> Result<ApplicationRow, StoreError> {
    let text =
        |c: &'static str| -> Result<String, StoreError> { Ok(r.text(c)?.unwrap_or_default()) };
    let properties = r.text("properties")?.unwrap_or_else(|| "{}".into());
    Ok(ApplicationRow {
        id: r.int("id")?.unwrap_or_default(),
        organisation_id: text("organisation_id")?,
        name: text("name")?,
        api_key: text("api_key")?,
        client_id: text("client_id")?,
        client_secret_digest: text("client_secret_digest")?,
        guest_users: text("guest_users")?,
        user_created_channels: text("user_created_channels")?,
        properties: serde_json::from_str(&properties)
            .map_err(|_| StoreError::Decode("applications.properties".into()))?,
        created: r.int("created")?.unwrap_or_default(),
    })
}

#[derive(Debug, Clone)]
pub struct Applications {
    db: Db,
}

impl Applications {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    pub async fn insert(&self, a: &NewApplication) -> Result<ApplicationRow, StoreError> {
        let mut q = Query::insert();
        q.into_table(table())
            .columns(
                [
                    "organisation_id",
                    "name",
                    "api_key",
                    "client_id",
                    "client_secret_digest",
                    "created",
                ]
                .map(Ident::new),
            )
            .values_panic([
                a.organisation_id.clone().into(),
                a.name.clone().into(),
                a.api_key.clone().into(),
                a.client_id.clone().into(),
                a.client_secret_digest.clone().into(),
                a.created.into(),
            ])
            .returning_col(Ident::new("id"));
        let rows = self.db.write_returning(&q).await?;
        let id = rows
            .first()
            .map(|r| r.int("id"))
            .transpose()?
            .flatten()
            .unwrap_or_default();
        self.get_in_org(&a.organisation_id, id)
            .await?
            .ok_or_else(|| StoreError::Decode("inserted application".into()))
    }

    /// The application with this client id, in whatever organisation: the token endpoint's
    /// lookup, before the caller is known (the secret check decides).
    pub async fn by_client_id(
        &self,
        client_id: &str,
    ) -> Result<Option<ApplicationRow>, StoreError> {
        let mut q = select();
        q.and_where(Expr::col((table(), Ident::new("client_id"))).eq(client_id));
        let rows = self.db.fetch_all(&q).await?;
        rows.first().map(read).transpose()
    }

    /// The application whose public api key this is: how a real-time client names it.
    pub async fn by_key(&self, key: &str) -> Result<Option<ApplicationRow>, StoreError> {
        let mut q = select();
        q.and_where(Expr::col((table(), Ident::new("api_key"))).eq(key));
        let rows = self.db.fetch_all(&q).await?;
        rows.first().map(read).transpose()
    }

    /// The application by id, for a caller already bound to it (its bearer token names it).
    pub async fn get(&self, id: i64) -> Result<Option<ApplicationRow>, StoreError> {
        let mut q = select();
        q.and_where(Expr::col((table(), Ident::new("id"))).eq(id));
        let rows = self.db.fetch_all(&q).await?;
        rows.first().map(read).transpose()
    }

    pub async fn get_in_org(
        &self,
        org: &str,
        id: i64,
    ) -> Result<Option<ApplicationRow>, StoreError> {
        let mut q = select();
        q.and_where(Expr::col((table(), Ident::new("id"))).eq(id))
            .and_where(Expr::col((table(), Ident::new("organisation_id"))).eq(org));
        let rows = self.db.fetch_all(&q).await?;
        rows.first().map(read).transpose()
    }

    /// Applications of one organisation, or of all when `org` is `None` (the operator's list).
    pub async fn list(&self, org: Option<&str>) -> Result<Vec<ApplicationRow>, StoreError> {
        let mut q = select();
        if let Some(org) = org {
            q.and_where(Expr::col((table(), Ident::new("organisation_id"))).eq(org));
        }
        q.order_by((table(), Ident::new("id")), sea_query::Order::Asc);
        let rows = self.db.fetch_all(&q).await?;
        rows.iter().map(read).collect()
    }

    /// Sets the application's settings inside `tx`; false when there is no such application.
    pub async fn set_settings(
        tx: &mut Tx,
        org: &str,
        id: i64,
        guest_users: &str,
        user_created_channels: &str,
    ) -> Result<bool, StoreError> {
        let mut q = Query::update();
        q.table(table())
            .values([
                (Ident::new("guest_users"), guest_users.into()),
                (
                    Ident::new("user_created_channels"),
                    user_created_channels.into(),
                ),
            ])
            .and_where(Expr::col(Ident::new("id")).eq(id))
            .and_where(Expr::col(Ident::new("organisation_id")).eq(org));
        Ok(tx.execute(&q).await? > 0)
    }

    /// Replaces the stored secret `old` with `new`, tokens untouched (the same secret, kept
    /// another way); false when the row holds something else now (a rotation came between).
    pub async fn replace_secret_digest(
        &self,
        id: i64,
        old: &str,
        new: &str,
    ) -> Result<bool, StoreError> {
        let mut q = Query::update();
        q.table(table())
            .values([(Ident::new("client_secret_digest"), new.into())])
            .and_where(Expr::col(Ident::new("id")).eq(id))
            .and_where(Expr::col(Ident::new("client_secret_digest")).eq(old));
        Ok(self.db.execute(&q).await? > 0)
    }

    /// Replaces the client secret digest and revokes every token issued to the application.
    pub async fn rotate_secret(&self, id: i64, digest: &str) -> Result<bool, StoreError> {
        let mut tx = self.db.begin().await?;
        let mut q = Query::update();
        q.table(table())
            .values([(Ident::new("client_secret_digest"), digest.into())])
            .and_where(Expr::col(Ident::new("id")).eq(id));
        let changed = tx.execute(&q).await? > 0;
        let mut d = Query::delete();
        d.from_table(Ident::new("oauth_tokens"))
            .and_where(Expr::col(Ident::new("application_id")).eq(id));
        tx.execute(&d).await?;
        tx.commit().await?;
        Ok(changed)
    }
}
