//! Rate limits of both faces: over a limit, 429 with `Retry-After` in the face's error shape
//! (platform per application, content per token and per address, the two login endpoints), one
//! key's exhaustion leaving others served, chat functions' calls in a bucket of their own, and
//! keys forgotten once their bucket is full again. The limiters read a manual clock here, so a
//! burst is spent whatever the machine's speed.

use std::time::Duration;

use palaver_api::{BodyLimitConfig, InProcess, RateClock, RateLimit, RateLimitConfig};
use palaver_service::AppPrincipal;
use palaver_test_support::{
    assert_platform_error, Resp, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD, CLIENT_ID, CLIENT_SECRET,
};
use serde_json::{json, Value};

/// Puts `rate` in force (every other limit off unless `rate` says) on a clock that stands still.
fn limit(app: &TestApp, rate: RateLimitConfig) -> RateClock {
    let clock = RateClock::manual();
    app.limits
        .configure(&rate, &BodyLimitConfig::default(), clock.clone());
    clock
}

/// The `Retry-After` of a 429: whole seconds, at least 1 and at most `max`.
fn retry_after(r: &Resp, max: u64) -> u64 {
    let v = r
        .header("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After on {} {}", r.status, r.text));
    let secs: u64 = v.parse().unwrap_or_else(|_| panic!("Retry-After {v}"));
    assert!((1..=max).contains(&secs), "Retry-After {secs}");
    secs
}

/// A content API 429: LoopBack's body, nothing else in it.
fn assert_content_429(r: &Resp) -> String {
    assert_eq!(r.status, 429, "{}", r.text);
    let inner = r.body["error"].as_object().expect("error object");
    let keys: Vec<&str> = inner.keys().map(String::as_str).collect();
    assert_eq!(keys, ["statusCode", "name", "message"], "{}", r.text);
    assert_eq!(inner["statusCode"], 429);
    assert_eq!(inner["name"], "TooManyRequestsError");
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    inner["message"].as_str().unwrap().to_string()
}

fn login_body(password: &str) -> Option<Value> {
    Some(json!({"email": ADMIN_EMAIL, "password": password}))
}

#[tokio::test]
async fn an_application_over_its_limit_gets_429_and_others_are_still_served() {
    let app = crate::spawn().await;
    let a = app.platform_token().await;
    let b = app.other_application("beta").await;
    let clock = limit(
        &app,
        RateLimitConfig {
            platform_per_app: RateLimit::new(1, 2),
            ..RateLimitConfig::off()
        },
    );
    for _ in 0..2 {
        assert_eq!(app.pget("/v1/application", &a).await.status, 200);
    }
    let r = app.pget("/v1/application", &a).await;
    let explanation = assert_platform_error(&r, 429, "RateLimitedError");
    assert!(explanation.contains("application"), "{explanation}");
    assert_eq!(retry_after(&r, 1), 1);
    // Every route and prefix of the application counts in the same bucket.
    let r = app.pget("/users", &a).await;
    assert_platform_error(&r, 429, "RateLimitedError");

    // Another application is not held back by the first one's burst.
    for _ in 0..2 {
        assert_eq!(app.pget("/v1/application", &b.token).await.status, 200);
    }
    assert_eq!(app.pget("/v1/application", &b.token).await.status, 429);

    // Once the wait has passed, one more request is let through, and no more.
    clock.advance(Duration::from_secs(1));
    assert_eq!(app.pget("/v1/application", &a).await.status, 200);
    assert_eq!(app.pget("/v1/application", &a).await.status, 429);
}

#[tokio::test]
async fn chat_functions_calls_have_a_bucket_of_their_own() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    limit(
        &app,
        RateLimitConfig {
            platform_per_app: RateLimit::new(1, 2),
            ..RateLimitConfig::off()
        },
    );
    let api = InProcess::new(app.services.clone(), &app.limits);
    let p = AppPrincipal {
        application_id: app.app_id,
        organisation_id: app.org_id.clone(),
    };
    // The functions spend their bucket: they are refused, in the platform's shape...
    for _ in 0..2 {
        assert_eq!(
            api.call(p.clone(), "GET", "/v1/application", None)
                .await
                .status,
            200
        );
    }
    let refused = api.call(p.clone(), "GET", "/v1/application", None).await;
    assert_eq!(refused.status, 429, "{:?}", refused.body);
    assert_eq!(refused.body["error"], "RateLimitedError");
    assert!(refused.body["explanation"]
        .as_str()
        .unwrap()
        .contains("chat functions"));
    // ...and the application's own backend is still served.
    assert_eq!(app.pget("/v1/application", &token).await.status, 200);
}

#[tokio::test]
async fn a_content_token_over_its_limit_gets_429_and_other_tokens_are_still_served() {
    let app = crate::spawn().await;
    let first = app.admin_token().await;
    let second = app.admin_token().await;
    let clock = limit(
        &app,
        RateLimitConfig {
            content_per_token: RateLimit::new(1, 2),
            ..RateLimitConfig::off()
        },
    );
    let me = format!("/api/users/{}", app.admin_id);
    for _ in 0..2 {
        assert_eq!(app.get(&me, &first).await.status, 200);
    }
    let r = app.get(&me, &first).await;
    let message = assert_content_429(&r);
    assert!(message.contains("access token"), "{message}");
    assert_eq!(retry_after(&r, 1), 1);
    // The token counts wherever it travels (here the query string).
    let r = app
        .call("GET", &format!("{me}?access_token={first}"), None, None)
        .await;
    assert_content_429(&r);

    assert_eq!(app.get(&me, &second).await.status, 200);
    clock.advance(Duration::from_secs(1));
    assert_eq!(app.get(&me, &first).await.status, 200);
}

#[tokio::test]
async fn a_client_address_over_its_limit_gets_429_on_both_faces() {
    let app = crate::spawn().await;
    let token = app.admin_token().await;
    limit(
        &app,
        RateLimitConfig {
            per_ip: RateLimit::new(1, 3),
            ..RateLimitConfig::off()
        },
    );
    // Content requests count per address, with or without a token.
    assert_eq!(app.call("GET", "/api/bots", None, None).await.status, 401);
    assert_eq!(app.get("/api/bots", &token).await.status, 200);
    assert_eq!(app.call("GET", "/api/bots", None, None).await.status, 401);
    let r = app.get("/api/bots", &token).await;
    let message = assert_content_429(&r);
    assert!(message.contains("address"), "{message}");
    retry_after(&r, 1);
    // Platform requests that no valid bearer token identifies count against the address too.
    let r = app.pget("/v1/users", "not-a-token").await;
    assert_platform_error(&r, 429, "RateLimitedError");
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_address_has_its_own_bucket() {
    let app = crate::spawn().await;
    limit(
        &app,
        RateLimitConfig {
            per_ip: RateLimit::new(1, 2),
            trust_forwarded_for: true,
            ..RateLimitConfig::off()
        },
    );
    let from = |ip: &'static str| [("x-forwarded-for", ip)];
    for _ in 0..2 {
        let r = app
            .send("GET", "/api/bots", &from("203.0.113.7"), None)
            .await;
        assert_eq!(r.status, 401, "{}", r.text);
    }
    let r = app
        .send("GET", "/api/bots", &from("203.0.113.7"), None)
        .await;
    assert_content_429(&r);
    // The nearest proxy's entry is the one that counts, whatever the client put before it.
    let spoofed = [("x-forwarded-for", "198.51.100.1, 203.0.113.7")];
    assert_eq!(
        app.send("GET", "/api/bots", &spoofed, None).await.status,
        429
    );
    let r = app
        .send("GET", "/api/bots", &from("203.0.113.8"), None)
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
}

#[tokio::test]
async fn content_logins_are_held_to_the_login_limit() {
    let app = crate::spawn().await;
    limit(
        &app,
        RateLimitConfig {
            login_per_ip: RateLimit::new(1, 2),
            ..RateLimitConfig::off()
        },
    );
    for _ in 0..2 {
        let r = app
            .call("POST", "/api/users/login", None, login_body("wrong"))
            .await;
        assert_eq!(r.status, 401, "{}", r.text);
    }
    // The right password does not get past the limit either: nothing is checked.
    let r = app
        .call("POST", "/api/users/login", None, login_body(ADMIN_PASSWORD))
        .await;
    let message = assert_content_429(&r);
    assert!(message.contains("login"), "{message}");
    retry_after(&r, 1);
    // Other content routes are not under the login limit.
    assert_eq!(app.call("GET", "/api/bots", None, None).await.status, 401);
}

#[tokio::test]
async fn token_requests_are_held_to_the_login_limit() {
    let app = crate::spawn().await;
    let clock = limit(
        &app,
        RateLimitConfig {
            login_per_ip: RateLimit::new(1, 2),
            ..RateLimitConfig::off()
        },
    );
    let form = |secret: &str| {
        format!("grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={secret}")
    };
    let urlencoded = [("content-type", "application/x-www-form-urlencoded")];
    for path in ["/oauth/token", "/v1/oauth/token"] {
        let r = app
            .send("POST", path, &urlencoded, Some(&form("wrong")))
            .await;
        assert_eq!(r.status, 401, "{}", r.text);
    }
    let r = app
        .send(
            "POST",
            "/oauth/token",
            &urlencoded,
            Some(&form(CLIENT_SECRET)),
        )
        .await;
    let explanation = assert_platform_error(&r, 429, "RateLimitedError");
    assert!(explanation.contains("token requests"), "{explanation}");
    assert_eq!(retry_after(&r, 1), 1);
    clock.advance(Duration::from_secs(1));
    let r = app
        .send(
            "POST",
            "/oauth/token",
            &urlencoded,
            Some(&form(CLIENT_SECRET)),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn the_default_limits_let_ordinary_use_through() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    for _ in 0..50 {
        assert_eq!(app.pget("/v1/application", &token).await.status, 200);
    }
    let admin = app.admin_token().await;
    for _ in 0..50 {
        assert_eq!(app.get("/api/bots", &admin).await.status, 200);
    }
}

#[tokio::test]
async fn keys_whose_bucket_is_full_again_are_forgotten() {
    let app = crate::spawn().await;
    let a = app.platform_token().await;
    let b = app.other_application("beta").await;
    let clock = limit(
        &app,
        RateLimitConfig {
            platform_per_app: RateLimit::new(1, 3),
            ..RateLimitConfig::off()
        },
    );
    assert_eq!(app.limits.tracked_keys(), 0);
    assert_eq!(app.pget("/v1/application", &a).await.status, 200);
    for _ in 0..3 {
        assert_eq!(app.pget("/v1/application", &b.token).await.status, 200);
    }
    assert_eq!(app.limits.tracked_keys(), 2);
    // A's bucket has been full again for a second (one interval, the limiter's margin); B
    // spent all three and has a second to go.
    clock.advance(Duration::from_secs(2));
    app.limits.prune();
    assert_eq!(app.limits.tracked_keys(), 1);
    clock.advance(Duration::from_secs(2));
    app.limits.prune();
    assert_eq!(app.limits.tracked_keys(), 0);
    // A forgotten key starts with a full bucket, as it would have anyway.
    for _ in 0..3 {
        assert_eq!(app.pget("/v1/application", &b.token).await.status, 200);
    }
    assert_eq!(app.pget("/v1/application", &b.token).await.status, 429);
}
