//! Store errors: a database failure, or a uniqueness rule broken by a write.

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique index refused the write (a concurrent insert of the same slug or email).
    #[error("unique constraint violated: {0}")]
    Conflict(String),
    /// A stored value could not be read back (corrupt JSON, wrong column type).
    #[error("stored value of {0} could not be decoded")]
    Decode(String),
    #[error(transparent)]
    Database(sqlx::Error),
    /// The database was closed (`Db::close`): the process is stopping.
    #[error("the database connections are closed")]
    Closed,
    /// A SQLite statement failed (SQLite runs through rusqlite; see `crate::sqlite`).
    #[error(transparent)]
    Sqlite(rusqlite::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, message)
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                StoreError::Conflict(message.clone().unwrap_or_else(|| f.to_string()))
            }
            _ => StoreError::Sqlite(e),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.constraint().unwrap_or(db.message()).to_string())
            }
            _ => StoreError::Database(e),
        }
    }
}
