//! `palaver-bench`: loads a spawned Palaver with concurrent HTTP or StompX clients on loopback and
//! prints requests/s, latency percentiles and memory. Figures go to BENCHMARKS.md; nothing here
//! is a test.

/// The same allocator as the `palaver` binary, so the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod automation;
mod baseline;
mod compare;
mod content;
mod fanout;
mod functions;
mod gateway;
mod imports;
mod load;
mod messages;
mod mixed;
mod platform_api;
mod procs;
mod seed;
mod stomp;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use palaver::{App, Config};

/// Which API the run measures.
#[derive(Clone, Copy, ValueEnum)]
enum Suite {
    /// Content API: list and count flakes, alone and while a writer changes flakes (`mixed`).
    Content,
    /// Platform API: send messages, page history.
    Messages,
    /// Real-time gateway (a `palaver serve` child process) against a bare WebSocket broadcast
    /// baseline: idle memory, fan-out, connection setup.
    Gateway,
    /// Bulk imports (users, messages) and hosted-file transfers against a `palaver serve` child
    /// process: elements/s, MiB/s and the server's peak memory.
    Imports,
    /// Chat functions on the `node` workers of a `palaver serve` child process: invocation
    /// latency on a warm worker, cold starts, throughput, what a start-session function adds
    /// to a session start, and the workers' memory.
    Functions,
    /// Content automation against a `palaver serve` child process: a content channel run over
    /// many web sources (fixture feeds served by this program) in items/s and memory, and the
    /// latency from publishing a flake to its message on the gateway.
    ContentAutomation,
    /// The baseline WebSocket server of the gateway suite (run by it as a child process).
    #[value(hide = true)]
    BaselineServer,
}

/// What surrounds each request of the content and messages suites' server.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Layers {
    /// Request spans with request ids, metrics, and the rate limiters (at rates no load here
    /// reaches, so every request is checked and none refused): as served.
    On,
    /// None of them: the baseline that shows what they cost.
    Off,
    /// Only the request middleware (span, request id, the log subscriber the span goes to; its
    /// HTTP series record nothing without a recorder): to tell the layers' costs apart.
    Spans,
    /// Only the metrics recorder (store timings, the upkeep task; the HTTP series are recorded
    /// by the request middleware, off here).
    Metrics,
    /// Only the rate limiters.
    Limits,
}

impl Layers {
    fn spans(self) -> bool {
        matches!(self, Layers::On | Layers::Spans)
    }

    fn metrics(self) -> bool {
        matches!(self, Layers::On | Layers::Metrics)
    }

    fn limits(self) -> bool {
        matches!(self, Layers::On | Layers::Limits)
    }
}

#[derive(Parser)]
#[command(about = "Load benchmarks of Palaver")]
pub struct Args {
    #[arg(long, value_enum, default_value = "content")]
    suite: Suite,
    /// The content and messages suites: request spans, metrics and rate limiters on (as
    /// served) or off.
    #[arg(long, value_enum, default_value = "on")]
    layers: Layers,
    /// Flakes loaded into the benchmark bot (content suite).
    #[arg(long, default_value_t = 100_000)]
    flakes: usize,
    /// Messages of history to page through at the second size (messages suite; the first is 10,000).
    #[arg(long, default_value_t = 1_000_000)]
    history_messages: usize,
    /// Writes per second the content suite's mixed scenarios make while the load reads
    /// (flakes created and updated, in other bots of the organisation or in the read bot).
    #[arg(long, default_value_t = 50)]
    mixed_writes_per_second: u32,
    /// Concurrent client connections.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Measured seconds per scenario (after a 2 s warm-up); with `--compare`, per window.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// The content and messages suites: also serve the same services and database on a second
    /// listener without any layer, and measure each read scenario in alternating windows on the
    /// two (`--rounds` of `--seconds` each), so that the machine's drift falls on both alike:
    /// the layers `--layers` names against none.
    #[arg(long)]
    compare: bool,
    /// Rounds of `--compare`: windows on each listener per read scenario.
    #[arg(long, default_value_t = 8)]
    rounds: usize,
    /// Database URL; a fresh SQLite file in a temporary folder when absent. A PostgreSQL
    /// database must be empty.
    #[arg(long)]
    database_url: Option<String>,
    /// Run only the scenarios whose name contains this text (starting with `^`: whose name
    /// starts with the rest).
    #[arg(long)]
    only: Option<String>,
    /// Turn the server's read cache off (every request reaches the database).
    #[arg(long)]
    no_read_cache: bool,
    /// Server worker threads.
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
    /// The `palaver` binary the gateway suite runs (default: beside this one).
    #[arg(long)]
    palaver_bin: Option<PathBuf>,
    /// Idle sessions whose memory the gateway suite measures.
    #[arg(long, default_value_t = 10_000)]
    idle_connections: usize,
    /// Clients the gateway suite's connection setup scenario starts.
    #[arg(long, default_value_t = 1_000)]
    setup_clients: usize,
    /// Users the imports suite imports at its larger size (the smaller is a tenth).
    #[arg(long, default_value_t = 100_000)]
    import_users: usize,
    /// Messages the imports suite imports at its larger size (the smaller is a tenth).
    #[arg(long, default_value_t = 1_000_000)]
    import_messages: usize,
    /// Size of the file the imports suite uploads and downloads, in MiB.
    #[arg(long, default_value_t = 100)]
    file_mb: usize,
    /// Invocations the functions suite times one at a time on a warm worker (and sends at once
    /// for its throughput).
    #[arg(long, default_value_t = 500)]
    invocations: usize,
    /// Worker cold starts the functions suite times.
    #[arg(long, default_value_t = 10)]
    cold_starts: usize,
    /// Session starts the functions suite times for each kind of session.
    #[arg(long, default_value_t = 200)]
    sessions: usize,
    /// Job workers of the functions and content automation suites' servers
    /// (`PALAVER_JOB_WORKERS`; the server's default is 2): they run the invocations and the
    /// chat posts of published flakes.
    #[arg(long, default_value_t = 2)]
    job_workers: usize,
    /// Sources of each keyword of the content automation suite's channel.
    #[arg(long, default_value_t = 20)]
    feed_sources: usize,
    /// Keywords of the content automation suite's channel.
    #[arg(long, default_value_t = 5)]
    feed_keywords: usize,
    /// Items of each fixture feed (all of them mention their keyword).
    #[arg(long, default_value_t = 20)]
    feed_items: usize,
    /// Flakes the content automation suite publishes one at a time and times into chat.
    #[arg(long, default_value_t = 200)]
    publishes: usize,
    /// Threads of the gateway suite's load generator.
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
}

impl Args {
    /// Whether `--only` lets the scenario `name` run.
    pub fn runs(&self, name: &str) -> bool {
        match self.only.as_deref() {
            None => true,
            Some(o) => match o.strip_prefix('^') {
                Some(start) => name.starts_with(start),
                None => name.contains(o),
            },
        }
    }
}

/// The running server: where it listens, its organisation, its runtime.
pub struct Server {
    pub base: String,
    /// With `--compare`: a second listener over the same services, without the layers.
    pub bare: Option<String>,
    pub org_id: String,
    pub rt: tokio::runtime::Runtime,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    match args.suite {
        Suite::Gateway => return gateway::run(&args),
        Suite::Imports => return imports::run(&args),
        Suite::Functions => return functions::run(&args),
        Suite::ContentAutomation => return automation::run(&args),
        Suite::BaselineServer => return baseline::serve(),
        Suite::Content | Suite::Messages => {}
    }
    let dir = tempfile::tempdir()?;
    let database_url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let config = Config {
        listen: "127.0.0.1:0".parse()?,
        database_url,
        max_connections: 16,
        bcrypt_cost: 4,
        bootstrap_email: Some("bench@example.com".into()),
        bootstrap_password: Some("bench-password".into()),
        bootstrap_client_id: Some(messages::CLIENT_ID.into()),
        bootstrap_client_secret: Some(messages::CLIENT_SECRET.into()),
        read_cache: args.no_read_cache.then_some(false),
        files_url: dir.path().join("files").display().to_string(),
        metrics_enabled: args.layers.metrics(),
        ..Config::default()
    };
    // The limiters check every request, at rates the load never reaches (`off`: no limiters).
    let rate = if args.layers.limits() { 1_000_000 } else { 0 };
    let config = Config {
        rate_limit_platform_per_second: rate,
        rate_limit_platform_burst: rate,
        rate_limit_content_token_per_second: rate,
        rate_limit_content_token_burst: rate,
        rate_limit_ip_per_second: rate,
        rate_limit_ip_burst: rate,
        rate_limit_login_per_second: rate,
        rate_limit_login_burst: rate,
        ..config
    };

    // As served: request spans go to the server's log subscriber (stderr, `info` unless
    // `PALAVER_LOG` says otherwise), without which a span is nothing to create or enter.
    if args.layers.spans() {
        palaver::logging::init_from_env().map_err(anyhow::Error::msg)?;
    }
    // The server gets its own runtime and threads; the load generator runs on this thread.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.server_threads)
        .enable_all()
        .build()?;
    let (addr, org_id, services, bare): (SocketAddr, String, _, _) = rt.block_on(async {
        let mut app = App::build(config).await?;
        app.request_spans = args.layers.spans();
        let boot = app
            .bootstrap()
            .await?
            .context("an empty database is needed")?;
        let services = app.services.clone();
        let (addr, server) = app.serve(std::future::pending()).await?;
        tokio::spawn(server);
        let bare = if args.compare {
            Some(serve_bare(&services).await?)
        } else {
            None
        };
        anyhow::Ok((addr, boot.account.organisation_id, services, bare))
    })?;
    let server = Server {
        base: format!("http://{addr}"),
        bare: bare.map(|a| format!("http://{a}")),
        org_id,
        rt,
    };
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    client_rt.block_on(async {
        match args.suite {
            Suite::Content => content::run(&args, &server, services.db.clone()).await?,
            Suite::Messages => messages::run(&args, &server, services).await?,
            Suite::Gateway
            | Suite::Imports
            | Suite::Functions
            | Suite::ContentAutomation
            | Suite::BaselineServer => {}
        }
        println!(
            "peak RSS (server + load generator): {} MiB",
            load::peak_rss_mib()
        );
        anyhow::Ok(())
    })
}

/// Serves the HTTP faces over `services` without the layers: no request spans or series, the
/// rate limits off; the same listener, body limits and routes as the served one otherwise.
async fn serve_bare(services: &palaver_service::Services) -> anyhow::Result<SocketAddr> {
    let limits = palaver_api::Limits::new(
        &palaver_api::RateLimitConfig::off(),
        &palaver_api::BodyLimitConfig::default(),
    );
    let router = palaver_api::router_with(
        services.clone(),
        None,
        &limits,
        &palaver_api::DocsConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(palaver::listener::serve(
        listener,
        router,
        palaver::ServeLimits::default(),
        std::future::pending(),
    ));
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::Args;

    #[test]
    fn only_matches_a_part_of_a_name_or_with_a_caret_its_start() {
        let all = Args::parse_from(["palaver-bench"]);
        assert!(all.runs("list publish"));
        let part = Args::parse_from(["palaver-bench", "--only", "list publish"]);
        assert!(part.runs("list publish, created DESC"));
        assert!(part.runs("mixed: list publish, created DESC"));
        assert!(!part.runs("count publish"));
        let start = Args::parse_from(["palaver-bench", "--only", "^list publish"]);
        assert!(start.runs("list publish, created DESC"));
        assert!(!start.runs("mixed: list publish, created DESC"));
        // A caret anywhere but first is an ordinary character.
        let caret = Args::parse_from(["palaver-bench", "--only", "a^b"]);
        assert!(caret.runs("xa^by"));
        assert!(!caret.runs("ab"));
    }
}
