//! Delivering published flakes: a bot linked to a platform application of its organisation
//! posts them, as its BOT chat user, into the channels subscribed to their categories (once per
//! flake and channel); webhook endpoints get signed JSON events, retried with back-off, with a
//! delivery log; the outbound guard refuses private addresses unless the operator allows them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hmac::{Hmac, Mac};
use palaver_domain::time::format_millis;
use palaver_service::content::ChatPostJob;
use palaver_test_support::TestApp;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::{spawn, spawn_with};

const SECRET: &str = "a-webhook-secret-of-some-length";

/// What a receiver saw of one request.
#[derive(Debug, Clone)]
struct Hit {
    signature_ok: bool,
    event: String,
    delivery: String,
    body: Value,
}

#[derive(Clone)]
struct Receiver {
    hits: Arc<Mutex<Vec<Hit>>>,
    /// Requests answered 500 before it answers 200.
    failures: usize,
}

/// Checks the signature as a receiver would: HMAC-SHA256 of the raw body under the secret.
fn signed(headers: &HeaderMap, body: &[u8]) -> bool {
    let Some(sig) = headers
        .get("x-palaver-signature")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("sha256="))
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    sig == expected
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let hit = Hit {
        signature_ok: signed(&headers, &body),
        event: header("x-palaver-event"),
        delivery: header("x-palaver-delivery"),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    let mut hits = r.hits.lock().unwrap();
    hits.push(hit);
    if hits.len() <= r.failures {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

/// Starts a receiver on 127.0.0.1 that answers 500 to its first `failures` requests, then
/// 200; answers its port and what it saw.
async fn receiver(failures: usize) -> (u16, Arc<Mutex<Vec<Hit>>>) {
    let hits = Arc::new(Mutex::new(Vec::new()));
    let state = Receiver {
        hits: hits.clone(),
        failures,
    };
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, hits)
}

fn hits(h: &Arc<Mutex<Vec<Hit>>>) -> Vec<Hit> {
    h.lock().unwrap().clone()
}

/// A category of `bot`; answers its id.
async fn category(app: &TestApp, token: &str, bot: &str, name: &str, slug: &str) -> String {
    let r = app
        .post(
            &format!("/api/bots/{bot}/categories"),
            token,
            json!({"name": name, "slug": slug}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.id()
}

fn flake_body(title: &str, category: &str, status: &str) -> Value {
    json!({
        "title": title,
        "description": format!("About {title}"),
        "image_url": "https://img.example.com/1.png",
        "bullet_points": [{"type": "text", "text": "Read more",
            "button": [{"name": "Open", "action": "https://example.com/a"}]}],
        "category": [category],
        "status": status,
    })
}

async fn messages(app: &TestApp, ptoken: &str, channel: i64) -> Vec<Value> {
    let r = app
        .pget(&format!("/channels/{channel}/messages"), ptoken)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["_embedded"]["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn channel(app: &TestApp, ptoken: &str, name: &str, properties: Value) -> i64 {
    let r = app
        .ppost(
            "/channels",
            ptoken,
            json!({"type": "PUBLIC", "name": name, "properties": properties}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_linked_bot_posts_published_flakes_once_into_subscribed_channels() {
    let app = spawn().await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Newsbot").await;
    let news = category(&app, &token, &bot, "News", "news").await;
    let sports = category(&app, &token, &bot, "Sports", "sports").await;

    // The link creates the bot's BOT chat user in the application.
    let r = app
        .patch(
            &format!("/api/bots/{bot}"),
            &token,
            json!({"application_id": app.app_id}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["application_id"], app.app_id);
    let user_id = r.body["chat_user_id"].as_i64().expect("chat_user_id");
    let ptoken = app.platform_token().await;
    let u = app.pget(&format!("/users/{user_id}"), &ptoken).await;
    assert_eq!(u.status, 200, "{}", u.text);
    assert_eq!(u.body["type"], "BOT");
    assert_eq!(u.body["name"], format!("bot-{bot}"));
    assert_eq!(u.body["display_name"], "Newsbot");
    // Linking again keeps the same user.
    let again = app
        .patch(
            &format!("/api/bots/{bot}"),
            &token,
            json!({"application_id": app.app_id, "name": "Newsbot"}),
        )
        .await;
    assert_eq!(again.body["chat_user_id"], user_id);

    // Channels subscribe by category slug or id, in their properties.
    let news_room = channel(
        &app,
        &ptoken,
        "news-room",
        json!({"flake_categories": ["news"]}),
    )
    .await;
    let sports_room = channel(
        &app,
        &ptoken,
        "sports-room",
        json!({"flake_categories": [sports]}),
    )
    .await;
    let plain = channel(&app, &ptoken, "plain", json!({"topic": "news"})).await;

    let r = app
        .post(
            &format!("/api/bots/{bot}/flakes"),
            &token,
            flake_body("Rates rise", &news, "publish"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let flake = r.id();
    // A draft raises nothing.
    let draft = app
        .post(
            &format!("/api/bots/{bot}/flakes"),
            &token,
            flake_body("Not yet", &news, "draft"),
        )
        .await
        .id();
    app.run_jobs().await;

    let posted = messages(&app, &ptoken, news_room).await;
    assert_eq!(posted.len(), 1, "{posted:?}");
    let m = &posted[0];
    assert_eq!(m["body"], "Rates rise\n\nAbout Rates rise");
    assert_eq!(m["type"], "TEXT");
    assert_eq!(m["user"]["id"], user_id);
    let card = &m["properties"]["flake"];
    assert_eq!(card["id"], flake);
    assert_eq!(card["title"], "Rates rise");
    assert_eq!(card["image_url"], "https://img.example.com/1.png");
    assert_eq!(card["bullet_points"][0]["button"][0]["name"], "Open");
    assert_eq!(card["category"], json!([news]));
    assert!(messages(&app, &ptoken, sports_room).await.is_empty());
    assert!(messages(&app, &ptoken, plain).await.is_empty());

    // An edit, a re-publish and a job run again post nothing more.
    let path = format!("/api/bots/{bot}/flakes/{flake}");
    assert_eq!(
        app.put(&path, &token, json!({"title": "Rates rise again"}))
            .await
            .status,
        200
    );
    assert_eq!(
        app.put(&path, &token, json!({"status": "draft"}))
            .await
            .status,
        200
    );
    assert_eq!(
        app.put(&path, &token, json!({"status": "publish"}))
            .await
            .status,
        200
    );
    app.run_jobs().await;
    let retried = ChatPostJob {
        organisation_id: app.org_id.clone(),
        bot_id: bot.clone(),
        flake_id: flake.clone(),
        application_id: app.app_id,
    };
    let again = app
        .services
        .content
        .post_flake_to_chat(&retried)
        .await
        .map_err(|e| e.into_domain())
        .unwrap();
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(messages(&app, &ptoken, news_room).await.len(), 1);

    // Publishing the draft by hand posts it; a flake of the other category goes elsewhere.
    let r = app
        .put(
            &format!("/api/bots/{bot}/flakes/{draft}"),
            &token,
            json!({"status": "publish"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.post(
        &format!("/api/bots/{bot}/flakes"),
        &token,
        flake_body("Cup final", &sports, "publish"),
    )
    .await;
    app.run_jobs().await;
    let bodies: Vec<Value> = messages(&app, &ptoken, news_room)
        .await
        .iter()
        .map(|m| m["body"].clone())
        .collect();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert!(bodies.contains(&json!("Not yet\n\nAbout Not yet")));
    let sport = messages(&app, &ptoken, sports_room).await;
    assert_eq!(sport.len(), 1);
    assert_eq!(sport[0]["body"], "Cup final\n\nAbout Cup final");

    // Unlinked, the bot posts no more.
    let r = app
        .patch(
            &format!("/api/bots/{bot}"),
            &token,
            json!({"application_id": null}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body.get("application_id").is_none(), "{}", r.text);
    app.post(
        &format!("/api/bots/{bot}/flakes"),
        &token,
        flake_body("Quiet", &news, "publish"),
    )
    .await;
    app.run_jobs().await;
    assert_eq!(messages(&app, &ptoken, news_room).await.len(), 2);
}

#[tokio::test]
async fn a_scheduled_flake_is_posted_when_its_time_comes() {
    let app = spawn().await;
    let token = app.admin_token().await;
    let r = app
        .post(
            "/api/bots",
            &token,
            json!({"name": "Planner", "application_id": app.app_id}),
        )
        .await;
    let bot = r.id();
    let news = category(&app, &token, &bot, "News", "news").await;
    let ptoken = app.platform_token().await;
    let room = channel(&app, &ptoken, "digest", json!({"flake_categories": [news]})).await;
    let at = format_millis(app.clock.now_millis() + 3_600_000);
    let mut body = flake_body("Digest", &news, "schedule");
    body["publish_at"] = json!(at);
    let r = app
        .post(&format!("/api/bots/{bot}/flakes"), &token, body)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.run_jobs().await;
    assert!(messages(&app, &ptoken, room).await.is_empty());
    app.advance_clock(Duration::from_secs(3_601));
    app.run_jobs().await;
    let posted = messages(&app, &ptoken, room).await;
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(posted[0]["properties"]["flake"]["status"], "publish");
}

#[tokio::test]
async fn only_an_application_of_the_bots_organisation_can_be_linked() {
    let app = spawn().await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Linked").await;
    let other = app.other_application("elsewhere").await;
    for id in [json!(other.app_id), json!(987_654_321)] {
        let r = app
            .patch(
                &format!("/api/bots/{bot}"),
                &token,
                json!({"application_id": id}),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
        let e = &r.body["error"];
        assert_eq!(e["name"], "ValidationError");
        assert_eq!(e["statusCode"], 422);
        assert_eq!(e["details"]["codes"]["application_id"], json!(["exists"]));
    }
    let stored = app.get(&format!("/api/bots/{bot}"), &token).await;
    assert!(
        stored.body.get("application_id").is_none(),
        "{}",
        stored.text
    );

    // A bot can be created linked.
    let r = app
        .post(
            "/api/bots",
            &token,
            json!({"name": "Born linked", "application_id": app.app_id}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["chat_user_id"].is_i64(), "{}", r.text);
}

#[tokio::test]
async fn webhooks_are_signed_retried_with_back_off_and_logged() {
    let app = spawn_with(|c| c.outbound_allow_private = true).await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Hooked").await;
    let news = category(&app, &token, &bot, "News", "news").await;
    let (port, seen) = receiver(2).await;

    let hooks = format!("/api/bots/{bot}/webhooks");
    let r = app
        .post(
            &hooks,
            &token,
            json!({"url": format!("http://127.0.0.1:{port}/hook"), "secret": SECRET,
                "events": ["flake.published", "flake.deleted"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let hook = r.id();
    assert!(
        r.body.get("secret").is_none(),
        "the secret is never shown: {}",
        r.text
    );
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["bot_id"], bot);
    let listed = app.get(&hooks, &token).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1));
    assert!(!listed.text.contains(SECRET));
    assert_eq!(
        app.get(&format!("{hooks}/count"), &token).await.body,
        json!({"count": 1})
    );

    let flake = app
        .post(
            &format!("/api/bots/{bot}/flakes"),
            &token,
            flake_body("Hooked news", &news, "publish"),
        )
        .await
        .id();
    let log = format!("{hooks}/{hook}/deliveries");
    app.run_jobs().await;
    assert_eq!(hits(&seen).len(), 1);
    let d = app.get(&log, &token).await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(d.body[0]["status"], "pending");
    assert_eq!(d.body[0]["attempts"], 1);
    assert_eq!(d.body[0]["response_status"], 500);
    assert!(
        d.body[0]["last_error"].as_str().unwrap().contains("500"),
        "{}",
        d.text
    );

    // Nothing before the back-off has passed; then the second try fails and the third lands.
    app.run_jobs().await;
    assert_eq!(hits(&seen).len(), 1);
    app.advance_clock(Duration::from_secs(3));
    app.run_jobs().await;
    assert_eq!(hits(&seen).len(), 2);
    app.advance_clock(Duration::from_secs(5));
    app.run_jobs().await;
    let all = hits(&seen);
    assert_eq!(all.len(), 3);
    for h in &all {
        assert!(h.signature_ok, "{h:?}");
        assert_eq!(h.event, "flake.published");
        assert_eq!(
            h.delivery, all[0].delivery,
            "one delivery id on every attempt"
        );
        assert_eq!(h.body["id"], h.delivery);
        assert_eq!(h.body["event"], "flake.published");
        assert_eq!(h.body["bot_id"], bot);
        assert_eq!(h.body["flake"]["id"], flake);
        assert_eq!(h.body["flake"]["status"], "publish");
        assert!(h.body["delivered_at"].is_string(), "{h:?}");
    }
    let d = app.get(&log, &token).await;
    assert_eq!(d.body[0]["status"], "delivered");
    assert_eq!(d.body[0]["attempts"], 3);
    assert_eq!(d.body[0]["response_status"], 200);
    assert!(d.body[0].get("last_error").is_none(), "{}", d.text);
    assert_eq!(d.body[0]["flake_id"], flake);

    // An edit is not an event this endpoint wants; a delete is.
    let path = format!("/api/bots/{bot}/flakes/{flake}");
    app.put(&path, &token, json!({"title": "Edited"})).await;
    assert_eq!(app.delete(&path, &token).await.status, 204);
    app.run_jobs().await;
    let all = hits(&seen);
    assert_eq!(all.len(), 4);
    assert!(all[3].signature_ok);
    assert_eq!(all[3].event, "flake.deleted");
    assert_eq!(all[3].body["flake"]["title"], "Edited");
    let deleted = app
        .get_filter(&log, &token, json!({"where": {"event": "flake.deleted"}}))
        .await;
    assert_eq!(
        deleted.body.as_array().map(Vec::len),
        Some(1),
        "{}",
        deleted.text
    );
    assert_eq!(deleted.body[0]["status"], "delivered");
    assert_eq!(
        app.get(&format!("{log}/count"), &token).await.body,
        json!({"count": 2})
    );

    // Relation-route misses, in LoopBack's words.
    let miss = app.get(&format!("{hooks}/nohook"), &token).await;
    assert_eq!(miss.status, 404);
    assert_eq!(
        miss.body["error"]["message"],
        "No instance with id nohook found for webhooks"
    );
    let nobot = app.get("/api/bots/nobot/webhooks", &token).await;
    assert_eq!(nobot.status, 404);
    assert_eq!(nobot.body["error"]["code"], "MODEL_NOT_FOUND");

    // Bad endpoints are refused whole.
    let bad = app
        .post(
            &hooks,
            &token,
            json!({"url": "ftp://example.com/x", "secret": "short", "events": ["flake.eaten"]}),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    let codes = &bad.body["error"]["details"]["codes"];
    assert_eq!(codes["url"], json!(["format"]));
    assert_eq!(codes["secret"], json!(["length.min"]));
    assert_eq!(codes["events"], json!(["inclusion"]));

    // Updated and deleted endpoints.
    let r = app
        .patch(
            &format!("{hooks}/{hook}"),
            &token,
            json!({"events": ["flake.updated"], "active": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["events"], json!(["flake.updated"]));
    assert_eq!(
        app.delete(&format!("{hooks}/{hook}"), &token).await.status,
        204
    );
    assert_eq!(app.get(&log, &token).await.status, 404);
}

#[tokio::test]
async fn an_endpoint_that_always_fails_ends_failed_after_the_last_attempt() {
    let app = spawn_with(|c| c.outbound_allow_private = true).await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Unlucky").await;
    let (port, seen) = receiver(usize::MAX).await;
    let hook = app
        .post(
            &format!("/api/bots/{bot}/webhooks"),
            &token,
            json!({"url": format!("http://127.0.0.1:{port}/hook"), "secret": SECRET,
                "events": ["flake.published"]}),
        )
        .await
        .id();
    let mut body = flake_body("Doomed", "", "publish");
    body.as_object_mut().unwrap().remove("category");
    app.post(&format!("/api/bots/{bot}/flakes"), &token, body)
        .await;
    for _ in 0..8 {
        app.run_jobs().await;
        app.advance_clock(Duration::from_secs(400));
    }
    let max = palaver_service::jobs::MAX_ATTEMPTS;
    assert_eq!(hits(&seen).len() as i64, max);
    let d = app
        .get(
            &format!("/api/bots/{bot}/webhooks/{hook}/deliveries"),
            &token,
        )
        .await;
    assert_eq!(d.body[0]["status"], "failed", "{}", d.text);
    assert_eq!(d.body[0]["attempts"], max);
    assert_eq!(
        d.body[0]["last_error"], "the endpoint answered HTTP 500",
        "{}",
        d.text
    );
}

#[tokio::test]
async fn private_addresses_are_refused_unless_the_operator_allows_them() {
    let app = spawn().await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Guarded").await;
    let (port, seen) = receiver(0).await;
    let hooks = format!("/api/bots/{bot}/webhooks");
    for url in [
        format!("http://127.0.0.1:{port}/hook"),
        "http://169.254.169.254/latest/meta-data".to_string(),
        "http://[::1]/hook".to_string(),
    ] {
        let r = app
            .post(
                &hooks,
                &token,
                json!({"url": url, "secret": SECRET, "events": ["flake.published"]}),
            )
            .await;
        assert_eq!(r.status, 422, "{url}: {}", r.text);
        assert_eq!(
            r.body["error"]["details"]["codes"]["url"],
            json!(["format"])
        );
    }
    // A name is checked where it resolves: the delivery is refused, for good, at once.
    let hook = app
        .post(
            &hooks,
            &token,
            json!({"url": format!("http://localhost:{port}/hook"), "secret": SECRET,
                "events": ["flake.published"]}),
        )
        .await
        .id();
    let mut body = flake_body("Inside", "", "publish");
    body.as_object_mut().unwrap().remove("category");
    app.post(&format!("/api/bots/{bot}/flakes"), &token, body)
        .await;
    app.run_jobs().await;
    assert!(hits(&seen).is_empty());
    let d = app.get(&format!("{hooks}/{hook}/deliveries"), &token).await;
    assert_eq!(d.body[0]["status"], "failed", "{}", d.text);
    assert_eq!(d.body[0]["attempts"], 1);
    let error = d.body[0]["last_error"].as_str().unwrap();
    assert!(
        error.contains("127.0.0.1") && error.contains("not public"),
        "{error}"
    );
}
