//! The store's contract: what every engine must do the same way. Each test runs on SQLite, and on
//! PostgreSQL too when `PALAVER_TEST_DATABASE_URL` is set (see `support`).

// The shared fixtures live outside `#[test]` functions; here a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod basics;
mod bulk_writes;
mod channel_states;
mod channels;
mod content_counts;
mod cross_engine;
mod files;
mod filters;
mod functions;
mod history_pages;
mod jobs;
mod messages;
mod outbox;
mod reactions;
mod read_cache;
mod scoping;
mod secrets;
mod sorting;
mod stats;
mod totals;
mod writes;
