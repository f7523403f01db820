//! Scheduled publishing: a flake with `status: "schedule"` and a `publish_at` becomes `publish`
//! at that time, exactly once; reschedules, cancels and deletes; all on the service clock,
//! which the tests move instead of sleeping.

use std::time::Duration;

use palaver_domain::job::JobState;
use palaver_domain::time::{format_millis, parse_date};
use palaver_service::content::PublishJob;
use palaver_test_support::TestApp;
use serde_json::{json, Value};

use crate::spawn;

const HOUR: Duration = Duration::from_secs(3600);
const HOUR_MS: i64 = 3_600_000;

async fn setup() -> (TestApp, String, String) {
    let app = spawn().await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Scheduler").await;
    (app, token, bot)
}

/// `publish_at` for `ms` epoch milliseconds, as a client sends it.
fn at(ms: i64) -> String {
    format_millis(ms)
}

fn millis(v: &Value) -> i64 {
    v.as_str()
        .and_then(parse_date)
        .unwrap_or_else(|| panic!("not a date: {v}"))
}

async fn create(app: &TestApp, token: &str, bot: &str, body: Value) -> Value {
    let r = app
        .post(&format!("/api/bots/{bot}/flakes"), token, body)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

async fn update(app: &TestApp, token: &str, bot: &str, id: &str, body: Value) -> Value {
    let r = app
        .put(&format!("/api/bots/{bot}/flakes/{id}"), token, body)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

async fn flake(app: &TestApp, token: &str, bot: &str, id: &str) -> Value {
    let r = app
        .get(&format!("/api/bots/{bot}/flakes/{id}"), token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

/// Runs due jobs with one worker until none is left: each job's id, end state and result.
async fn run_jobs_seen(app: &TestApp, worker: usize) -> Vec<(i64, JobState, Value)> {
    let w = palaver::app::job_worker(&app.services, &app.functions, worker);
    let mut seen = Vec::new();
    while let Some((id, state)) = w.run_one().await {
        let row = app
            .services
            .platform
            .jobs()
            .by_id(id)
            .await
            .map_err(|e| e.into_domain())
            .expect("job row")
            .expect("job exists");
        seen.push((id, state, row.result.unwrap_or(Value::Null)));
    }
    seen
}

#[tokio::test]
async fn a_scheduled_flake_publishes_once_when_its_time_comes() {
    let (app, token, bot) = setup().await;
    let publish_at = app.clock.now_millis() + HOUR_MS;
    let body = create(
        &app,
        &token,
        &bot,
        json!({"title": "Later", "status": "schedule", "publish_at": at(publish_at)}),
    )
    .await;
    let id = body["id"].as_str().expect("id").to_string();
    assert_eq!(body["status"], "schedule");
    let created = body["created"].clone();

    // Not yet due: nothing runs, nothing changes.
    assert_eq!(app.run_jobs().await, 0);
    assert_eq!(flake(&app, &token, &bot, &id).await["status"], "schedule");
    // Editing something else keeps the one pending job.
    update(&app, &token, &bot, &id, json!({"title": "Later, edited"})).await;
    app.advance_clock(HOUR / 2);
    assert_eq!(app.run_jobs().await, 0);
    assert_eq!(flake(&app, &token, &bot, &id).await["status"], "schedule");

    app.advance_clock(HOUR);
    let before = app.clock.now_millis();
    let ran = run_jobs_seen(&app, 0).await;
    let after = app.clock.now_millis();
    assert_eq!(ran.len(), 1, "{ran:?}");
    assert_eq!(ran[0].1, JobState::Finished);
    assert_eq!(ran[0].2, json!({"flake_id": id, "published": true}));
    let got = flake(&app, &token, &bot, &id).await;
    assert_eq!(got["status"], "publish", "{got}");
    assert_eq!(got["title"], "Later, edited");
    assert_eq!(got["created"], created);
    assert_eq!(millis(&got["publish_at"]), publish_at);
    // `modified` is the moment it was published, on the service clock.
    let modified = millis(&got["modified"]);
    assert!(
        (before..=after).contains(&modified) && modified >= publish_at,
        "modified {modified} not in {before}..={after}"
    );

    // Once: nothing is left to run, and the flake stays as published.
    app.advance_clock(HOUR);
    assert_eq!(app.run_jobs().await, 0);
    assert_eq!(flake(&app, &token, &bot, &id).await, got);

    // The job is the server's own: the platform's `/jobs` does not list it.
    let ptoken = app.platform_token().await;
    let jobs = app.pget("/jobs", &ptoken).await;
    assert_eq!(jobs.body["page"]["total_elements"], 0, "{}", jobs.text);
}

#[tokio::test]
async fn another_instance_publishes_what_this_one_scheduled() {
    let (app, token, bot) = setup().await;
    let publish_at = app.clock.now_millis() + HOUR_MS;
    let id = create(
        &app,
        &token,
        &bot,
        json!({"title": "t", "status": "schedule", "publish_at": at(publish_at)}),
    )
    .await["id"]
        .as_str()
        .expect("id")
        .to_string();
    // Services built afresh over the same database, as after a restart or on a second
    // instance: the schedule is a row, and their worker finds it when it is due.
    let files = tempfile::tempdir().expect("temp dir");
    let other = palaver_service::Services::new(
        app.services.db.clone(),
        palaver_service::AuthConfig::default(),
        palaver_service::PlatformConfig {
            clock: app.clock.clone(),
            ..Default::default()
        },
        palaver_service::platform::FileStore::local(files.path()).expect("file store"),
        None,
        palaver_service::secrets::open(&app.services.db, &app.secrets)
            .await
            .expect("the same secrets key"),
    );
    let worker = palaver_jobs::Worker::new(
        other.platform.jobs().clone(),
        palaver_jobs::handlers(&other, &app.functions),
        "another-instance".into(),
    );
    assert_eq!(worker.drain().await, 0);
    app.advance_clock(HOUR * 2);
    assert_eq!(worker.drain().await, 1);
    // Read from the database: on SQLite the first server caches its reads, as the only
    // instance a SQLite deployment has.
    let stored = palaver_store::Documents::new(app.services.db.clone())
        .get(
            &palaver_domain::models::FLAKE,
            &palaver_store::Scope::child(&app.org_id, "bot_id", &bot),
            &id,
        )
        .await
        .expect("read")
        .expect("flake");
    assert_eq!(stored["status"], "publish");
    assert_eq!(app.run_jobs().await, 0);
}

#[tokio::test]
async fn content_timestamps_follow_the_service_clock() {
    let (app, token, bot) = setup().await;
    app.advance_clock(HOUR * 24);
    let before = app.clock.now_millis();
    let body = create(&app, &token, &bot, json!({"title": "Tomorrow"})).await;
    let created = millis(&body["created"]);
    assert!(created >= before, "created {created} before {before}");
    assert_eq!(body["modified"], body["created"]);
}

#[tokio::test]
async fn a_reschedule_moves_the_publication() {
    let (app, token, bot) = setup().await;
    let now = app.clock.now_millis();
    // Later: the old time passes without publishing, the new one publishes.
    let later = create(
        &app,
        &token,
        &bot,
        json!({"title": "Later", "status": "schedule", "publish_at": at(now + HOUR_MS)}),
    )
    .await["id"]
        .as_str()
        .expect("id")
        .to_string();
    update(
        &app,
        &token,
        &bot,
        &later,
        json!({"publish_at": at(now + 3 * HOUR_MS)}),
    )
    .await;
    // Sooner: the new time publishes, the old one finds nothing left to do.
    let sooner = create(
        &app,
        &token,
        &bot,
        json!({"title": "Sooner", "status": "schedule", "publish_at": at(now + 5 * HOUR_MS)}),
    )
    .await["id"]
        .as_str()
        .expect("id")
        .to_string();
    update(
        &app,
        &token,
        &bot,
        &sooner,
        json!({"publish_at": at(now + 2 * HOUR_MS)}),
    )
    .await;

    app.advance_clock(HOUR + HOUR / 2);
    let ran = run_jobs_seen(&app, 0).await;
    assert_eq!(ran.len(), 1, "{ran:?}");
    assert_eq!(ran[0].2["published"], false);
    assert_eq!(
        flake(&app, &token, &bot, &later).await["status"],
        "schedule"
    );
    assert_eq!(
        flake(&app, &token, &bot, &sooner).await["status"],
        "schedule"
    );

    app.advance_clock(HOUR);
    app.run_jobs().await;
    assert_eq!(
        flake(&app, &token, &bot, &later).await["status"],
        "schedule"
    );
    let published = flake(&app, &token, &bot, &sooner).await;
    assert_eq!(published["status"], "publish");

    app.advance_clock(HOUR);
    app.run_jobs().await;
    assert_eq!(flake(&app, &token, &bot, &later).await["status"], "publish");

    // The sooner flake's first time passes: its job changes nothing.
    app.advance_clock(HOUR * 2);
    let ran = run_jobs_seen(&app, 0).await;
    assert_eq!(ran.len(), 1, "{ran:?}");
    assert_eq!(ran[0].1, JobState::Finished);
    assert_eq!(ran[0].2["published"], false);
    assert_eq!(flake(&app, &token, &bot, &sooner).await, published);
}

#[tokio::test]
async fn a_draft_or_a_delete_cancels_the_publication() {
    let (app, token, bot) = setup().await;
    let publish_at = at(app.clock.now_millis() + HOUR_MS);
    let schedule = json!({"title": "t", "status": "schedule", "publish_at": publish_at});
    let drafted = create(&app, &token, &bot, schedule.clone()).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    update(&app, &token, &bot, &drafted, json!({"status": "draft"})).await;
    let deleted = create(&app, &token, &bot, schedule.clone()).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let r = app
        .delete(&format!("/api/bots/{bot}/flakes/{deleted}"), &token)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    // A bot's content deleted all at once, and a deleted bot, cancel theirs too.
    let other = app.create_bot(&token, "Gone").await;
    create(&app, &token, &other, schedule.clone()).await;
    let r = app
        .delete(&format!("/api/bots/{other}/flakes"), &token)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let gone = app.create_bot(&token, "Gone too").await;
    create(&app, &token, &gone, schedule.clone()).await;
    let r = app.delete(&format!("/api/bots/{gone}"), &token).await;
    assert_eq!(r.status, 200, "{}", r.text);

    app.advance_clock(HOUR * 2);
    let ran = run_jobs_seen(&app, 0).await;
    // Every job ends quietly, as finished with nothing published.
    assert_eq!(ran.len(), 4, "{ran:?}");
    for (_, state, result) in &ran {
        assert_eq!(*state, JobState::Finished);
        assert_eq!(result["published"], false);
    }
    let got = flake(&app, &token, &bot, &drafted).await;
    assert_eq!(got["status"], "draft");
    assert_eq!(app.stored("flakes", &app.org_id, None).await, 1);
}

#[tokio::test]
async fn a_past_publish_at_publishes_on_the_next_pass() {
    let (app, token, bot) = setup().await;
    let body = create(
        &app,
        &token,
        &bot,
        json!({"title": "Overdue", "status": "schedule", "publish_at": "2017-09-15T11:56:45.982Z"}),
    )
    .await;
    // The write answers what it wrote; the first worker pass publishes.
    assert_eq!(body["status"], "schedule");
    let id = body["id"].as_str().expect("id").to_string();
    // A draft set to a past time publishes the same way.
    let draft = create(&app, &token, &bot, json!({"title": "Draft"})).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    update(
        &app,
        &token,
        &bot,
        &draft,
        json!({"status": "schedule", "publish_at": "2020-01-01"}),
    )
    .await;

    let before = app.clock.now_millis();
    assert_eq!(app.run_jobs().await, 2);
    for id in [&id, &draft] {
        let got = flake(&app, &token, &bot, id).await;
        assert_eq!(got["status"], "publish", "{got}");
        assert!(millis(&got["modified"]) >= before, "{got}");
        assert!(millis(&got["modified"]) >= millis(&got["created"]), "{got}");
    }
    assert_eq!(
        flake(&app, &token, &bot, &draft).await["publish_at"],
        "2020-01-01T00:00:00.000Z"
    );
}

#[tokio::test]
async fn racing_workers_publish_once() {
    let (app, token, bot) = setup().await;
    let publish_at = app.clock.now_millis() + HOUR_MS;
    let schedule = json!({"status": "schedule", "publish_at": at(publish_at)});
    // Scheduled, cancelled and scheduled again for the same time: two due jobs for one flake.
    let mut body = schedule.clone();
    body["title"] = json!("Twice");
    let id = create(&app, &token, &bot, body).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    update(&app, &token, &bot, &id, json!({"status": "draft"})).await;
    update(&app, &token, &bot, &id, schedule).await;

    app.advance_clock(HOUR * 2);
    // Two workers (as of two instances) drain the queue at the same time.
    let (a, b) = tokio::join!(run_jobs_seen(&app, 1), run_jobs_seen(&app, 2));
    let ran: Vec<_> = a.into_iter().chain(b).collect();
    assert_eq!(ran.len(), 2, "each job runs once: {ran:?}");
    let published = ran
        .iter()
        .filter(|(_, state, result)| *state == JobState::Finished && result["published"] == true)
        .count();
    assert_eq!(published, 1, "{ran:?}");
    assert_eq!(flake(&app, &token, &bot, &id).await["status"], "publish");

    // The same schedule run twice at once, straight through the service: one publishes.
    let body = create(
        &app,
        &token,
        &bot,
        json!({"title": "Raced", "status": "schedule", "publish_at": at(publish_at + 2 * HOUR_MS)}),
    )
    .await;
    let job = PublishJob {
        organisation_id: app.org_id.clone(),
        bot_id: bot.clone(),
        flake_id: body["id"].as_str().expect("id").to_string(),
        publish_at: publish_at + 2 * HOUR_MS,
    };
    let content = &app.services.content;
    let (a, b) = tokio::join!(
        content.publish_scheduled(&job),
        content.publish_scheduled(&job)
    );
    let outcomes = [
        a.map_err(|e| e.into_domain()).expect("publish"),
        b.map_err(|e| e.into_domain()).expect("publish"),
    ];
    assert_eq!(outcomes.iter().filter(|p| **p).count(), 1, "{outcomes:?}");
    assert_eq!(
        flake(&app, &token, &bot, &job.flake_id).await["status"],
        "publish"
    );
}

#[tokio::test]
async fn bad_schedules_keep_their_validation_errors() {
    let (app, token, bot) = setup().await;
    for (body, codes) in [
        (
            json!({"title": "t", "status": "schedule"}),
            json!({"publish_at": ["presence"]}),
        ),
        (
            json!({"title": "t", "status": "schedule", "publish_at": null}),
            json!({"publish_at": ["presence"]}),
        ),
        (
            json!({"title": "t", "status": "schedule", "publish_at": "next tuesday"}),
            json!({"publish_at": ["date", "presence"]}),
        ),
    ] {
        let r = app
            .post(&format!("/api/bots/{bot}/flakes"), &token, body.clone())
            .await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert_eq!(r.body["error"]["statusCode"], 422);
        assert_eq!(r.body["error"]["name"], "ValidationError");
        assert_eq!(r.body["error"]["details"]["codes"], codes, "{body}");
    }
    // An update is checked as merged, and a refused one schedules nothing.
    let id = create(&app, &token, &bot, json!({"title": "t"})).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let r = app
        .put(
            &format!("/api/bots/{bot}/flakes/{id}"),
            &token,
            json!({"status": "schedule"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(
        r.body["error"]["details"]["codes"],
        json!({"publish_at": ["presence"]})
    );
    assert_eq!(app.stored("flakes", &app.org_id, Some(&bot)).await, 1);
    app.advance_clock(HOUR * 24 * 365 * 10);
    assert_eq!(app.run_jobs().await, 0);
}
