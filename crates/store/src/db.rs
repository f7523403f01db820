//! The connection pool for either engine, and the few primitives every repository uses:
//! build a sea-query statement for the connected dialect, bind its values, run it.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sea_query::{QueryStatementBuilder, SqliteQueryBuilder};
use sqlx::postgres::{PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{PgPool, Postgres, SqlitePool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::StoreError;
use crate::row::DbRow;
use crate::sqlite::{Pooled, SqliteFile};
use crate::timing::{timed, timed_now};
use crate::{pg_statement, statement_text};

/// Which SQL dialect a statement is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A pool on the configured database.
///
/// SQLite's statements run through [`SqliteFile`] (rusqlite, on the calling thread); its sqlx
/// pool (one connection, opened when first used) only runs the migrations, with sqlx's
/// migrator, and serves tests that look at the file with plain SQL.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool, SqliteDb),
    Postgres(PgPool),
}

/// A SQLite file's connections and this process's turn to write to it.
#[derive(Debug, Clone)]
pub struct SqliteDb {
    file: SqliteFile,
    lock: WriteLock,
}

/// SQLite lets one connection write at a time. Left to SQLite, the others wait in its busy
/// handler, which sleeps for up to 100 ms between tries, so a busy server spends most of its
/// time asleep; and a deferred transaction that read first can fail outright when it tries to
/// write. This process's writers queue here instead, first come first served, and each write
/// transaction begins `IMMEDIATE` (the busy handler is left for other processes on the file).
#[derive(Debug, Clone, Default)]
pub struct WriteLock(Arc<Mutex<()>>);

impl WriteLock {
    async fn acquire(&self) -> OwnedMutexGuard<()> {
        let asked = crate::timing::on().then(std::time::Instant::now);
        let turn = self.0.clone().lock_owned().await;
        if let Some(asked) = asked {
            crate::timing::waited_for_writer(asked);
        }
        turn
    }
}

impl Db {
    /// Connects to `url`: `postgres://…` / `postgresql://…` for PostgreSQL, anything else
    /// (`sqlite://path`) for a SQLite file. SQLite files and their folder are created, run in
    /// WAL mode with foreign keys on and a busy timeout. `max_connections` bounds PostgreSQL's
    /// pool, and how many idle SQLite connections are kept.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            return Ok(Db::Postgres(pool));
        }
        // The migrations' (and tests') sqlx connection; statements run on `SqliteFile`'s
        // connections, which set the rest of this file's settings (see `crate::sqlite`).
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("case_sensitive_like", "ON");
        if let Some(dir) = options.get_filename().parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(e.into()))?;
            }
        }
        let file = SqliteFile::open(
            options.get_filename().to_path_buf(),
            max_connections as usize,
        )?;
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .idle_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10))
            .connect_lazy_with(options);
        Ok(Db::Sqlite(
            pool,
            SqliteDb {
                file,
                lock: WriteLock::default(),
            },
        ))
    }

    /// Connects to PostgreSQL with every connection's `search_path` set to `schema`
    /// (which is created if missing). Tests use it to get an empty database of their own.
    pub async fn connect_postgres_schema(url: &str, schema: &str) -> Result<Db, StoreError> {
        let admin = PgPoolOptions::new().max_connections(1).connect(url).await?;
        let quoted = schema.replace('"', "\"\"");
        sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{quoted}\""))
            .execute(&admin)
            .await?;
        admin.close().await;
        let options =
            sqlx::postgres::PgConnectOptions::from_str(url)?.options([("search_path", schema)]);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Db::Postgres(pool))
    }

    /// Drops a schema made by [`Db::connect_postgres_schema`], with everything in it. For tests,
    /// to clean up after themselves; on SQLite there is nothing to drop and this does nothing.
    pub async fn drop_schema(&self, schema: &str) -> Result<(), StoreError> {
        if let Db::Postgres(p) = self {
            let quoted = schema.replace('"', "\"\"");
            sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{quoted}\" CASCADE"))
                .execute(p)
                .await?;
        }
        Ok(())
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(..) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs the embedded migrations for this engine.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        crate::migrate::run(self).await
    }

    /// Refreshes the query planner's statistics, as PostgreSQL's autovacuum does by itself a
    /// while after bulk changes; until then a table that grew fast can be read by a poor plan.
    /// On SQLite, whose plans here do not depend on statistics, it does nothing.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        if let Db::Postgres(p) = self {
            sqlx::query("ANALYZE").execute(p).await?;
        }
        Ok(())
    }

    /// Refreshes the planner's statistics of `tables` alone (PostgreSQL; nothing on SQLite):
    /// for bulk work that grows them fast, whose lookups would otherwise be planned for the
    /// tables as they were (a scan of every row where an index lookup belongs).
    pub async fn analyze_tables(&self, tables: &[&str]) -> Result<(), StoreError> {
        if let (Db::Postgres(p), false) = (self, tables.is_empty()) {
            let list: Vec<String> = tables
                .iter()
                .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
                .collect();
            sqlx::query(&format!("ANALYZE {}", list.join(", ")))
                .execute(p)
                .await?;
        }
        Ok(())
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        match self {
            Db::Sqlite(_, s) => s
                .file
                .connection()
                .and_then(|c| c.query("SELECT 1", &sea_query::Values(Vec::new())))
                .is_ok(),
            Db::Postgres(p) => sqlx::query("SELECT 1").execute(p).await.is_ok(),
        }
    }

    /// The pool's connections: how many are open, and how many of those are idle.
    pub fn pool_usage(&self) -> (u32, usize) {
        match self {
            Db::Sqlite(_, s) => s.file.usage(),
            Db::Postgres(p) => (p.size(), p.num_idle()),
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p, s) => {
                s.file.close();
                p.close().await
            }
            Db::Postgres(p) => p.close().await,
        }
    }

    /// Starts a transaction. On SQLite it holds this process's write lock until it ends, so
    /// a transaction never waits inside SQLite for another of ours.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite(_, s) => {
                let guard = s.lock.acquire().await;
                let conn = s.file.connection()?;
                timed_now("BEGIN IMMEDIATE", || conn.batch("BEGIN IMMEDIATE"))?;
                Tx::Sqlite(conn, guard)
            }
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    pub(crate) async fn fetch_all<S: QueryStatementBuilder>(
        &self,
        stmt: &S,
    ) -> Result<Vec<DbRow>, StoreError> {
        Ok(match self {
            Db::Sqlite(_, s) => {
                let (sql, values) = statement_text::build(stmt, &SqliteQueryBuilder);
                let conn = s.file.connection()?;
                timed_now(&sql, || conn.query(&sql, &values))?
                    .into_iter()
                    .map(DbRow::Sqlite)
                    .collect()
            }
            Db::Postgres(p) => {
                let (sql, values) = pg_statement::build(stmt);
                let rows: Vec<PgRow> =
                    timed(&sql, sqlx::query_with(&sql, values).fetch_all(p)).await?;
                rows.into_iter().map(DbRow::Postgres).collect()
            }
        })
    }

    /// Runs a write that answers rows (`… RETURNING`) on its own; on SQLite in turn with the
    /// transactions of this process.
    pub(crate) async fn write_returning<S: QueryStatementBuilder>(
        &self,
        stmt: &S,
    ) -> Result<Vec<DbRow>, StoreError> {
        let _turn = match self {
            Db::Sqlite(_, s) => Some(s.lock.acquire().await),
            Db::Postgres(_) => None,
        };
        self.fetch_all(stmt).await
    }

    /// Runs a write on its own (it commits by itself); on SQLite in turn with the
    /// transactions of this process.
    pub(crate) async fn execute<S: QueryStatementBuilder>(
        &self,
        stmt: &S,
    ) -> Result<u64, StoreError> {
        Ok(match self {
            Db::Sqlite(_, s) => {
                let _turn = s.lock.acquire().await;
                let (sql, values) = statement_text::build(stmt, &SqliteQueryBuilder);
                let conn = s.file.connection()?;
                timed_now(&sql, || conn.execute(&sql, &values))?
            }
            Db::Postgres(p) => {
                let (sql, values) = pg_statement::build(stmt);
                timed(&sql, sqlx::query_with(&sql, values).execute(p))
                    .await?
                    .rows_affected()
            }
        })
    }
}

/// An open transaction on either engine; dropped without [`Tx::commit`] it rolls back (a
/// SQLite connection is rolled back as it goes back to its idle list). A SQLite one holds the
/// write lock until then.
pub enum Tx {
    Sqlite(Pooled, OwnedMutexGuard<()>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub(crate) async fn fetch_all<S: QueryStatementBuilder>(
        &mut self,
        stmt: &S,
    ) -> Result<Vec<DbRow>, StoreError> {
        Ok(match self {
            Tx::Sqlite(conn, _) => {
                let (sql, values) = statement_text::build(stmt, &SqliteQueryBuilder);
                timed_now(&sql, || conn.query(&sql, &values))?
                    .into_iter()
                    .map(DbRow::Sqlite)
                    .collect()
            }
            Tx::Postgres(t) => {
                let (sql, values) = pg_statement::build(stmt);
                let rows: Vec<PgRow> =
                    timed(&sql, sqlx::query_with(&sql, values).fetch_all(&mut **t)).await?;
                rows.into_iter().map(DbRow::Postgres).collect()
            }
        })
    }

    pub(crate) async fn execute<S: QueryStatementBuilder>(
        &mut self,
        stmt: &S,
    ) -> Result<u64, StoreError> {
        Ok(match self {
            Tx::Sqlite(conn, _) => {
                let (sql, values) = statement_text::build(stmt, &SqliteQueryBuilder);
                timed_now(&sql, || conn.execute(&sql, &values))?
            }
            Tx::Postgres(t) => {
                let (sql, values) = pg_statement::build(stmt);
                timed(&sql, sqlx::query_with(&sql, values).execute(&mut **t))
                    .await?
                    .rows_affected()
            }
        })
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(conn, _turn) => timed_now("COMMIT", || conn.batch("COMMIT"))?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}
