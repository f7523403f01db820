//! Where published flakes went: the chat posts already made (one per flake and channel, the
//! key that makes a second one impossible), the chat channels that subscribe to a flake's
//! categories, and document writes inside a caller's transaction (delivery log rows that
//! commit with the write that caused them).

use palaver_domain::Model;
use sea_query::{Expr, OnConflict, Query, SimpleExpr};
use serde_json::{Map, Value};

use crate::db::{Db, Dialect, Tx};
use crate::documents::{insert_statement, scope_condition, update_statement, Scope};
use crate::error::StoreError;
use crate::Ident;

/// The channel property that lists the flake categories (ids or slugs) a chat channel
/// subscribes to.
pub const SUBSCRIPTION_PROPERTY: &str = "flake_categories";

fn posts() -> Ident {
    Ident::new("flake_posts")
}

/// Document writes (see [`crate::Documents`]) inside a transaction the caller holds. The read
/// cache does not see them, so they are only for tables it never depends on (delivery logs);
/// bot content is written through [`crate::DocumentWrite`].
pub struct DocumentsIn;

/// Refuses, in debug builds, a write the read cache would miss.
fn not_cached(model: &Model) {
    debug_assert!(
        !crate::documents::cache_depends_on(model.table),
        "{} is written through DocumentWrite, not DocumentsIn",
        model.table
    );
}

impl DocumentsIn {
    /// Inserts a document, as [`crate::Documents::insert`], inside `tx`.
    pub async fn insert(
        tx: &mut Tx,
        model: &Model,
        scope: &Scope<'_>,
        doc: &Map<String, Value>,
    ) -> Result<(), StoreError> {
        not_cached(model);
        tx.execute(&insert_statement(model, scope, doc)?).await?;
        Ok(())
    }

    /// Sets fields of the row with this id in scope, inside `tx`; false when there is none.
    pub async fn update(
        tx: &mut Tx,
        model: &Model,
        scope: &Scope<'_>,
        id: &str,
        changes: &Map<String, Value>,
    ) -> Result<bool, StoreError> {
        not_cached(model);
        match update_statement(model, scope, id, changes)? {
            Some(q) => Ok(tx.execute(&q).await? > 0),
            None => Ok(false),
        }
    }
}

impl DocumentsIn {
    /// Deletes the row with this id in scope, inside `tx`; false when there was none.
    pub async fn delete(
        tx: &mut Tx,
        model: &Model,
        scope: &Scope<'_>,
        id: &str,
    ) -> Result<bool, StoreError> {
        not_cached(model);
        let mut q = Query::delete();
        q.from_table(Ident::new(model.table))
            .and_where(scope_condition(model, scope))
            .and_where(Expr::col((Ident::new(model.table), Ident::new("id"))).eq(id));
        Ok(tx.execute(&q).await? > 0)
    }
}

/// The chat posts of flakes.
pub struct FlakePosts;

impl FlakePosts {
    /// Claims the post of `flake_id` to `channel_id`, inside the transaction that writes the
    /// message; false when it was posted there before (the message must not be written).
    pub async fn claim(
        tx: &mut Tx,
        flake_id: &str,
        channel_id: i64,
        application_id: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut q = Query::insert();
        q.into_table(posts())
            .columns(["flake_id", "channel_id", "application_id", "created"].map(Ident::new))
            .values_panic([
                flake_id.into(),
                channel_id.into(),
                application_id.into(),
                now.into(),
            ])
            .on_conflict(
                OnConflict::columns(["flake_id", "channel_id"].map(Ident::new))
                    .do_nothing()
                    .to_owned(),
            );
        Ok(tx.execute(&q).await? > 0)
    }

    /// Records which message the post of `flake_id` to `channel_id` is.
    pub async fn set_message(
        tx: &mut Tx,
        flake_id: &str,
        channel_id: i64,
        message_id: i64,
    ) -> Result<(), StoreError> {
        let mut q = Query::update();
        q.table(posts())
            .value(Ident::new("message_id"), message_id)
            .and_where(Expr::col(Ident::new("flake_id")).eq(flake_id))
            .and_where(Expr::col(Ident::new("channel_id")).eq(channel_id));
        tx.execute(&q).await?;
        Ok(())
    }

    /// Ids of the chat channels of `application_id` whose [`SUBSCRIPTION_PROPERTY`] lists one
    /// of `keys`, in id order.
    pub async fn subscribed_channels(
        db: &Db,
        application_id: i64,
        keys: &[String],
    ) -> Result<Vec<i64>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Query::select();
        q.from(Ident::new("chat_channels"))
            .column(Ident::new("id"))
            .and_where(Expr::col(Ident::new("application_id")).eq(application_id))
            .and_where(lists_any(db.dialect(), keys))
            .order_by(Ident::new("id"), sea_query::Order::Asc);
        db.fetch_all(&q)
            .await?
            .iter()
            .map(|r| Ok(r.int("id")?.unwrap_or_default()))
            .collect()
    }
}

/// `chat_channels.properties` holds a [`SUBSCRIPTION_PROPERTY`] list with one of `keys`.
fn lists_any(dialect: Dialect, keys: &[String]) -> SimpleExpr {
    match dialect {
        Dialect::Sqlite => {
            let marks = vec!["?"; keys.len()].join(", ");
            let path = format!("$.{SUBSCRIPTION_PROPERTY}");
            Expr::cust_with_values(
                format!(
                    "EXISTS (SELECT 1 FROM json_each(\"chat_channels\".\"properties\", ?) AS \"c\" \
                     WHERE \"c\".\"type\" = 'text' AND \"c\".\"value\" IN ({marks}))"
                ),
                std::iter::once(path).chain(keys.iter().cloned()),
            )
        }
        Dialect::Postgres => {
            // `@>` of a one-element list: the list holds that element. (`?|` would read as a
            // placeholder.)
            let tests: Vec<String> = (1..=keys.len())
                .map(|i| {
                    format!(
                        "(CAST(\"chat_channels\".\"properties\" AS jsonb) -> \
                         '{SUBSCRIPTION_PROPERTY}') @> CAST(${i} AS jsonb)"
                    )
                })
                .collect();
            Expr::cust_with_values(
                format!("({})", tests.join(" OR ")),
                keys.iter()
                    .map(|k| Value::Array(vec![Value::String(k.clone())]).to_string()),
            )
        }
    }
}
