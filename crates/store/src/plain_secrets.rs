//! Secrets stored before they were sealed: the rows of the secret-holding text columns (chat
//! users' secrets, webhook endpoints' secrets, runtimes' environment variables) whose value lacks
//! the sealed prefix, and a compare-and-set that replaces one such value, so that a value
//! written meanwhile is never overwritten. The service seals them once, at start; what sealing
//! is stays its business: here they are only text.

use sea_query::{Expr, Query, SelectStatement, SimpleExpr};

use crate::db::Db;
use crate::error::StoreError;
use crate::row::DbRow;
use crate::Ident;

/// Which column a plain secret is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretColumn {
    /// `chat_user_secrets.secret` (a JSON text).
    UserSecrets,
    /// `webhooks.secret`.
    WebhookSecrets,
    /// `runtimes.environment_variables` (a JSON object's text).
    RuntimeEnvironments,
}

impl SecretColumn {
    pub const ALL: [SecretColumn; 3] = [
        SecretColumn::UserSecrets,
        SecretColumn::WebhookSecrets,
        SecretColumn::RuntimeEnvironments,
    ];

    fn table(self) -> &'static str {
        match self {
            SecretColumn::UserSecrets => "chat_user_secrets",
            SecretColumn::WebhookSecrets => "webhooks",
            SecretColumn::RuntimeEnvironments => "runtimes",
        }
    }

    fn column(self) -> &'static str {
        match self {
            SecretColumn::UserSecrets | SecretColumn::WebhookSecrets => "secret",
            SecretColumn::RuntimeEnvironments => "environment_variables",
        }
    }

    fn keys(self) -> &'static [&'static str] {
        match self {
            SecretColumn::UserSecrets => &["application_id", "user_id", "name"],
            SecretColumn::WebhookSecrets => &["organisation_id", "bot_id", "id"],
            SecretColumn::RuntimeEnvironments => &["application_id"],
        }
    }
}

/// The row a secret is in: what identifies it, which the sealed value is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRow {
    UserSecret {
        application_id: i64,
        user_id: i64,
        name: String,
    },
    Webhook {
        organisation_id: String,
        bot_id: String,
        id: String,
    },
    RuntimeEnvironment {
        application_id: i64,
    },
}

impl SecretRow {
    fn column(&self) -> SecretColumn {
        match self {
            SecretRow::UserSecret { .. } => SecretColumn::UserSecrets,
            SecretRow::Webhook { .. } => SecretColumn::WebhookSecrets,
            SecretRow::RuntimeEnvironment { .. } => SecretColumn::RuntimeEnvironments,
        }
    }

    /// The conditions naming this row.
    fn conditions(&self) -> Vec<SimpleExpr> {
        let col = |c: &'static str| Expr::col(Ident::new(c));
        match self {
            SecretRow::UserSecret {
                application_id,
                user_id,
                name,
            } => vec![
                col("application_id").eq(*application_id),
                col("user_id").eq(*user_id),
                col("name").eq(name.as_str()),
            ],
            SecretRow::Webhook {
                organisation_id,
                bot_id,
                id,
            } => vec![
                col("organisation_id").eq(organisation_id.as_str()),
                col("bot_id").eq(bot_id.as_str()),
                col("id").eq(id.as_str()),
            ],
            SecretRow::RuntimeEnvironment { application_id } => {
                vec![col("application_id").eq(*application_id)]
            }
        }
    }

    fn read(column: SecretColumn, r: &DbRow) -> Result<SecretRow, StoreError> {
        let text =
            |c: &'static str| -> Result<String, StoreError> { Ok(r.text(c)?.unwrap_or_default()) };
        let int =
            |c: &'static str| -> Result<i64, StoreError> { Ok(r.int(c)?.unwrap_or_default()) };
        Ok(match column {
            SecretColumn::UserSecrets => SecretRow::UserSecret {
                application_id: int("application_id")?,
                user_id: int("user_id")?,
                name: text("name")?,
            },
            SecretColumn::WebhookSecrets => SecretRow::Webhook {
                organisation_id: text("organisation_id")?,
                bot_id: text("bot_id")?,
                id: text("id")?,
            },
            SecretColumn::RuntimeEnvironments => SecretRow::RuntimeEnvironment {
                application_id: int("application_id")?,
            },
        })
    }
}

/// A secret stored as it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainSecret {
    pub row: SecretRow,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct PlainSecrets {
    db: Db,
}

impl PlainSecrets {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Up to `limit` values of `column` that do not start with `sealed_prefix` (SQL NULLs,
    /// which hold nothing, left out).
    pub async fn list(
        &self,
        column: SecretColumn,
        sealed_prefix: &str,
        limit: u64,
    ) -> Result<Vec<PlainSecret>, StoreError> {
        let mut q: SelectStatement = Query::select();
        q.from(Ident::new(column.table()))
            .columns(column.keys().iter().map(|k| Ident::new(*k)))
            .column(Ident::new(column.column()))
            .and_where(Expr::col(Ident::new(column.column())).is_not_null())
            // Both engines compare case-sensitively here (SQLite is told `case_sensitive_like`).
            .and_where(Expr::col(Ident::new(column.column())).not_like(format!("{sealed_prefix}%")))
            .limit(limit);
        let rows = self.db.fetch_all(&q).await?;
        rows.iter()
            .map(|r| {
                Ok(PlainSecret {
                    row: SecretRow::read(column, r)?,
                    text: r.text(column.column())?.unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Replaces `plain`'s value with `sealed`, if the row still holds exactly `plain.text`;
    /// false when it is gone or holds something else now.
    pub async fn replace(&self, plain: &PlainSecret, sealed: &str) -> Result<bool, StoreError> {
        let column = plain.row.column();
        let mut q = Query::update();
        q.table(Ident::new(column.table()))
            .value(Ident::new(column.column()), sealed)
            .and_where(Expr::col(Ident::new(column.column())).eq(plain.text.as_str()));
        for c in plain.row.conditions() {
            q.and_where(c);
        }
        Ok(self.db.execute(&q).await? > 0)
    }
}
