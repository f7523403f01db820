//! Chat functions running for real (`node` workers): non-blocking triggers from committed events
//! as jobs, each run recorded as an invocation with its result or error and its output;
//! deadlines, the retry policy, the runtime's environment and dependencies, the handlers'
//! Platform API clients confined to their application, and the blocking start-session function
//! deciding secured gateway sessions.

use std::time::Duration;

use palaver_gateway::frame::Command;
use palaver_service::AppPrincipal;
use palaver_test_support::stomp::{FrameExt, StompClient, WAIT};
use palaver_test_support::TestApp;
use serde_json::{json, Value};

use crate::gateway::assert_stomp_error;

/// Creates a function on `trigger` with `script` as its first version; answers its id.
async fn deploy(app: &TestApp, token: &str, trigger: &str, script: &str) -> i64 {
    let r = app
        .ppost(
            "/runtimes/nodejs/functions",
            token,
            json!({"type": trigger, "name": trigger, "initialize_asynchronously": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.body["id"].as_i64().expect("function id");
    let r = app
        .ppost(
            &format!("/functions/{id}/versions"),
            token,
            json!({"handler_script": script}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    id
}

/// Turns the events committed so far into invocation jobs and runs every job due.
async fn settle(app: &TestApp) {
    let p = AppPrincipal {
        application_id: app.app_id,
        organisation_id: app.org_id.clone(),
    };
    app.services
        .platform
        .drain_function_triggers(&p)
        .await
        .map_err(|e| e.into_domain())
        .expect("triggers drained");
    app.run_jobs().await;
}

/// The function's invocations, oldest first.
async fn invocations(app: &TestApp, token: &str, function: i64) -> Vec<Value> {
    let r = app
        .pget(
            &format!("/functions/{function}/invocations?size=100"),
            token,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut all = r.body["_embedded"]["invocations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    all.sort_by_key(|i| i["id"].as_i64());
    all
}

/// A PUBLIC channel with member `bob`; answers its id.
async fn channel_with_bob(app: &TestApp, token: &str) -> i64 {
    app.create_chat_user(token, json!({"name": "bob"})).await;
    let r = app
        .ppost(
            "/channels",
            token,
            json!({"type": "PUBLIC", "name": "general", "members": [{"username": "bob"}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["id"].as_i64().expect("channel id")
}

async fn send_as_bob(app: &TestApp, token: &str, channel: i64, body: &str) {
    let r = app
        .ppost(
            &format!("/channels/{channel}/messages"),
            token,
            json!({"type": "TEXT", "body": body, "user": {"username": "bob"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn a_user_message_runs_its_function_once_with_the_event_the_environment_and_the_output() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let r = app
        .pput(
            "/runtimes/nodejs/environment-variables",
            &token,
            json!({"GREETING": "hello from the runtime"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.run_jobs().await;
    let r = app.pget("/runtimes/nodejs", &token).await;
    assert_eq!(r.body["installation"]["state"], "INSTALLED", "{}", r.text);

    // TypeScript-flavoured, as ChatKitty's editor writes them.
    let script = r#"
        interface Sent { message: { body: string }, user: { name: string }, channel: { id: number } }
        async function handleEvent(event: Sent, context: any): Promise<object> {
            console.log('saw', event.message.body);
            process.stdout.write('stray line\n');
            return {
                body: event.message.body,
                from: event.user.name,
                channel: event.channel.id,
                greeting: process.env.GREETING,
                home: process.env.HOME ?? null,
                app: context.applicationId,
            };
        }
    "#;
    let function = deploy(&app, &token, "user.sent.message", script).await;
    let channel = channel_with_bob(&app, &token).await;
    send_as_bob(&app, &token, channel, "first words").await;
    // The application's own messages are not a user's: no invocation.
    let r = app
        .ppost(
            &format!("/channels/{channel}/messages"),
            &token,
            json!({"type": "TEXT", "body": "system notice"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    settle(&app).await;
    // Draining again finds nothing new: each event runs each function once.
    settle(&app).await;

    let runs = invocations(&app, &token, function).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = &runs[0];
    assert_eq!(run["status"], "SUCCEEDED", "{run}");
    assert_eq!(run["version_number"], 1);
    let payload = &run["result"]["payload"];
    assert_eq!(payload["body"], "first words");
    assert_eq!(payload["from"], "bob");
    assert_eq!(payload["channel"], channel);
    assert_eq!(payload["greeting"], "hello from the runtime");
    // Nothing of the server's own environment reaches a handler.
    assert_eq!(payload["home"], Value::Null);
    assert_eq!(payload["app"], app.app_id);
    assert_eq!(run["args"]["message"]["body"], "first words");
    assert_eq!(run["args"]["type"], "user.sent.message");
    let output = run["output"].as_str().expect("output");
    assert!(output.contains("saw first words"), "{output}");
    assert!(output.contains("stray line"), "{output}");
    assert!(run["error"].is_null(), "{run}");
}

#[tokio::test]
async fn a_throw_fails_a_run_a_deadline_kills_the_worker_and_the_next_run_succeeds() {
    let app = crate::spawn_with(|c| c.function_timeout_millis = 1_500).await;
    let token = app.platform_token().await;
    let script = r#"
        async function handleEvent(event, context) {
            const body = event.message.body;
            if (body === 'throw') throw new Error('the handler said no');
            if (body === 'spin') { while (true) {} }
            return 'fine: ' + body;
        }
    "#;
    let function = deploy(&app, &token, "user.sent.message", script).await;
    let channel = channel_with_bob(&app, &token).await;
    for body in ["throw", "spin", "after"] {
        send_as_bob(&app, &token, channel, body).await;
    }
    settle(&app).await;

    let runs = invocations(&app, &token, function).await;
    let statuses: Vec<&str> = runs.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["FAILED", "FAILED", "SUCCEEDED"], "{runs:?}");
    let error = runs[0]["error"].as_str().unwrap();
    assert!(error.contains("the handler said no"), "{error}");
    assert_eq!(runs[0]["result"], json!({}));
    assert_eq!(runs[1]["error"], "timed out after 1500 ms");
    assert_eq!(runs[2]["result"]["payload"], "fine: after");
}

#[tokio::test]
async fn a_failing_run_is_tried_again_while_the_policy_allows() {
    let app = crate::spawn_with(|c| c.function_max_attempts = 2).await;
    let token = app.platform_token().await;
    let script = "async function handleEvent() { throw new Error('always'); }";
    let function = deploy(&app, &token, "system.triggered.event", script).await;
    let channel = channel_with_bob(&app, &token).await;
    let r = app
        .ppost(
            &format!("/channels/{channel}/events"),
            &token,
            json!({"type": "ping", "properties": {}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    settle(&app).await;
    assert_eq!(invocations(&app, &token, function).await.len(), 1);
    // The retry waits for its back-off; past it, the second and last run.
    app.advance_clock(Duration::from_secs(3));
    app.run_jobs().await;
    app.advance_clock(Duration::from_secs(600));
    app.run_jobs().await;
    let runs = invocations(&app, &token, function).await;
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(runs.iter().all(|r| r["status"] == "FAILED"));
}

#[tokio::test]
async fn handlers_call_the_platform_api_of_their_own_application_only() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    // A user of another application: its id means nothing to this one.
    let other = app.other_application("other").await;
    let stranger = app
        .create_chat_user(&other.token, json!({"name": "stranger"}))
        .await;
    let stranger_id = stranger["id"].as_i64().unwrap();

    let script = format!(
        r#"
        async function handleEvent(event, context) {{
            const users = context.getUserApi();
            const made = await users.createUser({{
                name: event.event.properties.name, display_name: 'Made by a function' }});
            let stranger;
            try {{ await users.retrieveUser({stranger_id}); stranger = 'visible'; }}
            catch (e) {{ stranger = e.response.status; }}
            let invalid;
            try {{ await users.createUser({{ name: '' }}); invalid = 'accepted'; }}
            catch (e) {{ invalid = e.response.status + ' ' + e.response.data.error; }}
            return {{ id: made.data.id, status: made.status, stranger, invalid }};
        }}
    "#
    );
    let function = deploy(&app, &token, "system.triggered.event", &script).await;
    let channel = channel_with_bob(&app, &token).await;
    let r = app
        .ppost(
            &format!("/channels/{channel}/events"),
            &token,
            json!({"type": "make-user", "properties": {"name": "carol"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    settle(&app).await;

    let runs = invocations(&app, &token, function).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["status"], "SUCCEEDED", "{}", runs[0]);
    let payload = &runs[0]["result"]["payload"];
    assert_eq!(payload["status"], 200);
    assert_eq!(payload["stranger"], 404);
    assert_eq!(payload["invalid"], "400 InvalidParameterError", "{payload}");
    // The user is there for REST callers, in this application only.
    let r = app.pget(&format!("/users/{}", payload["id"]), &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "carol");
    assert_eq!(r.body["display_name"], "Made by a function");
    let r = app
        .pget(&format!("/users/{}", payload["id"]), &other.token)
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[tokio::test]
async fn a_runtime_dependency_from_a_local_package_is_installed_and_required() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let package = tempfile::tempdir().unwrap();
    std::fs::write(
        package.path().join("package.json"),
        r#"{"name": "shout", "version": "1.0.0", "main": "index.js"}"#,
    )
    .unwrap();
    std::fs::write(
        package.path().join("index.js"),
        "module.exports = (s) => s.toUpperCase() + '!';",
    )
    .unwrap();
    let local = format!("file:{}", package.path().display());
    let r = app
        .pput(
            "/runtimes/nodejs/dependencies",
            &token,
            json!([{"name": "shout", "version": local, "default_dependency": false}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.run_jobs().await;
    let r = app.pget("/runtimes/nodejs", &token).await;
    let installation = &r.body["installation"];
    assert_eq!(installation["state"], "INSTALLED", "{}", r.text);
    assert_eq!(installation["installed_version"], r.body["version"]);

    let script = "const shout = require('shout');
        async function handleEvent(event) { return shout(event.event.properties.word); }";
    let function = deploy(&app, &token, "system.triggered.event", script).await;
    let channel = channel_with_bob(&app, &token).await;
    let event = json!({"type": "say", "properties": {"word": "hi"}});
    let at = format!("/channels/{channel}/events");
    assert_eq!(app.ppost(&at, &token, event.clone()).await.status, 200);
    settle(&app).await;

    // A dependency that cannot be installed: the install fails with npm's words, and the
    // runtime installed before goes on serving.
    let r = app
        .pput(
            "/runtimes/nodejs/dependencies",
            &token,
            json!([
                {"name": "shout", "version": local, "default_dependency": false},
                {"name": "missing", "version": "file:/nonexistent/missing", "default_dependency": false}
            ]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.run_jobs().await;
    let r = app.pget("/runtimes/nodejs", &token).await;
    let installation = &r.body["installation"];
    assert_eq!(installation["state"], "FAILED", "{}", r.text);
    assert!(
        !installation["output"].as_str().unwrap_or("").is_empty(),
        "{}",
        r.text
    );
    assert_ne!(installation["installed_version"], r.body["version"]);
    assert_eq!(app.ppost(&at, &token, event).await.status, 200);
    settle(&app).await;

    let runs = invocations(&app, &token, function).await;
    assert_eq!(runs.len(), 2, "{runs:?}");
    for run in &runs {
        assert_eq!(run["status"], "SUCCEEDED", "{run}");
        assert_eq!(run["result"]["payload"], "HI!");
    }
}

/// The README's example: a start-session function that checks the password a client sends in
/// its `authParams` against the user's `password` secret.
const PASSWORD_CHECK: &str = r#"
async function handleEvent(event: { username: string, authParams: { password?: string } }, context) {
    const users = context.getUserApi();
    const found = await users.listUsers(undefined, undefined, undefined, event.username);
    const user = found.data._embedded?.users?.[0];
    if (!user) throw new Error('unknown user ' + event.username);
    const secret = await users.retrieveUserSecret(user.id, 'password');
    if (secret.data.secret !== event.authParams?.password) throw new Error('wrong password');
    return { display_name: 'Checked ' + event.username, properties: { checked: true } };
}
"#;

#[tokio::test]
async fn the_start_session_function_lets_in_a_secured_user_with_the_right_password_only() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let ada = app.create_chat_user(&token, json!({"name": "ada"})).await;
    let r = app
        .pput(
            &format!("/users/{}/secrets/password", ada["id"]),
            &token,
            json!({"secret": "correct horse"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let function = deploy(&app, &token, "user.attempted.start_session", PASSWORD_CHECK).await;

    let mut c = StompClient::connect(&app, &app.api_key).await;
    let f = c
        .connect_with_auth("ada", &json!({"password": "correct horse"}))
        .await;
    assert_eq!(f.command, Command::Connected, "{}", f.describe());
    let me = c.relay("/application/user.relay", &[]).await;
    assert_eq!(me["name"], "ada", "{me}");
    assert_eq!(me["displayName"], "Checked ada", "{me}");
    assert_eq!(me["isGuest"], false, "{me}");
    assert_eq!(me["properties"]["checked"], true, "{me}");

    for (name, params, why) in [
        ("ada", json!({"password": "wrong"}), "wrong password"),
        ("ada", json!({}), "wrong password"),
        ("nobody", json!({"password": "x"}), "unknown user nobody"),
    ] {
        let mut c = StompClient::connect(&app, &app.api_key).await;
        let f = c.connect_with_auth(name, &params).await;
        let message = assert_stomp_error(&f, "AccessDeniedError");
        assert!(message.contains(why), "{message}");
        assert!(c.is_closed(WAIT).await);
    }
    let r = app.pget("/users?name=nobody", &token).await;
    assert_eq!(r.body["page"]["total_elements"], 0, "{}", r.text);

    let runs = invocations(&app, &token, function).await;
    let statuses: Vec<&str> = runs.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["SUCCEEDED", "FAILED", "FAILED", "FAILED"]);
    assert_eq!(runs[0]["args"]["username"], "ada");
    // The password is not kept in the record.
    assert_eq!(
        runs[0]["args"]["authParams"],
        json!({"password": "[redacted]"})
    );
    assert!(!runs.iter().any(|r| r.to_string().contains("correct horse")));
}

#[tokio::test]
async fn a_start_session_function_may_make_the_user_and_a_slow_or_crashing_one_denies() {
    let app = crate::spawn_with(|c| c.function_session_timeout_millis = 1_000).await;
    let token = app.platform_token().await;
    let script = r#"
        async function handleEvent(event) {
            if (event.username === 'slow') { while (true) {} }
            if (event.username === 'crash') { process.exit(3); }
            if (event.username === 'refused') return false;
            return { displayName: 'New ' + event.username, properties: { source: 'function' },
                     displayPictureUrl: 'https://pictures.example.com/' + event.username + '.png' };
        }
    "#;
    deploy(&app, &token, "user.attempted.start_session", script).await;

    let mut c = StompClient::connect(&app, &app.api_key).await;
    let f = c.connect_with_auth("newcomer", &json!({})).await;
    assert_eq!(f.command, Command::Connected, "{}", f.describe());
    let r = app.pget("/users?name=newcomer", &token).await;
    let user = &r.body["_embedded"]["users"][0];
    assert_eq!(user["display_name"], "New newcomer", "{}", r.text);
    assert_eq!(user["properties"]["source"], "function", "{}", r.text);
    assert_eq!(
        user["display_picture_url"], "https://pictures.example.com/newcomer.png",
        "{}",
        r.text
    );
    // ChatKitty's own spelling, in both namings.
    assert_eq!(user["isGuest"], false, "{}", r.text);

    for (name, why) in [
        ("slow", "timed out after 1000 ms"),
        ("crash", "denied the session"),
        ("refused", "refused the session"),
    ] {
        let mut c = StompClient::connect(&app, &app.api_key).await;
        let f = c.connect_with_auth(name, &json!({})).await;
        let message = assert_stomp_error(&f, "AccessDeniedError");
        assert!(message.contains(why), "{name}: {message}");
    }
    // After a worker was killed, the next start is decided again.
    let mut c = StompClient::connect(&app, &app.api_key).await;
    let f = c.connect_with_auth("newcomer", &json!({})).await;
    assert_eq!(f.command, Command::Connected, "{}", f.describe());
}

#[tokio::test]
async fn each_non_blocking_trigger_runs_its_function_with_its_event() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let p = AppPrincipal {
        application_id: app.app_id,
        organisation_id: app.org_id.clone(),
    };
    let platform = &app.services.platform;
    // Each function answers what its event told it.
    let script = "async function handleEvent(e) {
        return { type: e.type, user: e.user ? e.user.name : null,
                 channel: e.channel ? e.channel.name : null,
                 message: e.message ? e.message.body : null,
                 extra: e.reaction ? e.reaction.emoji
                      : e.event ? e.event.type
                      : e.notification ? typeof e.notification.body
                      : e.readReceipt ? e.readReceipt.user_id
                      : null };
    }";
    let triggers = [
        "user.received.notification",
        "user.read.message",
        "user.reacted_to.message",
        "user.received.channel_invite",
        "user.triggered.event",
        "user.started.chat_session",
    ];
    let mut functions = Vec::new();
    for t in triggers {
        functions.push(deploy(&app, &token, t, script).await);
    }
    let alice = app.create_chat_user(&token, json!({"name": "alice"})).await;
    let alice_id = alice["id"].as_i64().unwrap();
    app.create_chat_user(&token, json!({"name": "bob"})).await;
    app.create_chat_user(&token, json!({"name": "carol"})).await;
    let r = app
        .ppost(
            "/channels",
            &token,
            json!({"type": "PRIVATE", "name": "den",
                   "members": [{"username": "alice"}, {"username": "bob"}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let den = r.body["id"].as_i64().unwrap();

    // bob writes; alice is notified, reads it and reacts to it.
    let r = app
        .ppost(
            &format!("/channels/{den}/messages"),
            &token,
            json!({"type": "TEXT", "body": "psst", "user": {"username": "bob"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let message = r.body["id"].as_i64().unwrap();
    platform
        .drain_notifications(&p)
        .await
        .map_err(|e| e.into_domain())
        .unwrap();
    platform
        .read_message(&p, alice_id, message)
        .await
        .map_err(|e| e.into_domain())
        .unwrap();
    let thumbs = palaver_service::platform::Emoji::parse("👍").unwrap();
    platform
        .react(&p, alice_id, message, &thumbs)
        .await
        .map_err(|e| e.into_domain())
        .unwrap();
    // carol is invited; alice triggers a custom event and opens a chat session.
    let r = app
        .ppost(
            &format!("/channels/{den}/invites"),
            &token,
            json!({"user": {"username": "carol"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    platform
        .send_channel_event(
            &p,
            den,
            Some(alice_id),
            &json!({"type": "wave", "properties": {}}),
        )
        .await
        .map_err(|e| e.into_domain())
        .unwrap();
    let alice_row = platform
        .get_user(&p, alice_id)
        .await
        .map_err(|e| e.into_domain())
        .unwrap();
    let session = platform
        .start_user_session(&p, &alice_row, "test", None)
        .await
        .map_err(|e| e.into_domain())
        .unwrap();
    platform
        .start_chat_session(&p, &session, den)
        .await
        .map_err(|e| e.into_domain())
        .unwrap();
    settle(&app).await;

    let expected = [
        json!({"type": "user.received.notification", "user": "alice", "channel": null,
               "message": null, "extra": "string"}),
        json!({"type": "user.read.message", "user": "alice", "channel": "den",
               "message": "psst", "extra": alice_id}),
        json!({"type": "user.reacted_to.message", "user": "alice", "channel": "den",
               "message": "psst", "extra": "👍"}),
        json!({"type": "user.received.channel_invite", "user": "carol", "channel": "den",
               "message": null, "extra": null}),
        json!({"type": "user.triggered.event", "user": "alice", "channel": "den",
               "message": null, "extra": "wave"}),
        json!({"type": "user.started.chat_session", "user": "alice", "channel": "den",
               "message": null, "extra": null}),
    ];
    for (function, want) in functions.iter().zip(expected) {
        let runs = invocations(&app, &token, *function).await;
        assert_eq!(runs.len(), 1, "{want}: {runs:?}");
        assert_eq!(runs[0]["status"], "SUCCEEDED", "{}", runs[0]);
        assert_eq!(runs[0]["result"]["payload"], want);
    }
}

#[tokio::test]
async fn without_node_functions_are_managed_and_their_runs_fail_saying_why() {
    let app = crate::spawn_with(|c| c.node_path = "/nonexistent/bin/node".into()).await;
    let token = app.platform_token().await;
    let script = "async function handleEvent() { return 1; }";
    let event_function = deploy(&app, &token, "system.triggered.event", script).await;
    deploy(&app, &token, "user.attempted.start_session", script).await;
    let channel = channel_with_bob(&app, &token).await;
    let r = app
        .ppost(
            &format!("/channels/{channel}/events"),
            &token,
            json!({"type": "ping", "properties": {}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    settle(&app).await;
    let runs = invocations(&app, &token, event_function).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["status"], "FAILED");
    assert_eq!(
        runs[0]["error"],
        "Node.js not found at /nonexistent/bin/node"
    );

    // A secured session cannot be decided, so it is refused with the reason.
    let mut c = StompClient::connect(&app, &app.api_key).await;
    let f = c.connect_with_auth("bob", &json!({})).await;
    let message = assert_stomp_error(&f, "AccessDeniedError");
    assert!(message.contains("Node.js not found"), "{message}");
}
