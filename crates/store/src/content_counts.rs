//! Counts of bot content answered from the counts the database keeps (`content_counts`, kept by
//! the triggers of migration 0019) instead of from the matching rows, for the where clauses
//! those counts cover; every other clause is counted over the rows.

use palaver_domain::filter::{Scalar, Test, Where};
use palaver_domain::Model;
use sea_query::{Expr, Query};

use crate::db::Db;
use crate::documents::Scope;
use crate::error::StoreError;
use crate::Ident;

/// The tables with kept counts and, for each, the fields counted by value besides the total.
/// Only low-cardinality text fields (enums the models check) belong here: each value is a row
/// per bot. Must match the triggers of migration 0019 (the contract suite checks each of them).
pub(crate) const COUNTED: &[(&str, &[&str])] = &[
    ("flakes", &["status"]),
    ("tags", &[]),
    ("categories", &[]),
    ("channels", &[]),
];

/// The parent key the counts are kept under.
const PARENT_KEY: &str = "bot_id";

/// One kept count of a table: its total, or the rows whose counted `field` holds `value`
/// (`None` for NULL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Key<'a> {
    Total,
    Value {
        field: &'static str,
        value: Option<&'a str>,
    },
}

/// The kept count that answers a count of `model`'s rows in `scope` matching `w`, if one does:
/// the scope is an organisation or one bot of it, and `w` matches every row or tests one
/// counted field for equality with a text or null. `None`: count the rows.
pub(crate) fn key_for<'w>(model: &Model, scope: &Scope, w: &'w Where) -> Option<Key<'w>> {
    let (_, fields) = COUNTED.iter().find(|(t, _)| *t == model.table)?;
    if scope.parent.is_some_and(|(k, _)| k != PARENT_KEY) {
        return None;
    }
    match w {
        Where::All => Some(Key::Total),
        Where::Test {
            field,
            test: Test::Eq(v),
        } => {
            let field = *fields.iter().find(|f| **f == field.name)?;
            match v {
                Scalar::Text(t) => Some(Key::Value {
                    field,
                    value: Some(t),
                }),
                Scalar::Null => Some(Key::Value { field, value: None }),
                // A text field's values are always coerced to text; anything else is left to SQL.
                _ => None,
            }
        }
        _ => None,
    }
}

/// The kept count of `key` in `scope`: one row for a bot, the sum over its bots' rows for an
/// organisation; 0 when no row is kept (no such rows).
pub(crate) async fn read(
    db: &Db,
    table: &'static str,
    scope: &Scope<'_>,
    key: &Key<'_>,
) -> Result<u64, StoreError> {
    let (field, value, is_null) = match key {
        Key::Total => ("", "", false),
        Key::Value { field, value } => (*field, value.unwrap_or(""), value.is_none()),
    };
    let mut q = Query::select();
    q.from(Ident::new("content_counts"))
        .column(Ident::new("n"))
        .and_where(Expr::col(Ident::new("table_name")).eq(table))
        .and_where(Expr::col(Ident::new("organisation_id")).eq(scope.organisation_id))
        .and_where(Expr::col(Ident::new("field")).eq(field))
        .and_where(Expr::col(Ident::new("value")).eq(value))
        .and_where(Expr::col(Ident::new("is_null")).eq(is_null));
    if let Some((_, bot)) = scope.parent {
        q.and_where(Expr::col(Ident::new("bot_id")).eq(bot));
    }
    let mut n: i64 = 0;
    for row in db.fetch_all(&q).await? {
        n += row.int("n")?.unwrap_or(0);
    }
    Ok(n.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use palaver_domain::filter::parse_where;
    use palaver_domain::models::{BOT, CHANNEL, FLAKE, TAG};
    use serde_json::json;

    use super::*;

    fn where_(model: &'static Model, v: serde_json::Value) -> Where {
        match parse_where(model, &v) {
            Ok(w) => w,
            Err(e) => panic!("{v}: {}", e.message),
        }
    }

    #[test]
    fn kept_shapes_are_all_rows_and_one_equality_on_a_counted_field() {
        let bot = Scope::child("o", "bot_id", "b");
        let org = Scope::org("o");
        let status = |v: Option<&'static str>| {
            Some(Key::Value {
                field: "status",
                value: v,
            })
        };
        for scope in [bot, org] {
            let w = where_(&FLAKE, json!({}));
            assert_eq!(key_for(&FLAKE, &scope, &w), Some(Key::Total));
            let w = where_(&FLAKE, json!({"status": "publish"}));
            assert_eq!(key_for(&FLAKE, &scope, &w), status(Some("publish")));
            let w = where_(&FLAKE, json!({"status": {"eq": "draft"}}));
            assert_eq!(key_for(&FLAKE, &scope, &w), status(Some("draft")));
            let w = where_(&FLAKE, json!({"status": null}));
            assert_eq!(key_for(&FLAKE, &scope, &w), status(None));
            let w = where_(&TAG, json!({}));
            assert_eq!(key_for(&TAG, &scope, &w), Some(Key::Total));
        }
    }

    #[test]
    fn other_shapes_scopes_and_tables_are_counted_over_the_rows() {
        let bot = Scope::child("o", "bot_id", "b");
        for v in [
            json!({"status": {"neq": "publish"}}),
            json!({"status": {"inq": ["publish"]}}),
            json!({"status": {"like": "pub%"}}),
            json!({"status": "publish", "title": "t"}),
            json!({"and": [{"status": "publish"}]}),
            json!({"or": [{"status": "publish"}]}),
            json!({"title": "t"}),
        ] {
            let w = where_(&FLAKE, v.clone());
            assert_eq!(key_for(&FLAKE, &bot, &w), None, "{v}");
        }
        // A field counted in one table is not in another.
        let w = where_(&CHANNEL, json!({"status": "active"}));
        assert_eq!(key_for(&CHANNEL, &bot, &w), None);
        // Another parent than the bot, and tables without kept counts.
        let webhook_scope = Scope::child("o", "webhook_id", "w");
        assert_eq!(key_for(&FLAKE, &webhook_scope, &Where::All), None);
        assert_eq!(key_for(&BOT, &Scope::org("o"), &Where::All), None);
    }
}
