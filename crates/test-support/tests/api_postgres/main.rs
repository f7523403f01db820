//! The platform API, real-time gateway and (some) content API tests again, each on a schema of its own in
//! PostgreSQL: the same files as in `tests/api`, with a server that stores in PostgreSQL
//! (`PALAVER_TEST_DATABASE_URL`, or the local server at 127.0.0.1:5432 and its database `test`).

// Helpers outside #[test] functions unwrap too: a broken fixture should fail the test there.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "../api/content_channel_runs.rs"]
mod content_channel_runs;
#[path = "../api/content_counts.rs"]
mod content_counts;
#[path = "../api/content_delivery.rs"]
mod content_delivery;
#[path = "../api/content_filter_semantics.rs"]
mod content_filter_semantics;
#[path = "../api/content_scheduling.rs"]
mod content_scheduling;
#[path = "../api/content_stock_routes.rs"]
mod content_stock_routes;
#[path = "../api/gateway.rs"]
mod gateway;
#[path = "../api/gateway_channels.rs"]
mod gateway_channels;
#[path = "../api/gateway_hub_lanes.rs"]
mod gateway_hub_lanes;
#[path = "../api/gateway_reactions.rs"]
mod gateway_reactions;
#[path = "../api/gateway_sessions.rs"]
mod gateway_sessions;
#[path = "../api/gateway_streams.rs"]
mod gateway_streams;
#[path = "../api/observability.rs"]
mod observability;
#[path = "../api/platform_application.rs"]
mod platform_application;
#[path = "../api/platform_channel_members.rs"]
mod platform_channel_members;
#[path = "../api/platform_channels.rs"]
mod platform_channels;
#[path = "../api/platform_conventions.rs"]
mod platform_conventions;
#[path = "../api/platform_events.rs"]
mod platform_events;
#[path = "../api/platform_exports.rs"]
mod platform_exports;
#[path = "../api/platform_files.rs"]
mod platform_files;
#[path = "../api/platform_function_runs.rs"]
mod platform_function_runs;
#[path = "../api/platform_functions.rs"]
mod platform_functions;
#[path = "../api/platform_history.rs"]
mod platform_history;
#[path = "../api/platform_imports.rs"]
mod platform_imports;
#[path = "../api/platform_message_reads.rs"]
mod platform_message_reads;
#[path = "../api/platform_messages.rs"]
mod platform_messages;
#[path = "../api/platform_oauth.rs"]
mod platform_oauth;
#[path = "../api/platform_paging.rs"]
mod platform_paging;
#[path = "../api/platform_reactions.rs"]
mod platform_reactions;
#[path = "../api/platform_totals.rs"]
mod platform_totals;
#[path = "../api/platform_users.rs"]
mod platform_users;
#[path = "../api/secrets_at_rest.rs"]
mod secrets_at_rest;

use palaver_test_support::TestApp;

/// The platform tests' server, on PostgreSQL.
pub async fn spawn() -> TestApp {
    TestApp::spawn_postgres_with(|_| {}).await
}

/// As [`spawn`], after `adjust` has changed the configuration.
pub async fn spawn_with(adjust: impl FnOnce(&mut palaver::Config)) -> TestApp {
    TestApp::spawn_postgres_with(adjust).await
}
