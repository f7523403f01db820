//! The served OpenAPI documents against the server that serves them: each is valid OpenAPI
//! (openapi-spec-validator), and schemathesis, driving every documented operation with generated
//! requests (bounded: a few examples per operation, a time budget per document), finds no 5xx
//! answer and no answer outside its documented schema. The tools are pinned in
//! `tests/openapi/requirements.txt` and installed by the test into `target/openapi-venv`.

use std::path::PathBuf;
use std::process::Command;

use palaver_api::{BodyLimitConfig, RateClock, RateLimitConfig};
use palaver_test_support::scripts::{python_packages, run_script, target_dir, workspace_root};
use palaver_test_support::TestApp;
use serde_json::json;
use tokio::sync::OnceCell;

/// Generated requests per operation and phase: enough to reach each operation's error paths,
/// few enough for CI.
const EXAMPLES: &str = "5";
/// Seconds of fuzzing per document, at most.
const BUDGET: &str = "45";

/// The environment's executables folder, made once per test process (again when the pins change).
async fn tools() -> PathBuf {
    static READY: OnceCell<Result<PathBuf, String>> = OnceCell::const_new();
    let venv = target_dir().join("openapi-venv");
    let requirements = workspace_root().join("crates/test-support/tests/openapi/requirements.txt");
    let result = READY
        .get_or_init(|| async {
            python_packages(&venv, &requirements, "the OpenAPI conformance test").await
        })
        .await;
    match result {
        Ok(python) => python
            .parent()
            .expect("the environment's bin folder")
            .to_path_buf(),
        Err(e) => panic!("installing the OpenAPI tools failed: {e}"),
    }
}

/// Runs `cmd` off the async runtime (the spawned server keeps serving) and asserts it passed,
/// showing its output either way.
async fn passes(what: &str, cmd: Command) {
    let out = tokio::task::spawn_blocking(move || run_script(cmd))
        .await
        .expect("runner")
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    println!("---- {what} ----\n{}{}", out.stdout, out.stderr);
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        out.stdout,
        out.stderr
    );
}

/// A server with rate limits off (schemathesis sends bursts) and a little of everything, so
/// that generated ids sometimes name real rows and successful answers get checked too.
async fn seeded() -> (TestApp, String, String) {
    let app = TestApp::spawn().await;
    app.limits.configure(
        &RateLimitConfig::off(),
        &BodyLimitConfig::default(),
        RateClock::system(),
    );
    let bearer = app.platform_token().await;
    let user = app
        .create_chat_user(&bearer, json!({"name": "ada", "display_name": "Ada"}))
        .await;
    let channel = app
        .ppost(
            "/channels",
            &bearer,
            json!({"type": "PUBLIC", "name": "general", "creator": {"id": user["id"]}}),
        )
        .await;
    assert_eq!(channel.status, 200, "{}", channel.text);
    let sent = app
        .ppost(
            &format!("/channels/{}/messages", channel.body["id"]),
            &bearer,
            json!({"type": "TEXT", "body": "hello", "user": {"id": user["id"]}}),
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.text);
    let content = app.admin_token().await;
    let bot = app.create_bot(&content, "Newsy").await;
    let flake = app
        .post(
            &format!("/api/bots/{bot}/flakes"),
            &content,
            json!({"title": "First"}),
        )
        .await;
    assert_eq!(flake.status, 200, "{}", flake.text);
    (app, bearer, content)
}

/// `schemathesis run` of the document at `doc` against the API at `base`.
fn schemathesis(bin: &std::path::Path, doc: &str, base: &str, header: &str) -> Command {
    let mut cmd = Command::new(bin.join("schemathesis"));
    cmd.args(["run", doc, "--url", base, "-H", header])
        .args(["--checks", "not_a_server_error,response_schema_conformance"])
        .args(["--max-examples", EXAMPLES, "--max-time", BUDGET])
        // One worker: schemathesis's generator is not reliable across threads in this version.
        .args(["--seed", "20261203", "--workers", "1"])
        .args([
            "--request-timeout",
            "20",
            "--no-color",
            "--generation-database",
            "none",
        ])
        .current_dir(target_dir())
        // Output that does not depend on the terminal the test runs in.
        .env("NO_COLOR", "1")
        .env("COLUMNS", "160");
    cmd
}

#[tokio::test]
async fn served_documents_are_valid_and_the_server_keeps_to_them() {
    let bin = tools().await;
    let (app, bearer, content) = seeded().await;
    // The validator reads files: the documents as served, saved.
    let saved = tempfile::tempdir().expect("temp dir");
    for (doc, file) in [
        ("/openapi.json", "platform.json"),
        ("/v1/openapi.json", "platform-v1.json"),
        ("/api/openapi.json", "content.json"),
    ] {
        let r = app.client.get(app.url(doc)).send().await.expect("sent");
        assert_eq!(r.status(), 200, "{doc}");
        assert_eq!(r.headers()["content-type"], "application/json", "{doc}");
        let path = saved.path().join(file);
        std::fs::write(&path, r.bytes().await.expect("body")).expect("saved");
        let mut validate = Command::new(bin.join("openapi-spec-validator"));
        validate.arg(&path);
        passes(&format!("openapi-spec-validator {doc}"), validate).await;
    }
    let bearer = format!("Authorization: Bearer {bearer}");
    passes(
        "schemathesis: platform API (root)",
        schemathesis(&bin, &app.url("/openapi.json"), &app.base, &bearer),
    )
    .await;
    passes(
        "schemathesis: platform API (/v1)",
        schemathesis(&bin, &app.url("/v1/openapi.json"), &app.url("/v1"), &bearer),
    )
    .await;
    // Logging out would end the session the rest of the run uses; so would deleting or
    // replacing the caller's own account, whose id schemathesis picks up from answers (those
    // operations have tests of their own).
    let mut content_run = schemathesis(
        &bin,
        &app.url("/api/openapi.json"),
        &app.url("/api"),
        &format!("KTL-Access-Token: {content}"),
    );
    content_run.args(["--exclude-path", "/users/logout"]);
    for own_account in [
        "users-delete",
        "users-replace",
        "users-update",
        "organisations-users-destroy-by-id",
        "organisations-users-update-by-id",
    ] {
        content_run.args(["--exclude-operation-id", own_account]);
    }
    // The header carries the session: a generated `access_token` query parameter would win over
    // it (as in LoopBack) and make the case a 401.
    content_run.args(["--generation-with-security-parameters", "false"]);
    passes("schemathesis: content API", content_run).await;
    let after = app.get("/api/bots", &content).await;
    assert_eq!(
        after.status, 200,
        "the run ended its own session: {}",
        after.text
    );
}
