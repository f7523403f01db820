//! Palaver's HTTP faces. Each face has one URL table, extractors that turn requests into typed
//! input, and one error renderer in its wire shape; handlers make one service call and render.

mod avatar;
pub mod content;
mod health;
pub mod platform;
mod qs;

use axum::Router;
use palaver_service::Services;

/// Every HTTP route Palaver serves.
pub fn router(services: Services) -> Router {
    Router::new()
        .merge(health::routes())
        .merge(avatar::routes())
        .nest("/api", content::routes())
        .merge(platform::routes())
        .fallback(platform::not_found)
        .with_state(services)
}
