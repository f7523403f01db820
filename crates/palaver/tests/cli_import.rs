//! The operator's `palaver import`: it stores, enqueues and runs an import in its own process,
//! prints the counts and the elements that failed, and exits non-zero when the import cannot run.

// A test: a failed step should fail it right there.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{json, Value};

fn palaver(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palaver"))
        .current_dir(dir)
        .env("PALAVER_LOG", "warn")
        .args(["--database-url", "sqlite://palaver.db"])
        .args(args)
        .output()
        .expect("palaver runs")
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

#[test]
fn an_operator_imports_users_then_members_with_a_report_of_what_failed() {
    let dir = tempfile::tempdir().unwrap();
    let org = json_of(&palaver(
        dir.path(),
        &["--json", "org", "create", "--name", "acme"],
    ));
    let org = org["id"].as_str().unwrap();
    let app = json_of(&palaver(
        dir.path(),
        &["--json", "app", "create", "--org", org, "--name", "chat"],
    ));
    let app = app["id"].to_string();
    let mut users: Vec<Value> = (0..1_500)
        .map(|i| {
            json!({"name": format!("u{i}"), "display_name": "U", "guest": false,
                        "properties": {}, "idempotency_key": format!("k{i}")})
        })
        .collect();
    users.push(json!({"display_name": "nameless"}));
    std::fs::write(
        dir.path().join("users.json"),
        Value::Array(users).to_string(),
    )
    .unwrap();

    let out = palaver(
        dir.path(),
        &["import", "users", "--app", &app, "users.json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FINISHED — 1501 elements: 1500 created, 0 skipped, 1 failed"),
        "{text}"
    );
    assert!(
        text.contains("element 1500: missing field `name`"),
        "{text}"
    );

    // Again: every keyed element is skipped.
    let again = json_of(&palaver(
        dir.path(),
        &["--json", "import", "users", "--app", &app, "users.json"],
    ));
    assert_eq!(again["state"], "FINISHED");
    assert_eq!(
        again["progress"],
        json!({"processed": 1501, "created": 0, "skipped": 1500, "failed": 1})
    );

    // A members import needs its channel; an unknown application or file is refused.
    let out = palaver(
        dir.path(),
        &["import", "members", "--app", &app, "users.json"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--channel"));
    let out = palaver(
        dir.path(),
        &["import", "users", "--app", "999", "users.json"],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no application with id 999"));
    let out = palaver(
        dir.path(),
        &["import", "users", "--app", &app, "missing.json"],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open missing.json"));
    // A file that is no JSON array never becomes a job.
    std::fs::write(dir.path().join("object.json"), r#"{"name": "x"}"#).unwrap();
    let out = palaver(
        dir.path(),
        &["import", "users", "--app", &app, "object.json"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("JSON array"));
}
