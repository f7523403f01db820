//! Palaver's HTTP faces. Each face has one URL table, extractors that turn requests into typed
//! input, and one error renderer in its wire shape; handlers make one service call and render.

mod avatar;
pub mod content;
mod docs;
mod health;
mod json_body;
mod limits;
pub mod observe;
pub mod openapi;
mod overload;
mod panic;
pub mod platform;
mod qs;
pub mod route_table;

use axum::Router;
use palaver_service::Services;
use tower_http::catch_panic::CatchPanicLayer;

pub use docs::DocsConfig;
pub use limits::{BodyLimitConfig, Limits, RateClock, RateLimit, RateLimitConfig};
pub use overload::overloaded;
pub use platform::{InProcess, InProcessAnswer, StreamViews};

/// Every HTTP route Palaver serves, with the content API's CORS and the limits at their defaults.
pub fn router(services: Services) -> Router {
    router_with(services, None, &Limits::default(), &DocsConfig::default())
}

/// Every HTTP route Palaver serves; `content_cors_origins` as [`content::cors`] reads it, both
/// faces behind `limits` (shared with the [`InProcess`] of chat functions), the pages for
/// people as `docs` says.
pub fn router_with(
    services: Services,
    content_cors_origins: Option<&[String]>,
    limits: &Limits,
    docs: &DocsConfig,
) -> Router {
    Router::new()
        .merge(health::routes())
        .merge(avatar::routes())
        // The faces' OpenAPI documents, outside their rate limits like the pages that read them.
        .merge(openapi::routes())
        // The pages for people.
        .merge(docs::routes(docs))
        .nest(
            "/api",
            // Inside CORS: a browser may read a 429 too.
            content::rate_limit::limited(content::routes(), &services, limits)
                .layer(content::cors(content_cors_origins))
                .layer(CatchPanicLayer::custom(
                    |p: Box<dyn std::any::Any + Send>| {
                        panic::log(p.as_ref());
                        panic::internal_error(true)
                    },
                )),
        )
        .merge(platform::rate_limit::limited(
            platform::routes(),
            &services,
            limits,
        ))
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
