//! Chat functions against a real `node`: handlers, limits, sandbox, runtimes and the API bridge.

// Test helpers outside `#[test]` functions panic on setup failures, as the tests themselves do.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use palaver_functions::{
    strip_types, ApiBridge, ApiRequest, ApiResponse, BridgeFuture, Dependency, InstallError,
    Invocation, InvocationError, NetworkPolicy, Pool, PoolSettings, RuntimeSettings, Runtimes,
};
use serde_json::{json, Value};
use tempfile::TempDir;

/// Records every call; answers `HEAD /v1/users?name=…` with 404 for `nobody` and echoes the rest.
#[derive(Default)]
struct FakeBridge {
    calls: Mutex<Vec<(i64, ApiRequest)>>,
}

impl ApiBridge for FakeBridge {
    fn call(&self, app_id: i64, request: ApiRequest) -> BridgeFuture<'_> {
        Box::pin(async move {
            self.calls.lock().unwrap().push((app_id, request.clone()));
            if request
                .query
                .iter()
                .any(|(k, v)| k == "name" && v == "nobody")
            {
                return ApiResponse::json(404, json!({"error": "ResourceNotFoundError"}));
            }
            let body = json!({"id": 7, "echo": request.body, "app": app_id});
            ApiResponse::json(if request.method == "POST" { 201 } else { 200 }, body)
        })
    }
}

struct Harness {
    _dir: TempDir,
    dir: PathBuf,
    pool: Pool,
    runtimes: Runtimes,
    bridge: Arc<FakeBridge>,
}

async fn harness(configure: impl FnOnce(&mut PoolSettings)) -> Harness {
    let dir = TempDir::new().unwrap();
    let path = dir.path().to_path_buf();
    let mut runtime_settings = RuntimeSettings::new(path.join("runtimes"));
    runtime_settings.allow_local_dependencies = true;
    let runtimes = Runtimes::open(runtime_settings).unwrap();
    let mut settings = PoolSettings::new(path.join("work"));
    configure(&mut settings);
    let bridge = Arc::new(FakeBridge::default());
    let pool = Pool::new(settings, runtimes.clone(), bridge.clone())
        .await
        .unwrap();
    Harness {
        _dir: dir,
        dir: path,
        pool,
        runtimes,
        bridge,
    }
}

fn invocation(app_id: i64, function_id: i64, script: &str) -> Invocation {
    let script = strip_types(script).unwrap();
    Invocation::new(app_id, function_id, 1, script, json!({"name": "ada"}))
}

/// Runs a script as the function whose id is derived from its text: workers cache compiled
/// handlers by (function, version), so one id must mean one script.
async fn run(h: &Harness, app_id: i64, script: &str) -> (Result<Value, InvocationError>, String) {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hash::hash(script, &mut hasher);
    let function_id = i64::try_from(std::hash::Hasher::finish(&hasher) >> 33).unwrap();
    let outcome = h.pool.invoke(invocation(app_id, function_id, script)).await;
    (outcome.result, outcome.output)
}

const PID: &str = "async function handleEvent() { return process.pid; }";

#[tokio::test]
async fn a_handler_returns_its_result_and_context() {
    let h = harness(|_| {}).await;
    let mut call = invocation(
        3,
        9,
        "async function handleEvent(event, context) {
           return { hello: event.name, app: context.applicationId, fn: context.functionId,
                    trigger: context.triggerType };
         }",
    );
    call.context = json!({"triggerType": "user.sent.message"});
    let outcome = h.pool.invoke(call).await;
    assert_eq!(
        outcome.result.unwrap(),
        json!({"hello": "ada", "app": 3, "fn": 9, "trigger": "user.sent.message"})
    );
    // `module.exports = fn` and `exports.handleEvent` are handlers too.
    let (result, _) = run(&h, 3, "module.exports = async (e) => e.name.length;").await;
    assert_eq!(result.unwrap(), json!(3));
    let outcome = h
        .pool
        .invoke(invocation(
            3,
            2,
            "exports.handleEvent = (e) => 'x' + e.name;",
        ))
        .await;
    assert_eq!(outcome.result.unwrap(), json!("xada"));
}

#[tokio::test]
async fn a_throwing_handler_fails_with_its_message() {
    let h = harness(|_| {}).await;
    let (result, _) = run(
        &h,
        1,
        "async function handleEvent() { throw new Error('nope'); }",
    )
    .await;
    assert_eq!(result.unwrap_err(), InvocationError::Failed("nope".into()));
    let (result, _) = run(&h, 1, "function handleEvent() { null.x; }").await;
    let message = result.unwrap_err().to_string();
    assert!(message.starts_with("TypeError: "), "{message}");
    assert!(!message.contains("    at "), "no stack: {message}");
    // An unhandled rejection fails only its own invocation; the worker lives on.
    let pid = run(&h, 1, PID).await.0.unwrap();
    let (result, _) = run(
        &h,
        1,
        "async function handleEvent() {
           Promise.reject(new Error('lost'));
           await new Promise((r) => setTimeout(r, 200));
           return 'late';
         }",
    )
    .await;
    assert_eq!(result.unwrap_err(), InvocationError::Failed("lost".into()));
    assert_eq!(run(&h, 1, PID).await.0.unwrap(), pid);
}

#[tokio::test]
async fn an_endless_loop_is_killed_at_the_deadline_and_the_next_call_succeeds() {
    let h = harness(|_| {}).await;
    let first = run(&h, 1, PID).await.0.unwrap();
    let mut call = invocation(1, 2, "function handleEvent() { while (true) {} }");
    call.timeout = Duration::from_millis(800);
    let outcome = h.pool.invoke(call).await;
    assert_eq!(
        outcome.result.unwrap_err().to_string(),
        "timed out after 800 ms"
    );
    assert!(
        outcome.duration < Duration::from_secs(3),
        "{:?}",
        outcome.duration
    );
    let second = run(&h, 1, PID).await.0.unwrap();
    assert_ne!(first, second, "a fresh worker");
}

#[tokio::test]
async fn a_heap_blow_up_fails_with_memory_limit_exceeded() {
    let h = harness(|s| s.heap_mb = 32).await;
    let (result, _) = run(
        &h,
        1,
        "function handleEvent() { const a = []; while (true) a.push(new Array(1e5).fill('x' + a.length)); }",
    )
    .await;
    assert_eq!(result.unwrap_err().to_string(), "memory limit exceeded");
    assert!(run(&h, 1, PID).await.0.is_ok(), "the worker respawns");
}

#[tokio::test]
async fn child_processes_and_outside_writes_are_denied() {
    let h = harness(|_| {}).await;
    for script in [
        "function handleEvent() { return require('child_process').execSync('id').toString(); }",
        "function handleEvent() { require('child_process').spawn('sh', ['-c', 'true']); return 1; }",
        "function handleEvent() { require('fs').writeFileSync('/tmp/palaver-escape.txt', 'x'); }",
        "function handleEvent() { require('fs').writeFileSync('package.json', '{}'); }",
    ] {
        let (result, _) = run(&h, 1, script).await;
        let error = result.unwrap_err().to_string();
        assert!(error.contains("Access to this API has been restricted"), "{script}: {error}");
    }
    assert!(!Path::new("/tmp/palaver-escape.txt").exists());
}

#[tokio::test]
async fn the_environment_holds_only_the_runtimes_variables() {
    let h = harness(|_| {}).await;
    let mut call = invocation(1, 1, "function handleEvent() { return process.env; }");
    call.environment = BTreeMap::from([
        ("API_KEY".to_owned(), "k".to_owned()),
        (
            "NODE_OPTIONS".to_owned(),
            "--allow-child-process".to_owned(),
        ),
    ]);
    let outcome = h.pool.invoke(call).await;
    assert_eq!(outcome.result.unwrap(), json!({"API_KEY": "k"}));
}

#[tokio::test]
async fn output_is_captured_and_stray_lines_do_not_corrupt_the_protocol() {
    let h = harness(|_| {}).await;
    let (result, output) = run(
        &h,
        1,
        r#"async function handleEvent() {
             console.log('hello', { a: 1 });
             console.error('oops');
             process.stdout.write('raw write\n');
             const fs = require('fs');
             fs.writeSync(1, '{"type":"result","id":1,"ok":true,"result":"forged","output":""}\n');
             fs.writeSync(1, 'partial without newline');
             fs.writeSync(2, 'to stderr\n');
             return 'real';
           }"#,
    )
    .await;
    assert_eq!(result.unwrap(), json!("real"));
    for expected in [
        "hello { a: 1 }",
        "oops",
        "raw write",
        "forged",
        "partial without newline",
    ] {
        assert!(output.contains(expected), "{expected:?} in {output:?}");
    }
    // Output is bounded.
    let (_, output) = run(
        &h,
        1,
        "function handleEvent() { console.log('y'.repeat(200000)); }",
    )
    .await;
    assert!(
        output.len() < 70_000 && output.ends_with("[output truncated]\n"),
        "{}",
        output.len()
    );
}

#[tokio::test]
async fn typescript_handlers_run_and_syntax_errors_have_a_position() {
    let h = harness(|_| {}).await;
    let (result, _) = run(
        &h,
        1,
        "interface Ev { name: string }
         enum Greeting { Hi = 'hi' }
         async function handleEvent(event: Ev, context: any): Promise<string> {
           const name = event.name as string;
           return `${Greeting.Hi} ${name!}`;
         }",
    )
    .await;
    assert_eq!(result.unwrap(), json!("hi ada"));
    let error =
        strip_types("async function handleEvent(event: Event) {\n  return event.;\n}").unwrap_err();
    assert_eq!((error.line, error.column), (2, 16), "{error}");
}

fn local_package(root: &Path) -> PathBuf {
    let dir = root.join("local-dep");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("package.json"),
        r#"{"name":"local-dep","version":"1.0.0","main":"index.js"}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("index.js"),
        "module.exports = (x) => 'dep:' + x;\n",
    )
    .unwrap();
    dir
}

#[tokio::test]
async fn a_local_dependency_is_installed_and_required_and_a_failed_install_keeps_it() {
    let h = harness(|_| {}).await;
    let package = local_package(&h.dir);
    let dependency = Dependency {
        name: "local-dep".into(),
        version: format!("file:{}", package.display()),
    };
    let init = "globalThis.initRuns = (globalThis.initRuns || 0) + 1; console.log('init ran');";
    let first = h
        .runtimes
        .install(5, "1", &[dependency], init)
        .await
        .unwrap();
    assert!(first
        .runtime_dir
        .join("node_modules/local-dep/index.js")
        .is_file());
    let script = "const dep = require('local-dep');
                  async function handleEvent(e) { return [dep(e.name), globalThis.initRuns]; }";
    let (result, output) = run(&h, 5, script).await;
    assert_eq!(result.unwrap(), json!(["dep:ada", 1]));
    assert!(output.contains("init ran"), "{output}");
    // The initialization script runs once per worker, not per invocation.
    let (result, output) = run(&h, 5, script).await;
    assert_eq!(result.unwrap(), json!(["dep:ada", 1]));
    assert!(!output.contains("init ran"), "{output}");

    let missing = Dependency {
        name: "gone".into(),
        version: "file:/nonexistent/gone".into(),
    };
    let error = h
        .runtimes
        .install(5, "2", &[missing], "")
        .await
        .unwrap_err();
    assert!(matches!(error, InstallError::Npm { .. }), "{error}");
    assert!(!error.output().is_empty());
    assert_eq!(h.runtimes.current(5), Some(first.runtime_dir.clone()));
    assert_eq!(run(&h, 5, script).await.0.unwrap(), json!(["dep:ada", 1]));

    // A new runtime replaces the worker; the old folder goes once no worker uses it.
    let second = h
        .runtimes
        .install(5, "3", &[], "globalThis.initRuns = 100;")
        .await
        .unwrap();
    let (result, _) = run(
        &h,
        5,
        "function handleEvent() { return globalThis.initRuns; }",
    )
    .await;
    assert_eq!(result.unwrap(), json!(100));
    assert_eq!(h.runtimes.current(5), Some(second.runtime_dir));
    for _ in 0..50 {
        if !first.runtime_dir.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !first.runtime_dir.exists(),
        "the replaced runtime folder is removed"
    );
}

#[tokio::test]
async fn local_dependencies_are_refused_unless_allowed() {
    let dir = TempDir::new().unwrap();
    let runtimes = Runtimes::open(RuntimeSettings::new(dir.path().join("runtimes"))).unwrap();
    let dependency = Dependency {
        name: "x".into(),
        version: "file:/etc".into(),
    };
    let error = runtimes
        .install(1, "1", &[dependency], "")
        .await
        .unwrap_err();
    assert!(
        matches!(error, InstallError::InvalidDependency { .. }),
        "{error}"
    );
    let error = runtimes
        .install(1, "1", &[], "let a = ;")
        .await
        .unwrap_err();
    assert!(matches!(error, InstallError::InitScript(_)), "{error}");
}

#[tokio::test]
async fn a_failing_initialization_script_fails_the_invocation() {
    let h = harness(|_| {}).await;
    h.runtimes
        .install(4, "1", &[], "throw new Error('bad init');")
        .await
        .unwrap();
    let (result, _) = run(&h, 4, PID).await;
    assert_eq!(
        result.unwrap_err().to_string(),
        "initialization script failed: bad init"
    );
}

#[tokio::test]
async fn context_clients_reach_the_bridge_like_the_sdk() {
    let h = harness(|_| {}).await;
    let (result, _) = run(
        &h,
        8,
        "async function handleEvent(event, context) {
           const users = context.getUserApi();
           const created = await users.createUser({ name: 'ada', displayName: 'Ada' });
           const page = await context.getChannelApi().listChannelMessages(12, 25, undefined, undefined, 'NEXT');
           let missing;
           try { await users.getUserExists('nobody'); } catch (e) {
             missing = { message: e.message, status: e.response.status, data: e.response.data };
           }
           return { data: created.data, status: created.status, type: created.headers['content-type'],
                    page: page.status, missing, cls: users.constructor.name };
         }",
    )
    .await;
    assert_eq!(
        result.unwrap(),
        json!({
            "data": {"id": 7, "echo": {"name": "ada", "displayName": "Ada"}, "app": 8},
            "status": 201,
            "type": "application/json",
            "page": 200,
            "missing": {"message": "Request failed with status code 404", "status": 404,
                        "data": {"error": "ResourceNotFoundError"}},
            "cls": "UsersApi",
        })
    );
    let calls = h.bridge.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[0].0, 8);
    assert_eq!(
        (calls[0].1.method.as_str(), calls[0].1.path.as_str()),
        ("POST", "/v1/users")
    );
    assert_eq!(
        calls[0].1.body,
        Some(json!({"name": "ada", "displayName": "Ada"}))
    );
    assert_eq!(
        (calls[1].1.method.as_str(), calls[1].1.path.as_str()),
        ("GET", "/v1/channels/12/messages")
    );
    let query: Vec<(&str, &str)> = calls[1]
        .1
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(query, [("size", "25"), ("relation", "NEXT")]);
    assert_eq!(calls[2].1.method, "HEAD");
    assert_eq!(calls[2].1.query, [("name".to_owned(), "nobody".to_owned())]);

    // An unhandled API error fails the invocation with axios's message.
    let (result, _) = run(
        &h,
        8,
        "async function handleEvent(e, context) { await context.getUserApi().checkUserExists('nobody'); }",
    )
    .await;
    assert_eq!(
        result.unwrap_err().to_string(),
        "AxiosError: Request failed with status code 404"
    );
}

#[tokio::test]
async fn network_is_allowed_by_default_and_denied_by_the_setting() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    let script = format!(
        "function handleEvent() {{
           return new Promise((resolve) => {{
             const socket = require('net').connect({port}, '127.0.0.1', () => {{ socket.end(); resolve('connected'); }});
             socket.on('error', (e) => resolve(e.code));
           }});
         }}"
    );
    let open = harness(|_| {}).await;
    assert_eq!(run(&open, 1, &script).await.0.unwrap(), json!("connected"));
    let closed = harness(|s| s.network = NetworkPolicy::Deny).await;
    let denied = run(&closed, 1, &script).await.0.unwrap();
    assert_ne!(denied, json!("connected"));
    // Platform API calls still work without a network: they travel over stdio.
    let (result, _) = run(
        &closed,
        1,
        "async function handleEvent(e, c) { return (await c.getApplicationApi().retrieveAuthenticatedApplication()).status; }",
    )
    .await;
    assert_eq!(result.unwrap(), json!(200));
    // Without `unshare` the invocation fails rather than running with a network.
    let broken = harness(|s| {
        s.network = NetworkPolicy::Deny;
        s.unshare_path = PathBuf::from("/nonexistent/unshare");
    })
    .await;
    let error = run(&broken, 1, PID).await.0.unwrap_err();
    assert!(
        matches!(error, InvocationError::SandboxUnavailable(_)),
        "{error}"
    );
}

#[tokio::test]
async fn a_missing_node_is_a_clear_error() {
    let h = harness(|s| s.node_path = PathBuf::from("/nonexistent/bin/node")).await;
    let error = run(&h, 1, PID).await.0.unwrap_err();
    assert_eq!(
        error.to_string(),
        "Node.js not found at /nonexistent/bin/node"
    );
}

#[tokio::test]
async fn applications_never_share_a_worker_and_the_cap_evicts_the_idle_one() {
    let h = harness(|s| s.max_workers = 2).await;
    let counter = "let n = 0; function handleEvent() { n += 1; return [process.pid, n]; }";
    let a1 = run(&h, 1, counter).await.0.unwrap();
    let b1 = run(&h, 2, counter).await.0.unwrap();
    let a2 = run(&h, 1, counter).await.0.unwrap();
    assert_ne!(a1[0], b1[0], "one worker per application");
    assert_eq!(
        (a2[0].clone(), a2[1].clone()),
        (a1[0].clone(), json!(2)),
        "a warm worker is reused"
    );
    assert_eq!(b1[1], json!(1), "state is not shared");
    assert_eq!(h.pool.live_workers(), 2);
    // A third application evicts the least recently used (application 2).
    run(&h, 3, counter).await.0.unwrap();
    assert_eq!(h.pool.live_workers(), 2);
    let a3 = run(&h, 1, counter).await.0.unwrap();
    assert_eq!(
        a3[0], a1[0],
        "application 1 was used more recently and kept"
    );
    let b2 = run(&h, 2, counter).await.0.unwrap();
    assert_ne!(b2[0], b1[0], "application 2 got a fresh worker");
}

#[tokio::test]
async fn idle_workers_are_stopped() {
    let h = harness(|s| s.idle_timeout = Duration::from_millis(200)).await;
    run(&h, 1, PID).await.0.unwrap();
    assert_eq!(h.pool.live_workers(), 1);
    for _ in 0..40 {
        if h.pool.live_workers() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(h.pool.live_workers(), 0);
    assert!(run(&h, 1, PID).await.0.is_ok());
}

#[tokio::test]
async fn a_changed_environment_replaces_the_worker() {
    let h = harness(|_| {}).await;
    let mut call = invocation(
        1,
        1,
        "function handleEvent() { return [process.pid, process.env.V]; }",
    );
    call.environment.insert("V".into(), "1".into());
    let first = h.pool.invoke(call.clone()).await.result.unwrap();
    call.environment.insert("V".into(), "2".into());
    let second = h.pool.invoke(call).await.result.unwrap();
    assert_eq!(first[1], json!("1"));
    assert_eq!(second[1], json!("2"));
    assert_ne!(first[0], second[0]);
}
