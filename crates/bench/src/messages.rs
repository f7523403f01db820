//! The messages suite: sends through the HTTP API into a three-member channel (so notifications
//! are written too), with 1 and N senders; then the newest history page (size 50) of the channel
//! and of the application at two history sizes, to show that the page does not slow as history
//! grows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use palaver_service::platform::NewMessageInput;
use palaver_service::Services;
use serde_json::{json, Value};

use crate::{load, Args, Server};

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

/// Sends messages in-process until the channel holds `target` (history to page through).
async fn fill(
    services: Services,
    token: String,
    channel: i64,
    have: usize,
    target: usize,
) -> anyhow::Result<()> {
    let p = services
        .platform
        .authenticate(&token)
        .await
        .map_err(|e| anyhow::anyhow!(e.into_domain()))?
        .context("token")?;
    let p = Arc::new(p);
    // A few writers at once, as a busy channel would have; SQLite serialises them anyway.
    let writers = 4;
    let per = target.saturating_sub(have).div_ceil(writers);
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (services, p) = (services.clone(), p.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..per {
                let body = json!({"type": "TEXT", "body": format!("history {w}-{i}"), "user": {"username": "bob"}});
                let input = NewMessageInput::from_body(&body).map_err(|e| anyhow::anyhow!(e))?;
                services
                    .platform
                    .send_channel_message(&p, channel, input)
                    .await
                    .map_err(|e| anyhow::anyhow!(e.into_domain()))?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    // Let the notification consumer finish the loaded messages, so pages are measured alone.
    while services
        .platform
        .drain_notifications(&p)
        .await
        .map_err(|e| anyhow::anyhow!(e.into_domain()))?
        > 0
    {}
    Ok(())
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
    for name in ["alice", "bob", "carol"] {
        post(
            &client,
            format!("{base}/users"),
            &token,
            json!({"name": name, "display_name": name, "is_guest": false}),
        )
        .await?;
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

    load::header();
    let duration = Duration::from_secs(args.seconds);
    // History first, so the application holds exactly the loaded messages when it is paged.
    let mut have = 0usize;
    for target in [10_000usize, args.history_messages.max(10_000)] {
        let started = Instant::now();
        server
            .rt
            .spawn(fill(services.clone(), token.clone(), channel, have, target))
            .await??;
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
            let mut url = reqwest::Url::parse(&format!("{base}{path}"))?;
            url.query_pairs_mut().append_pair("size", "50");
            let make = load::get_with_token(url, "authorization", format!("Bearer {token}"));
            let r = load::run(&client, make, args.concurrency, duration).await;
            load::row(&format!("{name}, {target} messages"), args.concurrency, &r);
        }
    }
    let send_url = format!("{base}/channels/{channel}/messages");
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
    Ok(())
}
