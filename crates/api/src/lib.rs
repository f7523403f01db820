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

pub use platform::{InProcess, InProcessAnswer, StreamViews};

/// Every HTTP route Palaver serves, with the content API's CORS at its default.
pub fn router(services: Services) -> Router {
    router_with(services, None)
}

/// Every HTTP route Palaver serves; `content_cors_origins` as [`content::cors`] reads it.
pub fn router_with(services: Services, content_cors_origins: Option<&[String]>) -> Router {
    Router::new()
        .merge(health::routes())
        .merge(avatar::routes())
        .nest(
            "/api",
            content::routes()
                .layer(content::cors(content_cors_origins))
                .layer(CatchPanicLayer::custom(
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
