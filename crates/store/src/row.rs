//! A result row from either engine, and its conversion into a JSON document in the API's form
//! (dates as ISO-8601, lists and documents parsed), driven by the model's field list.

use palaver_domain::time::format_millis;
use palaver_domain::{Kind, Model};
use serde_json::{Map, Value};
use sqlx::postgres::PgRow;
use sqlx::{Column, Row};

use crate::error::StoreError;
use crate::sqlite::SqliteRow;

pub(crate) enum DbRow {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

impl DbRow {
    pub(crate) fn text(&self, col: &str) -> Result<Option<String>, StoreError> {
        Ok(match self {
            DbRow::Sqlite(r) => r.text(col)?,
            DbRow::Postgres(r) => r.try_get(col)?,
        })
    }

    /// `f` of the column's text, borrowed from the row: a JSON column is parsed without a copy
    /// of its text first.
    pub(crate) fn with_text<T>(
        &self,
        col: &str,
        f: impl FnOnce(Option<&str>) -> T,
    ) -> Result<T, StoreError> {
        Ok(match self {
            DbRow::Sqlite(r) => f(r.text_ref(col)?),
            DbRow::Postgres(r) => f(r.try_get::<Option<&str>, _>(col)?),
        })
    }

    pub(crate) fn int(&self, col: &str) -> Result<Option<i64>, StoreError> {
        Ok(match self {
            DbRow::Sqlite(r) => r.int(col)?,
            DbRow::Postgres(r) => r.try_get(col)?,
        })
    }

    pub(crate) fn boolean(&self, col: &str) -> Result<Option<bool>, StoreError> {
        Ok(match self {
            DbRow::Sqlite(r) => r.boolean(col)?,
            DbRow::Postgres(r) => r.try_get(col)?,
        })
    }

    /// The row as a document with every field of `model` (hidden ones included), in field order.
    /// SQL NULL becomes JSON null. The row is used up: on SQLite its text cells are moved into
    /// the document rather than copied, and each column is looked for first where the model's
    /// order puts it (documents are selected in that order).
    pub(crate) fn into_document(mut self, model: &Model) -> Result<Map<String, Value>, StoreError> {
        let mut doc = Map::with_capacity(model.fields.len());
        for (at, f) in model.fields.iter().enumerate() {
            let v = match f.kind {
                Kind::Id | Kind::Text => self.take_text(f.name, at)?.map(Value::String),
                Kind::Int => self.int_at(f.name, at)?.map(Value::from),
                Kind::Bool => self.bool_at(f.name, at)?.map(Value::Bool),
                Kind::Date => self
                    .int_at(f.name, at)?
                    .map(|ms| Value::String(format_millis(ms))),
                Kind::TextArray | Kind::Json => self
                    .with_text_at(f.name, at, |s| s.map(serde_json::from_str).transpose())?
                    .map_err(|_| StoreError::Decode(format!("{}.{}", model.table, f.name)))?,
            };
            doc.insert(f.name.to_string(), v.unwrap_or(Value::Null));
        }
        Ok(doc)
    }

    /// The text of `col`, expected at index `at`: moved out of a SQLite row, read from a
    /// PostgreSQL one.
    fn take_text(&mut self, col: &str, at: usize) -> Result<Option<String>, StoreError> {
        Ok(match self {
            DbRow::Sqlite(r) => r.take_text(col, at)?,
            DbRow::Postgres(r) => pg_get(r, col, at)?,
        })
    }

    /// `f` of the text of `col`, expected at index `at`, borrowed from the row.
    fn with_text_at<T>(
        &self,
        col: &str,
        at: usize,
        f: impl FnOnce(Option<&str>) -> T,
    ) -> Result<T, StoreError> {
        Ok(match self {
            DbRow::Sqlite(r) => f(r.text_ref_at(col, at)?),
            DbRow::Postgres(r) => f(pg_get::<Option<&str>>(r, col, at)?),
        })
    }

    /// The integer of `col`, expected at index `at`.
    fn int_at(&self, col: &str, at: usize) -> Result<Option<i64>, StoreError> {
        Ok(match self {
            DbRow::Sqlite(r) => r.int_at(col, at)?,
            DbRow::Postgres(r) => pg_get(r, col, at)?,
        })
    }

    /// The boolean of `col` (SQLite's 0 or 1), expected at index `at`.
    fn bool_at(&self, col: &str, at: usize) -> Result<Option<bool>, StoreError> {
        Ok(match self {
            DbRow::Sqlite(r) => r.int_at(col, at)?.map(|i| i != 0),
            DbRow::Postgres(r) => pg_get(r, col, at)?,
        })
    }
}

/// Column `col` of a PostgreSQL row, read by its index `at` when that is the column: reading
/// by name hashes the name and looks it up, for every cell.
fn pg_get<'r, T>(r: &'r PgRow, col: &str, at: usize) -> Result<T, sqlx::Error>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    if r.columns().get(at).is_some_and(|c| c.name() == col) {
        r.try_get(at)
    } else {
        r.try_get(col)
    }
}

/// Named columns of a result row: a whole row ([`DbRow`]), or the columns a join named with a
/// prefix ([`Prefixed`]), so that one `read` function serves a table read alone or joined.
pub(crate) trait Columns {
    fn text(&self, col: &str) -> Result<Option<String>, StoreError>;
    fn with_text<T>(&self, col: &str, f: impl FnOnce(Option<&str>) -> T) -> Result<T, StoreError>;
    fn int(&self, col: &str) -> Result<Option<i64>, StoreError>;
    fn boolean(&self, col: &str) -> Result<Option<bool>, StoreError>;
}

impl Columns for DbRow {
    fn text(&self, col: &str) -> Result<Option<String>, StoreError> {
        DbRow::text(self, col)
    }
    fn with_text<T>(&self, col: &str, f: impl FnOnce(Option<&str>) -> T) -> Result<T, StoreError> {
        DbRow::with_text(self, col, f)
    }
    fn int(&self, col: &str) -> Result<Option<i64>, StoreError> {
        DbRow::int(self, col)
    }
    fn boolean(&self, col: &str) -> Result<Option<bool>, StoreError> {
        DbRow::boolean(self, col)
    }
}

/// The columns of `row` selected as `prefix` + name (`su_name` for a joined sender's `name`).
pub(crate) struct Prefixed<'a> {
    pub row: &'a DbRow,
    pub prefix: &'static str,
}

impl Prefixed<'_> {
    /// `f` of the prefixed name, spelled out on the stack (names are short).
    fn named<T>(&self, col: &str, f: impl FnOnce(&str) -> T) -> T {
        let mut buf = [0u8; 64];
        let (p, c) = (self.prefix.as_bytes(), col.as_bytes());
        let n = p.len() + c.len();
        if n > buf.len() {
            return f(&format!("{}{col}", self.prefix));
        }
        buf[..p.len()].copy_from_slice(p);
        buf[p.len()..n].copy_from_slice(c);
        // Both parts are whole strings: so is their concatenation.
        f(std::str::from_utf8(&buf[..n]).unwrap_or_default())
    }
}

impl Columns for Prefixed<'_> {
    fn text(&self, col: &str) -> Result<Option<String>, StoreError> {
        self.named(col, |c| self.row.text(c))
    }
    fn with_text<T>(&self, col: &str, f: impl FnOnce(Option<&str>) -> T) -> Result<T, StoreError> {
        self.named(col, |c| self.row.with_text(c, f))
    }
    fn int(&self, col: &str) -> Result<Option<i64>, StoreError> {
        self.named(col, |c| self.row.int(c))
    }
    fn boolean(&self, col: &str) -> Result<Option<bool>, StoreError> {
        self.named(col, |c| self.row.boolean(c))
    }
}

/// The `n` of a `COUNT(*) AS n` query's one row (0 when there is none).
pub(crate) fn count_of(rows: &[DbRow]) -> Result<u64, StoreError> {
    Ok(rows
        .first()
        .map(|r| r.int("n"))
        .transpose()?
        .flatten()
        .unwrap_or(0)
        .max(0) as u64)
}
