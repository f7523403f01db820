//! Chat functions over REST: the Node.js runtime (made with defaults on first read; each change
//! a patch release with its RUNTIME_INSTALL job), functions (one per trigger), their numbered
//! versions and invocations, at the three prefixes and in both namings, and the 4xx answers of
//! bad input and of another application's ids.

use std::time::Duration;

use palaver_domain::job::JobKind;
use palaver_domain::platform::functions::{
    FunctionTrigger, InstallOutcome, InvocationOutcome, RuntimeVersion,
};
use palaver_test_support::{assert_platform_error, TestApp};
use serde_json::{json, Map, Value};

/// The payload versions of the RUNTIME_INSTALL jobs waiting, oldest first (claimed, so that
/// each is counted once).
async fn install_jobs(app: &TestApp) -> Vec<String> {
    let mut versions = Vec::new();
    while let Some((job, _)) = app
        .services
        .platform
        .jobs()
        .claim("test", &[JobKind::RuntimeInstall], Duration::from_secs(60))
        .await
        .map_err(|e| e.into_domain())
        .unwrap()
    {
        assert_eq!(job.application_id, Some(app.app_id));
        versions.push(job.payload["version"].as_str().unwrap().to_string());
    }
    versions
}

fn version(s: &str) -> RuntimeVersion {
    RuntimeVersion::parse(s).unwrap()
}

#[tokio::test]
async fn the_runtime_is_made_on_first_read_and_each_change_is_a_release_to_install() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;

    let r = app.pget("/runtimes/nodejs", &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rt = &r.body;
    assert_eq!(rt["type"], "NODEJS");
    assert!(rt["id"].is_i64());
    assert_eq!(rt["dependencies"], json!([]));
    assert_eq!(rt["environment_variables"], json!({}));
    assert!(rt.get("initialization_script").is_none());
    assert_eq!(rt["version"], "v0.0.1");
    assert_eq!(rt["installation"]["state"], "INSTALLED");
    assert_eq!(rt["installation"]["installed_version"], "v0.0.1");
    assert_eq!(
        rt["_links"]["self"]["href"],
        format!("{}/runtimes/nodejs", app.base)
    );
    let id = rt["id"].clone();
    // Reading again makes nothing new, and enqueues nothing.
    assert_eq!(app.pget("/runtimes/nodejs", &token).await.body["id"], id);
    assert!(install_jobs(&app).await.is_empty());

    let r = app
        .pput(
            "/runtimes/nodejs/dependencies",
            &token,
            json!([
                {"name": "lodash", "version": "4.17.21", "default_dependency": false},
                {"name": "@scope/pkg", "version": "^1.2.0", "default_dependency": true},
            ]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["id"], id);
    assert_eq!(r.body["version"], "v0.0.2");
    assert_eq!(
        r.body["dependencies"][0],
        json!({"name": "lodash", "version": "4.17.21", "default_dependency": false})
    );
    assert_eq!(r.body["dependencies"][1]["name"], "@scope/pkg");
    assert_eq!(r.body["installation"]["state"], "PENDING");
    assert_eq!(r.body["installation"]["version"], "v0.0.2");
    assert_eq!(r.body["installation"]["installed_version"], "v0.0.1");

    let r = app
        .pput(
            "/runtimes/nodejs/environment-variables",
            &token,
            json!({"FOO": "bar", "API_KEY": "s3cret"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["version"], "v0.0.3");
    assert_eq!(
        r.body["environment_variables"],
        json!({"FOO": "bar", "API_KEY": "s3cret"})
    );
    // The other parts stay.
    assert_eq!(r.body["dependencies"].as_array().unwrap().len(), 2);

    let r = app
        .pput(
            "/runtimes/nodejs/initialization-script",
            &token,
            json!({"script": "module.exports = {}"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["version"], "v0.0.4");
    assert_eq!(
        r.body["initialization_script"],
        json!({"script": "module.exports = {}"})
    );
    let read = app.pget("/runtimes/nodejs", &token).await.body;
    assert_eq!(read["version"], "v0.0.4");
    assert_eq!(read["environment_variables"]["FOO"], "bar");

    // One install job per change, for its version; none listed among the application's jobs.
    assert_eq!(install_jobs(&app).await, ["v0.0.2", "v0.0.3", "v0.0.4"]);
    let jobs = app.pget("/jobs", &token).await;
    assert_eq!(jobs.body["page"]["total_elements"], 0, "{}", jobs.text);

    // Install reports: a start, a late finish of an overtaken version, then the current one.
    let platform = &app.services.platform;
    let report = |o: InstallOutcome| async move {
        platform
            .record_runtime_install(app.app_id, &o)
            .await
            .map_err(|e| e.into_domain())
            .unwrap()
    };
    assert!(
        report(InstallOutcome::Installing {
            version: version("v0.0.4")
        })
        .await
    );
    let r = app.pget("/runtimes/nodejs", &token).await.body;
    assert_eq!(r["installation"]["state"], "INSTALLING");
    assert!(
        report(InstallOutcome::Installed {
            version: version("v0.0.3"),
            output: "old".into(),
        })
        .await
    );
    let r = app.pget("/runtimes/nodejs", &token).await.body;
    assert_eq!(r["installation"]["state"], "INSTALLING");
    assert_eq!(r["installation"]["installed_version"], "v0.0.3");
    assert!(
        report(InstallOutcome::Installed {
            version: version("v0.0.4"),
            output: "added 2 packages".into(),
        })
        .await
    );
    // Older news changes nothing.
    assert!(
        !report(InstallOutcome::Failed {
            version: version("v0.0.2"),
            output: "late".into(),
        })
        .await
    );
    let r = app.pget("/runtimes/nodejs", &token).await.body;
    assert_eq!(r["installation"]["state"], "INSTALLED");
    assert_eq!(r["installation"]["installed_version"], "v0.0.4");
    assert_eq!(r["installation"]["output"], "added 2 packages");
    assert!(r["installation"]["finished_time"].is_string());

    // What the installer reads.
    let rt = platform
        .runtime(app.app_id)
        .await
        .map_err(|e| e.into_domain())
        .unwrap();
    assert_eq!(rt.version, version("v0.0.4"));
    assert_eq!(rt.dependencies.as_slice()[0].name, "lodash");
    assert_eq!(rt.environment_variables.as_map()["API_KEY"], "s3cret");
    assert_eq!(
        rt.initialization_script.as_deref(),
        Some("module.exports = {}")
    );
}

#[tokio::test]
async fn bad_runtime_changes_are_400_and_change_nothing() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let dep = |name: &str| json!({"name": name, "version": "1.0.0", "default_dependency": false});
    for body in [
        json!({"name": "lodash", "version": "1", "default_dependency": false}),
        json!("lodash"),
        json!([{"version": "1.0.0", "default_dependency": false}]),
        json!([{"name": "lodash", "default_dependency": false}]),
        json!([{"name": "lodash", "version": "", "default_dependency": false}]),
        json!([{"name": "lodash", "version": "1.0.0"}]),
        json!([{"name": "Not A Package", "version": "1.0.0", "default_dependency": false}]),
        json!([dep("lodash"), dep("lodash")]),
    ] {
        let r = app
            .pput("/runtimes/nodejs/dependencies", &token, body.clone())
            .await;
        assert_platform_error(&r, 400, "InvalidParameterError");
    }
    for body in [
        json!({"1FOO": "x"}),
        json!({"FOO-BAR": "x"}),
        json!({"FOO BAR": "x"}),
        json!({"FOO": 1}),
        json!(["FOO"]),
    ] {
        let r = app
            .pput(
                "/runtimes/nodejs/environment-variables",
                &token,
                body.clone(),
            )
            .await;
        assert_platform_error(&r, 400, "InvalidParameterError");
    }
    for body in [json!({}), json!({"script": 3}), json!("x")] {
        let r = app
            .pput("/runtimes/nodejs/initialization-script", &token, body)
            .await;
        assert_platform_error(&r, 400, "InvalidParameterError");
    }
    // A script that does not compile is refused where it is deployed, saying where.
    let r = app
        .pput(
            "/runtimes/nodejs/initialization-script",
            &token,
            json!({"script": "const ready = ;"}),
        )
        .await;
    let message = assert_platform_error(&r, 400, "InvalidParameterError");
    assert!(message.contains("line 1, column"), "{message}");
    let r = app
        .pcall(
            "PUT",
            "/runtimes/nodejs/dependencies",
            Some(&token),
            &[("Content-Type", "application/json")],
            None,
        )
        .await;
    assert_platform_error(&r, 400, "InvalidParameterError");
    let r = app
        .send(
            "PUT",
            "/runtimes/nodejs/dependencies",
            &[
                ("Authorization", &format!("Bearer {token}")),
                ("Content-Type", "application/json"),
            ],
            Some("[{"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);

    let r = app.pget("/runtimes/nodejs", &token).await;
    assert_eq!(r.body["version"], "v0.0.1");
    assert!(install_jobs(&app).await.is_empty());
}

/// The paths of the three prefixes, the token's own application named in the third.
fn prefixes(app: &TestApp) -> [String; 3] {
    [
        String::new(),
        "/v1".into(),
        format!("/v1/applications/{}", app.app_id),
    ]
}

#[tokio::test]
async fn functions_and_versions_at_every_prefix_and_in_both_namings() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let triggers = [
        "user.sent.message",
        "user.attempted.start_session",
        "call.ended",
    ];
    for (prefix, trigger) in prefixes(&app).iter().zip(triggers) {
        let at = |p: &str| format!("{prefix}{p}");
        let base = format!("{}{prefix}", app.base);
        // `/v1` answers in camelCase unless asked for ChatKitty's media type.
        let camel = prefix.starts_with("/v1");
        let key = |snake: &'static str, camel_name: &'static str| {
            if camel {
                camel_name
            } else {
                snake
            }
        };

        let rt = app.pget(&at("/runtimes/nodejs"), &token).await;
        assert_eq!(rt.status, 200, "{prefix}: {}", rt.text);
        assert!(rt.body[key("environment_variables", "environmentVariables")].is_object());

        let body = if camel {
            json!({"type": trigger, "name": "Fn", "description": "d", "initializeAsynchronously": true})
        } else {
            json!({"type": trigger, "name": "Fn", "description": "d", "initialize_asynchronously": true})
        };
        let f = app
            .ppost(&at("/runtimes/nodejs/functions"), &token, body)
            .await;
        assert_eq!(f.status, 200, "{prefix}: {}", f.text);
        let fid = f.body["id"].as_i64().unwrap();
        assert_eq!(f.body["type"], trigger);
        assert_eq!(f.body["name"], "Fn");
        assert_eq!(f.body["description"], "d");
        assert_eq!(f.body["enabled"], true);
        assert_eq!(
            f.body[key("current_version_number", "currentVersionNumber")],
            0
        );
        assert_eq!(
            f.body[key("initialize_asynchronously", "initializeAsynchronously")],
            true
        );
        assert_eq!(
            f.body["runtime"],
            json!({"type": "NODEJS", "id": rt.body["id"], "version": "v0.0.1"})
        );
        // Link relations are the same in both namings.
        let links = &f.body["_links"];
        assert_eq!(links["self"]["href"], format!("{base}/functions/{fid}"));
        assert_eq!(
            links["versions"]["href"],
            format!("{base}/functions/{fid}/versions")
        );
        assert_eq!(
            links["invocations"]["href"],
            format!("{base}/functions/{fid}/invocations")
        );
        assert_eq!(
            links["current_version"]["href"],
            format!("{base}/functions/{fid}/current-version")
        );

        let r = app
            .pget(&at(&format!("/functions/{fid}/current-version")), &token)
            .await;
        assert_platform_error(&r, 404, "ResourceNotFoundError");

        let script_key = key("handler_script", "handlerScript");
        let number_key = key("version_number", "versionNumber");
        let mut made = Vec::new();
        for n in 1..=2 {
            let v = app
                .ppost(
                    &at(&format!("/functions/{fid}/versions")),
                    &token,
                    json!({ script_key: format!("module.exports = () => {n}") }),
                )
                .await;
            assert_eq!(v.status, 200, "{prefix}: {}", v.text);
            assert_eq!(v.body[number_key], n);
            assert_eq!(v.body[script_key], format!("module.exports = () => {n}"));
            let vid = v.body["id"].as_i64().unwrap();
            assert_eq!(
                v.body["_links"]["self"]["href"],
                format!("{base}/function-versions/{vid}")
            );
            made.push(v.body);
        }
        let current = app
            .pget(&at(&format!("/functions/{fid}/current-version")), &token)
            .await;
        assert_eq!(current.status, 200, "{}", current.text);
        assert_eq!(current.body, made[1]);
        let first = app
            .pget(
                &at(&format!("/function-versions/{}", made[0]["id"])),
                &token,
            )
            .await;
        assert_eq!(first.body, made[0]);
        let f = app.pget(&at(&format!("/functions/{fid}")), &token).await;
        assert_eq!(
            f.body[key("current_version_number", "currentVersionNumber")],
            2
        );

        let versions = app
            .pget(&at(&format!("/functions/{fid}/versions")), &token)
            .await;
        assert_eq!(versions.status, 200, "{}", versions.text);
        let items = versions.body["_embedded"]["versions"].as_array().unwrap();
        assert_eq!(
            items
                .iter()
                .map(|v| v[number_key].clone())
                .collect::<Vec<_>>(),
            [json!(2), json!(1)],
            "newest first"
        );
        assert_eq!(
            versions.body["page"][key("total_elements", "totalElements")],
            2
        );
        let asc = app
            .pget_query(
                &at(&format!("/functions/{fid}/versions")),
                &token,
                &[("sort", "version_number,asc"), ("size", "1")],
            )
            .await;
        assert_eq!(asc.status, 200, "{}", asc.text);
        assert_eq!(asc.body["_embedded"]["versions"][0][number_key], 1);
        assert!(asc.body["_links"]["next"]["href"].is_string());

        let invocations = app
            .pget(&at(&format!("/functions/{fid}/invocations")), &token)
            .await;
        assert_eq!(invocations.status, 200, "{}", invocations.text);
        assert_eq!(
            invocations.body["page"][key("total_elements", "totalElements")],
            0
        );
    }

    // The page of functions, in creation order, at the root in snake_case.
    let list = app.pget("/runtimes/nodejs/functions", &token).await;
    assert_eq!(list.status, 200, "{}", list.text);
    let types: Vec<&str> = list.body["_embedded"]["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, triggers);
    assert_eq!(list.body["page"]["total_elements"], 3);
    let paged = app
        .pget_query(
            "/runtimes/nodejs/functions",
            &token,
            &[("size", "2"), ("page", "1"), ("sort", "id,desc")],
        )
        .await;
    assert_eq!(paged.body["_embedded"]["functions"][0]["type"], triggers[0]);
    assert_eq!(paged.body["page"]["total_pages"], 2);

    // `/v1` with ChatKitty's media type answers in snake_case.
    let r = app
        .pcall(
            "GET",
            "/v1/runtimes/nodejs/functions",
            Some(&token),
            &[("Accept", "application/vnd.chatkitty+json")],
            None,
        )
        .await;
    assert_eq!(
        r.body["_embedded"]["functions"][0]["current_version_number"],
        2
    );

    // Events of the writes, in the outbox.
    let events = app
        .services
        .platform
        .events_after(&crate::platform_message_reads::principal(&app), 0, 100)
        .await
        .map_err(|e| e.into_domain())
        .unwrap();
    let names: Vec<String> = events.iter().map(|e| e.event.name()).collect();
    assert_eq!(names.iter().filter(|n| *n == "function.created").count(), 3);
    assert_eq!(
        names
            .iter()
            .filter(|n| *n == "function.version.created")
            .count(),
        6
    );
}

#[tokio::test]
async fn bad_functions_and_versions_are_4xx() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    for body in [
        json!({"type": "user.sent.nothing", "name": "x", "initialize_asynchronously": false}),
        json!({"type": "USER.SENT.MESSAGE", "name": "x"}),
        json!({"name": "x"}),
        json!({"type": "user.sent.message"}),
        json!({"type": "user.sent.message", "name": " "}),
        json!([]),
    ] {
        let r = app
            .ppost("/runtimes/nodejs/functions", &token, body.clone())
            .await;
        assert_platform_error(&r, 400, "InvalidParameterError");
    }
    let body =
        json!({"type": "user.sent.message", "name": "a", "initialize_asynchronously": false});
    let r = app
        .ppost("/runtimes/nodejs/functions", &token, body.clone())
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let fid = r.body["id"].as_i64().unwrap();
    let again = app
        .ppost("/v1/runtimes/nodejs/functions", &token, body)
        .await;
    assert_platform_error(&again, 409, "DuplicateResourceError");

    for body in [
        json!({"handler_script": ""}),
        json!({"handler_script": "   \n"}),
        json!({}),
        json!({"handler_script": 1}),
    ] {
        let r = app
            .ppost(&format!("/functions/{fid}/versions"), &token, body)
            .await;
        assert_platform_error(&r, 400, "InvalidParameterError");
    }
    let r = app
        .ppost(
            &format!("/functions/{fid}/versions"),
            &token,
            json!({"handler_script": "async function handleEvent(event: Event) {\n  return event.;\n}"}),
        )
        .await;
    let message = assert_platform_error(&r, 400, "InvalidParameterError");
    assert!(message.contains("syntax error at line 2"), "{message}");
    let f = app.pget(&format!("/functions/{fid}"), &token).await;
    assert_eq!(f.body["current_version_number"], 0);

    for path in [
        "/functions/999999".to_string(),
        "/functions/abc".into(),
        "/functions/999999/versions".into(),
        "/functions/999999/invocations".into(),
        "/functions/999999/current-version".into(),
        "/function-versions/999999".into(),
    ] {
        let r = app.pget(&path, &token).await;
        assert_platform_error(&r, 404, "ResourceNotFoundError");
    }
    let r = app
        .ppost(
            "/functions/999999/versions",
            &token,
            json!({"handler_script": "x"}),
        )
        .await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");
    let r = app.pget("/runtimes/nodejs/functions?size=0", &token).await;
    assert_platform_error(&r, 400, "InvalidParameterError");
    let r = app
        .pget("/runtimes/nodejs/functions?sort=name,asc", &token)
        .await;
    assert_platform_error(&r, 400, "InvalidParameterError");
}

#[tokio::test]
async fn another_applications_functions_are_not_found() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let f = app
        .ppost(
            "/runtimes/nodejs/functions",
            &token,
            json!({"type": "user.sent.message", "name": "mine", "initialize_asynchronously": false}),
        )
        .await;
    let fid = f.body["id"].as_i64().unwrap();
    let v = app
        .ppost(
            &format!("/functions/{fid}/versions"),
            &token,
            json!({"handler_script": "module.exports = () => 1"}),
        )
        .await;
    let vid = v.body["id"].as_i64().unwrap();

    let other = app.other_application("elsewhere").await;
    for path in [
        format!("/functions/{fid}"),
        format!("/functions/{fid}/versions"),
        format!("/functions/{fid}/current-version"),
        format!("/functions/{fid}/invocations"),
        format!("/function-versions/{vid}"),
    ] {
        let r = app.pget(&path, &other.token).await;
        assert_platform_error(&r, 404, "ResourceNotFoundError");
    }
    let r = app
        .ppost(
            &format!("/functions/{fid}/versions"),
            &other.token,
            json!({"handler_script": "x"}),
        )
        .await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");
    // Its runtime and functions are its own: the same trigger is free there.
    let theirs = app.pget("/runtimes/nodejs", &other.token).await;
    let mine = app.pget("/runtimes/nodejs", &token).await;
    assert_ne!(theirs.body["id"], mine.body["id"]);
    let list = app.pget("/runtimes/nodejs/functions", &other.token).await;
    assert_eq!(list.body["page"]["total_elements"], 0);
    let r = app
        .ppost(
            "/runtimes/nodejs/functions",
            &other.token,
            json!({"type": "user.sent.message", "name": "theirs", "initialize_asynchronously": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Nor does the wiring find this application's function for another one.
    let platform = &app.services.platform;
    let found = platform
        .function_for_trigger(other.app_id, FunctionTrigger::UserSentMessage)
        .await
        .map_err(|e| e.into_domain())
        .unwrap();
    assert!(found.is_none(), "theirs has no version");
    let err = platform
        .start_invocation(other.app_id, fid, 1, Map::new())
        .await
        .map_err(|e| e.into_domain())
        .unwrap_err();
    assert_eq!(err.code, palaver_domain::ErrorCode::NotFound);
}

#[tokio::test]
async fn invocations_are_listed_newest_first_once_recorded() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let platform = &app.services.platform;
    let f = app
        .ppost(
            "/runtimes/nodejs/functions",
            &token,
            json!({"type": "user.sent.message", "name": "onMsg", "initialize_asynchronously": false}),
        )
        .await;
    let fid = f.body["id"].as_i64().unwrap();
    let found = platform
        .function_for_trigger(app.app_id, FunctionTrigger::UserSentMessage)
        .await
        .map_err(|e| e.into_domain())
        .unwrap();
    assert!(found.is_none(), "no version yet");
    for n in 1..=2 {
        app.ppost(
            &format!("/functions/{fid}/versions"),
            &token,
            json!({"handler_script": format!("module.exports = () => {n}")}),
        )
        .await;
    }
    let triggered = platform
        .function_for_trigger(app.app_id, FunctionTrigger::UserSentMessage)
        .await
        .map_err(|e| e.into_domain())
        .unwrap()
        .expect("a function with a version");
    assert_eq!(triggered.function.id, fid);
    assert_eq!(triggered.version.version_number, 2);
    assert_eq!(triggered.version.handler_script, "module.exports = () => 2");
    assert!(platform
        .function_for_trigger(app.app_id, FunctionTrigger::CallEnded)
        .await
        .map_err(|e| e.into_domain())
        .unwrap()
        .is_none());

    let path = format!("/functions/{fid}/invocations");
    let empty = app.pget(&path, &token).await;
    assert_eq!(empty.status, 200, "{}", empty.text);
    assert_eq!(empty.body["page"]["total_elements"], 0);

    let args = |v: Value| v.as_object().cloned().unwrap();
    let ok = platform
        .start_invocation(app.app_id, fid, 2, args(json!({"message": {"body": "hi"}})))
        .await
        .map_err(|e| e.into_domain())
        .unwrap();
    let running = app.pget(&path, &token).await;
    let item = &running.body["_embedded"]["invocations"][0];
    assert_eq!(item["status"], "RUNNING");
    assert_eq!(item["result"], json!({}));
    assert_eq!(item["args"], json!({"message": {"body": "hi"}}));
    assert_eq!(item["version_number"], 2);
    assert!(item["created_time"].is_string());
    assert!(item.get("ended_time").is_none());

    assert!(platform
        .finish_invocation(
            app.app_id,
            ok.id,
            &InvocationOutcome::Succeeded {
                payload: json!(["Hello"])
            },
            Some("log line\n"),
        )
        .await
        .map_err(|e| e.into_domain())
        .unwrap());
    let bad = platform
        .start_invocation(app.app_id, fid, 2, args(json!({"n": 2})))
        .await
        .map_err(|e| e.into_domain())
        .unwrap();
    assert!(platform
        .finish_invocation(
            app.app_id,
            bad.id,
            &InvocationOutcome::Failed {
                error: "TypeError: x is undefined".into()
            },
            Some("before the throw\n"),
        )
        .await
        .map_err(|e| e.into_domain())
        .unwrap());
    // An invocation ends once.
    assert!(!platform
        .finish_invocation(
            app.app_id,
            bad.id,
            &InvocationOutcome::Succeeded { payload: json!(1) },
            None,
        )
        .await
        .map_err(|e| e.into_domain())
        .unwrap());

    let page = app.pget(&path, &token).await.body;
    let items = page["_embedded"]["invocations"].as_array().unwrap();
    assert_eq!(page["page"]["total_elements"], 2);
    assert_eq!(items[0]["id"], bad.id, "newest first");
    assert_eq!(items[0]["status"], "FAILED");
    assert_eq!(items[0]["error"], "TypeError: x is undefined");
    assert_eq!(items[0]["output"], "before the throw\n");
    assert_eq!(items[0]["result"], json!({}));
    assert!(items[0]["ended_time"].is_string());
    assert_eq!(items[1]["status"], "SUCCEEDED");
    assert_eq!(items[1]["result"], json!({"payload": ["Hello"]}));
    assert_eq!(items[1]["output"], "log line\n");
    assert!(items[1].get("error").is_none());

    // camelCase under `/v1`: the args and result maps keep their keys.
    let camel = app
        .pget(&format!("/v1/functions/{fid}/invocations"), &token)
        .await
        .body;
    let first = &camel["_embedded"]["invocations"][1];
    assert_eq!(first["versionNumber"], 2);
    assert!(first["createdTime"].is_string());
    assert_eq!(first["args"], json!({"message": {"body": "hi"}}));
    let asc = app
        .pget_query(&path, &token, &[("sort", "id,asc")])
        .await
        .body;
    assert_eq!(asc["_embedded"]["invocations"][0]["id"], ok.id);
}

#[tokio::test]
async fn environment_variable_names_keep_their_case_in_camel_case() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let r = app
        .pput(
            "/v1/runtimes/nodejs/environment-variables",
            &token,
            json!({"MY_VAR": "1", "camelName": "2"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["environmentVariables"],
        json!({"MY_VAR": "1", "camelName": "2"})
    );
    let r = app
        .pput(
            "/v1/runtimes/nodejs/dependencies",
            &token,
            json!([{"name": "lodash", "version": "4.17.21", "defaultDependency": false}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["dependencies"],
        json!([{"name": "lodash", "version": "4.17.21", "defaultDependency": false}])
    );
    assert_eq!(r.body["installation"]["installedVersion"], "v0.0.1");
    let r = app
        .pput(
            "/v1/runtimes/nodejs/initialization-script",
            &token,
            json!({"script": "x"}),
        )
        .await;
    assert_eq!(r.body["initializationScript"], json!({"script": "x"}));
    assert_eq!(r.body["version"], "v0.0.4");
}
