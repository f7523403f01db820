//! `/api/organisations/{id}` and its `users` and `bots` relations, with their counts.

use palaver_test_support::TestApp;
use serde_json::{json, Value};

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn parent_missing(id: &str) -> Value {
    json!({"error": {"statusCode": 404, "name": "Error", "message": format!("could not find a model with id {id}"), "code": "MODEL_NOT_FOUND"}})
}

fn ids(r: &Value) -> Vec<&str> {
    r.as_array()
        .unwrap_or_else(|| panic!("not a list: {r}"))
        .iter()
        .map(|x| x["id"].as_str().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn get_organisation_has_the_seed_shape() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let r = app
        .get(&format!("/api/organisations/{}", app.org_id), &token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(keys(&r.body), ["company_name", "id", "created", "modified"]);
    assert_eq!(r.body["company_name"], "default");
    assert_eq!(r.body["id"], app.org_id.as_str());
    assert_eq!(r.body["created"], r.body["modified"]);
}

#[tokio::test]
async fn another_or_unknown_organisation_is_unknown() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (other, _) = app.other_org("acme").await;
    for id in [other.as_str(), "nosuchorg"] {
        let r = app.get(&format!("/api/organisations/{id}"), &token).await;
        assert_eq!(r.status, 404, "{}", r.text);
        assert_eq!(
            r.body,
            json!({"error": {"statusCode": 404, "name": "Error", "message": format!("Unknown \"organisation\" id \"{id}\"."), "code": "MODEL_NOT_FOUND"}})
        );
    }
}

#[tokio::test]
async fn organisation_users_page_with_limit_and_skip() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let mut made = vec![app.admin_id.clone()];
    for n in 1..=3 {
        let r = app
            .post(
                "/api/users",
                &token,
                json!({"email": format!("u{n}@example.com"), "password": "pw-123456", "role": "owner", "phone_no": format!("{n}")}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        made.push(r.id());
    }
    let path = format!("/api/organisations/{}/users", app.org_id);
    let all = app.get(&path, &token).await;
    assert_eq!(all.status, 200, "{}", all.text);
    assert_eq!(ids(&all.body), made);
    assert!(!all.text.contains("password"));
    let page = app
        .get_filter(&path, &token, json!({"limit": 1, "skip": 0}))
        .await;
    assert_eq!(ids(&page.body), [made[0].as_str()]);
    // The seed's user shape: organisation_id, role, phone_no, username, email, ….
    let page = app
        .get_filter(&path, &token, json!({"limit": 1, "skip": 2}))
        .await;
    assert_eq!(ids(&page.body), [made[2].as_str()]);
    assert_eq!(
        keys(&page.body[0]),
        [
            "organisation_id",
            "role",
            "phone_no",
            "email",
            "emailVerified",
            "id",
            "created",
            "modified"
        ]
    );
    let r = app.get(&format!("{path}/count"), &token).await;
    assert_eq!(r.body, json!({"count": 4}));
    let r = app
        .get_query(
            &format!("{path}/count"),
            &token,
            &[("where", r#"{"role":"owner"}"#)],
        )
        .await;
    assert_eq!(r.body, json!({"count": 3}));
}

#[tokio::test]
async fn organisation_users_where_bot_id_lists_that_bots_users_in_the_seed_shape() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Newsy").await;
    let other_bot = app.create_bot(&token, "Other").await;
    let body = json!({
        "bot_id": bot, "role": "customer", "platform": "slack", "username": "fan1",
        "email": "fan1@example.com", "password": "fan-pass-1", "displayName": "Fan One",
        "profilePic": "string", "bot": "Newsy", "quiz_sets": [], "read_stories": [],
        "context_session": [], "level": 0, "user_id": "U123"
    });
    let r = app.post("/api/users", &token, body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let fan = r.id();
    app.create_account(
        &app.org_id,
        "fan2@example.com",
        "pw-123456",
        "customer",
        Some(&other_bot),
    )
    .await;
    let path = format!("/api/organisations/{}/users", app.org_id);
    let r = app
        .get_filter(
            &path,
            &token,
            json!({"where": {"bot_id": bot}, "limit": 1, "skip": 0}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ids(&r.body), [fan.as_str()]);
    let u = &r.body[0];
    assert_eq!(
        keys(u),
        [
            "organisation_id",
            "bot_id",
            "role",
            "platform",
            "username",
            "email",
            "emailVerified",
            "id",
            "created",
            "modified",
            "displayName",
            "profilePic",
            "bot",
            "url",
            "type",
            "quiz_sets",
            "read_stories",
            "context_session",
            "level",
            "user_id"
        ]
    );
    assert_eq!(u["organisation_id"], app.org_id.as_str());
    assert_eq!(u["bot_id"], bot.as_str());
    assert_eq!(u["role"], "customer");
    assert_eq!(u["platform"], "slack");
    assert_eq!(u["displayName"], "Fan One");
    assert_eq!(u["bot"], "Newsy");
    assert_eq!(u["url"], Value::Null);
    assert_eq!(u["type"], Value::Null);
    assert_eq!(u["quiz_sets"], json!([]));
    assert_eq!(u["read_stories"], json!([]));
    assert_eq!(u["context_session"], json!([]));
    assert_eq!(u["level"], 0);
    assert_eq!(u["user_id"], "U123");
    let r = app
        .get_query(
            &format!("{path}/count"),
            &token,
            &[("where", &json!({"bot_id": other_bot}).to_string())],
        )
        .await;
    assert_eq!(r.body, json!({"count": 1}));
}

#[tokio::test]
async fn organisation_bots_list_page_and_count() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let a = app.create_bot(&token, "Alpha").await;
    let b = app.create_bot(&token, "Beta").await;
    let path = format!("/api/organisations/{}/bots", app.org_id);
    let r = app.get(&path, &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ids(&r.body), [a.as_str(), b.as_str()]);
    assert_eq!(
        keys(&r.body[0]),
        [
            "name",
            "platform",
            "domain",
            "organisation_id",
            "id",
            "created",
            "modified"
        ]
    );
    assert_eq!(r.body[0]["name"], "Alpha");
    assert_eq!(r.body[0]["organisation_id"], app.org_id.as_str());
    let r = app
        .get_filter(&path, &token, json!({"limit": 1, "skip": 1}))
        .await;
    assert_eq!(ids(&r.body), [b.as_str()]);
    let r = app.get(&format!("{path}/count"), &token).await;
    assert_eq!(r.body, json!({"count": 2}));
    let r = app
        .get_query(&format!("{path}/count"), &token, &[("where[name]", "Beta")])
        .await;
    assert_eq!(r.body, json!({"count": 1}));
}

#[tokio::test]
async fn organisation_relations_of_a_wrong_org_are_model_not_found() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (other, _) = app.other_org("acme").await;
    for id in [other.as_str(), "nosuchorg"] {
        for rel in ["users", "bots", "users/count", "bots/count"] {
            let r = app
                .get(&format!("/api/organisations/{id}/{rel}"), &token)
                .await;
            assert_eq!(r.status, 404, "{rel}: {}", r.text);
            assert_eq!(r.body, parent_missing(id), "{rel}");
        }
        let r = app
            .post(
                &format!("/api/organisations/{id}/bots"),
                &token,
                json!({"name": "sneaky"}),
            )
            .await;
        assert_eq!(r.body, parent_missing(id));
    }
    assert_eq!(app.stored("bot", &other, None).await, 0);
}

#[tokio::test]
async fn creating_through_the_organisation_relations() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let r = app
        .post(
            &format!("/api/organisations/{}/bots", app.org_id),
            &token,
            json!({"name": "ViaOrg", "platform": "facebook", "domain": "food"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["organisation_id"], app.org_id.as_str());
    let r = app
        .post(
            &format!("/api/organisations/{}/users", app.org_id),
            &token,
            json!({"email": "via@example.com", "password": "pw-123456", "role": "owner"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["organisation_id"], app.org_id.as_str());
}
