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

/// Every HTTP route Palaver serves, inside [`outermost`] without request observation;
/// arguments as [`faces`] reads them.
pub fn router_with(
    services: Services,
    content_cors_origins: Option<&[String]>,
    limits: &Limits,
    docs: &DocsConfig,
) -> Router {
    outermost(faces(services, content_cors_origins, limits, docs), false)
}

/// Every HTTP route Palaver serves, without the layer around them all: for [`outermost`] to
/// wrap once, with whatever is merged beside them. `content_cors_origins` as [`content::cors`]
/// reads it, both faces behind `limits` (shared with the [`InProcess`] of chat functions), the
/// pages for people as `docs` says.
pub fn faces(
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
            // Inside CORS: a browser may read a 429 too. One layer of both: see `outermost`.
            content::rate_limit::limited(content::routes(), &services, limits).layer((
                CatchPanicLayer::custom(panic::content_answer),
                content::cors(content_cors_origins),
            )),
        )
        .merge(platform::rate_limit::limited(
            platform::routes(),
            &services,
            limits,
        ))
        .fallback(platform::not_found)
        .with_state(services)
}

/// The real-time clients' upload streams (the gateway's `_streams`), whose answers `views`
/// writes. No fallback: they are merged beside [`faces`], which answers what matches nothing.
pub fn stream_routes(services: Services, views: StreamViews) -> Router {
    platform::streams::routes(views).with_state(services)
}

/// `router` with a panic in any route answered 500 (logged once) and, when `observed`, every
/// request in its span with its request id and series ([`observe::RequestLayer`]).
///
/// One `Router::layer` for both: axum wraps each layer around every route in a boxed service
/// that is cloned, with everything beneath it, on each request, so a second layer would clone
/// the whole stack of every request once more.
pub fn outermost(router: Router, observed: bool) -> Router {
    let panics = CatchPanicLayer::custom(panic::platform_answer);
    if observed {
        router.layer((observe::RequestLayer, panics))
    } else {
        router.layer(panics)
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    async fn boom() -> &'static str {
        panic!("boom")
    }

    /// What a route that panics answers, through `outermost`.
    async fn panicked(observed: bool) -> axum::response::Response {
        let app = outermost(Router::new().route("/boom", get(boom)), observed);
        let req = Request::get("/boom")
            .header("x-request-id", "given-1")
            .body(Body::empty())
            .unwrap();
        app.oneshot(req).await.unwrap()
    }

    async fn body_of(res: axum::response::Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn a_panic_answers_500_in_the_platform_shape_with_its_request_id_when_observed() {
        let res = panicked(true).await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(res.headers()["x-request-id"], "given-1");
        let body = body_of(res).await;
        assert_eq!(body["error"], "InternalServerError", "{body}");
        assert_eq!(body["message"], "Server error", "{body}");
    }

    #[tokio::test]
    async fn unobserved_a_panic_still_answers_500_without_a_request_id() {
        let res = panicked(false).await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(res.headers().get("x-request-id").is_none());
        assert_eq!(body_of(res).await["error"], "InternalServerError");
    }
}
