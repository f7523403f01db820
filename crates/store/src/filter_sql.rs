//! Compiles a filter tree to sea-query expressions. Values are always bound, never spliced.
//!
//! Where SQL and LoopBack's memory connector differ, SQL wins and the README says so: `like` is an
//! anchored SQL LIKE (`%`, `_`, and `\` to escape them), `regexp` uses the engine's regex
//! dialect, on list fields `neq`/`nin`/`nlike`/`nilike` mean "no element is (or is like) these"
//! rather than "has some other element", and text compares and sorts by code point on both
//! engines (PostgreSQL is told `COLLATE "C"` instead of using the database's collation).

use palaver_domain::filter::{Order as FilterOrder, Scalar, Test, Where};
use palaver_domain::{Field, Kind};
use sea_query::{
    BinOper, Expr, Func, LikeExpr, NullOrdering, Order, Query, SelectStatement, SimpleExpr,
};

use crate::db::Dialect;
use crate::Ident;

fn value(s: &Scalar) -> sea_query::Value {
    match s {
        Scalar::Null => sea_query::Value::String(None),
        Scalar::Text(t) => t.clone().into(),
        Scalar::Int(i) => (*i).into(),
        Scalar::Float(f) => (*f).into(),
        Scalar::Bool(b) => (*b).into(),
    }
}

fn always() -> SimpleExpr {
    Expr::cust("1 = 1")
}

fn never() -> SimpleExpr {
    Expr::cust("1 = 0")
}

/// `e COLLATE "C"` on PostgreSQL: text ordered by code point whatever the database's collation,
/// as SQLite orders it (`BINARY`). Only orderings get it, so equality keeps using indexes.
fn by_code_point(e: SimpleExpr, dialect: Dialect) -> SimpleExpr {
    match dialect {
        Dialect::Sqlite => e,
        Dialect::Postgres => Expr::cust_with_expr("$1 COLLATE \"C\"", e),
    }
}

/// The SQL condition for `w` on rows of `table`.
pub(crate) fn condition(table: &'static str, w: &Where, dialect: Dialect) -> SimpleExpr {
    match w {
        Where::All => always(),
        Where::Nothing => never(),
        Where::And(parts) => parts
            .iter()
            .map(|p| condition(table, p, dialect))
            .reduce(|a, b| a.and(b))
            .unwrap_or_else(always),
        Where::Or(parts) => parts
            .iter()
            .map(|p| condition(table, p, dialect))
            .reduce(|a, b| a.or(b))
            .unwrap_or_else(never),
        Where::Test { field, test } => field_test(table, field, test, dialect),
    }
}

fn column(table: &'static str, field: &Field) -> SimpleExpr {
    Expr::col((Ident::new(table), Ident::new(field.name))).into()
}

fn field_test(table: &'static str, field: &Field, test: &Test, dialect: Dialect) -> SimpleExpr {
    let col = column(table, field);
    if field.kind != Kind::TextArray {
        let text = matches!(field.kind, Kind::Id | Kind::Text);
        return scalar_test(col, test, dialect, text);
    }
    // A list matches when any element matches; null tests look at the list itself, and the
    // negative tests mean "no element is one of these".
    match test {
        Test::Eq(Scalar::Null) | Test::Neq(Scalar::Null) => scalar_test(col, test, dialect, true),
        Test::Neq(v) => any_element(col, &Test::Eq(v.clone()), dialect).not(),
        Test::Nin(v) => any_element(col, &Test::Inq(v.clone()), dialect).not(),
        Test::Like {
            pattern,
            negated: true,
            case_insensitive,
        } => any_element(
            col,
            &Test::Like {
                pattern: pattern.clone(),
                negated: false,
                case_insensitive: *case_insensitive,
            },
            dialect,
        )
        .not(),
        other => any_element(col, other, dialect),
    }
}

/// `EXISTS (SELECT 1 FROM <elements of col> AS e WHERE <test on e.value>)`. Both element
/// functions name their text column `value`.
fn any_element(col: SimpleExpr, test: &Test, dialect: Dialect) -> SimpleExpr {
    let elements = match dialect {
        Dialect::Sqlite => Func::cust(Ident::new("json_each")).arg(col),
        Dialect::Postgres => Func::cust(Ident::new("jsonb_array_elements_text"))
            .arg(col.cast_as(Ident::new("jsonb"))),
    };
    let mut sub = Query::select();
    sub.expr(Expr::val(1))
        .from_function(elements, Ident::new("e"));
    let element: SimpleExpr = Expr::col((Ident::new("e"), Ident::new("value"))).into();
    sub.and_where(scalar_test(element, test, dialect, true));
    Expr::exists(sub)
}

/// One test on a value; `text` when it holds text (whose orderings go by code point).
fn scalar_test(col: SimpleExpr, test: &Test, dialect: Dialect, text: bool) -> SimpleExpr {
    let is_null = || Expr::expr(col.clone()).is_null();
    let cmp = |op: BinOper, v: &Scalar| match v {
        // A comparison with null never matches, as in LoopBack.
        Scalar::Null => never(),
        Scalar::Float(f) => int_compare(col.clone(), op, *f),
        v if text => by_code_point(col.clone(), dialect).binary(op, value(v)),
        v => col.clone().binary(op, value(v)),
    };
    // Fractional numbers only come for integer fields, where they equal nothing.
    let whole = |values: &[Scalar]| -> Vec<Scalar> {
        values
            .iter()
            .filter_map(|v| match v {
                Scalar::Float(f) => whole_number(*f).map(Scalar::Int),
                v => Some(v.clone()),
            })
            .collect()
    };
    match test {
        Test::Eq(Scalar::Null) => is_null(),
        Test::Eq(Scalar::Float(f)) => match whole_number(*f) {
            Some(i) => col.clone().eq(i),
            None => never(),
        },
        Test::Eq(v) => col.clone().eq(value(v)),
        Test::Neq(Scalar::Null) => Expr::expr(col.clone()).is_not_null(),
        Test::Neq(Scalar::Float(f)) => match whole_number(*f) {
            Some(i) => col.clone().ne(i).or(is_null()),
            None => always(),
        },
        // LoopBack's neq matches rows where the property is null or missing.
        Test::Neq(v) => col.clone().ne(value(v)).or(is_null()),
        Test::Gt(v) => cmp(BinOper::GreaterThan, v),
        Test::Gte(v) => cmp(BinOper::GreaterThanOrEqual, v),
        Test::Lt(v) => cmp(BinOper::SmallerThan, v),
        Test::Lte(v) => cmp(BinOper::SmallerThanOrEqual, v),
        Test::Between(a, b) => {
            cmp(BinOper::GreaterThanOrEqual, a).and(cmp(BinOper::SmallerThanOrEqual, b))
        }
        Test::Inq(values) => {
            let (nulls, rest): (Vec<_>, Vec<_>) =
                whole(values).into_iter().partition(|v| *v == Scalar::Null);
            let mut e = if rest.is_empty() {
                never()
            } else {
                Expr::expr(col.clone()).is_in(rest.iter().map(value))
            };
            if !nulls.is_empty() {
                e = e.or(is_null());
            }
            e
        }
        Test::Nin(values) => {
            let (nulls, rest): (Vec<_>, Vec<_>) =
                whole(values).into_iter().partition(|v| *v == Scalar::Null);
            let not_in = if rest.is_empty() {
                always()
            } else {
                Expr::expr(col.clone()).is_not_in(rest.iter().map(value))
            };
            if nulls.is_empty() {
                not_in.or(is_null())
            } else {
                not_in.and(Expr::expr(col.clone()).is_not_null())
            }
        }
        Test::Like {
            pattern,
            negated,
            case_insensitive,
        } => {
            // A backslash escapes `%`, `_` and itself on both engines (PostgreSQL's default;
            // SQLite has no escape character unless told).
            let pattern = &like_pattern(pattern);
            let matched = match (*case_insensitive, dialect) {
                (false, _) => col
                    .clone()
                    .like(LikeExpr::new(pattern.as_str()).escape('\\')),
                // SQLite's lower() folds ASCII only; its REGEXP (Rust's regex) folds all of Unicode.
                (true, Dialect::Sqlite) => col
                    .clone()
                    .binary(BinOper::Custom("REGEXP"), like_to_regex(pattern)),
                (true, Dialect::Postgres) => Expr::expr(Func::lower(col.clone()))
                    .like(LikeExpr::new(pattern.to_lowercase()).escape('\\')),
            };
            if *negated {
                matched.not().or(is_null())
            } else {
                matched
            }
        }
        Test::Regexp {
            pattern,
            case_insensitive,
        } => match dialect {
            Dialect::Sqlite => {
                let p = if *case_insensitive {
                    format!("(?i){pattern}")
                } else {
                    pattern.clone()
                };
                col.clone().binary(BinOper::Custom("REGEXP"), p)
            }
            Dialect::Postgres => {
                let op = if *case_insensitive { "~*" } else { "~" };
                col.clone().binary(BinOper::Custom(op), pattern.clone())
            }
        },
    }
}

/// `f` as an integer when it is a whole number an integer column can hold.
fn whole_number(f: f64) -> Option<i64> {
    (f.fract() == 0.0 && (-TWO_TO_63..TWO_TO_63).contains(&f)).then_some(f as i64)
}

const TWO_TO_63: f64 = 9_223_372_036_854_775_808.0;

/// An integer column compared with a fractional (or out of range) number, as the equivalent
/// comparison with a whole number: `x > 1.5` is `x > 1`, `x >= 1.5` is `x >= 2`. The bound value
/// stays an integer, so PostgreSQL never sees one statement text with two parameter types (sqlx
/// caches prepared statements by text, and would send the float's bytes as an int8).
fn int_compare(col: SimpleExpr, op: BinOper, f: f64) -> SimpleExpr {
    let bound = match op {
        BinOper::GreaterThan | BinOper::SmallerThanOrEqual => f.floor(),
        _ => f.ceil(),
    };
    let upward = matches!(op, BinOper::GreaterThan | BinOper::GreaterThanOrEqual);
    if bound.is_nan() {
        never()
    } else if bound >= TWO_TO_63 {
        // Above every integer: nothing is greater, everything (not null) is smaller.
        if upward {
            never()
        } else {
            Expr::expr(col).is_not_null()
        }
    } else if bound < -TWO_TO_63 {
        if upward {
            Expr::expr(col).is_not_null()
        } else {
            never()
        }
    } else {
        col.binary(op, bound as i64)
    }
}

/// The pattern with a trailing lone backslash made literal: PostgreSQL refuses a pattern that
/// ends in its escape character, and SQLite matches nothing with it.
fn like_pattern(pattern: &str) -> String {
    let trailing = pattern.chars().rev().take_while(|c| *c == '\\').count();
    let mut p = pattern.to_string();
    if trailing % 2 == 1 {
        p.push('\\');
    }
    p
}

/// A LIKE pattern (`%`, `_`, backslash escapes) as an anchored, case-insensitive regular
/// expression in Rust's syntax.
fn like_to_regex(pattern: &str) -> String {
    let mut re = String::from("(?is)\\A");
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => re.push_str(".*"),
            '_' => re.push('.'),
            '\\' => {
                let literal = chars.next().unwrap_or('\\');
                re.push_str(&regex::escape(literal.encode_utf8(&mut [0; 4])));
            }
            c => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    re.push_str("\\z");
    re
}

/// Adds ORDER BY: the filter's keys, then `id` so that pages are stable. NULLs sort first going
/// up and last going down on both engines (SQLite's own default; PostgreSQL is told so).
pub(crate) fn order(
    select: &mut SelectStatement,
    table: &'static str,
    keys: &[FilterOrder],
    dialect: Dialect,
) {
    let mut has_id = false;
    let mut last_desc = false;
    for k in keys {
        let mut col: SimpleExpr = Expr::col((Ident::new(table), Ident::new(k.field.name))).into();
        if k.field.kind == Kind::Text {
            col = by_code_point(col, dialect);
        }
        let dir = if k.descending {
            Order::Desc
        } else {
            Order::Asc
        };
        let nullable = !matches!(k.field.name, "id" | "created" | "modified");
        if dialect == Dialect::Postgres && nullable {
            let nulls = if k.descending {
                NullOrdering::Last
            } else {
                NullOrdering::First
            };
            select.order_by_expr_with_nulls(col, dir, nulls);
        } else {
            select.order_by_expr(col, dir);
        }
        has_id |= k.field.name == "id";
        last_desc = k.descending;
    }
    if !has_id {
        let dir = if last_desc { Order::Desc } else { Order::Asc };
        select.order_by((Ident::new(table), Ident::new("id")), dir);
    }
}
