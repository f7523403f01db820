//! "This JSON properties column holds key K with value V", for either engine.

use sea_query::{Expr, SimpleExpr};
use serde_json::Value;

use crate::db::Dialect;

/// `"table"."properties"` holds `key` with exactly `value` (JSON equality).
pub(crate) fn property_matches(
    dialect: Dialect,
    table: &str,
    key: &str,
    value: &Value,
) -> SimpleExpr {
    let json = value.to_string();
    match dialect {
        // A JSON path cannot name a key holding `"`, so the key is matched as a label of
        // `json_each`; as on PostgreSQL, the key must be present.
        Dialect::Sqlite => Expr::cust_with_values(
            format!(
                "EXISTS (SELECT 1 FROM json_each(\"{table}\".\"properties\") AS \"p\" \
                 WHERE \"p\".\"key\" = ? AND \"p\".\"value\" IS json_extract(?, '$'))"
            ),
            [key.to_string(), json],
        ),
        Dialect::Postgres => Expr::cust_with_values(
            format!("(CAST(\"{table}\".\"properties\" AS jsonb) -> $1) = CAST($2 AS jsonb)"),
            [key.to_string(), json],
        ),
    }
}
