//! Errors in LoopBack's shape: bad filters are 400s (never 500s), malformed bodies are
//! SyntaxErrors, unknown routes have no method, and every error carries the same headers.

use palaver_test_support::{Resp, TestApp};
use serde_json::{json, Value};

fn bad(message: &str) -> Value {
    json!({"error": {"statusCode": 400, "name": "Error", "message": message}})
}

async fn with_bot() -> (TestApp, String, String) {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Errors").await;
    let r = app
        .post(
            &format!("/api/bots/{bot}/flakes"),
            &token,
            json!({"title": "one"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    (app, token, bot)
}

fn assert_error_headers(r: &Resp) {
    assert_eq!(
        r.header("x-content-type-options"),
        Some("nosniff"),
        "{}",
        r.text
    );
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn filters_that_are_not_json_objects() {
    let (app, token, bot) = with_bot().await;
    let flakes = format!("/api/bots/{bot}/flakes");
    let cases = [
        // Only text from `{` to `}` is taken for JSON; anything else is not an object.
        ("filter={bad}", "Cannot parse JSON-encoded object value."),
        ("filter={bad", "Value is not an object."),
        (
            "filter=%7B%22where%22%3A%7B%22status%22%3A%22draft%22%7D",
            "Cannot parse JSON-encoded object value.",
        ),
        (
            "filter=%7B%22where%22%3A%7B%7D",
            "Cannot parse JSON-encoded object value.",
        ),
        (
            "filter=%7B%22where%22%3A%7D",
            "Cannot parse JSON-encoded object value.",
        ),
        (
            "filter=%7B%22where%22%3A%7B%7D%7D%20x",
            "Value is not an object.",
        ),
        ("filter=notjson", "Value is not an object."),
        ("filter=%5B1%5D", "Value is not an object."),
        ("filter=5", "Value is not an object."),
    ];
    for (query, message) in cases {
        let r = app.get(&format!("{flakes}?{query}"), &token).await;
        assert_eq!(r.status, 400, "{query}: {}", r.text);
        assert_eq!(r.body, bad(message), "{query}");
        assert_error_headers(&r);
    }
    for (query, message) in [
        ("where={bad", "Value is not an object."),
        (
            "where=%7B%22a%22%3A%7D",
            "Cannot parse JSON-encoded object value.",
        ),
    ] {
        let r = app.get(&format!("{flakes}/count?{query}"), &token).await;
        assert_eq!(r.status, 400, "{query}: {}", r.text);
        assert_eq!(r.body, bad(message), "{query}");
    }
    // No filter at all, an empty one and `null` are all fine.
    for query in ["", "?filter=", "?filter=null", "?filter=%7B%7D"] {
        let r = app.get(&format!("{flakes}{query}"), &token).await;
        assert_eq!(r.status, 200, "{query}: {}", r.text);
        assert_eq!(r.body.as_array().map(Vec::len), Some(1));
    }
}

#[tokio::test]
async fn bad_filter_values_are_400_with_loopbacks_messages() {
    let (app, token, bot) = with_bot().await;
    let flakes = format!("/api/bots/{bot}/flakes");
    let cases: Vec<(Value, String)> = vec![
        (json!({"limit": -1}), "The limit parameter -1 is not valid".into()),
        (json!({"limit": 1.5}), "The limit parameter 1.5 is not valid".into()),
        (json!({"limit": "abc"}), "The limit parameter \"abc\" is not valid".into()),
        (json!({"limit": "0"}), "The limit parameter \"0\" is not valid".into()),
        (json!({"skip": -1}), "The offset/skip parameter -1 is not valid".into()),
        (json!({"skip": "-1"}), "The offset/skip parameter \"-1\" is not valid".into()),
        (json!({"offset": "x", "limit": 2}), "The offset/skip parameter \"x\" is not valid".into()),
        (json!({"order": "title UP"}), "The order \"title UP\" has invalid direction".into()),
        (json!({"order": "title DESC, status UP"}), "The order \"status UP\" has invalid direction".into()),
        (json!({"order": 5}), "The order 5 is not valid".into()),
        (json!({"order": ["title", 5]}), "The order 5 is not valid".into()),
        (json!({"where": "x"}), "The where clause \"x\" is not an object".into()),
        (
            json!({"where": {"nosuch": 1}}),
            "The where clause names the unknown property \"nosuch\" of model flakes".into(),
        ),
        (
            json!({"where": {"title": {"foo": 1}}}),
            "The title property has invalid clause {\"foo\":1}: unknown operator \"foo\"".into(),
        ),
        (
            json!({"where": {"status": {"inq": "draft"}}}),
            "The status property has invalid clause {\"inq\":\"draft\"}: Value is not an array or object with sequential numeric indices".into(),
        ),
        (
            json!({"where": {"publish_at": {"between": ["2017-01-01", "2017-02-01", "2017-03-01"]}}}),
            "The publish_at property has invalid clause {\"between\":[\"2017-01-01\",\"2017-02-01\",\"2017-03-01\"]}: Expected precisely 2 values, received 3".into(),
        ),
        (
            json!({"where": {"title": {"like": 5}}}),
            "The title property has invalid clause {\"like\":5}: Expected a string or RegExp".into(),
        ),
        (json!({"where": {"title": {"regexp": "/a/x"}}}), "Invalid regex flags: x".into()),
        (
            json!({"where": {"or": {"title": "a"}}}),
            "The or operator has invalid clauses {\"title\":\"a\"}: Value is not an array or object with sequential numeric indices".into(),
        ),
        (json!({"where": {"created": {"gt": "garbage"}}}), "Invalid date: garbage".into()),
        (json!({"where": {"publish_at": "not a date"}}), "Invalid date: not a date".into()),
        (json!({"include": "nosuchrel"}), "Relation \"nosuchrel\" is not defined for flakes model".into()),
        (
            json!({"include": {"relation": "bot", "scope": {"include": "nosuch"}}}),
            "Relation \"nosuch\" is not defined for bot model".into(),
        ),
    ];
    let mut failures = Vec::new();
    for (filter, message) in &cases {
        let r = app.get_filter(&flakes, &token, filter.clone()).await;
        if r.status != 400 || r.body != bad(message) {
            failures.push(format!(
                "{filter}: {} {}\n   want {message}",
                r.status, r.text
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn bad_filters_are_400_on_every_listing_route() {
    let (app, token, bot) = with_bot().await;
    let paths = [
        "/api/bots".to_string(),
        format!("/api/bots/{bot}"),
        format!("/api/bots/{bot}/tags"),
        format!("/api/bots/{bot}/channels"),
        format!("/api/organisations/{}", app.org_id),
        format!("/api/organisations/{}/users", app.org_id),
        format!("/api/organisations/{}/bots", app.org_id),
        format!("/api/users/{}", app.admin_id),
    ];
    for path in &paths {
        for filter in [
            json!({"limit": -1}),
            json!({"include": "nosuchrel"}),
            json!({"order": "id UP"}),
        ] {
            let r = app.get_filter(path, &token, filter.clone()).await;
            assert_eq!(r.status, 400, "{path} {filter}: {}", r.text);
            assert_eq!(r.body["error"]["name"], "Error");
        }
        let r = app.get(&format!("{path}?filter={{bad}}"), &token).await;
        assert_eq!(
            r.body,
            bad("Cannot parse JSON-encoded object value."),
            "{path}"
        );
    }
    for path in [
        "/api/bots/count".to_string(),
        format!("/api/bots/{bot}/flakes/count"),
        format!("/api/organisations/{}/users/count", app.org_id),
    ] {
        let r = app
            .get_query(&path, &token, &[("where", r#"{"nosuch":1}"#)])
            .await;
        assert_eq!(r.status, 400, "{path}: {}", r.text);
        let r = app
            .get_query(&path, &token, &[("where", r#"{"id":{"$ne":1}}"#)])
            .await;
        assert_eq!(r.status, 400, "{path}: {}", r.text);
        assert_eq!(r.body["error"]["code"], "OPERATOR_NOT_ALLOWED_IN_QUERY");
    }
}

#[tokio::test]
async fn dollar_operators_are_refused_with_details() {
    let (app, token, bot) = with_bot().await;
    let r = app
        .get_filter(
            &format!("/api/bots/{bot}/flakes"),
            &token,
            json!({"where": {"title": {"$gt": 1}}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.text,
        r#"{"error":{"statusCode":400,"name":"Error","message":"Operators \"$gt\" are not allowed in query","code":"OPERATOR_NOT_ALLOWED_IN_QUERY","details":{"operators":["$gt"],"where":{"title":{"$gt":1}}}}}"#
    );
    assert_error_headers(&r);
    let r = app
        .get_query(
            &format!("/api/bots/{bot}/flakes"),
            &token,
            &[("filter[where][title][$regex]", "x")],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"]["details"]["operators"], json!(["$regex"]));
}

#[tokio::test]
async fn a_too_deep_where_is_refused() {
    let (app, token, bot) = with_bot().await;
    let mut w = json!({"title": "x"});
    for _ in 0..20 {
        w = json!({"and": [w]});
    }
    let r = app
        .get_filter(
            &format!("/api/bots/{bot}/flakes"),
            &token,
            json!({"where": w}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"error": {"statusCode": 400, "name": "Error", "message": "The query object exceeds maximum depth 12", "code": "QUERY_OBJECT_TOO_DEEP"}})
    );
}

#[tokio::test]
async fn a_malformed_json_body_is_a_syntax_error() {
    let (app, token, bot) = with_bot().await;
    let headers = [
        ("Content-Type", "application/json"),
        ("KTL-Access-Token", token.as_str()),
    ];
    for (method, path) in [
        ("POST", "/api/bots".to_string()),
        ("PATCH", format!("/api/bots/{bot}")),
        ("POST", format!("/api/bots/{bot}/flakes")),
        ("PATCH", format!("/api/users/{}", app.admin_id)),
    ] {
        let r = app.send(method, &path, &headers, Some("not json")).await;
        assert_eq!(r.status, 400, "{method} {path}: {}", r.text);
        let e = r.body["error"].as_object().unwrap();
        let keys: Vec<&str> = e.keys().map(String::as_str).collect();
        assert_eq!(keys, ["statusCode", "name", "message"], "{}", r.text);
        assert_eq!(e["statusCode"], 400);
        assert_eq!(e["name"], "SyntaxError");
        assert_error_headers(&r);
    }
    let r = app
        .send(
            "POST",
            "/api/users/login",
            &[("Content-Type", "application/json")],
            Some("{\"email\":"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error"]["name"], "SyntaxError");
}

#[tokio::test]
async fn a_form_encoded_login_works() {
    let app = TestApp::spawn().await;
    let r = app
        .send(
            "POST",
            "/api/users/login",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some("email=admin%40example.com&password=admin-password-1"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["userId"], app.admin_id.as_str());
}

#[tokio::test]
async fn unknown_routes_have_no_method() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    for (method, path, shown) in [
        ("GET", "/api/nosuch", "GET /nosuch"),
        ("GET", "/api/nosuchmodel/1", "GET /nosuchmodel/1"),
        ("DELETE", "/api/bots", "DELETE /bots"),
        ("PUT", "/api/users/login", "PUT /users/login"),
    ] {
        let r = app.call(method, path, Some(&token), None).await;
        assert_eq!(r.status, 404, "{method} {path}: {}", r.text);
        assert_eq!(
            r.body,
            json!({"error": {"statusCode": 404, "name": "Error", "message": format!("There is no method to handle {shown}")}})
        );
        assert_error_headers(&r);
    }
    // Without a token the answer is the same: there is nothing to authorise.
    let r = app.send("GET", "/api/nosuch", &[], None).await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[tokio::test]
async fn every_error_kind_carries_the_loopback_headers() {
    let (app, token, bot) = with_bot().await;
    let responses = [
        app.send("GET", "/api/bots", &[], None).await,
        app.call(
            "POST",
            "/api/users/login",
            None,
            Some(json!({"email": "x@example.com", "password": "y"})),
        )
        .await,
        app.get("/api/bots/nosuch", &token).await,
        app.get(&format!("/api/bots/{bot}/flakes/nosuch"), &token)
            .await,
        app.put("/api/bots/nosuch", &token, json!({"name": "x"}))
            .await,
        app.post(&format!("/api/bots/{bot}/flakes"), &token, json!({}))
            .await,
        app.get_filter("/api/bots", &token, json!({"limit": -1}))
            .await,
    ];
    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [401, 401, 404, 404, 404, 422, 400]);
    for r in &responses {
        assert_error_headers(r);
        assert!(r.body["error"].is_object(), "{}", r.text);
    }
    // Successes are JSON with the same content type, 204s included.
    let ok = app.get("/api/bots", &token).await;
    assert_eq!(
        ok.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let none = app.delete(&format!("/api/bots/{bot}/flakes"), &token).await;
    assert_eq!(none.status, 204);
    assert_eq!(
        none.header("content-type"),
        Some("application/json; charset=utf-8")
    );
}

#[tokio::test]
async fn extreme_filter_values_never_give_a_500() {
    let (app, token, bot) = with_bot().await;
    let flakes = format!("/api/bots/{bot}/flakes");
    let filters = [
        json!({"limit": 10_000_000_000_000_000_000_u64}),
        json!({"limit": 9_223_372_036_854_775_807_i64}),
        json!({"limit": 1, "skip": 10_000_000_000_000_000_000_u64}),
        json!({"skip": 9_223_372_036_854_775_807_i64}),
        json!({"limit": 1e300}),
        json!({"where": {"created": {"gt": 1e30}}}),
        json!({"where": {"created": {"gt": -62_000_000_000_000_i64}}}),
        json!({"where": {"title": {"regexp": "(a+)+$"}}}),
        json!({"where": {"title": {"like": "%\\%"}}}),
        json!({"where": {"title": {"inq": [1, true, "x"]}}}),
    ];
    let users = format!("/api/organisations/{}/users", app.org_id);
    let user_filters = [
        json!({"where": {"level": {"gt": "1e400"}}}),
        json!({"where": {"level": {"lt": 1e300}}}),
        json!({"where": {"level": "abc"}}),
        json!({"where": {"emailVerified": {"gt": "yes"}}}),
    ];
    let mut seen = Vec::new();
    for f in &filters {
        let r = app.get_filter(&flakes, &token, f.clone()).await;
        seen.push((f.clone(), r));
    }
    for f in &user_filters {
        let r = app.get_filter(&users, &token, f.clone()).await;
        seen.push((f.clone(), r));
    }
    let bad: Vec<String> = seen
        .iter()
        .filter(|(_, r)| r.status >= 500 || !(r.status == 200 || r.status == 400))
        .map(|(f, r)| format!("{f}: {} {}", r.status, r.text))
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    for (f, r) in &seen {
        if r.status == 400 {
            assert_eq!(r.body["error"]["name"], "Error", "{f}");
        }
    }
}

#[tokio::test]
async fn a_huge_bracket_index_is_a_plain_key_not_a_crash() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    // Parsed for the access token before anything else, with or without a token.
    for t in [Some(token.as_str()), None] {
        let r = app
            .call("GET", "/api/bots?x[18446744073709551615]=1&x[]=2", t, None)
            .await;
        assert_eq!(r.status, if t.is_some() { 200 } else { 401 }, "{}", r.text);
    }
}
