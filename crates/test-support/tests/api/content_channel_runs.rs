//! Content channels fed from web sources: runs on demand and on the schedule, the flakes they
//! make (once per item), the run records and their filters, and the outbound guard, against
//! fixture feeds a local server started here serves.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::Query;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::Router;
use palaver_store::Db;
use palaver_test_support::TestApp;
use serde_json::{json, Value};

use crate::spawn_with;

const HOUR: Duration = Duration::from_secs(3600);

fn rss(q: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>
        <item><title>{q} weekly</title><link>http://news.test/{q}/weekly</link>
          <description>All about {q}</description><guid>rss-{q}-1</guid>
          <enclosure url="http://news.test/{q}.png" type="image/png" length="1"/></item>
        <item><title>{q} tips</title><link>http://news.test/{q}/tips</link><guid>rss-{q}-2</guid></item>
        <item><title>Gardening</title><link>http://news.test/garden</link><guid>rss-garden</guid></item>
        </channel></rss>"#
    )
}

const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom news</title><id>urn:feed</id>
<updated>2024-01-01T00:00:00Z</updated>
<entry><title>Rust in space</title><id>urn:atom:1</id><updated>2024-01-01T00:00:00Z</updated>
  <link rel="alternate" href="http://atom.test/space"/><summary>rockets</summary></entry>
<entry><title>Cooking</title><id>urn:atom:2</id><updated>2024-01-01T00:00:00Z</updated>
  <link href="http://atom.test/cooking"/></entry>
</feed>"#;

const JSON_FEED: &str = r#"{"version": "https://jsonfeed.org/version/1.1", "title": "J",
 "items": [
  {"id": "j1", "url": "http://json.test/1", "title": "Rust and JSON", "content_text": "body",
   "attachments": [{"url": "http://json.test/1.jpg", "mime_type": "image/jpeg"}]},
  {"id": "j2", "url": "http://json.test/2", "title": "Nothing here", "content_text": "x"}
 ]}"#;

/// The fixture feeds: good RSS (`/rss?q=`), Atom, JSON Feed, broken XML, a 404, a source
/// slower than the fetch deadline, an oversize body and a redirect loop.
async fn fixtures() -> SocketAddr {
    type Q = std::collections::HashMap<String, String>;
    let xml = |body: String| ([(header::CONTENT_TYPE, "application/rss+xml")], body);
    let app = Router::new()
        .route(
            "/rss",
            get(move |Query(q): Query<Q>| async move {
                xml(rss(q.get("q").map_or("Rust", String::as_str)))
            }),
        )
        .route("/atom", get(|| async { ATOM }))
        .route("/json", get(|| async { JSON_FEED }))
        .route(
            "/broken",
            get(|| async { "<rss><channel><item><title>oops" }),
        )
        .route(
            "/missing",
            get(|| async { (StatusCode::NOT_FOUND, "no such feed") }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                rss("Rust")
            }),
        )
        .route(
            "/big",
            get(|| async {
                let padding = "<!-- padding -->".repeat(16 * 1024);
                format!("{}{padding}", rss("Rust")).into_response()
            }),
        )
        .route("/loop-a", get(|| async { Redirect::temporary("/loop-b") }))
        .route("/loop-b", get(|| async { Redirect::temporary("/loop-a") }))
        .route("/hop", get(|| async { Redirect::temporary("/rss?q=Hop") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// A server whose feed fetches may reach this machine, with a short deadline and a small
/// body cap so that the slow and oversize fixtures fail fast.
async fn app_allowing_loopback() -> TestApp {
    spawn_with(|c| {
        c.outbound_allow_private = true;
        c.feed_timeout_millis = 700;
        c.feed_max_bytes = 64 * 1024;
    })
    .await
}

async fn create_channel(app: &TestApp, token: &str, bot: &str, body: Value) -> String {
    let r = app
        .post(&format!("/api/bots/{bot}/channels"), token, body)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.id()
}

async fn run(app: &TestApp, token: &str, bot: &str, channel: &str) -> Value {
    let r = app
        .post(
            &format!("/api/bots/{bot}/channels/{channel}/run"),
            token,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

async fn flakes(app: &TestApp, token: &str, bot: &str) -> Vec<Value> {
    let r = app
        .get_filter(
            &format!("/api/bots/{bot}/flakes"),
            token,
            json!({"order": "title ASC"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body.as_array().cloned().unwrap_or_default()
}

fn source(name: &str, url: String) -> Value {
    json!({"name": name, "value": url})
}

/// The run record of the source named `name`.
fn of<'a>(run: &'a Value, name: &str) -> &'a Value {
    run["sources"]
        .as_array()
        .and_then(|s| s.iter().find(|x| x["name"] == name))
        .unwrap_or_else(|| panic!("no source {name} in {run}"))
}

async fn list(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let r = app.get(path, token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body.as_array().cloned().unwrap_or_default()
}

/// Pending CHANNEL_RUN jobs, read from the jobs table itself.
async fn pending_runs(app: &TestApp) -> i64 {
    let sql = "SELECT COUNT(*) FROM jobs WHERE kind = 'CHANNEL_RUN' AND state = 'PENDING'";
    match &app.services.db {
        Db::Sqlite(p, _) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

#[tokio::test]
async fn a_run_reads_rss_atom_and_json_feed_and_makes_flakes_of_matching_items() {
    let feeds = fixtures().await;
    let app = app_allowing_loopback().await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Feeds").await;
    let cat = app
        .post(
            &format!("/api/bots/{bot}/categories"),
            &token,
            json!({"name": "Tech"}),
        )
        .await
        .id();
    let channel = create_channel(
        &app,
        &token,
        &bot,
        json!({
            "name": "Tech news",
            "category": ["Tech"],
            "cron_time": {"hour": 6, "minute": 0},
            "status": "active",
            "keywordSource": [{"keyword": "rust", "source": [
                source("RSS", format!("http://{feeds}/rss?q={{keyword}}")),
                source("Atom", format!("http://{feeds}/atom")),
                source("JSON", format!("http://{feeds}/json")),
            ]}],
        }),
    )
    .await;

    let r = run(&app, &token, &bot, &channel).await;
    assert_eq!(r["status"], "finished");
    assert_eq!(r["trigger"], "manual");
    assert_eq!(r["channel_id"], channel);
    assert!(r["started"].is_string() && r["ended"].is_string(), "{r}");
    assert_eq!(r["errors"], 0, "{r}");
    let rss = of(&r, "RSS");
    assert_eq!(rss["url"], format!("http://{feeds}/rss?q=rust"));
    assert_eq!(
        (
            &rss["fetched"],
            &rss["matched"],
            &rss["created"],
            &rss["skipped"]
        ),
        (&json!(3), &json!(2), &json!(2), &json!(0)),
        "{rss}"
    );
    assert_eq!(rss["error"], Value::Null);
    assert_eq!(of(&r, "Atom")["created"], 1);
    assert_eq!(of(&r, "JSON")["created"], 1);
    assert_eq!(r["flakes_created"], 4);
    assert_eq!(r["fetched"], 7);

    let made = flakes(&app, &token, &bot).await;
    let titles: Vec<&str> = made.iter().filter_map(|f| f["title"].as_str()).collect();
    assert_eq!(
        titles,
        ["Rust and JSON", "Rust in space", "rust tips", "rust weekly"]
    );
    let weekly = &made[3];
    assert_eq!(weekly["description"], "All about rust");
    assert_eq!(weekly["image_url"], "http://news.test/rust.png");
    assert_eq!(weekly["status"], "draft");
    assert_eq!(weekly["author_name"], "RSS");
    assert_eq!(weekly["category"], json!([cat]));
    assert_eq!(
        weekly["bullet_points"],
        json!([{"type": "text", "text": "rust weekly",
            "button": [{"name": "Read more", "action": "http://news.test/rust/weekly"}]}])
    );
    assert_eq!(made[0]["image_url"], "http://json.test/1.jpg");
    assert_eq!(made[1]["author_name"], "Atom");

    // Runs are idempotent: every item is taken already.
    let again = run(&app, &token, &bot, &channel).await;
    assert_eq!(again["flakes_created"], 0, "{again}");
    assert_eq!(again["skipped"], 4);
    assert_eq!(flakes(&app, &token, &bot).await.len(), 4);

    // A deleted flake's item stays taken.
    let id = weekly["id"].as_str().unwrap();
    let r = app
        .delete(&format!("/api/bots/{bot}/flakes/{id}"), &token)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let third = run(&app, &token, &bot, &channel).await;
    assert_eq!(third["flakes_created"], 0, "{third}");
}

#[tokio::test]
async fn failing_sources_are_recorded_and_the_others_still_run() {
    let feeds = fixtures().await;
    let app = app_allowing_loopback().await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Feeds").await;
    let channel = create_channel(
        &app,
        &token,
        &bot,
        json!({
            "name": "Mixed",
            "keywordSource": [{"keyword": "rust", "source": [
                source("Broken", format!("http://{feeds}/broken")),
                source("Missing", format!("http://{feeds}/missing")),
                source("Slow", format!("http://{feeds}/slow")),
                source("Big", format!("http://{feeds}/big")),
                source("Loop", format!("http://{feeds}/loop-a")),
                source("Ftp", "ftp://example.com/feed.xml".into()),
                source("Hop", format!("http://{feeds}/hop")),
                source("Good", format!("http://{feeds}/rss?q=rust")),
            ]}],
        }),
    )
    .await;
    let r = run(&app, &token, &bot, &channel).await;
    assert_eq!(r["status"], "finished");
    assert_eq!(r["errors"], 6, "{r}");
    let error = |name: &str| {
        of(&r, name)["error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(error("Broken").starts_with("not a readable feed"), "{r}");
    assert_eq!(error("Missing"), "HTTP status 404");
    assert_eq!(error("Slow"), "no answer within 700 ms");
    assert_eq!(error("Big"), "the response is larger than 65536 bytes");
    assert_eq!(error("Loop"), "a redirect loop");
    assert_eq!(
        error("Ftp"),
        "only http and https URLs are fetched, not ftp:"
    );
    // A redirect to a good feed is followed; the good source is unaffected.
    assert_eq!(of(&r, "Hop")["error"], Value::Null);
    assert_eq!(of(&r, "Good")["created"], 2, "{r}");
    assert_eq!(r["flakes_created"], 2);
}

#[tokio::test]
async fn private_and_loopback_addresses_are_refused_unless_allowed() {
    let feeds = fixtures().await;
    // The default: outbound fetches reach public addresses only.
    let app = spawn_with(|c| c.feed_timeout_millis = 700).await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Guarded").await;
    let channel = create_channel(
        &app,
        &token,
        &bot,
        json!({
            "name": "Inside",
            "keywordSource": [{"keyword": "", "source": [
                source("Loopback", format!("http://{feeds}/rss")),
                source("Private", "http://10.1.2.3/feed".into()),
                source("Metadata", "http://169.254.169.254/latest".into()),
                source("Named", format!("http://localhost:{}/rss", feeds.port())),
            ]}],
        }),
    )
    .await;
    let r = run(&app, &token, &bot, &channel).await;
    assert_eq!(r["errors"], 4, "{r}");
    let error = |name: &str| {
        of(&r, name)["error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        error("Loopback"),
        "the address 127.0.0.1 is not public and not allowed"
    );
    assert_eq!(
        error("Private"),
        "the address 10.1.2.3 is not public and not allowed"
    );
    assert_eq!(
        error("Metadata"),
        "the address 169.254.169.254 is not public and not allowed"
    );
    assert!(
        error("Named").contains("is not public and not allowed"),
        "{r}"
    );
    assert_eq!(r["flakes_created"], 0);
}

#[tokio::test]
async fn a_channel_can_publish_what_it_creates() {
    let feeds = fixtures().await;
    let app = app_allowing_loopback().await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Publisher").await;
    let bad = app
        .post(
            &format!("/api/bots/{bot}/channels"),
            &token,
            json!({"name": "x", "flake_status": "live"}),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert_eq!(
        bad.body["error"]["details"]["codes"],
        json!({"flake_status": ["inclusion"]})
    );
    let channel = create_channel(
        &app,
        &token,
        &bot,
        json!({"name": "Live", "flake_status": "publish",
            "keywordSource": [{"keyword": "go", "source": [
                source("RSS", format!("http://{feeds}/rss?q={{keyword}}"))]}]}),
    )
    .await;
    let r = run(&app, &token, &bot, &channel).await;
    assert_eq!(r["flakes_created"], 2, "{r}");
    let made = flakes(&app, &token, &bot).await;
    assert!(made.iter().all(|f| f["status"] == "publish"), "{made:?}");
}

#[tokio::test]
async fn an_active_channel_runs_every_interval_until_stopped() {
    let feeds = fixtures().await;
    let app = app_allowing_loopback().await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Scheduled").await;
    let channel = create_channel(
        &app,
        &token,
        &bot,
        json!({"name": "Hourly", "status": "active", "cron_time": {"hour": 1, "minute": 30},
            "keywordSource": [{"keyword": "rust", "source": [
                source("RSS", format!("http://{feeds}/rss?q={{keyword}}"))]}]}),
    )
    .await;
    let runs_path = format!("/api/bots/{bot}/channels/{channel}/runs");
    let runs = || list(&app, &token, &runs_path);
    assert_eq!(pending_runs(&app).await, 1);
    // Not before its interval.
    app.advance_clock(HOUR);
    app.run_jobs().await;
    assert_eq!(runs().await.len(), 0);
    app.advance_clock(HOUR / 2 + Duration::from_secs(1));
    app.run_jobs().await;
    let done = runs().await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["trigger"], "schedule");
    assert_eq!(done[0]["flakes_created"], 2);
    // The next run is waiting, exactly one.
    assert_eq!(pending_runs(&app).await, 1);
    app.advance_clock(HOUR + HOUR / 2);
    app.run_jobs().await;
    assert_eq!(runs().await.len(), 2);
    assert_eq!(pending_runs(&app).await, 1);

    // Another interval replaces the pending run; edits that keep the schedule keep it.
    let path = format!("/api/bots/{bot}/channels/{channel}");
    let r = app
        .put(&path, &token, json!({"cron_time": {"hour": 2}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app.put(&path, &token, json!({"name": "Two-hourly"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(pending_runs(&app).await, 1);
    app.advance_clock(HOUR + HOUR / 2);
    app.run_jobs().await;
    assert_eq!(runs().await.len(), 2);
    app.advance_clock(HOUR / 2);
    app.run_jobs().await;
    assert_eq!(runs().await.len(), 3);

    // Stopped: no more runs, and no job left waiting.
    let r = app.put(&path, &token, json!({"status": "inactive"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(pending_runs(&app).await, 0);
    app.advance_clock(HOUR * 5);
    app.run_jobs().await;
    assert_eq!(runs().await.len(), 3);

    // Started again, then deleted: the schedule goes with it.
    let r = app.put(&path, &token, json!({"status": "active"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(pending_runs(&app).await, 1);
    let r = app.delete(&path, &token).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(pending_runs(&app).await, 0);
    app.advance_clock(HOUR * 3);
    assert_eq!(app.run_jobs().await, 0);
}

#[tokio::test]
async fn runs_are_listed_with_loopback_filters() {
    let feeds = fixtures().await;
    let app = app_allowing_loopback().await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Listed").await;
    let channel = create_channel(
        &app,
        &token,
        &bot,
        json!({"name": "c", "keywordSource": [{"keyword": "rust", "source": [
            source("RSS", format!("http://{feeds}/rss?q={{keyword}}"))]}]}),
    )
    .await;
    let first = run(&app, &token, &bot, &channel).await;
    let second = run(&app, &token, &bot, &channel).await;
    let path = format!("/api/bots/{bot}/channels/{channel}/runs");
    // Newest first by default.
    let r = app.get(&path, &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ids: Vec<&Value> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|x| &x["id"])
        .collect();
    assert_eq!(ids, [&second["id"], &first["id"]]);
    let r = app
        .get_filter(
            &path,
            &token,
            json!({"where": {"flakes_created": {"gt": 0}}, "fields": ["id", "flakes_created"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!([{"flakes_created": 2, "id": first["id"]}]),
        "{}",
        r.text
    );
    let r = app
        .get_filter(
            &path,
            &token,
            json!({"order": "started ASC", "limit": 1, "skip": 1}),
        )
        .await;
    assert_eq!(r.body.as_array().map(Vec::len), Some(1));
    assert_eq!(r.body[0]["id"], second["id"]);
}

#[tokio::test]
async fn runs_of_other_organisations_and_unknown_channels_are_not_found() {
    let app = app_allowing_loopback().await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Mine").await;
    let channel = create_channel(&app, &token, &bot, json!({"name": "c"})).await;
    let (_, other) = app.other_org("elsewhere").await;
    for (method, path) in [
        ("POST", format!("/api/bots/{bot}/channels/{channel}/run")),
        ("GET", format!("/api/bots/{bot}/channels/{channel}/runs")),
    ] {
        let r = match method {
            "POST" => app.post(&path, &other, json!({})).await,
            _ => app.get(&path, &other).await,
        };
        assert_eq!(r.status, 404, "{}", r.text);
        assert_eq!(
            r.body,
            json!({"error": {"statusCode": 404, "name": "Error",
                "message": format!("could not find a model with id {bot}"),
                "code": "MODEL_NOT_FOUND"}})
        );
    }
    let r = app
        .post(
            &format!("/api/bots/{bot}/channels/000000000000000000000000/run"),
            &token,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    // Only channels run.
    let r = app
        .post(
            &format!("/api/bots/{bot}/tags/{channel}/run"),
            &token,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    // A channel without sources runs, and records nothing fetched.
    let r = run(&app, &token, &bot, &channel).await;
    assert_eq!((&r["fetched"], &r["sources"]), (&json!(0), &json!([])));
}
