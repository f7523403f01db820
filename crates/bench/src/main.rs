//! `palaver-bench`: loads a spawned Palaver with concurrent HTTP clients on loopback and prints
//! requests/s and latency percentiles. Figures go to BENCHMARKS.md; nothing here is a test.

/// The same allocator as the `palaver` binary, so the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod load;
mod seed;

use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use palaver::{App, Config};
use serde_json::json;

#[derive(Parser)]
#[command(about = "Benchmarks of the content API")]
struct Args {
    /// Flakes loaded into the benchmark bot.
    #[arg(long, default_value_t = 100_000)]
    flakes: usize,
    /// Concurrent client connections.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Measured seconds per scenario (after a 2 s warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Database URL; a fresh SQLite file in a temporary folder when absent.
    #[arg(long)]
    database_url: Option<String>,
    /// Run only the scenarios whose name contains this text.
    #[arg(long)]
    only: Option<String>,
    /// Turn the server's read cache off (every request reaches the database).
    #[arg(long)]
    no_read_cache: bool,
    /// Server worker threads.
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
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
        read_cache: args.no_read_cache.then_some(false),
        ..Config::default()
    };

    // The server gets its own runtime and threads; the load generator runs on this thread.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.server_threads)
        .enable_all()
        .build()?;
    let (addr, org_id, db) = server_rt.block_on(async {
        let app = App::build(config).await?;
        let boot = app.bootstrap().await?.context("fresh database expected")?;
        let db = app.services.db.clone();
        let (addr, server) = app.serve(std::future::pending()).await?;
        tokio::spawn(server);
        anyhow::Ok((addr, boot.account.organisation_id, db))
    })?;
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    client_rt.block_on(async {
        let base = format!("http://{addr}");
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(args.concurrency)
            .build()?;
        let token = load::login(&client, &base, "bench@example.com", "bench-password").await?;
        let bot = load::create_bot(&client, &base, &token).await?;
        let started = std::time::Instant::now();
        let loaded = server_rt
            .spawn(seed::flakes(db, org_id, bot.clone(), args.flakes))
            .await??;
        println!(
            "loaded {loaded} flakes in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let filter = json!({"where": {"status": "publish"}, "order": "created DESC", "limit": 10});
        let scenarios = [
            (
                "list publish, created DESC, limit 10",
                format!("/api/bots/{bot}/flakes"),
                Some(("filter", filter.to_string())),
            ),
            (
                "count publish",
                format!("/api/bots/{bot}/flakes/count"),
                Some(("where", json!({"status": "publish"}).to_string())),
            ),
        ];
        println!("| scenario | concurrency | requests/s | p50 ms | p99 ms | errors |");
        println!("|---|---|---|---|---|---|");
        for (name, path, query) in scenarios {
            if args.only.as_deref().is_some_and(|o| !name.contains(o)) {
                continue;
            }
            let mut url = reqwest::Url::parse(&format!("{base}{path}"))?;
            if let Some((k, v)) = query {
                url.query_pairs_mut().append_pair(k, &v);
            }
            let r = load::run(
                &client,
                url,
                &token,
                args.concurrency,
                Duration::from_secs(args.seconds),
            )
            .await;
            println!(
                "| {name} | {} | {:.0} | {:.2} | {:.2} | {} |",
                args.concurrency, r.per_second, r.p50_ms, r.p99_ms, r.errors
            );
        }
        println!(
            "peak RSS (server + load generator): {} MiB",
            load::peak_rss_mib()
        );
        anyhow::Ok(())
    })
}
