//! The API test binary: every test spawns its own Palaver through `TestApp` and talks HTTP to it.

// Helpers outside #[test] functions unwrap too: a broken fixture should fail the test there.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod body_limits;
mod content_auth;
mod content_bots;
mod content_channel_runs;
mod content_children;
mod content_counts;
mod content_delivery;
mod content_errors;
mod content_filter_semantics;
mod content_filters;
mod content_orgs;
mod content_read_cache;
mod content_scheduling;
mod content_stock_routes;
mod content_tenancy;
mod content_users;
mod docs_pages;
mod gateway;
mod gateway_catch_up;
mod gateway_channels;
mod gateway_hub_lanes;
mod gateway_reactions;
mod gateway_sessions;
mod gateway_streams;
mod observability;
mod openapi_conformance;
mod platform_application;
mod platform_channel_members;
mod platform_channels;
mod platform_conventions;
mod platform_events;
mod platform_exports;
mod platform_files;
mod platform_form_bodies;
mod platform_function_runs;
mod platform_functions;
mod platform_history;
mod platform_imports;
mod platform_message_reads;
mod platform_messages;
mod platform_oauth;
mod platform_paging;
mod platform_reactions;
mod platform_totals;
mod platform_users;
mod rate_limits;
mod secrets_at_rest;

use palaver_test_support::TestApp;

/// The platform tests' server, on SQLite here; `api_postgres` runs the same tests on PostgreSQL.
pub async fn spawn() -> TestApp {
    TestApp::spawn().await
}

/// As [`spawn`], after `adjust` has changed the configuration.
pub async fn spawn_with(adjust: impl FnOnce(&mut palaver::Config)) -> TestApp {
    TestApp::spawn_with(adjust).await
}
