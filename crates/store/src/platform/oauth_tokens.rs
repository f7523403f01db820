//! Platform API bearer tokens, stored as SHA-256 digests with their expiry.

use sea_query::{Expr, Query};

use crate::db::Db;
use crate::error::StoreError;
use crate::Ident;

/// Whom a live token speaks for, and until when (epoch milliseconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenApplication {
    pub application_id: i64,
    pub organisation_id: String,
    pub expires: i64,
}

#[derive(Debug, Clone)]
pub struct OauthTokens {
    db: Db,
}

fn table() -> Ident {
    Ident::new("oauth_tokens")
}

impl OauthTokens {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    pub async fn insert(
        &self,
        digest: &str,
        application_id: i64,
        created: i64,
        expires: i64,
    ) -> Result<(), StoreError> {
        let mut q = Query::insert();
        q.into_table(table())
            .columns(["id", "application_id", "created", "expires"].map(Ident::new))
            .values_panic([
                digest.into(),
                application_id.into(),
                created.into(),
                expires.into(),
            ]);
        self.db.execute(&q).await?;
        Ok(())
    }

    /// The application a live token was issued to, and when the token lapses: `None` when unknown
    /// or expired at `now`. One read, as every request makes it.
    pub async fn application_of(
        &self,
        digest: &str,
        now: i64,
    ) -> Result<Option<TokenApplication>, StoreError> {
        let apps = Ident::new("applications");
        let mut q = Query::select();
        q.from(table())
            .column((table(), Ident::new("application_id")))
            .column((table(), Ident::new("expires")))
            .column((apps.clone(), Ident::new("organisation_id")))
            .inner_join(
                apps.clone(),
                Expr::col((apps, Ident::new("id"))).equals((table(), Ident::new("application_id"))),
            )
            .and_where(Expr::col((table(), Ident::new("id"))).eq(digest))
            .and_where(Expr::col((table(), Ident::new("expires"))).gt(now));
        let rows = self.db.fetch_all(&q).await?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        Ok(Some(TokenApplication {
            application_id: r.int("application_id")?.unwrap_or_default(),
            organisation_id: r.text("organisation_id")?.unwrap_or_default(),
            expires: r.int("expires")?.unwrap_or_default(),
        }))
    }

    /// Removes expired tokens; returns how many.
    pub async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        let mut q = Query::delete();
        q.from_table(table())
            .and_where(Expr::col(Ident::new("expires")).lte(now));
        self.db.execute(&q).await
    }
}
