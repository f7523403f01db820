//! Browser suite: the server's pages for people, driven in a real headless Chromium by the
//! Node scripts in `browser/` (`playwright-core`, installed on first use with `npm ci` into
//! `browser/node_modules` and reused while its pins are unchanged). Node and Chromium must be
//! installed (`PALAVER_BROWSER_CHROMIUM` names Chromium when it is not `/usr/bin/chromium`):
//! without them these tests fail rather than skip.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;

use palaver_test_support::scripts::{
    in_dir, npm_packages, run_and_check, target_dir, workspace_root,
};
use palaver_test_support::{TestApp, ADMIN_EMAIL, ADMIN_PASSWORD, CLIENT_ID, CLIENT_SECRET};

/// The Chromium the scripts drive; checked here so that a missing one fails with a clear word.
fn chromium() -> PathBuf {
    let path = std::env::var_os("PALAVER_BROWSER_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "Chromium is not at {} (install Debian's `chromium`, or name it in \
         PALAVER_BROWSER_CHROMIUM); the browser tests need it rather than skipping",
        path.display()
    );
    path
}

/// `/docs` as a person uses it: both faces listed, a platform token through the Authorize
/// dialog, a content token through the login operation, a request of each face answering 401
/// before and 200 after, and nothing loaded from outside the server (`browser/explorer.mjs`).
#[tokio::test]
async fn the_api_explorer_works_in_a_real_browser() {
    let dir = workspace_root().join("browser");
    npm_packages(&dir, "the browser tests' driver (playwright-core)").await;
    let chromium = chromium();
    let app = TestApp::spawn().await;
    let mut cmd = in_dir("node", &dir);
    cmd.arg("explorer.mjs")
        .env("PALAVER_BROWSER_BASE_URL", &app.base)
        .env("PALAVER_BROWSER_CLIENT_ID", CLIENT_ID)
        .env("PALAVER_BROWSER_CLIENT_SECRET", CLIENT_SECRET)
        .env("PALAVER_BROWSER_EMAIL", ADMIN_EMAIL)
        .env("PALAVER_BROWSER_PASSWORD", ADMIN_PASSWORD)
        .env("PALAVER_BROWSER_CHROMIUM", chromium)
        .env("PALAVER_BROWSER_ARTIFACTS", target_dir().join("browser"));
    run_and_check("browser explorer", &app.base, cmd).await;
}
