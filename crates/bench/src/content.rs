//! The content API suite: 100,000 flakes in one bot; list and count published ones.

use std::time::Duration;

use palaver_store::Db;
use serde_json::json;

use crate::{load, seed, Args, Server};

pub async fn run(args: &Args, server: &Server, db: Db) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let base = &server.base;
    let token = load::login(&client, base, "bench@example.com", "bench-password").await?;
    let bot = load::create_bot(&client, base, &token).await?;
    let started = std::time::Instant::now();
    let loaded = server
        .rt
        .spawn(seed::flakes(
            db,
            server.org_id.clone(),
            bot.clone(),
            args.flakes,
        ))
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
            ("filter", filter.to_string()),
        ),
        (
            "count publish",
            format!("/api/bots/{bot}/flakes/count"),
            ("where", json!({"status": "publish"}).to_string()),
        ),
    ];
    load::header();
    for (name, path, (k, v)) in scenarios {
        if args.only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let mut url = reqwest::Url::parse(&format!("{base}{path}"))?;
        url.query_pairs_mut().append_pair(k, &v);
        let make = load::get_with_token(url, "KTL-Access-Token", token.clone());
        let r = load::run(
            &client,
            make,
            args.concurrency,
            Duration::from_secs(args.seconds),
        )
        .await;
        load::row(name, args.concurrency, &r);
    }
    Ok(())
}
