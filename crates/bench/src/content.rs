//! The content API suite: 100,000 flakes in one bot; list and count published ones, alone and
//! while a writer changes the flakes of other bots of the organisation (or of the same bot).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use palaver_store::Db;
use serde_json::json;

use crate::{compare, load, mixed, seed, Args, Server};

/// Which bots the mixed scenarios' writer writes to.
#[derive(Clone, Copy)]
enum Writes {
    None,
    /// Other bots of the same organisation.
    OtherBots,
    /// The bot the load reads.
    SameBot,
}

/// The other bots the writer takes turns on.
const OTHER_BOTS: usize = 4;

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
    let reads = [
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
    let rate = args.mixed_writes_per_second;
    let mut others = Vec::new();
    let mut notes = Vec::new();
    load::header();
    for writes in [Writes::None, Writes::OtherBots, Writes::SameBot] {
        for (read, path, (k, v)) in &reads {
            let name = match writes {
                Writes::None => read.to_string(),
                Writes::OtherBots => format!("mixed: {read}, {rate} writes/s to other bots"),
                Writes::SameBot => format!("mixed: {read}, {rate} writes/s to the same bot"),
            };
            if !args.runs(&name) {
                continue;
            }
            let targets = match writes {
                Writes::None => Vec::new(),
                Writes::SameBot => vec![bot.clone()],
                Writes::OtherBots => {
                    while others.len() < OTHER_BOTS {
                        others.push(load::create_bot(&client, base, &token).await?);
                    }
                    others.clone()
                }
            };
            let stop = Arc::new(AtomicBool::new(false));
            let writer = (!targets.is_empty()).then(|| {
                tokio::spawn(mixed::writer(
                    client.clone(),
                    base.clone(),
                    token.clone(),
                    targets,
                    rate,
                    stop.clone(),
                ))
            });
            let make = |base: &str| {
                let mut url = reqwest::Url::parse(&format!("{base}{path}"))?;
                url.query_pairs_mut().append_pair(k, v);
                anyhow::Ok(load::get_with_token(url, "KTL-Access-Token", token.clone()))
            };
            let measured = compare::scenario(
                &client,
                server,
                args.concurrency,
                Duration::from_secs(args.seconds),
                args.rounds,
                make,
            )
            .await?;
            stop.store(true, Ordering::Relaxed);
            let name = match writer {
                Some(w) => {
                    let w = w.await?;
                    format!("{name} (made {:.1}/s, {} failed)", w.per_second, w.errors)
                }
                None => name,
            };
            measured.print(&name, args.concurrency);
            notes.extend(measured.note.map(|n| format!("{name}, {n}")));
        }
    }
    for n in notes {
        println!("{n}");
    }
    Ok(())
}
