//! SQLite statements run where they are asked for, through rusqlite on a small set of pooled
//! connections, instead of on a driver thread per connection.
//!
//! sqlx runs each SQLite connection on a worker thread of its own and hands every statement
//! and every row between it and the async runtime: a 50-message history page spent about a
//! third of its CPU copying rows across, and another third in the kernel switching threads,
//! against under 2 % in SQLite itself. A local SQLite read takes microseconds, so it is cheaper
//! to run it on the calling thread: a connection is taken from the idle list, the statement
//! (prepared once per connection and kept) runs to its last row, and the connection goes back,
//! all without an `.await`. Reads never wait in WAL mode, and this process's writers queue on
//! the async [`crate::db::WriteLock`] before they begin, so a statement here never sleeps in
//! SQLite's busy handler unless another process holds the file.
//!
//! Connections are opened on demand: as many as statements run at once (about one per runtime
//! thread, and the one open transaction), not a fixed pool, each keeping up to 16 MiB of pages.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use regex::Regex;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, OpenFlags};

use crate::error::StoreError;

/// Statements each connection keeps prepared: more than the store has distinct statement
/// shapes on a hot path, so a page's statements are parsed once per connection.
const PREPARED_PER_CONNECTION: usize = 256;

/// A SQLite database file and the connections open on it.
#[derive(Debug, Clone)]
pub struct SqliteFile(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    /// The file's path.
    target: String,
    idle: Mutex<Vec<Connection>>,
    /// Connections open now, idle or in use.
    open: AtomicU32,
    /// Idle connections kept beyond this many are closed when they come back.
    max_idle: usize,
    /// Set by [`SqliteFile::close`]: no connection is handed out after it.
    closed: AtomicBool,
}

impl SqliteFile {
    /// Opens (creating when missing) the file at `path` in WAL mode, and checks that one
    /// connection can be made to it.
    pub(crate) fn open(path: PathBuf, max_idle: usize) -> Result<Self, StoreError> {
        if path.as_os_str() == ":memory:" {
            // Each connection would see a database of its own: a file is needed.
            return Err(StoreError::Sqlite(rusqlite::Error::InvalidPath(path)));
        }
        let target = path.to_string_lossy().into_owned();
        let file = SqliteFile(Arc::new(Inner {
            target,
            idle: Mutex::new(Vec::new()),
            open: AtomicU32::new(0),
            max_idle: max_idle.max(1),
            closed: AtomicBool::new(false),
        }));
        let first = file.connection()?;
        first.conn().pragma_update(None, "journal_mode", "WAL")?;
        drop(first);
        Ok(file)
    }

    /// An idle connection, or a new one.
    pub(crate) fn connection(&self) -> Result<Pooled, StoreError> {
        if self.0.closed.load(Ordering::Relaxed) {
            return Err(StoreError::Closed);
        }
        let idle = self.0.idle.lock().map(|mut v| v.pop()).unwrap_or(None);
        let conn = match idle {
            Some(c) => c,
            None => {
                let c = self.connect()?;
                self.0.open.fetch_add(1, Ordering::Relaxed);
                c
            }
        };
        Ok(Pooled {
            conn: Some(conn),
            file: self.clone(),
        })
    }

    fn connect(&self) -> Result<Connection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.0.target, flags)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.set_prepared_statement_cache_capacity(PREPARED_PER_CONNECTION);
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             -- LoopBack's `like` is case-sensitive; SQLite's is not unless told so.
             PRAGMA case_sensitive_like = ON;
             -- Up to 16 MiB of pages (SQLite's default is 2 MB), so that the pages a large
             -- history's newest page reads stay in memory. A memory map of the file did as
             -- well for reads, but every write then made each reading connection unmap and
             -- map the file again: sends were ~15 % slower.
             PRAGMA cache_size = -16384;
             -- A multi-row write inside a transaction keeps the pages it changes in a
             -- statement journal, which SQLite spills to a temporary file past 64 KiB: a bulk
             -- batch paid a file write per page. Kept in memory, it lasts one statement.
             PRAGMA temp_store = memory;",
        )?;
        conn.create_scalar_function(
            "regexp",
            2,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            regexp,
        )?;
        Ok(conn)
    }

    /// Connections open now, and how many of them are idle.
    pub(crate) fn usage(&self) -> (u32, usize) {
        let idle = self.0.idle.lock().map(|v| v.len()).unwrap_or(0);
        (self.0.open.load(Ordering::Relaxed), idle)
    }

    /// Closes the idle connections (those in use close when they come back) and refuses any
    /// statement from now on.
    pub(crate) fn close(&self) {
        self.0.closed.store(true, Ordering::Relaxed);
        let idle = self
            .0
            .idle
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        self.0.open.fetch_sub(idle.len() as u32, Ordering::Relaxed);
    }
}

/// `X REGEXP Y` (LoopBack's `regexp`): whether the text `X` matches the pattern `Y`, with each
/// statement's pattern compiled once. NULL for a value that is not text; an invalid pattern
/// fails the statement.
fn regexp(ctx: &rusqlite::functions::Context<'_>) -> rusqlite::Result<Option<bool>> {
    let re: Arc<Regex> = ctx.get_or_create_aux(0, |v| -> Result<Regex, BoxError> {
        Ok(Regex::new(v.as_str()?)?)
    })?;
    Ok(match ctx.get_raw(1) {
        rusqlite::types::ValueRef::Text(t) => Some(re.is_match(
            std::str::from_utf8(t).map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?,
        )),
        _ => None,
    })
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A connection taken from a [`SqliteFile`]; it goes back to the idle list when dropped.
#[derive(Debug)]
pub struct Pooled {
    conn: Option<Connection>,
    file: SqliteFile,
}

impl Pooled {
    fn conn(&self) -> &Connection {
        // Taken out only by `drop`.
        #[allow(clippy::expect_used)]
        self.conn
            .as_ref()
            .expect("a pooled connection is present until dropped")
    }

    /// Runs `sql` with `values` bound and answers every row it yields.
    pub(crate) fn query(
        &self,
        sql: &str,
        values: &sea_query::Values,
    ) -> Result<Vec<SqliteRow>, StoreError> {
        let mut stmt = self.conn().prepare_cached(sql)?;
        let names: Arc<[String]> = stmt.column_names().into_iter().map(String::from).collect();
        let width = names.len();
        let mut rows = stmt.query(params_from_iter(values.0.iter().map(bound)))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut cells = Vec::with_capacity(width);
            for i in 0..width {
                cells.push(Value::from(row.get_ref(i)?));
            }
            out.push(SqliteRow {
                names: names.clone(),
                cells,
            });
        }
        Ok(out)
    }

    /// Runs `sql` with `values` bound to its end and answers how many rows it changed.
    pub(crate) fn execute(&self, sql: &str, values: &sea_query::Values) -> Result<u64, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params_from_iter(values.0.iter().map(bound)))?;
        while rows.next()?.is_some() {}
        Ok(conn.changes())
    }

    /// Runs statements without parameters (`BEGIN`, `COMMIT`, `ROLLBACK`).
    pub(crate) fn batch(&self, sql: &str) -> Result<(), StoreError> {
        Ok(self.conn().execute_batch(sql)?)
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        // A connection left inside a transaction (a panic between BEGIN and its end) must not
        // be handed to the next caller as it is.
        if !conn.is_autocommit() && conn.execute_batch("ROLLBACK").is_err() {
            self.file.0.open.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        let mut idle = match self.file.0.idle.lock() {
            Ok(idle) => idle,
            Err(_) => {
                self.file.0.open.fetch_sub(1, Ordering::Relaxed);
                return;
            }
        };
        if idle.len() < self.file.0.max_idle && !self.file.0.closed.load(Ordering::Relaxed) {
            idle.push(conn);
        } else {
            drop(idle);
            self.file.0.open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// A sea-query value as SQLite stores it (booleans as 0 and 1, as sqlx bound them).
fn bound(v: &sea_query::Value) -> Value {
    use sea_query::Value as V;
    let int = |i: Option<i64>| i.map_or(Value::Null, Value::Integer);
    match v {
        V::Bool(b) => int(b.map(i64::from)),
        V::TinyInt(i) => int(i.map(i64::from)),
        V::SmallInt(i) => int(i.map(i64::from)),
        V::Int(i) => int(i.map(i64::from)),
        V::BigInt(i) => int(*i),
        V::TinyUnsigned(i) => int(i.map(i64::from)),
        V::SmallUnsigned(i) => int(i.map(i64::from)),
        V::Unsigned(i) => int(i.map(i64::from)),
        V::BigUnsigned(i) => i.map_or(Value::Null, |u| match i64::try_from(u) {
            Ok(i) => Value::Integer(i),
            Err(_) => Value::Real(u as f64),
        }),
        V::Float(f) => f.map_or(Value::Null, |f| Value::Real(f64::from(f))),
        V::Double(f) => f.map_or(Value::Null, Value::Real),
        V::String(s) => s
            .as_ref()
            .map_or(Value::Null, |s| Value::Text(s.to_string())),
        V::Char(c) => c.map_or(Value::Null, |c| Value::Text(c.to_string())),
        V::Bytes(b) => b.as_ref().map_or(Value::Null, |b| Value::Blob(b.to_vec())),
        #[allow(unreachable_patterns)]
        other => Value::Text(other.to_string()),
    }
}

/// One result row: its cells, and the statement's column names (shared by its rows).
#[derive(Debug)]
pub(crate) struct SqliteRow {
    names: Arc<[String]>,
    cells: Vec<Value>,
}

impl SqliteRow {
    /// Where column `col` is: at `at` when it is there (a reader that selected the columns
    /// knows where each is), else wherever it is found.
    fn index(&self, col: &str, at: usize) -> Result<usize, StoreError> {
        if self.names.get(at).is_some_and(|n| n == col) {
            return Ok(at);
        }
        self.names
            .iter()
            .position(|n| n == col)
            .ok_or_else(|| StoreError::Decode(format!("no column {col}")))
    }

    fn cell(&self, col: &str) -> Result<&Value, StoreError> {
        Ok(&self.cells[self.index(col, 0)?])
    }

    /// The text of column `col` (looked for at `at` first), moved out of the row: the cell is
    /// left NULL.
    pub(crate) fn take_text(&mut self, col: &str, at: usize) -> Result<Option<String>, StoreError> {
        let at = self.index(col, at)?;
        match std::mem::replace(&mut self.cells[at], Value::Null) {
            Value::Text(s) => Ok(Some(s)),
            other => {
                self.cells[at] = other;
                self.text(col)
            }
        }
    }

    /// The text of column `col` (looked for at `at` first) where it holds text (or NULL),
    /// borrowed.
    pub(crate) fn text_ref_at(&self, col: &str, at: usize) -> Result<Option<&str>, StoreError> {
        match &self.cells[self.index(col, at)?] {
            Value::Null => Ok(None),
            Value::Text(s) => Ok(Some(s)),
            _ => Err(StoreError::Decode(format!("{col} is not text"))),
        }
    }

    /// The integer of column `col`, looked for at `at` first.
    pub(crate) fn int_at(&self, col: &str, at: usize) -> Result<Option<i64>, StoreError> {
        int_of(&self.cells[self.index(col, at)?], col)
    }

    pub(crate) fn text(&self, col: &str) -> Result<Option<String>, StoreError> {
        Ok(match self.cell(col)? {
            Value::Null => None,
            Value::Text(s) => Some(s.clone()),
            Value::Integer(i) => Some(i.to_string()),
            Value::Real(f) => Some(f.to_string()),
            Value::Blob(b) => Some(
                String::from_utf8(b.clone()).map_err(|_| StoreError::Decode(col.to_string()))?,
            ),
        })
    }

    /// The column's text where it holds text (or NULL), borrowed: for a JSON column parsed at
    /// once, whose copy would be thrown away.
    pub(crate) fn text_ref(&self, col: &str) -> Result<Option<&str>, StoreError> {
        self.text_ref_at(col, 0)
    }

    pub(crate) fn int(&self, col: &str) -> Result<Option<i64>, StoreError> {
        int_of(self.cell(col)?, col)
    }

    pub(crate) fn boolean(&self, col: &str) -> Result<Option<bool>, StoreError> {
        Ok(self.int(col)?.map(|i| i != 0))
    }
}

/// A cell read as an integer.
fn int_of(cell: &Value, col: &str) -> Result<Option<i64>, StoreError> {
    Ok(match cell {
        Value::Null => None,
        Value::Integer(i) => Some(*i),
        // SUM and arithmetic over integers stay integers; a real here is a whole number
        // stored as one (or an average), read as the integer part as sqlx did.
        Value::Real(f) => Some(*f as i64),
        Value::Text(_) | Value::Blob(_) => {
            return Err(StoreError::Decode(format!("{col} is not an integer")))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> sea_query::Values {
        sea_query::Values(Vec::new())
    }

    #[test]
    fn an_in_memory_database_is_refused() {
        let err = SqliteFile::open(PathBuf::from(":memory:"), 2).unwrap_err();
        assert!(
            matches!(err, StoreError::Sqlite(rusqlite::Error::InvalidPath(_))),
            "{err:?}"
        );
    }

    #[test]
    fn cells_are_found_where_expected_or_wherever_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let file = SqliteFile::open(dir.path().join("t.db"), 2).unwrap();
        let c = file.connection().unwrap();
        let mut rows = c
            .query("SELECT 'a' AS x, 7 AS y, NULL AS z, 8 AS w", &none())
            .unwrap();
        let mut r = rows.pop().unwrap();
        // At the expected index, at a wrong one, and where there is none.
        assert_eq!(r.int_at("y", 1).unwrap(), Some(7));
        assert_eq!(r.int_at("y", 3).unwrap(), Some(7));
        assert_eq!(r.int_at("w", 9).unwrap(), Some(8));
        assert_eq!(r.int_at("z", 2).unwrap(), None);
        assert!(r.int_at("v", 0).is_err());
        assert!(r.int_at("x", 0).is_err(), "text is not an integer");
        assert_eq!(r.text_ref_at("x", 0).unwrap(), Some("a"));
        assert_eq!(r.text_ref_at("x", 3).unwrap(), Some("a"));
        assert_eq!(r.text_ref_at("z", 2).unwrap(), None);
        assert!(r.text_ref_at("y", 1).is_err(), "an integer is not text");
        // Text is moved out once; an integer cell is read as its text.
        assert_eq!(r.take_text("x", 2).unwrap().as_deref(), Some("a"));
        assert_eq!(r.text("x").unwrap(), None);
        assert_eq!(r.take_text("y", 1).unwrap().as_deref(), Some("7"));
        assert_eq!(r.take_text("z", 2).unwrap(), None);
    }

    #[test]
    fn a_connection_given_back_inside_a_transaction_is_rolled_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = SqliteFile::open(dir.path().join("t.db"), 2).unwrap();
        let c = file.connection().unwrap();
        c.batch("CREATE TABLE t (x INTEGER)").unwrap();
        c.batch("BEGIN IMMEDIATE").unwrap();
        c.execute("INSERT INTO t (x) VALUES (1)", &none()).unwrap();
        drop(c);
        let again = file.connection().unwrap();
        let rows = again.query("SELECT COUNT(*) AS n FROM t", &none()).unwrap();
        assert_eq!(rows[0].int("n").unwrap(), Some(0));
        // The same connection came back, out of its transaction: a new one can begin.
        assert_eq!(file.usage(), (1, 0));
        again.batch("BEGIN IMMEDIATE").unwrap();
        again.batch("COMMIT").unwrap();
    }

    #[test]
    fn a_closed_file_hands_out_no_connection() {
        let dir = tempfile::tempdir().unwrap();
        let file = SqliteFile::open(dir.path().join("t.db"), 2).unwrap();
        file.close();
        assert!(matches!(file.connection(), Err(StoreError::Closed)));
        assert_eq!(file.usage(), (0, 0));
    }

    #[test]
    fn regexp_matches_text_and_refuses_a_bad_pattern() {
        let dir = tempfile::tempdir().unwrap();
        let file = SqliteFile::open(dir.path().join("t.db"), 2).unwrap();
        let c = file.connection().unwrap();
        let one = |sql: &str| c.query(sql, &none()).map(|r| r[0].int("m").unwrap());
        assert_eq!(one("SELECT 'abc' REGEXP '^a.c$' AS m").unwrap(), Some(1));
        assert_eq!(one("SELECT 'abd' REGEXP '^a.c$' AS m").unwrap(), Some(0));
        assert_eq!(one("SELECT NULL REGEXP 'a' AS m").unwrap(), None);
        assert_eq!(one("SELECT 5 REGEXP 'a' AS m").unwrap(), None);
        assert!(one("SELECT 'a' REGEXP '(' AS m").is_err());
    }
}
