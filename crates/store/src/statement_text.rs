//! A statement's SQL text and its bound values, written straight into one `String`.
//!
//! sea-query's own writer passes every piece of text through `write!(string, "{s}")` — the
//! formatting machinery, padding checks included, for each keyword, quote and name — which
//! was about a tenth of a content list's instructions. This writer appends; the text and the
//! values are the same (a test compares them with sea-query's on both dialects).

use std::fmt::{self, Write as _};

use sea_query::{QueryBuilder, QueryStatementBuilder, SqlWriter, Value, Values};

/// The text of `stmt` for `builder`'s dialect, with its values to bind in order.
pub(crate) fn build<S: QueryStatementBuilder>(
    stmt: &S,
    builder: &dyn QueryBuilder,
) -> (String, Values) {
    let (placeholder, numbered) = builder.placeholder();
    let mut w = Writer {
        sql: String::with_capacity(512),
        values: Vec::new(),
        placeholder,
        numbered,
    };
    stmt.build_collect_any_into(builder, &mut w);
    (w.sql, Values(w.values))
}

struct Writer<'a> {
    sql: String,
    values: Vec<Value>,
    /// `?` (SQLite) or `$` followed by the value's number (PostgreSQL).
    placeholder: &'a str,
    numbered: bool,
}

impl fmt::Write for Writer<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.sql.push_str(s);
        Ok(())
    }

    fn write_char(&mut self, c: char) -> fmt::Result {
        self.sql.push(c);
        Ok(())
    }
}

impl fmt::Display for Writer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sql)
    }
}

impl SqlWriter for Writer<'_> {
    fn push_param(&mut self, value: Value, _: &dyn QueryBuilder) {
        self.sql.push_str(self.placeholder);
        if self.numbered {
            // Writing a number into a `String` cannot fail.
            let _ = write!(self.sql, "{}", self.values.len() + 1);
        }
        self.values.push(value);
    }

    fn as_writer(&mut self) -> &mut dyn fmt::Write {
        self
    }
}

#[cfg(test)]
mod tests {
    use sea_query::{Cond, Expr, OnConflict, PostgresQueryBuilder, Query, SqliteQueryBuilder};

    use super::*;
    use crate::Ident;

    fn same<S: QueryStatementBuilder>(stmt: &S) {
        for builder in [
            &SqliteQueryBuilder as &dyn QueryBuilder,
            &PostgresQueryBuilder,
        ] {
            let ours = build(stmt, builder);
            let theirs = stmt.build_any(builder);
            assert_eq!(ours.0, theirs.0);
            assert_eq!(ours.1, theirs.1);
        }
    }

    #[test]
    fn statements_are_written_as_sea_query_writes_them() {
        let t = || Ident::new("t");
        let mut inner = Query::select();
        inner
            .column(Ident::new("id"))
            .from(Ident::new("u"))
            .and_where(Expr::col(Ident::new("k")).like("a%"));
        let mut select = Query::select();
        select
            .columns([(t(), Ident::new("id")), (t(), Ident::new("name"))])
            .from(t())
            .cond_where(
                Cond::any()
                    .add(Expr::col(Ident::new("a")).eq(1))
                    .add(Expr::col(Ident::new("b")).is_in(["x", "y\"z", "it's"])),
            )
            .and_where(Expr::col(Ident::new("id")).in_subquery(inner))
            .limit(10)
            .offset(20);
        same(&select);
        assert_eq!(
            build(&select, &PostgresQueryBuilder).0,
            r#"SELECT "t"."id", "t"."name" FROM "t" WHERE ("a" = $1 OR "b" IN ($2, $3, $4)) AND "id" IN (SELECT "id" FROM "u" WHERE "k" LIKE $5) LIMIT $6 OFFSET $7"#
        );
        assert_eq!(build(&select, &SqliteQueryBuilder).1 .0.len(), 7);

        let mut insert = Query::insert();
        insert
            .into_table(t())
            .columns([Ident::new("id"), Ident::new("n")])
            .values_panic(["a".into(), 1.into()])
            .values_panic(["b".into(), 2.into()])
            .on_conflict(
                OnConflict::column(Ident::new("id"))
                    .update_column(Ident::new("n"))
                    .to_owned(),
            )
            .returning_col(Ident::new("id"));
        same(&insert);

        let mut update = Query::update();
        update
            .table(t())
            .value(Ident::new("n"), Expr::col(Ident::new("n")).add(1))
            .and_where(Expr::col(Ident::new("id")).eq("a"));
        same(&update);

        let mut delete = Query::delete();
        delete
            .from_table(t())
            .and_where(Expr::col(Ident::new("id")).ne("a"));
        same(&delete);
    }
}
