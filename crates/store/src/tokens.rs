//! Content API access tokens. Only a SHA-256 digest of each token is stored, so a leaked table
//! cannot be replayed.

use sea_query::{Expr, Query};

use std::sync::Arc;

use crate::cache::{CacheKey, Cached, ReadCache, Region, WriteGuard};
use crate::db::Db;
use crate::error::StoreError;
use crate::row::DbRow;
use crate::Ident;

/// A stored token: which account it speaks for and when it lapses.
#[derive(Debug, Clone)]
pub struct AccessTokenRow {
    pub digest: String,
    pub account_id: String,
    pub organisation_id: String,
    pub ttl: i64,
    pub created: i64,
}

fn read_row(r: &DbRow) -> Result<AccessTokenRow, StoreError> {
    Ok(AccessTokenRow {
        digest: r.text("id")?.unwrap_or_default(),
        account_id: r.text("account_id")?.unwrap_or_default(),
        organisation_id: r.text("organisation_id")?.unwrap_or_default(),
        ttl: r.int("ttl")?.unwrap_or(0),
        created: r.int("created")?.unwrap_or(0),
    })
}

/// Token persistence.
#[derive(Debug, Clone)]
pub struct Tokens {
    db: Db,
    cache: Option<Arc<ReadCache>>,
}

const TABLE: &str = "access_tokens";

fn table() -> Ident {
    Ident::new(TABLE)
}

/// The tokens of one account, for the read cache: every token write names its account, so a
/// write to one account's tokens leaves the cached resolutions of every other account be.
fn account_tokens<'a>(organisation_id: &'a str, account_id: &'a str) -> Region<'a> {
    Region::part(TABLE, organisation_id, account_id)
}

impl Tokens {
    pub fn new(db: Db) -> Self {
        Self { db, cache: None }
    }

    /// With token resolutions served from `cache` until a token of their account, or an
    /// account of their organisation, is written.
    pub fn with_cache(db: Db, cache: Option<Arc<ReadCache>>) -> Self {
        Self { db, cache }
    }

    /// Marks the tokens of one account as being written while the guard lives.
    fn writing(&self, organisation_id: &str, account_id: &str) -> Option<WriteGuard<'_>> {
        self.cache
            .as_deref()
            .map(|c| c.writing(&[account_tokens(organisation_id, account_id)]))
    }

    pub async fn insert(&self, t: &AccessTokenRow) -> Result<(), StoreError> {
        let _writing = self.writing(&t.organisation_id, &t.account_id);
        let mut q = Query::insert();
        q.into_table(table())
            .columns(["id", "account_id", "organisation_id", "ttl", "created"].map(Ident::new))
            .values_panic([
                t.digest.clone().into(),
                t.account_id.clone().into(),
                t.organisation_id.clone().into(),
                t.ttl.into(),
                t.created.into(),
            ]);
        self.db.execute(&q).await?;
        Ok(())
    }

    pub async fn get(&self, digest: &str) -> Result<Option<AccessTokenRow>, StoreError> {
        let mut q = Query::select();
        q.from(table())
            .columns(["id", "account_id", "organisation_id", "ttl", "created"].map(Ident::new))
            .and_where(Expr::col(Ident::new("id")).eq(digest));
        let rows = self.db.fetch_all(&q).await?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        Ok(Some(read_row(r)?))
    }

    /// Removes one token of an account; false when it was already gone (or is another
    /// account's).
    pub async fn delete(
        &self,
        organisation_id: &str,
        account_id: &str,
        digest: &str,
    ) -> Result<bool, StoreError> {
        let _writing = self.writing(organisation_id, account_id);
        let mut q = Query::delete();
        q.from_table(table())
            .and_where(Expr::col(Ident::new("organisation_id")).eq(organisation_id))
            .and_where(Expr::col(Ident::new("account_id")).eq(account_id))
            .and_where(Expr::col(Ident::new("id")).eq(digest));
        let deleted = self.db.execute(&q).await? > 0;
        Ok(deleted)
    }

    /// Removes every token of an account except `keep` (after a password or email change).
    pub async fn delete_for_account(
        &self,
        organisation_id: &str,
        account_id: &str,
        keep: Option<&str>,
    ) -> Result<u64, StoreError> {
        let _writing = self.writing(organisation_id, account_id);
        let mut q = Query::delete();
        q.from_table(table())
            .and_where(Expr::col(Ident::new("organisation_id")).eq(organisation_id))
            .and_where(Expr::col(Ident::new("account_id")).eq(account_id));
        if let Some(k) = keep {
            q.and_where(Expr::col(Ident::new("id")).ne(k));
        }
        let n = self.db.execute(&q).await?;
        Ok(n)
    }
}

/// A live token's row with the role and username of the account it speaks for.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub token: AccessTokenRow,
    pub role: String,
    pub username: Option<String>,
}

impl Tokens {
    /// The token with this digest and its account, in one query (every authenticated request
    /// pays for this lookup). `None` when the token or its account is gone.
    pub async fn resolve(&self, digest: &str) -> Result<Option<TokenOwner>, StoreError> {
        let Some(cache) = &self.cache else {
            return self.resolve_uncached(digest).await;
        };
        let key = CacheKey::Owner(digest.to_string());
        if let Some(Cached::Owner(owner)) = cache.get(&key) {
            return Ok(owner);
        }
        let read_at = cache.read_start();
        let owner = self.resolve_uncached(digest).await?;
        // Unknown tokens are not kept, so guessing tokens cannot fill (and so empty) the cache.
        if let Some(o) = &owner {
            let (org, account) = (&o.token.organisation_id, &o.token.account_id);
            // The token's row is one of its account's tokens; the account's row is one of its
            // organisation's accounts (account writes name the organisation, see `Documents`).
            let regions = [account_tokens(org, account), Region::org("accounts", org)];
            cache.put(key, read_at, &regions, Cached::Owner(owner.clone()));
        }
        Ok(owner)
    }

    async fn resolve_uncached(&self, digest: &str) -> Result<Option<TokenOwner>, StoreError> {
        let t = Ident::new(TABLE);
        let a = Ident::new("accounts");
        let mut q = Query::select();
        q.from(t.clone())
            .columns(
                ["id", "account_id", "organisation_id", "ttl", "created"]
                    .map(|c| (t.clone(), Ident::new(c))),
            )
            .columns([
                (a.clone(), Ident::new("role")),
                (a.clone(), Ident::new("username")),
            ])
            .inner_join(
                a.clone(),
                Expr::col((a.clone(), Ident::new("id")))
                    .equals((t.clone(), Ident::new("account_id")))
                    .and(
                        Expr::col((a.clone(), Ident::new("organisation_id")))
                            .equals((t.clone(), Ident::new("organisation_id"))),
                    ),
            )
            .and_where(Expr::col((t, Ident::new("id"))).eq(digest));
        let rows = self.db.fetch_all(&q).await?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        Ok(Some(TokenOwner {
            token: read_row(r)?,
            role: r.text("role")?.unwrap_or_default(),
            username: r.text("username")?,
        }))
    }
}
