//! The gateway suite: StompX sessions against `palaver serve` run as a child process, each
//! scenario beside the same one against the bare broadcast baseline (also a child process), on a
//! fresh server of each: resident memory of idle sessions, fan-out latency and delivery, and
//! the rate at which sessions start.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use futures_util::{stream, SinkExt, StreamExt, TryStreamExt};
use serde_json::{json, Value};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::baseline::{PING, PONG, READY};
use crate::fanout::{self, pct_ms, Post};
use crate::messages::{CLIENT_ID, CLIENT_SECRET};
use crate::procs::{self, Server};
use crate::stomp::{self, Stomp, SETUP_WAIT};
use crate::Args;

/// Connections opened at once while setting a scenario up (not measured).
const OPENING: usize = 64;

/// The fan-out scenarios: subscribers and messages a second.
const FANOUTS: [(usize, u32); 2] = [(1_000, 20), (5_000, 10)];

/// The fan-out scenario run while sessions connect: subscribers, messages a second, sessions
/// that connect meanwhile.
const STORM: (usize, u32, usize) = (1_000, 20, 5_000);

/// Frame size for the baseline when the gateway delivered nothing to measure.
const DEFAULT_FRAME_BYTES: usize = 1_500;

/// Time given to a server to finish what connecting or disconnecting set off before its
/// memory is read.
const SETTLE: Duration = Duration::from_secs(3);

fn palaver_bin(args: &Args) -> anyhow::Result<PathBuf> {
    match &args.palaver_bin {
        Some(p) => Ok(p.clone()),
        None => Ok(std::env::current_exe()?.with_file_name("palaver")),
    }
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let largest = FANOUTS.iter().map(|f| f.0).max().unwrap_or(0);
    let connections = args.idle_connections.max(largest).max(args.setup_clients);
    // Each connection is a socket here and one in the server; a margin for the rest.
    procs::raise_open_files(connections as u64 + 1_000)?;
    let rt = if args.client_threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.client_threads)
            .enable_all()
            .build()?
    };
    rt.block_on(suite(args))
}

async fn suite(args: &Args) -> anyhow::Result<()> {
    let bin = palaver_bin(args)?;
    // Scenario names, for `--only`: "<section> gateway|baseline".
    let want = |section: &str| {
        (
            args.runs(&format!("{section} gateway")),
            args.runs(&format!("{section} baseline")),
        )
    };
    let (gateway, baseline) = want("idle memory");
    if gateway || baseline {
        let n = args.idle_connections;
        println!("\n### Idle sessions: resident memory of the server process\n");
        println!(
            "| server | connections | RSS before MiB | RSS with connections MiB | per connection KiB |"
        );
        println!("|---|---|---|---|---|");
        let stages = [Stage::Subscribed, Stage::Connected, Stage::Open];
        for stage in stages.into_iter().filter(|_| gateway) {
            let server = procs::spawn_palaver(&bin)?;
            let m = idle_gateway(&server, n, stage).await?;
            m.row(stage.name(), n);
            server.report_warnings(stage.name());
        }
        if baseline {
            let server = procs::spawn_baseline()?;
            let m = idle_baseline(&server, n).await?;
            m.row("baseline: WebSocket hearing the broadcast", n);
            server.report_warnings("baseline");
        }
    }
    for (subscribers, rate) in FANOUTS {
        let (gateway, baseline) = want(&format!("fan-out {subscribers}"));
        if !gateway && !baseline {
            continue;
        }
        println!("\n### Fan-out: {subscribers} subscribers, {rate} messages/s\n");
        fanout_header();
        let mut frame_bytes = DEFAULT_FRAME_BYTES;
        if gateway {
            let server = procs::spawn_palaver(&bin)?;
            let o = fanout_gateway(&server, subscribers, rate, args.seconds, 0).await?;
            fanout_row("gateway", rate, &o);
            server.report_warnings("gateway fan-out");
            // The baseline sends frames of the size the gateway sent.
            if o.frame_bytes > 0 {
                frame_bytes = o.frame_bytes;
            }
            eprintln!("(gateway frames: {frame_bytes} bytes on average)");
        }
        if baseline {
            let server = procs::spawn_baseline()?;
            let o = fanout_baseline(&server, subscribers, rate, args.seconds, frame_bytes).await?;
            fanout_row("baseline", rate, &o);
            server.report_warnings("baseline fan-out");
        }
    }
    let storm = STORM.0;
    if args.runs(&format!("fan-out {storm} during connects gateway")) {
        let (subscribers, rate, connects) = STORM;
        println!(
            "\n### Fan-out while {connects} more sessions connect: {subscribers} subscribers, \
             {rate} messages/s\n"
        );
        fanout_header();
        let server = procs::spawn_palaver(&bin)?;
        let o = fanout_gateway(&server, subscribers, rate, args.seconds, connects).await?;
        fanout_row("gateway", rate, &o);
        server.report_warnings("gateway fan-out during connects");
    }
    let (gateway, baseline) = want("setup");
    if gateway || baseline {
        let n = args.setup_clients;
        println!("\n### Connection setup: {n} clients\n");
        println!(
            "| server | what a client does | in flight | sessions/s | p50 ms | p99 ms | errors |"
        );
        println!("|---|---|---|---|---|---|---|");
        for in_flight in [args.concurrency, n] {
            if gateway {
                setup_gateway(&bin, n, in_flight, in_flight == args.concurrency).await?;
            }
            if baseline {
                let server = procs::spawn_baseline()?;
                let s = setup(&server, n, in_flight, |_| baseline_ping(&server)).await?;
                s.row("baseline", "handshake, one echoed message", in_flight);
            }
        }
    }
    Ok(())
}

/// Connection setup on a fresh gateway: `n` new guests, then (when `again`) the same users
/// once more, as on reconnection.
async fn setup_gateway(
    bin: &std::path::Path,
    n: usize,
    in_flight: usize,
    again: bool,
) -> anyhow::Result<()> {
    let server = procs::spawn_palaver(bin)?;
    Rest::new(&server.base).await?;
    let s = setup(&server, n, in_flight, |i| {
        gateway_session(&server, format!("new-{i}"))
    })
    .await?;
    s.row("gateway", "new guest: CONNECT, user relay", in_flight);
    if again {
        drop(s);
        tokio::time::sleep(SETTLE).await;
        let s = setup(&server, n, in_flight, |i| {
            gateway_session(&server, format!("new-{i}"))
        })
        .await?;
        s.row("gateway", "existing user: CONNECT, user relay", in_flight);
    }
    server.report_warnings("gateway setup");
    Ok(())
}

/// The platform API of a spawned Palaver, as its bootstrap application, with guest users on.
struct Rest {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Rest {
    async fn new(base: &str) -> anyhow::Result<Rest> {
        let client = reqwest::Client::new();
        let grant: Value = client
            .post(format!("{base}/oauth/token"))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await?
            .json()
            .await?;
        let token = grant["access_token"]
            .as_str()
            .context("no access token")?
            .to_string();
        let rest = Rest {
            client,
            base: base.to_string(),
            token,
        };
        rest.call(
            reqwest::Method::PUT,
            "/application/settings",
            json!({"guest_users": "ENABLED"}),
        )
        .await?;
        Ok(rest)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let res = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        let status = res.status();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status.is_success(), "{path}: {status} {v}");
        Ok(v)
    }

    async fn user(&self, name: &str) -> anyhow::Result<()> {
        self.call(
            reqwest::Method::POST,
            "/users",
            json!({"name": name, "display_name": name, "is_guest": false}),
        )
        .await?;
        Ok(())
    }

    /// A PUBLIC channel (any session may listen to it) made by `creator` (its member).
    async fn channel(&self, name: &str, creator: &str) -> anyhow::Result<i64> {
        let c = self
            .call(
                reqwest::Method::POST,
                "/channels",
                json!({"type": "PUBLIC", "name": name, "creator": {"username": creator}}),
            )
            .await?;
        c["id"].as_i64().context("channel id")
    }

    /// The body of the channel's newest message.
    async fn newest_body(&self, channel: i64) -> anyhow::Result<String> {
        let page: Value = self
            .client
            .get(format!("{}/channels/{channel}/messages?size=1", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?
            .json()
            .await?;
        Ok(page["_embedded"]["messages"][0]["body"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }
}

fn topic(channel: i64) -> String {
    format!("/topic/channels/{channel}/messages")
}

/// Opens `n` connections with `make`, `in_flight` at a time.
async fn open_all<F, Fut>(n: usize, in_flight: usize, make: F) -> anyhow::Result<Vec<Stomp>>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Stomp>>,
{
    stream::iter(0..n)
        .map(make)
        .buffer_unordered(in_flight)
        .try_collect()
        .await
}

/// A gateway session of `username` listening to `channel`'s messages.
async fn subscriber(server: &Server, username: String, channel: i64) -> anyhow::Result<Stomp> {
    let mut c = Stomp::open(&server.base, &server.api_key).await?;
    c.connect_as(&username).await?;
    c.listen("sub-0", &topic(channel)).await?;
    Ok(c)
}

/// A baseline socket that hears the broadcast.
async fn baseline_socket(server: &Server) -> anyhow::Result<Stomp> {
    let url = format!("{}/ws", server.base.replacen("http://", "ws://", 1));
    let mut ws = stomp::open(&url, false).await?;
    // The server says when it listens for us (its first message, before any frame).
    let first = tokio::time::timeout(SETUP_WAIT, ws.next()).await?;
    match first {
        Some(Ok(Message::Text(t))) if t.as_str() == READY => Ok(Stomp::wrap(ws)),
        other => anyhow::bail!("the baseline did not say it was ready: {other:?}"),
    }
}

struct Memory {
    before_kib: u64,
    with_kib: u64,
}

impl Memory {
    fn row(&self, name: &str, n: usize) {
        let per = (self.with_kib as f64 - self.before_kib as f64) / n as f64;
        println!(
            "| {name} | {n} | {:.1} | {:.1} | {per:.1} |",
            self.before_kib as f64 / 1024.0,
            self.with_kib as f64 / 1024.0,
        );
    }
}

fn own_rss_kib() -> u64 {
    procs::rss_kib("/proc/self/status").unwrap_or(0)
}

/// Reads the server's memory before `open` opens its connections and with them idle.
async fn measure_idle<Fut>(server: &Server, open: Fut) -> anyhow::Result<Memory>
where
    Fut: std::future::Future<Output = anyhow::Result<Vec<Stomp>>>,
{
    tokio::time::sleep(SETTLE).await;
    let before_kib = server.rss_kib()?;
    let own = own_rss_kib();
    let conns = open.await?;
    tokio::time::sleep(SETTLE).await;
    let with_kib = server.rss_kib()?;
    // The load generator's own cost (meaningful in its first scenario: later ones reuse what
    // its allocator kept).
    let generator = own_rss_kib().saturating_sub(own) as f64 / conns.len().max(1) as f64;
    eprintln!("(load generator: {generator:.1} KiB more per connection)");
    drop(conns);
    Ok(Memory {
        before_kib,
        with_kib,
    })
}

/// How far the idle gateway connections of a memory scenario go.
#[derive(Clone, Copy, PartialEq)]
enum Stage {
    /// The WebSocket is open; no CONNECT yet.
    Open,
    /// CONNECT answered: a session of an existing user.
    Connected,
    /// And listening to a channel's messages (the figure the target is about).
    Subscribed,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Open => "gateway: WebSocket open, no CONNECT",
            Stage::Connected => "gateway: session (CONNECT)",
            Stage::Subscribed => "gateway: session listening to a channel's messages",
        }
    }
}

/// `n` connections of users that exist already (made over REST first, so that their rows are
/// not counted), taken as far as `stage`.
async fn idle_gateway(server: &Server, n: usize, stage: Stage) -> anyhow::Result<Memory> {
    let rest = Rest::new(&server.base).await?;
    rest.user("owner").await?;
    let channel = rest.channel("idle", "owner").await?;
    let started = Instant::now();
    stream::iter(0..n)
        .map(|i| {
            let rest = &rest;
            async move { rest.user(&format!("idle-{i}")).await }
        })
        .buffer_unordered(32)
        .try_collect::<()>()
        .await?;
    eprintln!(
        "(made {n} users in {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    let open = async {
        let started = Instant::now();
        let conns = open_all(n, OPENING, |i| async move {
            let mut c = Stomp::open(&server.base, &server.api_key).await?;
            if stage != Stage::Open {
                c.connect_as(&format!("idle-{i}")).await?;
            }
            if stage == Stage::Subscribed {
                c.listen("sub-0", &topic(channel)).await?;
            }
            Ok(c)
        })
        .await?;
        eprintln!(
            "(opened {n} connections in {:.1} s)",
            started.elapsed().as_secs_f64()
        );
        Ok(conns)
    };
    measure_idle(server, open).await
}

async fn idle_baseline(server: &Server, n: usize) -> anyhow::Result<Memory> {
    let open = open_all(n, OPENING, |_| baseline_socket(server));
    measure_idle(server, open).await
}

fn fanout_header() {
    println!(
        "| server | subscribers | messages/s | messages | delivered | out of order | p50 ms | p99 ms | max ms | server CPU µs per delivery |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
}

fn fanout_row(name: &str, rate: u32, o: &fanout::Outcome) {
    eprintln!("({name}: {})", o.machine);
    println!(
        "| {name} | {} | {rate} | {} | {:.2} % | {} | {:.2} | {:.2} | {:.2} | {:.1} |",
        o.subscribers,
        o.sent,
        o.delivered_pct(),
        o.out_of_order,
        o.p50_ms,
        o.p99_ms,
        o.max_ms,
        o.cpu_us_per_delivery,
    );
}

/// A gateway fan-out; when `connects` > 0, that many more sessions (new guests, each listening
/// to its own user's channels) start once the measured messages do.
async fn fanout_gateway(
    server: &Server,
    subscribers: usize,
    rate: u32,
    seconds: u64,
    connects: usize,
) -> anyhow::Result<fanout::Outcome> {
    let rest = Rest::new(&server.base).await?;
    rest.user("sender").await?;
    let channel = rest.channel("fan-out", "sender").await?;
    let started = Instant::now();
    let subs = open_all(subscribers, OPENING, |i| {
        subscriber(server, format!("fan-{i}"), channel)
    })
    .await?;
    eprintln!(
        "(opened {subscribers} sessions in {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    let mut sender = Stomp::open(&server.base, &server.api_key).await?;
    sender.connect_as("sender").await?;
    sender.listen("errors", "/user/queue/errors").await?;
    let post = Post::Action {
        dest: format!("/application/channels/{channel}/message.action"),
    };
    let storm = async {
        if connects == 0 {
            return anyhow::Ok(Vec::new());
        }
        tokio::time::sleep(fanout::WARMUP).await;
        let started = Instant::now();
        let conns = open_all(connects, OPENING, |i| async move {
            let mut c = Stomp::open(&server.base, &server.api_key).await?;
            c.connect_as(&format!("storm-{i}")).await?;
            c.listen("channels", "/user/topic/channels").await?;
            Ok(c)
        })
        .await?;
        eprintln!(
            "(opened {connects} more sessions in {:.1} s, during the fan-out)",
            started.elapsed().as_secs_f64()
        );
        Ok(conns)
    };
    let run = fanout::run(subs, sender, post, rate, seconds, server.pid);
    let (o, storm) = tokio::join!(run, storm);
    let (o, _storm) = (o?, storm?);
    // Every message was stored: the newest in the channel is the last one sent.
    let newest = rest.newest_body(channel).await?;
    let stored = newest.starts_with(&format!("bench#{}#", o.sent));
    if !stored || o.receipts != o.sent || o.send_errors > 0 {
        eprintln!(
            "warning: {} of {} sends answered, {} errors, newest stored message {newest:?}",
            o.receipts, o.sent, o.send_errors
        );
    }
    Ok(o)
}

async fn fanout_baseline(
    server: &Server,
    subscribers: usize,
    rate: u32,
    seconds: u64,
    frame_bytes: usize,
) -> anyhow::Result<fanout::Outcome> {
    let subs = open_all(subscribers, OPENING, |_| baseline_socket(server)).await?;
    let sender = baseline_socket(server).await?;
    let post = Post::Text { len: frame_bytes };
    fanout::run(subs, sender, post, rate, seconds, server.pid).await
}

/// What a connection setup run measured; holds the connections open until dropped.
struct Setup {
    per_second: f64,
    latencies: Vec<u32>,
    errors: usize,
    _open: Vec<Stomp>,
}

impl Setup {
    fn row(&self, server: &str, what: &str, in_flight: usize) {
        println!(
            "| {server} | {what} | {in_flight} | {:.0} | {:.2} | {:.2} | {} |",
            self.per_second,
            pct_ms(&self.latencies, 0.50),
            pct_ms(&self.latencies, 0.99),
            self.errors
        );
    }
}

/// Sets `n` clients up with `make`, `in_flight` at a time, timing each from its first byte to
/// its last awaited answer.
async fn setup<F, Fut>(
    server: &Server,
    n: usize,
    in_flight: usize,
    make: F,
) -> anyhow::Result<Setup>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Stomp>>,
{
    let machine = procs::Machine::now(server.pid);
    let started = Instant::now();
    let results: Vec<(u32, anyhow::Result<Stomp>)> = stream::iter(0..n)
        .map(|i| {
            let made = make(i);
            async move {
                let t = Instant::now();
                let c = made.await;
                (t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32, c)
            }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!("({})", machine.since(server.pid));
    let mut latencies = Vec::with_capacity(n);
    let mut open = Vec::with_capacity(n);
    let mut errors = 0;
    for (micros, c) in results {
        match c {
            Ok(c) => {
                latencies.push(micros);
                open.push(c);
            }
            Err(e) => {
                if errors == 0 {
                    eprintln!("setup failed: {e:#}");
                }
                errors += 1;
            }
        }
    }
    latencies.sort_unstable();
    Ok(Setup {
        per_second: latencies.len() as f64 / elapsed,
        latencies,
        errors,
        _open: open,
    })
}

/// A gateway session as a client starts one: CONNECT, then the current user's relay.
async fn gateway_session(server: &Server, username: String) -> anyhow::Result<Stomp> {
    let mut c = Stomp::open(&server.base, &server.api_key).await?;
    c.connect_as(&username).await?;
    c.relay("me", "/application/user.relay").await?;
    Ok(c)
}

/// A baseline socket that has had one message answered.
async fn baseline_ping(server: &Server) -> anyhow::Result<Stomp> {
    let mut c = baseline_socket(server).await?;
    c.ws.send(Message::Text(PING.into())).await?;
    loop {
        match tokio::time::timeout(SETUP_WAIT, c.ws.next()).await? {
            Some(Ok(Message::Text(t))) if t.as_str() == PONG => return Ok(c),
            Some(Ok(_)) => {}
            other => anyhow::bail!("no answer from the baseline: {other:?}"),
        }
    }
}
