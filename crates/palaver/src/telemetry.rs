//! Prometheus metrics for operators: the process-wide recorder, `GET /metrics` (on the main
//! listener, or only on a listener of its own; optionally behind basic auth), and the upkeep
//! task that keeps the recorder's histograms bounded and refreshes the gauges read from the
//! database and the process.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use metrics::Unit;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use palaver_jobs::Supervisor;
use palaver_store::{Db, Dialect, Stats};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The metrics settings (they join the configuration file as `metrics_*`).
#[derive(Clone)]
pub struct MetricsConfig {
    /// Serve `/metrics` and record metrics at all.
    pub enabled: bool,
    /// Serve `/metrics` only on this address (port 0 picks one), not on the main listener.
    pub listen: Option<SocketAddr>,
    /// Basic auth for `/metrics`: both set, or neither (open).
    pub username: Option<String>,
    pub password: Option<String>,
    /// How often the upkeep task runs (histogram upkeep, database and process gauges).
    pub upkeep_seconds: u64,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: None,
            username: None,
            password: None,
            upkeep_seconds: 5,
        }
    }
}

/// Never prints the password.
impl std::fmt::Debug for MetricsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsConfig")
            .field("enabled", &self.enabled)
            .field("listen", &self.listen)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "(redacted)"))
            .field("upkeep_seconds", &self.upkeep_seconds)
            .finish()
    }
}

/// The series the upkeep task sets.
pub const DB_CONNECTIONS: &str = "palaver_db_connections";
pub const OUTBOX_LAG: &str = "palaver_outbox_lag_events";
pub const JOBS: &str = "palaver_jobs";
pub const RESIDENT_MEMORY: &str = "palaver_process_resident_memory_bytes";
pub const UPKEEP_RUNS: &str = "palaver_metrics_upkeep_runs_total";

/// Latency buckets of every `*_seconds` histogram: half a millisecond to ten seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's recorder, installed on first use. The recorder is process-global, and one
/// process may build many servers (the tests do): they all record into and render this one.
pub fn recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            // Only an empty bucket list is refused; ours is not.
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder was installed first; /metrics is empty");
            }
            // The HTTP faces and the store keep their series' handles from now on.
            palaver_api::observe::install();
            palaver_store::timing::install();
            describe();
            handle
        })
        .clone()
}

/// The HELP lines of every series.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    use palaver_api::observe;
    use palaver_gateway::telemetry as gateway;
    use palaver_store::timing;
    describe_counter!(
        observe::REQUESTS,
        Unit::Count,
        "HTTP requests answered, by face, method, route template and status"
    );
    describe_histogram!(
        observe::DURATION,
        Unit::Seconds,
        "HTTP request latency to the response head, by face, method, route template and status class"
    );
    describe_histogram!(
        timing::QUERY_DURATION,
        Unit::Seconds,
        "Database statement latency, by kind of statement"
    );
    describe_histogram!(
        timing::WRITE_QUEUE_WAIT,
        Unit::Seconds,
        "Time a SQLite write waited for this process's single writer"
    );
    describe_gauge!(
        DB_CONNECTIONS,
        Unit::Count,
        "Database pool connections, in use or idle"
    );
    describe_gauge!(
        OUTBOX_LAG,
        Unit::Count,
        "Outbox events a consumer has yet to handle, over every application"
    );
    describe_gauge!(
        JOBS,
        Unit::Count,
        "Jobs queued, running or failed for good, by kind"
    );
    describe_counter!(
        palaver_jobs::JOBS_FINISHED,
        Unit::Count,
        "Jobs this process's workers finished, by kind"
    );
    describe_counter!(
        palaver_jobs::JOBS_FAILED,
        Unit::Count,
        "Jobs this process's workers failed for good, by kind"
    );
    describe_gauge!(
        gateway::CONNECTIONS,
        Unit::Count,
        "Open real-time (WebSocket) connections"
    );
    describe_gauge!(
        gateway::SUBSCRIPTIONS,
        Unit::Count,
        "Topic subscriptions of the open real-time connections"
    );
    describe_counter!(
        gateway::DELIVERED,
        Unit::Count,
        "Topic messages delivered to real-time clients"
    );
    describe_gauge!(
        RESIDENT_MEMORY,
        Unit::Bytes,
        "Resident set size of the process"
    );
    describe_counter!(
        UPKEEP_RUNS,
        Unit::Count,
        "Rounds of the metrics upkeep task"
    );
}

/// What a running server tells about its metrics: where their own listener is bound, and how
/// many upkeep rounds have run (what tests wait on instead of sleeping).
#[derive(Clone)]
pub struct MetricsProbe(Arc<ProbeState>);

struct ProbeState {
    addr: OnceLock<SocketAddr>,
    rounds: watch::Sender<u64>,
}

impl Default for MetricsProbe {
    fn default() -> Self {
        Self(Arc::new(ProbeState {
            addr: OnceLock::new(),
            rounds: watch::Sender::new(0),
        }))
    }
}

impl MetricsProbe {
    /// The address of the metrics listener, once bound (when one is configured).
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.0.addr.get().copied()
    }

    /// The number of upkeep rounds run so far, as it changes.
    pub fn upkeep_rounds(&self) -> watch::Receiver<u64> {
        self.0.rounds.subscribe()
    }
}

/// Metrics readied for one server: the recorder, and the metrics listener when configured.
pub struct Metrics {
    handle: PrometheusHandle,
    listener: Option<TcpListener>,
    scrape: Arc<Scrape>,
    upkeep_every: Duration,
}

impl Metrics {
    /// Installs the recorder (once per process) and binds the metrics listener, if any; `None`
    /// when metrics are off.
    pub async fn bind(
        config: &MetricsConfig,
        probe: &MetricsProbe,
    ) -> anyhow::Result<Option<Self>> {
        if !config.enabled {
            return Ok(None);
        }
        let auth = match (&config.username, &config.password) {
            (Some(u), Some(p)) => Some(format!("{u}:{p}").into_bytes()),
            (None, None) => None,
            _ => anyhow::bail!("the metrics username and password go together"),
        };
        let listener = match config.listen {
            Some(addr) => {
                let l = TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen for metrics on {addr}"))?;
                let bound = l.local_addr()?;
                let _ = probe.0.addr.set(bound);
                tracing::info!(addr = %bound, "metrics listening");
                Some(l)
            }
            None => None,
        };
        let handle = recorder();
        Ok(Some(Self {
            scrape: Arc::new(Scrape {
                handle: handle.clone(),
                auth,
            }),
            handle,
            listener,
            upkeep_every: Duration::from_secs(config.upkeep_seconds.max(1)),
        }))
    }

    /// `/metrics` for the main listener: there unless it has a listener of its own.
    pub fn main_routes(&self) -> Router {
        match self.listener {
            Some(_) => Router::new(),
            None => self.routes(),
        }
    }

    fn routes(&self) -> Router {
        Router::new()
            .route("/metrics", get(scrape))
            .with_state(self.scrape.clone())
    }

    /// Starts the upkeep task, and the metrics listener if there is one, on `tasks`.
    pub fn spawn(mut self, tasks: &mut Supervisor, db: Db, probe: MetricsProbe) {
        if let Some(listener) = self.listener.take() {
            let router = self.routes();
            tasks.spawn("metrics listener", |mut stopping| async move {
                let served = axum::serve(listener, router)
                    .with_graceful_shutdown(async move { stopping.wait().await })
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "metrics listener failed");
                }
            });
        }
        let upkeep = Upkeep {
            handle: self.handle,
            stats: Stats::new(db.clone()),
            db,
            probe,
            jobs_seen: BTreeSet::new(),
            lag_seen: BTreeSet::new(),
        };
        let every = self.upkeep_every;
        tasks.spawn_until_stopped("metrics upkeep", upkeep.run(every));
    }
}

struct Scrape {
    handle: PrometheusHandle,
    /// `user:password` when basic auth is asked for.
    auth: Option<Vec<u8>>,
}

async fn scrape(State(s): State<Arc<Scrape>>, headers: HeaderMap) -> Response {
    if let Some(expected) = &s.auth {
        if !basic_auth_matches(&headers, expected) {
            let mut res = StatusCode::UNAUTHORIZED.into_response();
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"metrics\""),
            );
            return res;
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        s.handle.render(),
    )
        .into_response()
}

/// True when `Authorization: Basic …` carries exactly `expected` (`user:password`), compared
/// without stopping at the first differing byte.
fn basic_auth_matches(headers: &HeaderMap, expected: &[u8]) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
    else {
        return false;
    };
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// The periodic round: the recorder's upkeep (without it histogram memory grows without
/// bound), then the gauges read from the pool, the database and the process.
struct Upkeep {
    handle: PrometheusHandle,
    db: Db,
    stats: Stats,
    probe: MetricsProbe,
    /// Label sets set before, zeroed when they are no longer found.
    jobs_seen: BTreeSet<(String, &'static str)>,
    lag_seen: BTreeSet<String>,
}

impl Upkeep {
    async fn run(mut self, every: Duration) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // The first tick is immediate: the gauges are there from the start.
            ticks.tick().await;
            self.round().await;
        }
    }

    async fn round(&mut self) {
        self.handle.run_upkeep();
        let pool = match self.db.dialect() {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        };
        let (open, idle) = self.db.pool_usage();
        let idle = u32::try_from(idle).unwrap_or(u32::MAX);
        metrics::gauge!(DB_CONNECTIONS, "pool" => pool, "state" => "in_use")
            .set(f64::from(open.saturating_sub(idle)));
        metrics::gauge!(DB_CONNECTIONS, "pool" => pool, "state" => "idle").set(f64::from(idle));
        if let Some(bytes) = resident_memory() {
            metrics::gauge!(RESIDENT_MEMORY).set(bytes as f64);
        }
        self.outbox_lag().await;
        self.jobs().await;
        metrics::counter!(UPKEEP_RUNS).increment(1);
        self.probe.0.rounds.send_modify(|n| *n += 1);
    }

    async fn outbox_lag(&mut self) {
        match self.stats.outbox_lag().await {
            Ok(lags) => {
                for gone in self.lag_seen.iter().filter(|c| !lags.contains_key(*c)) {
                    metrics::gauge!(OUTBOX_LAG, "consumer" => gone.clone()).set(0.0);
                }
                for (consumer, lag) in &lags {
                    metrics::gauge!(OUTBOX_LAG, "consumer" => consumer.clone()).set(*lag as f64);
                }
                self.lag_seen = lags.into_keys().collect();
            }
            // At warn: the next round tries again.
            Err(e) => tracing::warn!(error = %e, "outbox lag not read"),
        }
    }

    async fn jobs(&mut self) {
        use palaver_domain::job::JobState;
        match self.stats.jobs().await {
            Ok(counts) => {
                let now: Vec<((String, &'static str), u64)> = counts
                    .into_iter()
                    .filter_map(|c| {
                        let state = match c.state {
                            JobState::Pending => "queued",
                            JobState::Running => "running",
                            JobState::Failed => "failed",
                            // Not counted: finished jobs are history, not load.
                            JobState::Finished => return None,
                        };
                        Some(((c.kind, state), c.count))
                    })
                    .collect();
                let seen: BTreeSet<(String, &'static str)> =
                    now.iter().map(|(k, _)| k.clone()).collect();
                for (kind, state) in self.jobs_seen.difference(&seen) {
                    metrics::gauge!(JOBS, "kind" => kind.clone(), "state" => *state).set(0.0);
                }
                for ((kind, state), n) in now {
                    metrics::gauge!(JOBS, "kind" => kind, "state" => state).set(n as f64);
                }
                self.jobs_seen = seen;
            }
            Err(e) => tracing::warn!(error = %e, "job counts not read"),
        }
    }
}

/// The process's resident set size, from `/proc/self/status` (`VmRSS`, in kB): the same figure
/// as `/proc/self/statm`'s second field, without the page size, which only a libc call tells.
/// `None` off Linux.
fn resident_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_auth(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn basic_auth_admits_the_exact_credentials_only() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let expected = b"prom:s3cret";
        assert!(basic_auth_matches(
            &with_auth(&format!("Basic {}", b64("prom:s3cret"))),
            expected
        ));
        for wrong in ["prom:s3cre", "prom:s3cret2", "Prom:s3cret", ":", ""] {
            assert!(
                !basic_auth_matches(&with_auth(&format!("Basic {}", b64(wrong))), expected),
                "{wrong}"
            );
        }
        assert!(!basic_auth_matches(
            &with_auth("Bearer prom:s3cret"),
            expected
        ));
        assert!(!basic_auth_matches(&with_auth("Basic !!!"), expected));
        assert!(!basic_auth_matches(&HeaderMap::new(), expected));
    }

    #[test]
    fn the_resident_set_size_is_read() {
        let bytes = resident_memory().expect("Linux has /proc/self/status");
        assert!(bytes > 0);
    }

    #[test]
    fn the_config_never_prints_the_password() {
        let c = MetricsConfig {
            password: Some("hunter2".into()),
            ..MetricsConfig::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
