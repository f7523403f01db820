//! PostgreSQL statements as sent: a select's own `LIMIT` and `OFFSET` are written as numbers,
//! not bound as parameters. PostgreSQL plans a prepared statement afresh on every run until a
//! plan for any parameter values looks as cheap; with the row limit a parameter, that plan
//! assumes a tenth of the table and never does, so every page was planned again (a large part
//! of the server's work on a history page). With the limit written out, the plan is kept after
//! the fifth run. The few limits a server uses (page sizes) make few distinct statements.

use sea_query::{PostgresQueryBuilder, QueryStatementBuilder, Value};
use sea_query_binder::SqlxValues;

use crate::statement_text;

/// `stmt` for PostgreSQL, its outermost `LIMIT`/`OFFSET` values written into the text.
pub(crate) fn build<S: QueryStatementBuilder>(stmt: &S) -> (String, SqlxValues) {
    let (mut sql, values) = statement_text::build(stmt, &PostgresQueryBuilder);
    let mut values = SqlxValues(values);
    // OFFSET follows LIMIT: when both are there, the offset is the last value.
    inline_last(&mut sql, &mut values.0 .0, " OFFSET ");
    inline_last(&mut sql, &mut values.0 .0, " LIMIT ");
    (sql, values)
}

/// Writes the last value into `sql` where `clause` takes it as its placeholder, and drops it
/// from `values`. Placeholders are numbered in order of appearance, so the last value's is the
/// one nearest the end: a subquery's limit, or a limit followed by any other value, is left
/// bound. Only a whole number is written (nothing a caller's text could reach).
fn inline_last(sql: &mut String, values: &mut Vec<Value>, clause: &str) {
    let Some(Value::BigUnsigned(Some(n))) = values.last() else {
        return;
    };
    let placeholder = format!("{clause}${}", values.len());
    let Some(at) = sql.rfind(&placeholder) else {
        return;
    };
    let end = at + placeholder.len();
    if sql[end..].starts_with(|c: char| c.is_ascii_digit()) {
        return;
    }
    let literal = format!("{clause}{n}");
    sql.replace_range(at..end, &literal);
    values.pop();
}

#[cfg(test)]
mod tests {
    use sea_query::{Expr, Query};

    use crate::Ident;

    use super::*;

    fn page(limit: u64, offset: Option<u64>) -> sea_query::SelectStatement {
        let mut q = Query::select();
        q.column(Ident::new("id"))
            .from(Ident::new("t"))
            .and_where(Expr::col(Ident::new("a")).eq(7))
            .and_where(Expr::col(Ident::new("b")).eq("x"))
            .limit(limit);
        if let Some(o) = offset {
            q.offset(o);
        }
        q
    }

    #[test]
    fn the_outer_limit_and_offset_are_written_as_numbers() {
        let (sql, values) = build(&page(51, None));
        assert_eq!(
            sql,
            r#"SELECT "id" FROM "t" WHERE "a" = $1 AND "b" = $2 LIMIT 51"#
        );
        assert_eq!(values.0 .0.len(), 2);
        let (sql, values) = build(&page(10, Some(30)));
        assert_eq!(
            sql,
            r#"SELECT "id" FROM "t" WHERE "a" = $1 AND "b" = $2 LIMIT 10 OFFSET 30"#
        );
        assert_eq!(
            values.0 .0,
            vec![
                Value::Int(Some(7)),
                Value::String(Some(Box::new("x".into())))
            ]
        );
    }

    #[test]
    fn a_limit_inside_a_subquery_stays_bound() {
        let mut inner = page(5, None);
        inner.and_where(Expr::col(Ident::new("c")).eq(1));
        let mut q = Query::select();
        q.column(Ident::new("id"))
            .from(Ident::new("u"))
            .and_where(Expr::col(Ident::new("id")).in_subquery(inner))
            .and_where(Expr::col(Ident::new("d")).eq(2));
        let (sql, values) = build(&q);
        assert!(sql.contains("LIMIT $4"), "{sql}");
        assert_eq!(values.0 .0.len(), 5);
    }

    #[test]
    fn the_tenth_value_is_not_taken_for_the_first() {
        // Eleven values: `LIMIT $1` must not match the start of `$11`.
        let mut q = Query::select();
        q.column(Ident::new("id")).from(Ident::new("t"));
        for i in 0..10 {
            q.and_where(Expr::col(Ident::new("a")).ne(i));
        }
        q.limit(3);
        let (sql, values) = build(&q);
        assert!(sql.ends_with(" LIMIT 3"), "{sql}");
        assert_eq!(values.0 .0.len(), 10);
        // A statement without a limit is left as it was built.
        let mut plain = Query::select();
        plain
            .column(Ident::new("id"))
            .from(Ident::new("t"))
            .and_where(Expr::col(Ident::new("a")).eq(1u64));
        let (sql, values) = build(&plain);
        assert_eq!(sql, r#"SELECT "id" FROM "t" WHERE "a" = $1"#);
        assert_eq!(values.0 .0.len(), 1);
    }
}
