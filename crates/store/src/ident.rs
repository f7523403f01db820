//! SQL identifiers (tables, columns, aliases) as every statement names them, written into its
//! text without allocating.
//!
//! sea-query's own `Alias` allocates its name when made, and its default `Iden::prepare`
//! writes a name through `format!` after copying it twice (to a `String`, then through
//! `str::replace` to double any quote character): for a list of flakes that was three
//! allocations and a string search per column, about a sixth of the request's instructions.
//! Here a name known when the program is built is borrowed, and one without a quote
//! character (all of ours) is written as it is between the dialect's quotes.

use std::borrow::Cow;
use std::fmt;

use sea_query::{Iden, Quote};

/// A table, column or alias name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident(Cow<'static, str>);

impl Ident {
    pub fn new(name: impl Into<Cow<'static, str>>) -> Self {
        Ident(name.into())
    }
}

/// A column by its name alone, as statements on one table name theirs.
pub(crate) fn col(name: &'static str) -> sea_query::Expr {
    sea_query::Expr::col(Ident::new(name))
}

impl Iden for Ident {
    fn prepare(&self, s: &mut dyn fmt::Write, q: Quote) {
        // The `Iden` trait's writers answer nothing: a `String` writer cannot fail.
        let _ = s.write_char(q.left());
        if self.0.contains(q.right()) {
            for c in self.0.chars() {
                if c == q.right() {
                    let _ = s.write_char(c);
                }
                let _ = s.write_char(c);
            }
        } else {
            let _ = s.write_str(&self.0);
        }
        let _ = s.write_char(q.right());
    }

    fn quoted(&self, q: Quote) -> String {
        let mut s = String::with_capacity(self.0.len() + 2);
        self.prepare(&mut s, q);
        // Without the surrounding quotes, as sea-query's own `quoted` answers.
        s.pop();
        s.remove(0);
        s
    }

    fn to_string(&self) -> String {
        self.0.to_string()
    }

    fn unquoted(&self, s: &mut dyn fmt::Write) {
        let _ = s.write_str(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use sea_query::{Alias, Expr, PostgresQueryBuilder, Query, QuotedBuilder, SqliteQueryBuilder};

    use super::*;

    /// The same statement with sea-query's `Alias` for every name, and with `Ident`.
    fn both(name: &'static str) -> [(String, String); 2] {
        let alias = {
            let mut q = Query::select();
            q.column((Alias::new(name), Alias::new("c")))
                .from_as(Alias::new("t"), Alias::new(name))
                .and_where(Expr::col(Alias::new(name)).eq(1));
            q
        };
        let ident = {
            let mut q = Query::select();
            q.column((Ident::new(name), Ident::new("c")))
                .from_as(Ident::new("t"), Ident::new(name))
                .and_where(Expr::col(Ident::new(name)).eq(1));
            q
        };
        [
            (
                alias.to_string(SqliteQueryBuilder),
                ident.to_string(SqliteQueryBuilder),
            ),
            (
                alias.to_string(PostgresQueryBuilder),
                ident.to_string(PostgresQueryBuilder),
            ),
        ]
    }

    #[test]
    fn names_are_written_as_sea_query_writes_them() {
        for name in ["flakes", "created", "a b", "with\"quote", "\"", ""] {
            for (alias, ident) in both(name) {
                assert_eq!(ident, alias, "{name}");
            }
        }
        assert_eq!(
            both("x")[0].1,
            r#"SELECT "x"."c" FROM "t" AS "x" WHERE "x" = 1"#
        );
        assert_eq!(
            both("a\"b")[1].1,
            r#"SELECT "a""b"."c" FROM "t" AS "a""b" WHERE "a""b" = 1"#
        );
    }

    #[test]
    fn quoted_doubles_the_quote_and_leaves_the_rest() {
        let q = SqliteQueryBuilder.quote();
        assert_eq!(Ident::new("plain").quoted(q), "plain");
        assert_eq!(Ident::new("a\"b").quoted(q), "a\"\"b");
        assert_eq!(Ident::new(String::from("owned")).to_string(), "owned");
    }
}
