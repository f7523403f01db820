//! The content automation suite, against `palaver serve` run as a child process: one content
//! channel run over many web sources (feeds served by a fixture server inside this process),
//! timed from its run record and from the request, with the server's memory; and the latency
//! from publishing a flake by hand to its message reaching a gateway session listening to the
//! subscribed chat channel.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use palaver_domain::time::parse_date;
use palaver_gateway::frame::Command;
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::platform_api::PlatformApi;
use crate::procs::{self, Server};
use crate::stomp::Stomp;
use crate::{load, Args};

/// The keywords a channel's sources are read for, as many as `--feed-keywords` asks (cycled
/// with a number past the fifth).
const KEYWORDS: [&str; 5] = ["rust", "sqlite", "chat", "robots", "gardens"];

/// How long one published flake may take to reach the gateway before it counts as missed.
const DELIVERY_WAIT: Duration = Duration::from_secs(30);

pub fn run(args: &Args) -> anyhow::Result<()> {
    let bin = match &args.palaver_bin {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("palaver"),
    };
    let workers = args.job_workers.max(1).to_string();
    let env = [
        ("PALAVER_JOB_WORKERS", workers.as_str()),
        ("PALAVER_OUTBOUND_ALLOW_PRIVATE", "true"),
    ];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        if args.runs("channel run") {
            let server = procs::spawn_palaver_with(&bin, args.database_url.as_deref(), &env)?;
            channel_runs(args, &server).await?;
            server.report_warnings("channel runs");
        }
        if args.runs("publish") {
            let server = procs::spawn_palaver_with(&bin, args.database_url.as_deref(), &env)?;
            publish_latency(args, &server).await?;
            server.report_warnings("publish to chat");
        }
        anyhow::Ok(())
    })
}

fn keywords(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match KEYWORDS.get(i) {
            Some(k) => (*k).to_string(),
            None => format!("{}{i}", KEYWORDS[i % KEYWORDS.len()]),
        })
        .collect()
}

/// A feed's format, by source number: RSS 2.0, Atom and JSON Feed in turn.
fn format_of(source: usize) -> &'static str {
    ["rss", "atom", "json"][source % 3]
}

/// The feed of source `s` for `keyword`: `items` items, each mentioning the keyword, each with
/// its own link and id (so every one makes a flake on a first run).
fn feed(s: usize, keyword: &str, items: usize) -> (&'static str, String) {
    let link = |i: usize| format!("http://feeds.example/{s}/{keyword}/{i}");
    let title = |i: usize| format!("{keyword} news {s}-{i}");
    let text = |i: usize| format!("What happened in {keyword} today, part {i} from source {s}.");
    match format_of(s) {
        "rss" => {
            let mut out = format!(
                r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Source {s}</title>"#
            );
            for i in 0..items {
                out.push_str(&format!(
                    "<item><title>{}</title><link>{}</link><description>{}</description>\
                     <guid>rss-{s}-{keyword}-{i}</guid></item>",
                    title(i),
                    link(i),
                    text(i)
                ));
            }
            out.push_str("</channel></rss>");
            ("application/rss+xml", out)
        }
        "atom" => {
            let mut out = format!(
                r#"<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Source {s}</title><id>urn:source:{s}</id><updated>2024-01-01T00:00:00Z</updated>"#
            );
            for i in 0..items {
                out.push_str(&format!(
                    r#"<entry><title>{}</title><id>urn:atom:{s}:{keyword}:{i}</id><updated>2024-01-01T00:00:00Z</updated><link rel="alternate" href="{}"/><summary>{}</summary></entry>"#,
                    title(i),
                    link(i),
                    text(i)
                ));
            }
            out.push_str("</feed>");
            ("application/atom+xml", out)
        }
        _ => {
            let items: Vec<Value> = (0..items)
                .map(|i| {
                    json!({"id": format!("json-{s}-{keyword}-{i}"), "url": link(i),
                           "title": title(i), "content_text": text(i)})
                })
                .collect();
            let body = json!({"version": "https://jsonfeed.org/version/1.1",
                              "title": format!("Source {s}"), "items": items});
            ("application/feed+json", body.to_string())
        }
    }
}

/// The fixture feeds, made once: `(source, keyword)` to content type and body.
type Feeds = HashMap<(usize, String), (&'static str, String)>;

#[derive(Clone)]
struct Fixture {
    feeds: Arc<Feeds>,
    served: Arc<AtomicU64>,
}

async fn serve_feed(
    State(f): State<Fixture>,
    Query(q): Query<HashMap<String, String>>,
) -> axum::response::Response {
    let s = q.get("s").and_then(|s| s.parse::<usize>().ok());
    let k = q.get("q").cloned().unwrap_or_default();
    match s.and_then(|s| f.feeds.get(&(s, k))) {
        Some((kind, body)) => {
            f.served.fetch_add(1, Ordering::Relaxed);
            ([(header::CONTENT_TYPE, *kind)], body.clone()).into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such feed").into_response(),
    }
}

/// Starts the fixture server on 127.0.0.1 (on this thread's runtime, idle but for the run's
/// fetches); answers where it listens and a count of the feeds it served.
async fn fixtures(feeds: Feeds) -> anyhow::Result<(SocketAddr, Arc<AtomicU64>)> {
    let served = Arc::new(AtomicU64::new(0));
    let state = Fixture {
        feeds: Arc::new(feeds),
        served: served.clone(),
    };
    let app = Router::new()
        .route("/feed", get(serve_feed))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((addr, served))
}

/// The content API as the bootstrap account.
struct ContentApi {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl ContentApi {
    async fn login(base: &str) -> anyhow::Result<ContentApi> {
        let client = reqwest::Client::new();
        let token = load::login(&client, base, "bench@example.com", "bench-password").await?;
        Ok(ContentApi {
            client,
            base: base.to_string(),
            token,
        })
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
            .header("KTL-Access-Token", &self.token)
            .json(&body)
            .send()
            .await?;
        let status = res.status();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status.is_success(), "{path}: {status} {v}");
        Ok(v)
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, path, body).await
    }

    async fn bot(&self) -> anyhow::Result<String> {
        load::create_bot(&self.client, &self.base, &self.token).await
    }
}

/// What one channel run measured.
struct RunOutcome {
    /// From the run record's `started` to its `ended`, in seconds.
    record_s: f64,
    /// From sending `POST …/run` to its answer, in seconds.
    wall_s: f64,
    fetched: u64,
    created: u64,
    skipped: u64,
    errors: u64,
    sources: usize,
    served: u64,
    rss_before_kib: u64,
    rss_after_kib: u64,
    peak_kib: u64,
    /// The server's CPU time over the request, in seconds.
    cpu_s: f64,
}

impl RunOutcome {
    fn row(&self, name: &str) {
        let per = |n: u64, s: f64| if s > 0.0 { n as f64 / s } else { 0.0 };
        let mib = |k: u64| k as f64 / 1024.0;
        println!(
            "| {name} | {} ({} served) | {} | {} | {} | {} | {:.3} | {:.3} | {:.0} | {:.0} | {:.2} | {:.1} | {:.1} | {:.1} |",
            self.sources,
            self.served,
            self.fetched,
            self.created,
            self.skipped,
            self.errors,
            self.record_s,
            self.wall_s,
            per(self.fetched, self.wall_s),
            per(self.created, self.wall_s),
            self.cpu_s,
            mib(self.rss_before_kib),
            mib(self.rss_after_kib),
            mib(self.peak_kib),
        );
    }
}

/// A channel of `--feed-keywords` keywords × `--feed-sources` sources, run twice: first every
/// item is new, then every item is taken already.
async fn channel_runs(args: &Args, server: &Server) -> anyhow::Result<()> {
    let words = keywords(args.feed_keywords);
    let mut feeds = Feeds::new();
    for s in 0..args.feed_sources {
        for k in &words {
            feeds.insert((s, k.clone()), feed(s, k, args.feed_items));
        }
    }
    let bytes: usize = feeds.values().map(|(_, b)| b.len()).sum();
    let (addr, served) = fixtures(feeds).await?;
    let api = ContentApi::login(&server.base).await?;
    let bot = api.bot().await?;
    api.post(
        &format!("/api/bots/{bot}/categories"),
        json!({"name": "News", "slug": "news"}),
    )
    .await?;
    let keyword_source: Vec<Value> = words
        .iter()
        .map(|k| {
            let sources: Vec<Value> = (0..args.feed_sources)
                .map(|s| {
                    json!({"name": format!("Source {s} ({})", format_of(s)),
                           "value": format!("http://{addr}/feed?s={s}&q={{keyword}}")})
                })
                .collect();
            json!({"keyword": k, "source": sources})
        })
        .collect();
    let channel = api
        .post(
            &format!("/api/bots/{bot}/channels"),
            json!({"name": "Bench news", "category": ["News"], "keywordSource": keyword_source}),
        )
        .await?;
    let channel = channel["id"].as_str().context("channel id")?.to_string();
    println!(
        "\nchannel: {} keywords × {} sources, {} items a feed ({} KiB of feeds in all), {} job workers",
        words.len(),
        args.feed_sources,
        args.feed_items,
        bytes / 1024,
        args.job_workers.max(1)
    );
    println!(
        "| run | sources (fetches served) | items fetched | flakes created | skipped | errors | \
         run record s | request s | items/s | flakes/s | server CPU s | RSS before MiB | \
         RSS after MiB | peak RSS MiB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for name in ["first run (all new)", "second run (all taken)"] {
        let o = run_once(&api, server, &bot, &channel, &served).await?;
        o.row(name);
    }
    let count: Value = api
        .call(
            reqwest::Method::GET,
            &format!("/api/bots/{bot}/flakes/count"),
            Value::Null,
        )
        .await?;
    println!("(the bot holds {} flakes)", count["count"]);
    Ok(())
}

async fn run_once(
    api: &ContentApi,
    server: &Server,
    bot: &str,
    channel: &str,
    served: &AtomicU64,
) -> anyhow::Result<RunOutcome> {
    let served_before = served.load(Ordering::Relaxed);
    let rss_before_kib = server.rss_kib()?;
    // The peak is the run's own when the kernel lets the high-water mark be reset.
    let reset = server.reset_peak_rss();
    let machine = procs::Machine::now(server.pid);
    let started = Instant::now();
    let r = api
        .post(
            &format!("/api/bots/{bot}/channels/{channel}/run"),
            json!({}),
        )
        .await?;
    let wall_s = started.elapsed().as_secs_f64();
    let share = machine.since(server.pid);
    anyhow::ensure!(r["status"] == "finished", "the run did not finish: {r}");
    let at = |k: &str| r[k].as_str().and_then(parse_date);
    let record_s = match (at("started"), at("ended")) {
        (Some(a), Some(b)) => (b - a) as f64 / 1000.0,
        _ => anyhow::bail!("the run record has no start or end: {r}"),
    };
    let n = |k: &str| r[k].as_u64().unwrap_or(0);
    let peak_kib = server.peak_rss_kib()?;
    if !reset {
        eprintln!("(the peak RSS is the server's since it started: VmHWM could not be reset)");
    }
    Ok(RunOutcome {
        record_s,
        wall_s,
        fetched: n("fetched"),
        created: n("flakes_created"),
        skipped: n("skipped"),
        errors: n("errors"),
        sources: r["sources"].as_array().map_or(0, Vec::len),
        served: served.load(Ordering::Relaxed) - served_before,
        rss_before_kib,
        rss_after_kib: server.rss_kib()?,
        peak_kib,
        cpu_s: share.server_micros as f64 / 1e6,
    })
}

/// Percentile `q` of sorted `v` (nearest rank), in milliseconds.
fn pct(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1;
    v[i]
}

/// The marker a flake's title carries, found in the body of the message it becomes.
fn marker(i: usize) -> String {
    format!("flake#{i}#")
}

/// `--publishes` flakes published one at a time into a subscribed category of a linked bot;
/// each is timed from sending its `POST` to its message arriving on a gateway session that
/// listens to the subscribed channel.
async fn publish_latency(args: &Args, server: &Server) -> anyhow::Result<()> {
    let content = ContentApi::login(&server.base).await?;
    let platform = PlatformApi::new(&server.base).await?;
    let bot = content.bot().await?;
    let category = content
        .post(
            &format!("/api/bots/{bot}/categories"),
            json!({"name": "News", "slug": "news"}),
        )
        .await?;
    let category = category["id"].as_str().context("category id")?.to_string();
    let app = platform
        .call(reqwest::Method::GET, "/application", None)
        .await?;
    let app_id = app["id"].as_i64().context("application id")?;
    platform
        .call(
            reqwest::Method::PUT,
            "/application/settings",
            Some(json!({"guest_users": "ENABLED"})),
        )
        .await?;
    content
        .call(
            reqwest::Method::PATCH,
            &format!("/api/bots/{bot}"),
            json!({"application_id": app_id}),
        )
        .await?;
    let room = platform
        .call(
            reqwest::Method::POST,
            "/channels",
            Some(json!({"type": "PUBLIC", "name": "news-room",
                        "properties": {"flake_categories": ["news"]}})),
        )
        .await?;
    let room = room["id"].as_i64().context("channel id")?;
    let mut listener = Stomp::open(&server.base, &server.api_key).await?;
    listener.connect_as("reader").await?;
    listener
        .listen("sub-0", &format!("/topic/channels/{room}/messages"))
        .await?;

    let path = format!("/api/bots/{bot}/flakes");
    let mut to_gateway = Vec::with_capacity(args.publishes);
    let mut to_answer = Vec::with_capacity(args.publishes);
    let mut after_answer = Vec::with_capacity(args.publishes);
    let mut missed = 0usize;
    let mut others = 0usize;
    let machine = procs::Machine::now(server.pid);
    let rss_before_kib = server.rss_kib()?;
    let all = Instant::now();
    for i in 0..args.publishes {
        let mark = marker(i);
        let body = json!({"title": format!("Headline {mark}"),
                          "description": format!("What happened, number {i}."),
                          "category": [category], "status": "publish"});
        let sent = Instant::now();
        content.post(&path, body).await?;
        let answered = Instant::now();
        let deadline = sent + DELIVERY_WAIT;
        let seen = loop {
            let Ok(f) = listener.next_frame(deadline).await else {
                break None;
            };
            if f.command != Command::Message {
                continue;
            }
            let text = String::from_utf8_lossy(&f.body);
            if text.contains(&mark) {
                break Some(Instant::now());
            }
            others += 1;
        };
        match seen {
            Some(at) => {
                to_gateway.push((at - sent).as_secs_f64() * 1000.0);
                after_answer.push((at - answered).as_secs_f64() * 1000.0);
            }
            None => missed += 1,
        }
        to_answer.push((answered - sent).as_secs_f64() * 1000.0);
    }
    let elapsed = all.elapsed().as_secs_f64();
    let share = machine.since(server.pid);
    // Every flake became one message in the channel: the history says so too.
    let page = platform
        .call(
            reqwest::Method::GET,
            &format!("/channels/{room}/messages?size=1"),
            None,
        )
        .await?;
    let newest = page["_embedded"]["messages"][0]["body"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if !newest.contains(&marker(args.publishes.saturating_sub(1))) {
        eprintln!("warning: the newest message of the channel is {newest:?}");
    }
    listener.close().await;
    for v in [&mut to_gateway, &mut to_answer, &mut after_answer] {
        v.sort_by(f64::total_cmp);
    }
    println!(
        "\npublish to chat: {} flakes, one at a time, {} job workers; heard on the gateway \
         (a session subscribed to the channel's messages); {:.1} s in all; {share}",
        args.publishes,
        args.job_workers.max(1),
        elapsed
    );
    println!("| measured | flakes | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|");
    for (name, v) in [
        ("publish (POST sent) → message on the gateway", &to_gateway),
        ("POST /api/bots/{id}/flakes answered", &to_answer),
        ("POST answered → message on the gateway", &after_answer),
    ] {
        println!(
            "| {name} | {} | {:.2} | {:.2} | {:.2} |",
            v.len(),
            pct(v, 0.50),
            pct(v, 0.99),
            v.last().copied().unwrap_or(0.0)
        );
    }
    println!(
        "(missed: {missed}; other messages heard: {others}; server CPU {:.1} ms a flake; \
         server RSS {:.1} → {:.1} MiB)",
        share.server_micros as f64 / 1000.0 / args.publishes.max(1) as f64,
        rss_before_kib as f64 / 1024.0,
        server.rss_kib()? as f64 / 1024.0
    );
    Ok(())
}
