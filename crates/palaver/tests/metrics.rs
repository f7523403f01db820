//! `/metrics` as operators set it up: behind basic auth, on a listener of its own (and then
//! only there), and refreshed by the upkeep task, whose rounds the tests wait on.

// A test: a failed step should fail it right there.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use palaver::telemetry::{MetricsConfig, MetricsProbe};
use palaver::{App, Config};
use tokio::sync::oneshot;

/// A server started with `metrics`, stopped when dropped.
struct Running {
    base: String,
    probe: MetricsProbe,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

async fn build(metrics: MetricsConfig) -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: format!("sqlite://{}", dir.path().join("palaver.db").display()),
        bcrypt_cost: 4,
        job_workers: 0,
        files_url: dir.path().join("files").display().to_string(),
        functions_dir: dir.path().join("functions").display().to_string(),
        ..Config::default()
    };
    let mut app = App::build(config).await.unwrap();
    app.metrics = metrics;
    (app, dir)
}

async fn serve(metrics: MetricsConfig) -> Running {
    let (app, dir) = build(metrics).await;
    let probe = app.metrics_probe.clone();
    let (tx, rx) = oneshot::channel::<()>();
    let (addr, server) = app
        .serve(async move {
            let _ = rx.await;
        })
        .await
        .unwrap();
    tokio::spawn(server);
    Running {
        base: format!("http://{addr}"),
        probe,
        _stop: tx,
        _dir: dir,
    }
}

use palaver_test_support::metric_sample as sample;

#[tokio::test]
async fn basic_auth_guards_metrics_when_set() {
    let app = serve(MetricsConfig {
        username: Some("prometheus".into()),
        password: Some("scrape-secret".into()),
        ..MetricsConfig::default()
    })
    .await;
    let http = reqwest::Client::new();
    let url = format!("{}/metrics", app.base);
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Basic realm=\"metrics\"");
    let r = http
        .get(&url)
        .basic_auth("prometheus", Some("not-it"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .get(&url)
        .basic_auth("prometheus", Some("scrape-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = r.text().await.unwrap();
    assert!(
        text.contains("# TYPE palaver_http_requests_total counter"),
        "{text}"
    );
}

#[tokio::test]
async fn a_listener_of_its_own_serves_metrics_only_there() {
    let app = serve(MetricsConfig {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        ..MetricsConfig::default()
    })
    .await;
    let http = reqwest::Client::new();
    let main = http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(main.status(), 404);
    let own = app
        .probe
        .listen_addr()
        .expect("the metrics listener is bound");
    let r = http
        .get(format!("http://{own}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The main listener's requests are counted there, under their route template.
    let text = r.text().await.unwrap();
    assert!(
        sample(
            &text,
            "palaver_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_can_be_turned_off() {
    let app = serve(MetricsConfig {
        enabled: false,
        ..MetricsConfig::default()
    })
    .await;
    let r = reqwest::get(format!("{}/metrics", app.base)).await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn a_username_without_a_password_is_refused() {
    let (app, _dir) = build(MetricsConfig {
        username: Some("prometheus".into()),
        ..MetricsConfig::default()
    })
    .await;
    let e = match app.serve(async {}).await {
        Ok(_) => panic!("served with half the credentials"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("username and password go together"), "{e}");
}

#[tokio::test]
async fn the_upkeep_task_runs_and_refreshes_the_gauges() {
    let app = serve(MetricsConfig {
        upkeep_seconds: 1,
        ..MetricsConfig::default()
    })
    .await;
    let mut rounds = app.probe.upkeep_rounds();
    // The first round runs as the server starts.
    tokio::time::timeout(Duration::from_secs(30), rounds.wait_for(|n| *n >= 1))
        .await
        .expect("an upkeep round")
        .unwrap();
    let text = reqwest::get(format!("{}/metrics", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for state in ["in_use", "idle"] {
        assert!(
            sample(
                &text,
                "palaver_db_connections",
                &[("pool", "sqlite"), ("state", state)]
            )
            .is_some(),
            "{text}"
        );
    }
    let rss = sample(&text, "palaver_process_resident_memory_bytes", &[]).unwrap_or(0.0);
    assert!(rss > 1024.0 * 1024.0, "{text}");
    assert!(sample(&text, "palaver_metrics_upkeep_runs_total", &[]).is_some_and(|n| n >= 1.0));
    // And it goes on, round after round.
    tokio::time::timeout(Duration::from_secs(30), rounds.wait_for(|n| *n >= 2))
        .await
        .expect("a second upkeep round")
        .unwrap();
}
