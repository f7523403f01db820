//! The messages suite: the newest history page (size 50) of a channel and of the application at
//! two history sizes, with one client (latency) and N (throughput), to show that the page does
//! not slow as history grows; then sends through the HTTP API into a three-member channel (so
//! notifications are written too), with 1 and N senders.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use palaver_service::Services;
use serde_json::{json, Value};

use crate::{compare, load, seed, Args, Server};

/// Client credentials of the application the benchmark's server starts with.
pub const CLIENT_ID: &str = "bench-client";
pub const CLIENT_SECRET: &str = "bench-client-secret";

async fn post(
    client: &reqwest::Client,
    url: String,
    token: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let res = client
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let status = res.status();
    let v: Value = res.json().await?;
    anyhow::ensure!(status.is_success(), "setup request failed: {status} {v}");
    Ok(v)
}

pub async fn run(args: &Args, server: &Server, services: Services) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let base = server.base.clone();
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
    let mut users = Vec::new();
    for name in ["alice", "bob", "carol"] {
        let user = post(
            &client,
            format!("{base}/users"),
            &token,
            json!({"name": name, "display_name": name, "is_guest": false}),
        )
        .await?;
        users.push(user["id"].as_i64().context("user id")?);
    }
    let channel = post(
        &client,
        format!("{base}/channels"),
        &token,
        json!({"type": "PUBLIC", "name": "bench", "creator": {"username": "alice"},
               "members": [{"username": "bob"}, {"username": "carol"}]}),
    )
    .await?["id"]
        .as_i64()
        .context("channel id")?;
    let app = services
        .platform
        .authenticate(&token)
        .await
        .map_err(|e| anyhow::anyhow!(e.into_domain()))?
        .context("token")?
        .application_id;

    load::header();
    let mut notes = Vec::new();
    let duration = Duration::from_secs(args.seconds);
    // History first, so the application holds exactly the loaded messages when it is paged.
    let mut have = 0usize;
    for target in [10_000usize, args.history_messages.max(10_000)] {
        let started = Instant::now();
        let db = services.db.clone();
        let bob = users[1];
        server
            .rt
            .spawn(seed::messages(db, app, channel, bob, target - have))
            .await??;
        // As autovacuum would within a minute or so: pages are measured in a steady state.
        services.db.analyze().await?;
        have = target;
        println!(
            "(history: {target} messages, loaded in {:.0} s)",
            started.elapsed().as_secs_f64()
        );
        for (name, path) in [
            (
                "newest channel page, size 50",
                format!("/channels/{channel}/messages"),
            ),
            ("newest application page, size 50", "/messages".to_string()),
        ] {
            let make = |base: &str| {
                let mut url = reqwest::Url::parse(&format!("{base}{path}"))?;
                url.query_pairs_mut().append_pair("size", "50");
                let bearer = format!("Bearer {token}");
                anyhow::Ok(load::get_with_token(url, "authorization", bearer))
            };
            if !args.runs(name) {
                continue;
            }
            for clients in [1, args.concurrency] {
                let measured =
                    compare::scenario(&client, server, clients, duration, args.rounds, &make)
                        .await?;
                let name = format!("{name}, {target} messages");
                measured.print(&name, clients);
                notes.extend(measured.note.map(|n| format!("{name}, {n}")));
            }
        }
    }

    let send_url = format!("{base}/channels/{channel}/messages");
    if !args.runs("send message, 3-member channel") {
        notes.iter().for_each(|n| println!("{n}"));
        return Ok(());
    }
    for senders in [1, args.concurrency] {
        let (url, token) = (send_url.clone(), token.clone());
        let make: load::MakeRequest = Arc::new(move |c: &reqwest::Client| {
            c.post(url.as_str()).bearer_auth(token.as_str()).json(
                &json!({"type": "TEXT", "body": "hello @carol", "user": {"username": "alice"}}),
            )
        });
        let r = load::run(&client, make, senders, duration).await;
        load::row("send message, 3-member channel", senders, &r);
    }
    notes.iter().for_each(|n| println!("{n}"));
    Ok(())
}
