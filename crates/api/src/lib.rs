//! Palaver's HTTP faces. Each face has one URL table, extractors that turn requests into typed
//! input, and one error renderer in its wire shape; handlers make one service call and render.

mod avatar;
pub mod content;
mod health;
mod panic;
pub mod platform;
mod qs;

use axum::Router;
use palaver_service::Services;
use tower_http::catch_panic::CatchPanicLayer;

pub use platform::StreamViews;

/// Every HTTP route Palaver serves.
pub fn router(services: Services) -> Router {
    Router::new()
        .merge(health::routes())
        .merge(avatar::routes())
        .nest(
            "/api",
            content::routes().layer(CatchPanicLayer::custom(
                |p: Box<dyn std::any::Any + Send>| {
                    panic::log(p.as_ref());
                    panic::internal_error(true)
                },
            )),
        )
        .merge(platform::routes())
        .fallback(platform::not_found)
        .layer(CatchPanicLayer::custom(
            |p: Box<dyn std::any::Any + Send>| {
                panic::log(p.as_ref());
                panic::internal_error(false)
            },
        ))
        .with_state(services)
}

/// The real-time clients' upload streams (the gateway's `_streams`), whose answers `views`
/// writes. No fallback: it is merged beside [`router`], which answers what matches nothing.
pub fn stream_router(services: Services, views: StreamViews) -> Router {
    platform::streams::routes(views)
        .layer(CatchPanicLayer::custom(
            |p: Box<dyn std::any::Any + Send>| {
                panic::log(p.as_ref());
                panic::internal_error(false)
            },
        ))
        .with_state(services)
}
