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
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
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
