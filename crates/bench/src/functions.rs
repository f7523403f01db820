//! The functions suite: chat functions on the `node` workers of a `palaver serve` child process
//! that runs its own jobs. Measures the latency of a trivial non-blocking function on a warm
//! worker (event committed → invocation done, split where the time goes), throughput with many
//! events in flight, cold starts of a worker, the time a blocking start-session function adds to
//! a session start, and the memory and `node` processes the workers cost.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use futures_util::{stream, StreamExt, TryStreamExt};
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::platform_api::PlatformApi as Api;
use crate::procs::{self, Server};
use crate::stomp::Stomp;
use crate::Args;

/// The non-blocking function: answers the event's number and when it ran, on the wall clock
/// with microseconds (`Date.now()` has whole milliseconds only).
const TRIVIAL: &str = "async function handleEvent(e) {
    return { n: e.event.properties.n, at: performance.timeOrigin + performance.now() };
}";

/// A start-session function that lets everyone in.
const ALLOW: &str = "async function handleEvent() { return {}; }";

/// The README's start-session function: checks the password the client sends against the
/// user's `password` secret, through the handler's Platform API client.
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

/// The user every measured session starts as, and the password its secret holds.
const USER: &str = "ada";
const PASSWORD: &str = "correct horse";

/// Unmeasured invocations or sessions before each measured series.
const WARMUP: usize = 20;

/// How often the load generator asks whether an invocation has ended. The figures come from
/// the invocation rows' timestamps, not from this: it only decides when the next event goes.
const POLL: Duration = Duration::from_millis(2);

/// How long one invocation, install or session may take before the run fails.
const WAIT: Duration = Duration::from_secs(60);

/// Time for the server to finish starting (or for workers to settle) before memory is read.
const SETTLE: Duration = Duration::from_secs(3);

pub fn run(args: &Args) -> anyhow::Result<()> {
    let bin = match &args.palaver_bin {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("palaver"),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(suite(args, bin))
}

async fn suite(args: &Args, bin: PathBuf) -> anyhow::Result<()> {
    let functions_dir = tempfile::tempdir()?;
    let dir = functions_dir.path().display().to_string();
    let job_workers = args.job_workers.max(1).to_string();
    let server = procs::spawn_palaver_with(
        &bin,
        None,
        &[
            ("PALAVER_FUNCTIONS_DIR", dir.as_str()),
            ("PALAVER_JOB_WORKERS", job_workers.as_str()),
        ],
    )?;
    let api = Api::new(&server.base).await?;
    tokio::time::sleep(SETTLE).await;
    let mut memory = vec![("after start, no worker yet", Memory::read(&server)?)];

    if args.runs("invocations") || args.runs("cold") {
        invocations(args, &server, &api, &mut memory).await?;
    }
    if args.runs("sessions") {
        sessions(args, &server, &api).await?;
    }

    tokio::time::sleep(SETTLE).await;
    memory.push(("at the end, workers alive", Memory::read(&server)?));
    println!("\n### Memory\n");
    println!("| when | server RSS MiB | server peak RSS MiB | node processes | their RSS MiB |");
    println!("|---|---:|---:|---:|---:|");
    for (when, m) in &memory {
        m.row(when);
    }
    server.report_warnings("functions");
    Ok(())
}

/// Non-blocking invocations: the first after the server started, warm ones one at a time,
/// many in flight, and cold starts after the runtime's environment changed.
async fn invocations(
    args: &Args,
    server: &Server,
    api: &Api,
    memory: &mut Vec<(&'static str, Memory)>,
) -> anyhow::Result<()> {
    api.user("bob").await?;
    let channel = api.channel("functions", "bob").await?;
    let function = api.deploy("system.triggered.event", TRIVIAL).await?;
    let mut n = 0;
    let first = invoke_once(api, channel, function, &mut n).await?;
    tokio::time::sleep(SETTLE).await;
    memory.push((
        "after the first invocation: one worker",
        Memory::read(server)?,
    ));

    println!("\n### Non-blocking invocations: `system.triggered.event`, one at a time\n");
    println!("| series | invocations | step | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---|---:|---:|---:|");
    if args.runs("invocations") {
        for _ in 0..WARMUP {
            invoke_once(api, channel, function, &mut n).await?;
        }
        let mut warm = Vec::with_capacity(args.invocations);
        for _ in 0..args.invocations {
            warm.push(invoke_once(api, channel, function, &mut n).await?);
        }
        Sample::rows("warm worker", &warm);
    }
    if args.runs("cold") {
        Sample::rows(
            "first after the server started",
            std::slice::from_ref(&first),
        );
        let mut cold = Vec::with_capacity(args.cold_starts);
        for round in 0..args.cold_starts {
            // A new environment retires the worker; its install (nothing to install) is the
            // server's own job. The next invocation starts a new worker.
            api.set_environment(round).await?;
            cold.push(invoke_once(api, channel, function, &mut n).await?);
        }
        Sample::rows("new worker (environment changed)", &cold);
    }
    if args.runs("invocations") {
        throughput(args, server, api, channel, function, &mut n).await?;
    }
    Ok(())
}

/// What one invocation's timestamps say, in microseconds since the epoch. The rows' own
/// timestamps have whole milliseconds: each is taken at the middle of its millisecond.
#[derive(Debug, Clone, Copy)]
struct Sample {
    /// The load generator sent `POST /channels/{id}/events`.
    sent: i64,
    /// Its `200` arrived: the event is committed.
    committed: i64,
    /// The invocation row's `created_time`: the run started (the job was picked up).
    started: i64,
    /// The handler ran (its own clock, in the worker).
    handled: i64,
    /// The row's `ended_time`: the outcome is recorded.
    ended: i64,
}

/// A step of an invocation: its name, and its length in µs from a sample's timestamps.
type Step = (&'static str, fn(&Sample) -> i64);

impl Sample {
    /// The steps of a series and what each is made of.
    const STEPS: [Step; 6] = [
        ("POST of the event (until committed)", |s| {
            s.committed - s.sent
        }),
        ("**event committed → invocation done**", |s| {
            s.ended - s.committed
        }),
        (
            "committed → run started (trigger consumer, job pickup)",
            |s| s.started - s.committed,
        ),
        ("**handler run** (run started → ended)", |s| {
            s.ended - s.started
        }),
        ("run started → handler running (worker)", |s| {
            s.handled - s.started
        }),
        ("handler returned → ended recorded", |s| {
            s.ended - s.handled
        }),
    ];

    fn rows(series: &str, samples: &[Sample]) {
        for (step, f) in Self::STEPS {
            let mut v: Vec<i64> = samples.iter().map(f).collect();
            v.sort_unstable();
            println!(
                "| {series} | {} | {step} | {:.2} | {:.2} | {:.2} |",
                samples.len(),
                pct(&v, 0.50),
                pct(&v, 0.99),
                pct(&v, 1.0),
            );
        }
    }
}

/// The `p` quantile of microseconds `sorted`, in milliseconds.
fn pct(sorted: &[i64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Microseconds of a row's timestamp, at the middle of its millisecond.
fn row_micros(row: &Value, field: &str) -> anyhow::Result<i64> {
    let text = row[field]
        .as_str()
        .with_context(|| format!("no {field}: {row}"))?;
    let ms = palaver_domain::time::parse_date(text).with_context(|| format!("{field}: {text}"))?;
    Ok(ms * 1000 + 500)
}

/// Triggers the function once (event number `n`, then counts on) and waits for its run to end.
async fn invoke_once(
    api: &Api,
    channel: i64,
    function: i64,
    n: &mut u64,
) -> anyhow::Result<Sample> {
    *n += 1;
    let (sent, committed) = api.event(channel, *n).await?;
    let deadline = Instant::now() + WAIT;
    loop {
        let page = api
            .get(&format!(
                "/functions/{function}/invocations?size=1&sort=id,desc"
            ))
            .await?;
        let row = &page["_embedded"]["invocations"][0];
        if row["args"]["event"]["properties"]["n"] == json!(*n) && !row["ended_time"].is_null() {
            return sample(row, sent, committed);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "invocation {n} did not end: {row}"
        );
        tokio::time::sleep(POLL).await;
    }
}

fn sample(row: &Value, sent: i64, committed: i64) -> anyhow::Result<Sample> {
    anyhow::ensure!(row["status"] == "SUCCEEDED", "the invocation failed: {row}");
    let at = row["result"]["payload"]["at"]
        .as_f64()
        .with_context(|| format!("no handler time: {row}"))?;
    Ok(Sample {
        sent,
        committed,
        started: row_micros(row, "created_time")?,
        handled: (at * 1000.0) as i64,
        ended: row_micros(row, "ended_time")?,
    })
}

/// `args.invocations` events posted with `args.concurrency` requests in flight; invocations a
/// second from the first request to the last run's end.
async fn throughput(
    args: &Args,
    server: &Server,
    api: &Api,
    channel: i64,
    function: i64,
    n: &mut u64,
) -> anyhow::Result<()> {
    let total = args.invocations;
    let from = *n + 1;
    *n += total as u64;
    let machine = procs::Machine::now(server.pid);
    let started = now_micros();
    let sent: Vec<(u64, i64, i64)> = stream::iter(from..from + total as u64)
        .map(|k| async move {
            let (s, c) = api.event(channel, k).await?;
            anyhow::Ok((k, s, c))
        })
        .buffer_unordered(args.concurrency)
        .try_collect()
        .await?;
    let posted = now_micros();
    // Every run of the batch, read back once all have ended (until then the newest rows may
    // hold earlier series' runs).
    let deadline = Instant::now() + WAIT;
    let of_batch = |r: &Value| {
        r["args"]["event"]["properties"]["n"]
            .as_u64()
            .is_some_and(|k| k >= from)
    };
    let rows = loop {
        let rows = api.newest_invocations(function, total).await?;
        let done = rows
            .iter()
            .filter(|r| of_batch(r) && !r["ended_time"].is_null())
            .count();
        if done == total {
            break rows;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{done} of {total} invocations ended"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let share = machine.since(server.pid);
    let mut samples = Vec::with_capacity(total);
    for row in &rows {
        let k = row["args"]["event"]["properties"]["n"]
            .as_u64()
            .unwrap_or(0);
        let Some(&(_, s, c)) = sent.iter().find(|x| x.0 == k) else {
            anyhow::bail!("invocation of an event not of the batch: {row}");
        };
        samples.push(sample(row, s, c)?);
    }
    let last = samples.iter().map(|s| s.ended).max().unwrap_or(started);
    let seconds = (last - started) as f64 / 1e6;
    println!(
        "\n### Non-blocking invocations: {total} events, {} requests in flight, {} job workers\n",
        args.concurrency,
        args.job_workers.max(1)
    );
    println!("| events | posted in s | all runs ended in s | invocations/s |");
    println!("|---:|---:|---:|---:|");
    println!(
        "| {total} | {:.2} | {seconds:.2} | {:.0} |",
        (posted - started) as f64 / 1e6,
        total as f64 / seconds
    );
    println!();
    println!("| series | invocations | step | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---|---:|---:|---:|");
    Sample::rows(&format!("{} in flight", args.concurrency), &samples);
    eprintln!("(invocations in flight: {share})");
    Ok(())
}

/// Session starts, one at a time, as the same existing user: guests allowed and no function,
/// then secured with a start-session function that allows, then one that checks a password.
async fn sessions(args: &Args, server: &Server, api: &Api) -> anyhow::Result<()> {
    let user = api.user(USER).await?;
    api.put(
        &format!("/users/{user}/secrets/password"),
        json!({"secret": PASSWORD}),
    )
    .await?;
    let n = args.sessions;
    println!("\n### Session starts: {n} one at a time, all as the existing user `{USER}`\n");
    println!(
        "| session | open → CONNECTED p50 ms | p99 ms | CONNECT → CONNECTED p50 ms | p99 ms | \
         function run p50 ms | p99 ms |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");

    api.put("/application/settings", json!({"guest_users": "ENABLED"}))
        .await?;
    let guest = session_series(server, n, None).await?;
    guest.row("guest users on, no function", None);

    api.put("/application/settings", json!({"guest_users": "DISABLED"}))
        .await?;
    let function = api.deploy("user.attempted.start_session", ALLOW).await?;
    let params = json!({"password": PASSWORD});
    let allow = session_series(server, n, Some(&params)).await?;
    let runs = api.run_times(function, 1, n).await?;
    allow.row("secured: function `return {}`", Some(&runs));

    api.version(function, PASSWORD_CHECK).await?;
    let check = session_series(server, n, Some(&params)).await?;
    let runs = api.run_times(function, 2, n).await?;
    check.row(
        "secured: the README's password check (2 Platform API calls)",
        Some(&runs),
    );
    Ok(())
}

/// Times of a series of session starts, in microseconds, sorted.
struct Sessions {
    /// From opening the WebSocket to CONNECTED.
    whole: Vec<i64>,
    /// From sending CONNECT to CONNECTED.
    connect: Vec<i64>,
}

impl Sessions {
    fn row(&self, what: &str, runs: Option<&[i64]>) {
        let runs = match runs {
            Some(r) => format!("{:.2} | {:.2}", pct(r, 0.50), pct(r, 0.99)),
            None => "– | –".into(),
        };
        println!(
            "| {what} | {:.2} | {:.2} | {:.2} | {:.2} | {runs} |",
            pct(&self.whole, 0.50),
            pct(&self.whole, 0.99),
            pct(&self.connect, 0.50),
            pct(&self.connect, 0.99),
        );
    }
}

/// `n` session starts (after [`WARMUP`] unmeasured ones) as [`USER`], one at a time, each
/// closed before the next; `params` are the `StompX-Auth-Params` (none for a guest start).
async fn session_series(
    server: &Server,
    n: usize,
    params: Option<&Value>,
) -> anyhow::Result<Sessions> {
    let mut whole = Vec::with_capacity(n);
    let mut connect = Vec::with_capacity(n);
    for i in 0..WARMUP + n {
        let t0 = Instant::now();
        let mut c = Stomp::open(&server.base, &server.api_key).await?;
        let t1 = Instant::now();
        c.connect_with_auth(USER, params).await?;
        let t2 = Instant::now();
        c.close().await;
        if i >= WARMUP {
            whole.push((t2 - t0).as_micros() as i64);
            connect.push((t2 - t1).as_micros() as i64);
        }
    }
    whole.sort_unstable();
    connect.sort_unstable();
    Ok(Sessions { whole, connect })
}

/// Resident memory of the server and of its `node` workers.
struct Memory {
    server_kib: u64,
    server_peak_kib: u64,
    nodes: usize,
    nodes_kib: u64,
}

impl Memory {
    fn read(server: &Server) -> anyhow::Result<Memory> {
        let nodes = node_processes(server.pid);
        let nodes_kib = nodes
            .iter()
            .map(|pid| procs::rss_kib(&format!("/proc/{pid}/status")).unwrap_or(0))
            .sum();
        Ok(Memory {
            server_kib: server.rss_kib()?,
            server_peak_kib: server.peak_rss_kib()?,
            nodes: nodes.len(),
            nodes_kib,
        })
    }

    fn row(&self, when: &str) {
        let mib = |kib: u64| kib as f64 / 1024.0;
        println!(
            "| {when} | {:.1} | {:.1} | {} | {:.1} |",
            mib(self.server_kib),
            mib(self.server_peak_kib),
            self.nodes,
            mib(self.nodes_kib)
        );
    }
}

/// The `node` processes descended from process `root`.
fn node_processes(root: u32) -> Vec<u32> {
    // (pid, parent, command name) of every process.
    let mut all: Vec<(u32, u32, String)> = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_string();
        let parent = stat[close + 1..]
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        all.push((pid, parent, comm));
    }
    let mut family = vec![root];
    let mut i = 0;
    while i < family.len() {
        let parent = family[i];
        family.extend(all.iter().filter(|p| p.1 == parent).map(|p| p.0));
        i += 1;
    }
    all.iter()
        .filter(|p| p.2 == "node" && family[1..].contains(&p.0))
        .map(|p| p.0)
        .collect()
}

/// What the functions suite does over REST.
impl Api {
    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }

    /// Makes user `name` (not a guest); answers its id.
    async fn user(&self, name: &str) -> anyhow::Result<i64> {
        let u = self
            .post(
                "/users",
                json!({"name": name, "display_name": name, "is_guest": false}),
            )
            .await?;
        u["id"].as_i64().context("user id")
    }

    /// A PUBLIC channel made by `creator`; answers its id.
    async fn channel(&self, name: &str, creator: &str) -> anyhow::Result<i64> {
        let c = self
            .post(
                "/channels",
                json!({"type": "PUBLIC", "name": name, "creator": {"username": creator}}),
            )
            .await?;
        c["id"].as_i64().context("channel id")
    }

    /// Creates a function on `trigger` with `script` as its first version; answers its id.
    async fn deploy(&self, trigger: &str, script: &str) -> anyhow::Result<i64> {
        let f = self
            .post(
                "/runtimes/nodejs/functions",
                json!({"type": trigger, "name": trigger, "initialize_asynchronously": false}),
            )
            .await?;
        let id = f["id"].as_i64().context("function id")?;
        self.version(id, script).await?;
        Ok(id)
    }

    /// Makes `script` the function's current version.
    async fn version(&self, function: i64, script: &str) -> anyhow::Result<()> {
        self.post(
            &format!("/functions/{function}/versions"),
            json!({"handler_script": script}),
        )
        .await?;
        Ok(())
    }

    /// Posts system event number `n` to `channel`; answers when the request left and when its
    /// answer came (µs since the epoch).
    async fn event(&self, channel: i64, n: u64) -> anyhow::Result<(i64, i64)> {
        let sent = now_micros();
        self.post(
            &format!("/channels/{channel}/events"),
            json!({"type": "bench", "properties": {"n": n}}),
        )
        .await?;
        Ok((sent, now_micros()))
    }

    /// Gives the runtime the environment `{"ROUND": round}` and waits until the server's job
    /// workers have installed that version.
    async fn set_environment(&self, round: usize) -> anyhow::Result<()> {
        let r = self
            .put(
                "/runtimes/nodejs/environment-variables",
                json!({"ROUND": round.to_string()}),
            )
            .await?;
        let version = r["version"].clone();
        let deadline = Instant::now() + WAIT;
        loop {
            let r = self.get("/runtimes/nodejs").await?;
            let installation = &r["installation"];
            if installation["state"] == "INSTALLED" && installation["installed_version"] == version
            {
                return Ok(());
            }
            anyhow::ensure!(
                installation["state"] != "FAILED" && Instant::now() < deadline,
                "the runtime was not installed: {r}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The function's newest `count` invocations (newest first).
    async fn newest_invocations(&self, function: i64, count: usize) -> anyhow::Result<Vec<Value>> {
        let mut rows = Vec::with_capacity(count);
        let mut page = 0;
        while rows.len() < count {
            let size = (count - rows.len()).min(100);
            // Pages of 100 even for the last, so that page numbers line up.
            let body = self
                .get(&format!(
                    "/functions/{function}/invocations?size=100&page={page}&sort=id,desc"
                ))
                .await?;
            let got = body["_embedded"]["invocations"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if got.is_empty() {
                break;
            }
            rows.extend(got.into_iter().take(size));
            page += 1;
        }
        Ok(rows)
    }

    /// Run times (row start → end, µs, sorted) of the newest `count` invocations of `version`.
    async fn run_times(
        &self,
        function: i64,
        version: i64,
        count: usize,
    ) -> anyhow::Result<Vec<i64>> {
        let rows = self.newest_invocations(function, count).await?;
        let mut times = Vec::with_capacity(count);
        for row in rows.iter().filter(|r| r["version_number"] == version) {
            anyhow::ensure!(row["status"] == "SUCCEEDED", "a session was denied: {row}");
            times.push(row_micros(row, "ended_time")? - row_micros(row, "created_time")?);
        }
        times.sort_unstable();
        Ok(times)
    }
}
