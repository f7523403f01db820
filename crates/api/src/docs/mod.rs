//! The pages for people rather than programs: the API explorer at `/docs` and the landing page
//! at `/`, both served from the binary with nothing fetched from elsewhere.

mod explorer;
mod landing;

use axum::Router;

/// Where the explorer is served; `/docs` redirects to its page.
const EXPLORER_PATH: &str = "/docs";
/// The explorer's page: a folder, since Swagger UI loads its assets relative to it.
const EXPLORER_PAGE: &str = "/docs/";
/// The platform API's OpenAPI document.
const PLATFORM_DOCUMENT: &str = "/openapi.json";
/// The content API's OpenAPI document.
const CONTENT_DOCUMENT: &str = "/api/openapi.json";

/// Whether the server shows people its explorer and landing page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocsConfig {
    /// Serve the API explorer at `/docs` and the landing page at `/`. Off, `/` and `/docs`
    /// answer as any unknown path does; the OpenAPI documents are served either way.
    pub enabled: bool,
}

impl Default for DocsConfig {
    fn default() -> Self {
        DocsConfig { enabled: true }
    }
}

/// The explorer's and the landing page's routes; none when `config` turns them off. They use
/// no state: any router's will do.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(config: &DocsConfig) -> Router<S> {
    if !config.enabled {
        return Router::new();
    }
    explorer::routes().merge(landing::routes())
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    use super::*;

    async fn status(config: &DocsConfig, path: &str) -> StatusCode {
        let req = Request::get(path).body(Body::empty()).unwrap();
        routes::<()>(config).oneshot(req).await.unwrap().status()
    }

    #[tokio::test]
    async fn turned_off_there_is_neither_explorer_nor_landing_page() {
        let on = DocsConfig::default();
        assert!(on.enabled);
        assert_eq!(status(&on, "/").await, StatusCode::OK);
        assert_eq!(status(&on, "/docs/").await, StatusCode::OK);
        let off = DocsConfig { enabled: false };
        for path in ["/", "/docs", "/docs/", "/docs/swagger-initializer.js"] {
            assert_eq!(status(&off, path).await, StatusCode::NOT_FOUND, "{path}");
        }
    }
}
