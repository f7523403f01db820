//! Organisations are sealed off from each other: another organisation's ids answer exactly as
//! missing ones do, and nothing of theirs shows up in lists, counts or includes.

use palaver_test_support::TestApp;
use serde_json::{json, Value};

/// Org A (the bootstrap one) and org B, each with a bot, a tag and a flake; B also has an owner.
struct Two {
    app: TestApp,
    a: String,
    a_bot: String,
    a_flake: String,
    b_org: String,
    b: String,
    b_bot: String,
    b_flake: String,
    b_user: String,
}

async fn two_orgs() -> Two {
    let app = TestApp::spawn().await;
    let a = app.admin_token().await;
    let (b_org, b) = app.other_org("beta").await;
    let a_bot = app.create_bot(&a, "A bot").await;
    let b_bot = app.create_bot(&b, "B bot").await;
    let a_flake = app
        .post(
            &format!("/api/bots/{a_bot}/flakes"),
            &a,
            json!({"title": "A flake"}),
        )
        .await
        .id();
    let b_tag = app
        .post(
            &format!("/api/bots/{b_bot}/tags"),
            &b,
            json!({"name": "B tag"}),
        )
        .await
        .id();
    let b_flake = app
        .post(
            &format!("/api/bots/{b_bot}/flakes"),
            &b,
            json!({"title": "B flake", "tags": [b_tag]}),
        )
        .await
        .id();
    let b_user = app
        .create_account(&b_org, "b-owner@example.com", "b-pass-1", "owner", None)
        .await;
    Two {
        app,
        a,
        a_bot,
        a_flake,
        b_org,
        b,
        b_bot,
        b_flake,
        b_user,
    }
}

fn err(status: u16, message: String, code: Option<&str>) -> Value {
    let mut e = json!({"statusCode": status, "name": "Error", "message": message});
    if let Some(c) = code {
        e["code"] = json!(c);
    }
    json!({ "error": e })
}

/// Asks for `theirs` and for a made-up id the same way, and expects the same answer with the
/// id swapped.
async fn same_as_missing<F, Fut>(theirs: &str, ask: F)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = palaver_test_support::Resp>,
{
    let made_up = "5a00000000000000000000ff";
    let r_theirs = ask(theirs.to_string()).await;
    let r_missing = ask(made_up.to_string()).await;
    assert_eq!(r_theirs.status, r_missing.status, "{}", r_theirs.text);
    assert_eq!(
        r_theirs.text.replace(theirs, "<id>"),
        r_missing.text.replace(made_up, "<id>")
    );
}

#[tokio::test]
async fn another_orgs_bot_is_missing_for_every_method() {
    let t = two_orgs().await;
    let (app, a, b_bot) = (&t.app, &t.a, &t.b_bot);
    let r = app.get(&format!("/api/bots/{b_bot}"), a).await;
    assert_eq!(
        r.body,
        err(
            404,
            format!("Unknown \"bot\" id \"{b_bot}\"."),
            Some("MODEL_NOT_FOUND")
        )
    );
    let r = app
        .patch(&format!("/api/bots/{b_bot}"), a, json!({"name": "mine"}))
        .await;
    assert_eq!(
        r.body,
        err(
            404,
            format!("could not find a model with id {b_bot}"),
            Some("MODEL_NOT_FOUND")
        )
    );
    let r = app
        .put(&format!("/api/bots/{b_bot}"), a, json!({"name": "mine"}))
        .await;
    assert_eq!(
        r.body,
        err(
            404,
            format!("Could not replace. Object with id {b_bot} does not exist!"),
            None
        )
    );
    let r = app.delete(&format!("/api/bots/{b_bot}"), a).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"count": 0}));
    for m in ["GET", "PATCH", "PUT", "DELETE"] {
        same_as_missing(b_bot, |id| async move {
            app.call(
                m,
                &format!("/api/bots/{id}"),
                Some(a),
                Some(json!({"name": "x"})),
            )
            .await
        })
        .await;
    }
    // B's bot is untouched.
    let r = app.get(&format!("/api/bots/{b_bot}"), &t.b).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["name"], "B bot");
    assert_eq!(app.stored("flakes", &t.b_org, Some(b_bot)).await, 1);
}

#[tokio::test]
async fn another_orgs_bot_content_is_missing() {
    let t = two_orgs().await;
    let (app, a) = (&t.app, &t.a);
    for kind in ["flakes", "tags", "categories", "channels"] {
        // Under their bot: the parent is missing.
        let base = format!("/api/bots/{}/{kind}", t.b_bot);
        for r in [
            app.get(&base, a).await,
            app.get(&format!("{base}/count"), a).await,
            app.post(&base, a, json!({"title": "x", "name": "x"})).await,
            app.delete(&base, a).await,
            app.get(&format!("{base}/{}", t.b_flake), a).await,
            app.put(&format!("{base}/{}", t.b_flake), a, json!({"title": "x"}))
                .await,
            app.delete(&format!("{base}/{}", t.b_flake), a).await,
        ] {
            assert_eq!(r.status, 404, "{kind}: {}", r.text);
            assert_eq!(
                r.body,
                err(
                    404,
                    format!("could not find a model with id {}", t.b_bot),
                    Some("MODEL_NOT_FOUND")
                )
            );
        }
    }
    // Their flake under our bot: the child is missing.
    let path = format!("/api/bots/{}/flakes/{}", t.a_bot, t.b_flake);
    for r in [
        app.get(&path, a).await,
        app.put(&path, a, json!({"title": "stolen"})).await,
        app.delete(&path, a).await,
    ] {
        assert_eq!(
            r.body,
            err(
                404,
                format!("No instance with id {} found for flakes", t.b_flake),
                None
            )
        );
    }
    for m in ["GET", "PUT", "DELETE"] {
        let bot = &t.a_bot;
        same_as_missing(&t.b_flake, |id| async move {
            app.call(
                m,
                &format!("/api/bots/{bot}/flakes/{id}"),
                Some(a),
                Some(json!({"title": "x"})),
            )
            .await
        })
        .await;
    }
    let r = app
        .get(&format!("/api/bots/{}/flakes/{}", t.b_bot, t.b_flake), &t.b)
        .await;
    assert_eq!(r.body["title"], "B flake");
    assert_eq!(app.stored("flakes", &t.b_org, None).await, 1);
}

#[tokio::test]
async fn another_orgs_user_is_missing() {
    let t = two_orgs().await;
    let (app, a, id) = (&t.app, &t.a, &t.b_user);
    let r = app.get(&format!("/api/users/{id}"), a).await;
    assert_eq!(
        r.body,
        err(
            404,
            format!("Unknown \"user\" id \"{id}\"."),
            Some("MODEL_NOT_FOUND")
        )
    );
    let r = app
        .patch(
            &format!("/api/users/{id}"),
            a,
            json!({"password": "hijacked"}),
        )
        .await;
    assert_eq!(
        r.body,
        err(
            404,
            format!("could not find a model with id {id}"),
            Some("MODEL_NOT_FOUND")
        )
    );
    let r = app.delete(&format!("/api/users/{id}"), a).await;
    assert_eq!(r.body, json!({"count": 0}));
    for m in ["GET", "PATCH", "DELETE"] {
        same_as_missing(id, |id| async move {
            app.call(
                m,
                &format!("/api/users/{id}"),
                Some(a),
                Some(json!({"phone_no": "1"})),
            )
            .await
        })
        .await;
    }
    // Their account still logs in with its own password.
    let r = app
        .call(
            "POST",
            "/api/users/login",
            None,
            Some(json!({"email": "b-owner@example.com", "password": "b-pass-1"})),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn lists_and_counts_show_only_ones_own_organisation() {
    let t = two_orgs().await;
    let (app, a) = (&t.app, &t.a);
    let r = app.get("/api/bots", a).await;
    let names: Vec<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["A bot"]);
    assert_eq!(
        app.get("/api/bots/count", a).await.body,
        json!({"count": 1})
    );
    let r = app
        .get_filter("/api/bots", a, json!({"where": {"id": t.b_bot}}))
        .await;
    assert_eq!(r.body, json!([]));
    let r = app
        .get_filter(
            "/api/bots",
            a,
            json!({"where": {"organisation_id": t.b_org}}),
        )
        .await;
    assert_eq!(r.body, json!([]));
    let r = app
        .get_query(
            "/api/bots/count",
            a,
            &[("where", &json!({"organisation_id": t.b_org}).to_string())],
        )
        .await;
    assert_eq!(r.body, json!({"count": 0}));
    let users = app
        .get(&format!("/api/organisations/{}/users", app.org_id), a)
        .await;
    let ids: Vec<&str> = users
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [app.admin_id.as_str()]);
    let r = app
        .get_filter(
            &format!("/api/organisations/{}/users", app.org_id),
            a,
            json!({"where": {"email": "b-owner@example.com"}}),
        )
        .await;
    assert_eq!(r.body, json!([]));
    assert_eq!(
        app.get(&format!("/api/organisations/{}/users/count", app.org_id), a)
            .await
            .body,
        json!({"count": 1})
    );
    // And the same from B's side.
    let r = app.get("/api/bots", &t.b).await;
    assert_eq!(r.body.as_array().map(Vec::len), Some(1));
    assert_eq!(r.body[0]["id"], t.b_bot.as_str());
}

#[tokio::test]
async fn includes_never_reach_into_another_organisation() {
    let t = two_orgs().await;
    let (app, a) = (&t.app, &t.a);
    let r = app
        .get_filter(
            &format!("/api/bots/{}/flakes", t.a_bot),
            a,
            json!({"include": "bot"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body.as_array().map(Vec::len), Some(1));
    assert_eq!(r.body[0]["id"], t.a_flake.as_str());
    assert_eq!(r.body[0]["bot"]["id"], t.a_bot.as_str());
    let r = app
        .get_filter(
            "/api/bots",
            a,
            json!({"include": ["flakes", "tags", "users"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        !r.text.contains("B flake") && !r.text.contains("B tag"),
        "{}",
        r.text
    );
    assert_eq!(r.body[0]["flakes"].as_array().map(Vec::len), Some(1));
    assert_eq!(r.body[0]["tags"], json!([]));
    let r = app
        .get_filter(
            &format!("/api/organisations/{}", app.org_id),
            a,
            json!({"include": ["bots", "users"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        !r.text.contains("B bot") && !r.text.contains("b-owner"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn another_orgs_tags_cannot_be_attached() {
    let t = two_orgs().await;
    let (app, a) = (&t.app, &t.a);
    let b_tag = app
        .get(&format!("/api/bots/{}/tags", t.b_bot), &t.b)
        .await
        .body[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(
            &format!("/api/bots/{}/flakes", t.a_bot),
            a,
            json!({"title": "x", "tags": [b_tag]}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(
        r.body["error"]["details"]["codes"],
        json!({"tags": ["exists"]})
    );
    // A bot user cannot be tied to their bot either.
    let r = app
        .post(
            "/api/users",
            a,
            json!({"email": "c@example.com", "password": "pw-123456", "role": "customer", "bot_id": t.b_bot}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(
        r.body["error"]["details"]["codes"],
        json!({"bot_id": ["exists"]})
    );
}

#[tokio::test]
async fn deleting_another_orgs_account_leaves_its_sessions_alone() {
    let t = two_orgs().await;
    let b_owner = t.app.login("b-owner@example.com", "b-pass-1").await;
    let me = format!("/api/users/{}", t.b_user);
    assert_eq!(t.app.get(&me, &b_owner).await.status, 200);
    let r = t.app.delete(&me, &t.a).await;
    assert_eq!(r.body, json!({"count": 0}));
    // The token of B's account still works: nothing of B was touched.
    let r = t.app.get(&me, &b_owner).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["email"], "b-owner@example.com");
}
