//! Server-wide settings kept in the database (`server_settings`, name → text): what every
//! instance on one database must agree on, such as the secrets key's check value.

use sea_query::{Expr, OnConflict, Query};

use crate::db::Db;
use crate::error::StoreError;
use crate::Ident;

fn table() -> Ident {
    Ident::new("server_settings")
}

#[derive(Debug, Clone)]
pub struct ServerSettings {
    db: Db,
}

impl ServerSettings {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The value of setting `name`, if it was ever set.
    pub async fn get(&self, name: &str) -> Result<Option<String>, StoreError> {
        let mut q = Query::select();
        q.from(table())
            .column(Ident::new("value"))
            .and_where(Expr::col(Ident::new("name")).eq(name));
        let rows = self.db.fetch_all(&q).await?;
        Ok(rows.first().map(|r| r.text("value")).transpose()?.flatten())
    }

    /// Sets `name` to `value` unless it has a value already, and answers the value it holds
    /// now: of two instances setting it at once, both read the first one's.
    pub async fn set_once(&self, name: &str, value: &str) -> Result<String, StoreError> {
        let mut q = Query::insert();
        q.into_table(table())
            .columns(["name", "value"].map(Ident::new))
            .values_panic([name.into(), value.into()])
            .on_conflict(
                OnConflict::column(Ident::new("name"))
                    .do_nothing()
                    .to_owned(),
            );
        self.db.execute(&q).await?;
        self.get(name)
            .await?
            .ok_or_else(|| StoreError::Decode(format!("server_settings.{name}")))
    }
}
