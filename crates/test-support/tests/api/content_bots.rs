//! `/api/bots`: create, list, count, read, patch, replace and delete.

use palaver_test_support::TestApp;
use serde_json::{json, Value};

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

#[tokio::test]
async fn create_bot_answers_200_with_the_seed_shape() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let r = app
        .post(
            "/api/bots",
            &token,
            json!({"name": "Newsy", "platform": "slack", "domain": "news", "organisation_id": "forged", "id": "forged"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        keys(&r.body),
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
    assert_eq!(r.body["name"], "Newsy");
    assert_eq!(r.body["platform"], "slack");
    assert_eq!(r.body["domain"], "news");
    assert_eq!(r.body["organisation_id"], app.org_id.as_str());
    let id = r.id();
    assert_ne!(id, "forged");
    assert_eq!(id.len(), 24);
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    let got = app.get(&format!("/api/bots/{id}"), &token).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, r.body);
}

#[tokio::test]
async fn create_bot_without_name_is_a_validation_error() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let r = app
        .post("/api/bots", &token, json!({"platform": "slack"}))
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"error": {"statusCode": 422, "name": "ValidationError", "message": "The `bot` instance is not valid. Details: `name` can't be blank (value: undefined).", "details": {"context": "bot", "codes": {"name": ["presence"]}, "messages": {"name": ["can't be blank"]}}}})
    );
    assert_eq!(app.stored("bot", &app.org_id, None).await, 0);
}

#[tokio::test]
async fn list_and_count_bots() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let r = app.get("/api/bots", &token).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!([]));
    assert_eq!(
        app.get("/api/bots/count", &token).await.body,
        json!({"count": 0})
    );
    let a = app.create_bot(&token, "Alpha").await;
    let b = app.create_bot(&token, "Beta").await;
    let c = app.create_bot(&token, "Gamma").await;
    let r = app.get("/api/bots", &token).await;
    let ids: Vec<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [a.as_str(), b.as_str(), c.as_str()]);
    assert_eq!(
        app.get("/api/bots/count", &token).await.body,
        json!({"count": 3})
    );
    let r = app
        .get_query(
            "/api/bots/count",
            &token,
            &[("where", r#"{"name":{"inq":["Alpha","Gamma"]}}"#)],
        )
        .await;
    assert_eq!(r.body, json!({"count": 2}));
}

#[tokio::test]
async fn get_missing_bot_is_unknown_bot_id() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let r = app.get("/api/bots/nosuchbot", &token).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"error": {"statusCode": 404, "name": "Error", "message": "Unknown \"bot\" id \"nosuchbot\".", "code": "MODEL_NOT_FOUND"}})
    );
}

#[tokio::test]
async fn patch_bot_changes_only_what_is_sent() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_bot(&token, "Alpha").await;
    let before = app.get(&format!("/api/bots/{id}"), &token).await.body;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let r = app
        .patch(
            &format!("/api/bots/{id}"),
            &token,
            json!({"domain": "sports"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "Alpha");
    assert_eq!(r.body["platform"], "slack");
    assert_eq!(r.body["domain"], "sports");
    assert_eq!(r.body["created"], before["created"]);
    assert_ne!(r.body["modified"], before["modified"]);
    let r = app
        .patch(&format!("/api/bots/{id}"), &token, json!({"name": ""}))
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(
        r.body["error"]["details"]["codes"],
        json!({"name": ["presence"]})
    );
    let r = app
        .patch("/api/bots/nosuchbot", &token, json!({"name": "x"}))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"error": {"statusCode": 404, "name": "Error", "message": "could not find a model with id nosuchbot", "code": "MODEL_NOT_FOUND"}})
    );
}

#[tokio::test]
async fn put_bot_replaces_the_whole_object() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_bot(&token, "Alpha").await;
    let r = app
        .put(
            &format!("/api/bots/{id}"),
            &token,
            json!({"name": "Renamed"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        keys(&r.body),
        ["name", "organisation_id", "id", "created", "modified"]
    );
    assert_eq!(r.body["name"], "Renamed");
    assert_eq!(r.body["id"], id.as_str());
    let got = app.get(&format!("/api/bots/{id}"), &token).await;
    assert!(got.body.get("platform").is_none(), "{}", got.text);
    assert!(got.body.get("domain").is_none(), "{}", got.text);
    let r = app
        .put(
            &format!("/api/bots/{id}"),
            &token,
            json!({"platform": "slack"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
}

#[tokio::test]
async fn put_missing_bot_cannot_replace() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let r = app
        .put("/api/bots/nosuchbot", &token, json!({"name": "x"}))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"error": {"statusCode": 404, "name": "Error", "message": "Could not replace. Object with id nosuchbot does not exist!"}})
    );
    assert_eq!(app.stored("bot", &app.org_id, None).await, 0);
}

#[tokio::test]
async fn delete_bot_counts_and_a_miss_counts_zero() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_bot(&token, "Alpha").await;
    let keep = app.create_bot(&token, "Keep").await;
    let r = app.delete(&format!("/api/bots/{id}"), &token).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"count": 1}));
    let r = app.delete(&format!("/api/bots/{id}"), &token).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"count": 0}));
    assert_eq!(
        app.get(&format!("/api/bots/{id}"), &token).await.status,
        404
    );
    assert_eq!(
        app.get(&format!("/api/bots/{keep}"), &token).await.status,
        200
    );
}

#[tokio::test]
async fn deleting_a_bot_removes_its_content() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_bot(&token, "Doomed").await;
    let keep = app.create_bot(&token, "Keep").await;
    for bot in [&id, &keep] {
        let tag = app
            .post(
                &format!("/api/bots/{bot}/tags"),
                &token,
                json!({"name": "t"}),
            )
            .await;
        assert_eq!(tag.status, 200, "{}", tag.text);
        let cat = app
            .post(
                &format!("/api/bots/{bot}/categories"),
                &token,
                json!({"name": "c"}),
            )
            .await;
        assert_eq!(cat.status, 200, "{}", cat.text);
        let r = app
            .post(
                &format!("/api/bots/{bot}/flakes"),
                &token,
                json!([{"title": "a", "tags": [tag.id()], "category": [cat.id()]}, {"title": "b"}]),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = app
            .post(
                &format!("/api/bots/{bot}/channels"),
                &token,
                json!({"name": "ch"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    assert_eq!(app.stored("flakes", &app.org_id, Some(&id)).await, 2);
    let r = app.delete(&format!("/api/bots/{id}"), &token).await;
    assert_eq!(r.body, json!({"count": 1}));
    for model in ["flakes", "tags", "categories", "channels"] {
        assert_eq!(
            app.stored(model, &app.org_id, Some(&id)).await,
            0,
            "{model}"
        );
    }
    assert_eq!(app.stored("flakes", &app.org_id, Some(&keep)).await, 2);
    assert_eq!(app.stored("tags", &app.org_id, Some(&keep)).await, 1);
    let r = app.get(&format!("/api/bots/{id}/flakes"), &token).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body["error"]["message"],
        format!("could not find a model with id {id}")
    );
}

#[tokio::test]
async fn get_bot_accepts_fields_and_include() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.create_bot(&token, "Alpha").await;
    let r = app
        .post(
            &format!("/api/bots/{id}/flakes"),
            &token,
            json!([{"title": "one"}, {"title": "two"}]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .get_filter(
            &format!("/api/bots/{id}"),
            &token,
            json!({"fields": ["name", "id"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"name": "Alpha", "id": id}));
    let r = app
        .get_filter(
            &format!("/api/bots/{id}"),
            &token,
            json!({"include": "flakes"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let titles: Vec<&str> = r.body["flakes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["one", "two"]);
}
