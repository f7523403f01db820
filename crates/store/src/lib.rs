//! Palaver's persistence. One code path serves SQLite and PostgreSQL: statements are built with
//! sea-query for the connected dialect and run with bound values, through sqlx on PostgreSQL
//! and through rusqlite on the calling thread on SQLite (see `sqlite`).
//! Every read and write is scoped by organisation; nothing here can return another tenant's rows.
//! Tables and columns are named with `Ident` (not sea-query's `Alias`, which allocates and
//! formats each name), and a statement's text is collected by `statement_text`.

mod cache;
mod channel_feeds;
mod content_counts;
mod db;
mod deliveries;
mod documents;
mod error;
mod filter_sql;
mod ident;
mod jobs;
mod migrate;
mod pg_statement;
mod plain_secrets;
pub mod platform;
mod row;
mod settings;
mod sqlite;
mod statement_text;
mod stats;
pub mod timing;
mod tokens;

pub use cache::ReadCache;
pub use channel_feeds::{ChannelItems, ChannelSchedules, TakenItem};
pub use db::{Db, Dialect, SqliteDb, Tx};
pub use deliveries::{DocumentsIn, FlakePosts, SUBSCRIPTION_PROPERTY};
pub use documents::{DocumentWrite, Documents, Scope};
pub use error::StoreError;
pub(crate) use ident::Ident;
pub use jobs::{JobErrorRow, JobRow, Jobs, NewJob};
pub use plain_secrets::{PlainSecret, PlainSecrets, SecretColumn, SecretRow};
pub use settings::ServerSettings;
pub use stats::{JobCount, Stats};
pub use tokens::{AccessTokenRow, TokenOwner, Tokens};
