//! `GET /docs`: Swagger UI over both faces' OpenAPI documents, with a selector between them and
//! "Try it out" against this server (its token endpoint and its `KTL-Access-Token` alike).

use axum::Router;
use utoipa_swagger_ui::{Config, SwaggerUi, Url};

use super::{CONTENT_DOCUMENT, EXPLORER_PATH, PLATFORM_DOCUMENT};

/// The explorer's page and assets. The documents themselves are served by their faces; the
/// explorer only names their URLs, so it shows whatever the server describes right now.
pub(super) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let config = Config::new([
        Url::with_primary("Platform API", PLATFORM_DOCUMENT, true),
        Url::new("Content API", CONTENT_DOCUMENT),
    ])
    // Swagger UI would otherwise send the document to an outside validator for its badge.
    .validator_url("none")
    // Many operations: the tag filter is how people find one.
    .filter(true)
    .display_request_duration(true);
    Router::from(SwaggerUi::new(EXPLORER_PATH).config(config))
}
