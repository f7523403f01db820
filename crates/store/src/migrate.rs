//! Embedded migrations, one folder per engine with the same file names, applied with sqlx's migrator.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::db::Db;
use crate::error::StoreError;

/// (version, description, SQLite script, PostgreSQL script)
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "content api",
        include_str!("../migrations/sqlite/0001_content_api.sql"),
        include_str!("../migrations/postgres/0001_content_api.sql"),
    ),
    (
        2,
        "platform api",
        include_str!("../migrations/sqlite/0002_platform_api.sql"),
        include_str!("../migrations/postgres/0002_platform_api.sql"),
    ),
    (
        3,
        "channels",
        include_str!("../migrations/sqlite/0003_channels.sql"),
        include_str!("../migrations/postgres/0003_channels.sql"),
    ),
    (
        4,
        "messages",
        include_str!("../migrations/sqlite/0004_messages.sql"),
        include_str!("../migrations/postgres/0004_messages.sql"),
    ),
    (
        5,
        "message app seq",
        include_str!("../migrations/sqlite/0005_message_app_seq.sql"),
        include_str!("../migrations/postgres/0005_message_app_seq.sql"),
    ),
    (
        6,
        "event app seq",
        include_str!("../migrations/sqlite/0006_event_app_seq.sql"),
        include_str!("../migrations/postgres/0006_event_app_seq.sql"),
    ),
    (
        7,
        "message thread index",
        include_str!("../migrations/sqlite/0007_message_thread_index.sql"),
        include_str!("../migrations/postgres/0007_message_thread_index.sql"),
    ),
    (
        8,
        "sessions",
        include_str!("../migrations/sqlite/0008_sessions.sql"),
        include_str!("../migrations/postgres/0008_sessions.sql"),
    ),
    (
        9,
        "reactions",
        include_str!("../migrations/sqlite/0009_reactions.sql"),
        include_str!("../migrations/postgres/0009_reactions.sql"),
    ),
    (
        10,
        "channel user state",
        include_str!("../migrations/sqlite/0010_channel_user_state.sql"),
        include_str!("../migrations/postgres/0010_channel_user_state.sql"),
    ),
    (
        11,
        "jobs",
        include_str!("../migrations/sqlite/0011_jobs.sql"),
        include_str!("../migrations/postgres/0011_jobs.sql"),
    ),
    (
        12,
        "files",
        include_str!("../migrations/sqlite/0012_files.sql"),
        include_str!("../migrations/postgres/0012_files.sql"),
    ),
    (
        13,
        "functions",
        include_str!("../migrations/sqlite/0013_functions.sql"),
        include_str!("../migrations/postgres/0013_functions.sql"),
    ),
    (
        14,
        "flake delivery",
        include_str!("../migrations/sqlite/0014_flake_delivery.sql"),
        include_str!("../migrations/postgres/0014_flake_delivery.sql"),
    ),
    (
        15,
        "channel runs",
        include_str!("../migrations/sqlite/0015_channel_runs.sql"),
        include_str!("../migrations/postgres/0015_channel_runs.sql"),
    ),
    (
        16,
        "server settings",
        include_str!("../migrations/sqlite/0016_server_settings.sql"),
        include_str!("../migrations/postgres/0016_server_settings.sql"),
    ),
    (
        17,
        "message counts",
        include_str!("../migrations/sqlite/0017_message_counts.sql"),
        include_str!("../migrations/postgres/0017_message_counts.sql"),
    ),
    (
        18,
        "counted by writer",
        include_str!("../migrations/sqlite/0018_counted_by_writer.sql"),
        include_str!("../migrations/postgres/0018_counted_by_writer.sql"),
    ),
    (
        19,
        "content counts",
        include_str!("../migrations/sqlite/0019_content_counts.sql"),
        include_str!("../migrations/postgres/0019_content_counts.sql"),
    ),
];

fn migrator(postgres: bool) -> Migrator {
    let migrations = MIGRATIONS
        .iter()
        .map(|(version, description, sqlite, pg)| {
            Migration::new(
                *version,
                Cow::Borrowed(*description),
                MigrationType::Simple,
                Cow::Borrowed(if postgres { *pg } else { *sqlite }),
                false,
            )
        })
        .collect::<Vec<_>>();
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}

pub(crate) async fn run(db: &Db) -> Result<(), StoreError> {
    match db {
        Db::Sqlite(p, _) => migrator(false).run(p).await?,
        Db::Postgres(p) => migrator(true).run(p).await?,
    }
    Ok(())
}
