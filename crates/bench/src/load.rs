//! The load generator: N client tasks, each sending requests back to back on its own kept-alive
//! connection, for a fixed time after a warm-up; latency of every request is recorded.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};

/// What one scenario measured.
pub struct Outcome {
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: usize,
    /// CPU time of the server per answered request, in microseconds: the whole process's but
    /// for its main thread, where the load generator runs (the server has threads of its own).
    /// Steadier than throughput when other processes share the machine.
    pub cpu_us_per_request: f64,
}

pub async fn login(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let r: Value = client
        .post(format!("{base}/api/users/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await?
        .json()
        .await?;
    r["id"]
        .as_str()
        .map(str::to_string)
        .context("login returned no token")
}

pub async fn create_bot(
    client: &reqwest::Client,
    base: &str,
    token: &str,
) -> anyhow::Result<String> {
    let r: Value = client
        .post(format!("{base}/api/bots"))
        .header("KTL-Access-Token", token)
        .json(&json!({"name": "bench", "platform": "slack"}))
        .send()
        .await?
        .json()
        .await?;
    r["id"]
        .as_str()
        .map(str::to_string)
        .context("bot creation returned no id")
}

/// Builds one request of a scenario (called for every request, so bodies may vary).
pub type MakeRequest =
    std::sync::Arc<dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync>;

/// A GET of `url` with a content API token.
pub fn get_with_token(url: reqwest::Url, header: &'static str, value: String) -> MakeRequest {
    std::sync::Arc::new(move |c: &reqwest::Client| {
        c.get(url.clone()).header(header, value.as_str())
    })
}

async fn worker(
    client: reqwest::Client,
    make: MakeRequest,
    until: Instant,
    measure_from: Instant,
) -> (Vec<u32>, usize) {
    let mut latencies = Vec::new();
    let mut errors = 0;
    while Instant::now() < until {
        let t = Instant::now();
        let ok = match make(&client).send().await {
            Ok(res) => res.status().is_success() && res.bytes().await.is_ok(),
            Err(_) => false,
        };
        if t >= measure_from {
            if ok {
                latencies.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
            } else {
                errors += 1;
            }
        }
    }
    (latencies, errors)
}

/// Runs `concurrency` workers sending `make`'s requests for 2 s of warm-up plus `duration`.
pub async fn run(
    client: &reqwest::Client,
    make: MakeRequest,
    concurrency: usize,
    duration: Duration,
) -> Outcome {
    let w = window(client, make, concurrency, Duration::from_secs(2), duration).await;
    Outcome::of(&[w])
}

/// What one measured window of a scenario saw.
pub struct Window {
    /// Each answered request's latency, in microseconds.
    latencies: Vec<u32>,
    errors: usize,
    /// The server's CPU time over the window, in clock ticks.
    ticks: u64,
    duration: Duration,
}

impl Window {
    /// Requests answered in the window.
    pub fn answered(&self) -> usize {
        self.latencies.len()
    }
}

/// Runs `concurrency` workers sending `make`'s requests for `warmup` plus `duration`; only the
/// requests sent after the warm-up are counted.
pub async fn window(
    client: &reqwest::Client,
    make: MakeRequest,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
) -> Window {
    let measure_from = Instant::now() + warmup;
    let until = measure_from + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| tokio::spawn(worker(client.clone(), make.clone(), until, measure_from)))
        .collect();
    tokio::time::sleep_until(measure_from.into()).await;
    let ticks_from = server_ticks();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            latencies.extend(l);
            errors += e;
        }
    }
    Window {
        latencies,
        errors,
        ticks: server_ticks().saturating_sub(ticks_from),
        duration,
    }
}

impl Outcome {
    /// The figures of `windows` taken together.
    pub fn of(windows: &[Window]) -> Outcome {
        let mut all: Vec<u32> = windows
            .iter()
            .flat_map(|w| w.latencies.iter().copied())
            .collect();
        let errors = windows.iter().map(|w| w.errors).sum();
        let ticks: u64 = windows.iter().map(|w| w.ticks).sum();
        let seconds: f64 = windows.iter().map(|w| w.duration.as_secs_f64()).sum();
        let cpu_us = ticks as f64 * 1e6 / crate::procs::clock_ticks_per_second() as f64;
        all.sort_unstable();
        let pct = |p: f64| -> f64 {
            if all.is_empty() {
                return 0.0;
            }
            let i = ((all.len() as f64 - 1.0) * p).round() as usize;
            f64::from(all[i]) / 1000.0
        };
        Outcome {
            per_second: if seconds > 0.0 {
                all.len() as f64 / seconds
            } else {
                0.0
            },
            p50_ms: pct(0.50),
            p99_ms: pct(0.99),
            errors,
            cpu_us_per_request: if all.is_empty() {
                0.0
            } else {
                cpu_us / all.len() as f64
            },
        }
    }
}

/// CPU time of this process's threads but its main one (the load generator's), in clock ticks.
fn server_ticks() -> u64 {
    let main = format!("self/task/{}", std::process::id());
    crate::procs::process_ticks("self").saturating_sub(crate::procs::process_ticks(&main))
}

/// Prints one result row of the markdown table.
pub fn row(name: &str, concurrency: usize, r: &Outcome) {
    println!(
        "| {name} | {concurrency} | {:.0} | {:.2} | {:.2} | {} | {:.1} |",
        r.per_second, r.p50_ms, r.p99_ms, r.errors, r.cpu_us_per_request
    );
}

pub fn header() {
    println!(
        "| scenario | concurrency | requests/s | p50 ms | p99 ms | errors | server CPU µs/request |"
    );
    println!("|---|---|---|---|---|---|---|");
}

/// Peak resident memory of this process, from /proc (0 where unavailable).
pub fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}
