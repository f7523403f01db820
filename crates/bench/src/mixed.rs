//! The content suite's mixed workload: a steady writer creating and updating flakes at a fixed
//! rate while the load generator reads, to show what writes cost the read cache.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// What the writer did.
pub struct Written {
    pub per_second: f64,
    pub errors: usize,
}

/// Writes to `bots` in turn at `rate` per second until `stop` is set: each bot's first write
/// creates a published flake, each later one alternately updates the bot's last flake and
/// creates another, so both writes a content team makes are in the mix.
pub async fn writer(
    client: reqwest::Client,
    base: String,
    token: String,
    bots: Vec<String>,
    rate: u32,
    stop: Arc<AtomicBool>,
) -> Written {
    let mut last: Vec<Option<String>> = vec![None; bots.len()];
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    let started = Instant::now();
    let (mut done, mut errors) = (0usize, 0usize);
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let i = done % bots.len();
        let bot = &bots[i];
        let update = (done / bots.len()) % 2 == 1;
        let request = match (&last[i], update) {
            (Some(flake), true) => client
                .put(format!("{base}/api/bots/{bot}/flakes/{flake}"))
                .json(&json!({"title": format!("edited {done}")})),
            _ => client
                .post(format!("{base}/api/bots/{bot}/flakes"))
                .json(&json!({"title": format!("written {done}"), "status": "publish"})),
        };
        let answer = match request.header("KTL-Access-Token", &token).send().await {
            Ok(r) if r.status().is_success() => r.json::<Value>().await.ok(),
            _ => None,
        };
        match answer.as_ref().and_then(|v| v["id"].as_str()) {
            Some(id) => last[i] = Some(id.to_string()),
            None => errors += 1,
        }
        done += 1;
    }
    Written {
        per_second: done as f64 / started.elapsed().as_secs_f64(),
        errors,
    }
}
