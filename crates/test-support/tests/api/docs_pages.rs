//! The pages for people over HTTP: the explorer at `/docs` (Swagger UI from the binary, over
//! both OpenAPI documents) and the landing page at `/` (HTML for browsers, a JSON index for
//! API clients). `tests/browser.rs` drives the same pages in a real browser.

use palaver_test_support::{assert_platform_error, TestApp};

use crate::spawn;

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,\
                              image/avif,image/webp,image/apng,*/*;q=0.8";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The paths a page loads from `src`/`href` attributes.
fn references(html: &str) -> Vec<String> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attr| html.split(attr).skip(1))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn docs_redirects_to_the_explorer_page() {
    let app = spawn().await;
    let r = no_redirects().get(app.url("/docs")).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    assert_eq!(r.headers()["location"], "/docs/");
}

#[tokio::test]
async fn the_explorer_page_and_its_assets_come_from_the_server() {
    let app = spawn().await;
    let page = app
        .send("GET", "/docs/", &[("accept", BROWSER_ACCEPT)], None)
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(page.text.contains("swagger-ui"), "{}", page.text);
    let assets = references(&page.text);
    assert!(assets.len() >= 4, "{assets:?}");
    for asset in &assets {
        // Relative to the page: nothing is fetched from elsewhere.
        assert!(!asset.contains("//"), "{asset} is not the server's own");
        let path = format!("/docs/{}", asset.trim_start_matches("./"));
        let r = app.send("GET", &path, &[], None).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(!r.text.is_empty(), "{path}");
    }
}

#[tokio::test]
async fn the_explorer_offers_both_documents_and_no_outside_validator() {
    let app = spawn().await;
    let r = app
        .send("GET", "/docs/swagger-initializer.js", &[], None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let js = r.text.replace(char::is_whitespace, "");
    let platform = js
        .find(r#"{"name":"PlatformAPI","url":"/openapi.json"}"#)
        .unwrap_or_else(|| panic!("no platform document in {}", r.text));
    let content = js
        .find(r#"{"name":"ContentAPI","url":"/api/openapi.json"}"#)
        .unwrap_or_else(|| panic!("no content document in {}", r.text));
    assert!(platform < content, "the platform API comes first");
    assert!(
        js.contains(r#""urls.primaryName":"PlatformAPI""#),
        "{}",
        r.text
    );
    assert!(js.contains(r#""validatorUrl":"none""#), "{}", r.text);
    // Another page's document cannot be shown through the query string.
    assert!(!js.contains("queryConfigEnabled\":true"), "{}", r.text);
}

#[tokio::test]
async fn the_documents_the_explorer_names_are_served() {
    let app = spawn().await;
    for path in ["/openapi.json", "/api/openapi.json"] {
        let r = app.send("GET", path, &[], None).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert!(r.body["openapi"].is_string(), "{path}: {}", r.text);
        assert!(r.body["paths"].is_object(), "{path}: {}", r.text);
    }
}

#[tokio::test]
async fn an_unknown_explorer_file_is_404() {
    let app = spawn().await;
    let r = app.send("GET", "/docs/no-such-file.js", &[], None).await;
    assert_eq!(r.status, 404, "{}", r.text);
    // An escape from the embedded folder finds nothing either.
    let r = app.send("GET", "/docs/%2e%2e/Cargo.toml", &[], None).await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[tokio::test]
async fn a_browser_opening_the_root_gets_the_landing_page() {
    let app = spawn().await;
    let r = app
        .send("GET", "/", &[("accept", BROWSER_ACCEPT)], None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some("text/html; charset=utf-8"),
        "{}",
        r.text
    );
    assert_eq!(r.header("vary"), Some("accept"));
    assert!(r.text.contains("<h1>Palaver</h1>"), "{}", r.text);
    assert!(
        r.text
            .contains(&format!("version {}", env!("CARGO_PKG_VERSION"))),
        "{}",
        r.text
    );
    // No icon to fetch: the page names an empty one.
    assert!(
        r.text.contains(r#"<link rel="icon" href="data:,">"#),
        "{}",
        r.text
    );
    let links: Vec<&str> = r
        .text
        .split("<a href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert_eq!(
        links,
        [
            "/docs/",
            "/openapi.json",
            "/api/openapi.json",
            "/health",
            "/metrics"
        ]
    );
    for link in links {
        let r = app.send("GET", link, &[], None).await;
        assert_eq!(r.status, 200, "{link}: {}", r.text);
    }
}

#[tokio::test]
async fn an_api_client_at_the_root_gets_a_json_index() {
    let app = spawn().await;
    for accept in [Some("application/json"), Some("*/*"), None] {
        let headers: Vec<(&str, &str)> = accept.iter().map(|a| ("accept", *a)).collect();
        let r = app.send("GET", "/", &headers, None).await;
        assert_eq!(r.status, 200, "{accept:?}: {}", r.text);
        assert!(
            r.header("content-type")
                .unwrap()
                .starts_with("application/json"),
            "{accept:?}"
        );
        assert_eq!(r.body["name"], "Palaver");
        assert_eq!(r.body["version"], env!("CARGO_PKG_VERSION"));
        let links = &r.body["_links"];
        assert_eq!(links["self"]["href"], "/");
        assert_eq!(links["docs"]["href"], "/docs/");
        assert_eq!(links["platform_openapi"]["href"], "/openapi.json");
        assert_eq!(links["content_openapi"]["href"], "/api/openapi.json");
        assert_eq!(links["health"]["href"], "/health");
        assert_eq!(links["metrics"]["href"], "/metrics");
    }
}

#[tokio::test]
async fn other_methods_on_the_root_are_platform_errors() {
    let app = spawn().await;
    for method in ["POST", "PUT", "DELETE"] {
        let r = app.send(method, "/", &[], Some("{}")).await;
        assert_platform_error(&r, 405, "MethodNotAllowedError");
    }
    // The landing page takes no sub-paths: they are the platform API's unknown resources.
    let r = app.send("GET", "/index.html", &[], None).await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");
}

/// Swagger UI's Authorize dialog sends the client credentials in a Basic header with an
/// urlencoded `grant_type` body, or ("Request body") as form fields: both give a token. It marks
/// its requests `X-Requested-With: XMLHttpRequest`.
#[tokio::test]
async fn the_token_endpoint_takes_what_the_explorer_sends() {
    let app: TestApp = spawn().await;
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!(
                "{}:{}",
                palaver_test_support::CLIENT_ID,
                palaver_test_support::CLIENT_SECRET
            )
        )
    );
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let header = app
        .send(
            "POST",
            "/oauth/token",
            &[form[0], ("authorization", &basic)],
            Some("grant_type=client_credentials"),
        )
        .await;
    let fields = app
        .send(
            "POST",
            "/oauth/token",
            &form,
            Some(&format!(
                "grant_type=client_credentials&client_id={}&client_secret={}",
                palaver_test_support::CLIENT_ID,
                palaver_test_support::CLIENT_SECRET
            )),
        )
        .await;
    for r in [header, fields] {
        assert_eq!(r.status, 200, "{}", r.text);
        let token = r.body["access_token"].as_str().unwrap();
        let me = app.pget("/application", token).await;
        assert_eq!(me.status, 200, "{}", me.text);
    }
    let wrong = app
        .send(
            "POST",
            "/oauth/token",
            &[
                form[0],
                ("authorization", "Basic dGVzdC1jbGllbnQtaWQ6bm9wZQ=="),
            ],
            Some("grant_type=client_credentials"),
        )
        .await;
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    assert_eq!(wrong.body["error"], "invalid_client", "{}", wrong.text);
    assert_eq!(
        wrong.header("www-authenticate"),
        Some("Basic realm=\"palaver\"")
    );
    // From a script in a page, the same refusal comes without the challenge that would make the
    // browser show its own login prompt.
    let scripted = app
        .send(
            "POST",
            "/oauth/token",
            &[
                form[0],
                ("authorization", "Basic dGVzdC1jbGllbnQtaWQ6bm9wZQ=="),
                ("x-requested-with", "XMLHttpRequest"),
            ],
            Some("grant_type=client_credentials"),
        )
        .await;
    assert_eq!(scripted.status, 401, "{}", scripted.text);
    assert_eq!(
        scripted.body["error"], "invalid_client",
        "{}",
        scripted.text
    );
    assert_eq!(scripted.header("www-authenticate"), None);
}
