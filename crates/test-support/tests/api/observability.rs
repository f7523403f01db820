//! Request ids (taken when sane, else made; always answered in `X-Request-Id`) and `/metrics`
//! on the main listener, counting requests by route template, never by raw path. The recorder
//! is shared by every server in this process: counts are compared before and after.

use crate::spawn;

use palaver_test_support::metric_sample as sample;

async fn scrape(app: &palaver_test_support::TestApp) -> String {
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    r.text().await.unwrap()
}

#[tokio::test]
async fn requests_are_counted_by_route_template_method_status_and_face() {
    let app = spawn().await;
    let token = app.platform_token().await;
    let labels = [
        ("face", "platform"),
        ("method", "GET"),
        ("route", "/v1/users/{id}"),
        ("status", "404"),
    ];
    let before = sample(&scrape(&app).await, "palaver_http_requests_total", &labels);
    for _ in 0..2 {
        let r = app.pget("/v1/users/987654321", &token).await;
        assert_eq!(r.status, 404, "{}", r.text);
    }
    let text = scrape(&app).await;
    let after = sample(&text, "palaver_http_requests_total", &labels).expect(&text);
    assert!(after >= before.unwrap_or(0.0) + 2.0, "{before:?} → {after}");
    // The latency histogram has the same route, by status class.
    let timed = sample(
        &text,
        "palaver_http_request_duration_seconds_count",
        &[("route", "/v1/users/{id}"), ("status_class", "4xx")],
    );
    assert!(timed.is_some_and(|n| n >= 2.0), "{text}");
    // Ids in paths never become labels.
    assert!(!text.contains("987654321"), "{text}");
    // The store's statements were timed on the way.
    let selects = sample(
        &text,
        "palaver_db_query_duration_seconds_count",
        &[("statement", "select")],
    );
    assert!(selects.is_some_and(|n| n >= 1.0), "{text}");
}

#[tokio::test]
async fn content_requests_and_unmatched_paths_get_their_own_labels() {
    let app = spawn().await;
    let r = app
        .call(
            "POST",
            "/api/users/login",
            None,
            Some(serde_json::json!({"email": "nobody@example.com", "password": "nope"})),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
    let r = app.call("GET", "/no-such-place/55555", None, None).await;
    assert_eq!(r.status, 404);
    let r = app
        .call("GET", "/api/no-such-model/66666", None, None)
        .await;
    assert_eq!(r.status, 404);
    let text = scrape(&app).await;
    let login = [
        ("face", "content"),
        ("method", "POST"),
        ("route", "/api/users/login"),
        ("status", "401"),
    ];
    assert!(sample(&text, "palaver_http_requests_total", &login).is_some_and(|n| n >= 1.0));
    for face in ["platform", "content"] {
        let unmatched = [("face", face), ("route", "unmatched"), ("status", "404")];
        assert!(
            sample(&text, "palaver_http_requests_total", &unmatched).is_some_and(|n| n >= 1.0),
            "{face}: {text}"
        );
    }
    // The raw paths appear in no label (their numbers could appear in a sample's value).
    assert!(
        !text.contains("no-such-place") && !text.contains("no-such-model"),
        "{text}"
    );
    assert!(!text.contains("__private__"), "{text}");
}

#[tokio::test]
async fn a_sane_request_id_is_echoed_and_any_other_is_replaced_by_a_new_one() {
    let app = spawn().await;
    let send = |id: Option<String>| {
        let mut req = app.client.get(app.url("/health"));
        if let Some(id) = id {
            req = req.header("x-request-id", id);
        }
        async move {
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.headers()["x-request-id"].to_str().unwrap().to_string()
        }
    };
    assert_eq!(
        send(Some("trace-42.abc_DEF".into())).await,
        "trace-42.abc_DEF"
    );
    let made = send(None).await;
    assert_eq!(made.len(), 32, "{made}");
    assert!(made.bytes().all(|b| b.is_ascii_hexdigit()), "{made}");
    assert_ne!(send(None).await, made);
    for insane in ["a".repeat(129), "with space".into(), String::new()] {
        let got = send(Some(insane.clone())).await;
        assert_ne!(got, insane);
        assert_eq!(got.len(), 32, "{got}");
    }
    // Errors carry it too, in either face.
    let r = app.call("GET", "/api/no-such-model", None, None).await;
    assert_eq!(r.header("x-request-id").map(str::len), Some(32));
    let r = app.call("GET", "/v1/users", None, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("x-request-id").map(str::len), Some(32));
}
