//! `GET /`: where a person who opens the server's address lands. Browsers get a small HTML page
//! naming the server and linking to the explorer, the OpenAPI documents, health and metrics;
//! every other client (an `Accept` without `text/html`) gets the same links as a JSON index.

use axum::http::{header, HeaderMap, HeaderValue, Method, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use palaver_domain::{DomainError, ErrorCode};
use serde_json::{json, Map, Value};

use super::{CONTENT_DOCUMENT, EXPLORER_PAGE, PLATFORM_DOCUMENT};
use crate::platform::ApiError;

const NAME: &str = "Palaver";
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// One destination: its relation in the JSON index, where it is, and what a person finds there.
struct Link {
    rel: &'static str,
    href: &'static str,
    title: &'static str,
    about: &'static str,
}

/// Both renderings come from this one table, so the page and the index never disagree.
const LINKS: &[Link] = &[
    Link {
        rel: "docs",
        href: EXPLORER_PAGE,
        title: "API explorer",
        about: "Browse the platform and content APIs and try their operations against this server.",
    },
    Link {
        rel: "platform_openapi",
        href: PLATFORM_DOCUMENT,
        title: "Platform API document",
        about: "OpenAPI description of the ChatKitty-compatible platform API (OAuth 2.0 client credentials).",
    },
    Link {
        rel: "content_openapi",
        href: CONTENT_DOCUMENT,
        title: "Content API document",
        about: "OpenAPI description of the content API under /api (KTL-Access-Token).",
    },
    Link {
        rel: "health",
        href: "/health",
        title: "Health",
        about: "200 while the database answers, 503 when it does not.",
    },
    Link {
        rel: "metrics",
        href: "/metrics",
        title: "Metrics",
        about: "The server's metrics, for a Prometheus scraper.",
    },
];

pub(super) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(landing))
        .method_not_allowed_fallback(method_not_allowed)
}

async fn landing(headers: HeaderMap) -> Response {
    let mut res = if wants_html(&headers) {
        Html(page()).into_response()
    } else {
        Json(index()).into_response()
    };
    // The answer depends on Accept: caches must keep the two apart.
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    res
}

/// `/` is the platform API's root: other methods answer in its error shape.
async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError(DomainError::new(
        ErrorCode::MethodNotAllowed,
        format!("{method} is not supported on {}", uri.path()),
    ))
}

/// Whether `Accept` lists `text/html` (with a non-zero weight), as every browser's navigation
/// does and API clients asking for JSON do not.
fn wants_html(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    accept.split(',').any(|range| {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim();
        let refused = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        media.eq_ignore_ascii_case("text/html") && !refused
    })
}

fn index() -> Value {
    let mut links = Map::new();
    links.insert("self".into(), json!({ "href": "/" }));
    for l in LINKS {
        links.insert(l.rel.into(), json!({ "href": l.href, "title": l.title }));
    }
    json!({ "name": NAME, "version": VERSION, "_links": links })
}

fn page() -> String {
    let items: String = LINKS
        .iter()
        .map(|l| {
            format!(
                "<li><a href=\"{}\">{}</a> <code>{}</code><br>{}</li>\n",
                l.href, l.title, l.href, l.about
            )
        })
        .collect();
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{NAME} {VERSION}</title>
<link rel="icon" href="data:,">
<style>
body {{ font-family: system-ui, sans-serif; max-width: 42rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5; color: #222; }}
h1 {{ margin-bottom: 0; }}
.version {{ color: #666; margin-top: 0; }}
ul {{ padding-left: 1.2rem; }}
li {{ margin: 0.8rem 0; }}
code {{ color: #666; }}
</style>
</head>
<body>
<h1>{NAME}</h1>
<p class="version">version {VERSION}</p>
<p>A self-hosted chat and bot platform server.</p>
<ul>
{items}</ul>
</body>
</html>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn browsers_get_the_page_and_api_clients_the_index() {
        let chromium = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
                        image/webp,image/apng,*/*;q=0.8";
        assert!(wants_html(&accept(chromium)));
        assert!(wants_html(&accept("TEXT/HTML")));
        assert!(!wants_html(&accept("application/json")));
        assert!(!wants_html(&accept("*/*")));
        assert!(!wants_html(&accept("text/html;q=0, application/json")));
        assert!(!wants_html(&HeaderMap::new()));
    }

    #[test]
    fn the_page_links_every_destination() {
        let page = page();
        for l in LINKS {
            assert!(page.contains(&format!("href=\"{}\"", l.href)), "{}", l.href);
        }
        assert!(page.contains(VERSION));
    }
}
