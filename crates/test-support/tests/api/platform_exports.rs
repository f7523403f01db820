//! Analytics exports: `POST /analytics/messages` and `/analytics/users` answer 202 with a job;
//! once it has run, its `file` link downloads a CSV with one row per message or user, to the
//! application's token only.

use palaver_service::platform::Emoji;
use palaver_test_support::{assert_platform_error, TestApp};
use serde_json::{json, Value};

use crate::platform_message_reads::principal;
use crate::platform_messages::{chat, path_of};

/// Starts an export at `path`, runs it, and answers the finished job.
async fn exported(app: &TestApp, token: &str, path: &str, kind: &str) -> Value {
    let r = app.pcall("POST", path, Some(token), &[], None).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["type"], kind);
    assert_eq!(r.body["state"], "PENDING");
    assert!(r.body.get("file").is_none());
    assert_eq!(app.run_jobs().await, 1);
    let job = app.pget(&format!("/jobs/{}", r.body["id"]), token).await;
    assert_eq!(job.body["state"], "FINISHED", "{}", job.text);
    job.body
}

/// The CSV at the job's `file` link, as rows of fields by header name.
async fn download(
    app: &TestApp,
    token: &str,
    job: &Value,
) -> Vec<std::collections::HashMap<String, String>> {
    let url = job["file"].as_str().expect("a file link");
    assert!(url.starts_with(&app.base), "{url}");
    let res = app.client.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"].to_str().unwrap(), "text/csv");
    let text = res.text().await.unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .expect("a header line")
        .split(',')
        .map(str::to_string)
        .collect();
    lines
        .map(|l| {
            // The fixtures hold no commas or quotes: a plain split reads them.
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(str::to_string))
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn a_messages_export_lists_every_message_with_its_sender_thread_and_reactions() {
    let c = chat().await;
    let (app, token) = (&c.app, &c.token);
    let question = c.text(c.general, "alice", "question").await;
    let thread = path_of(app, &question["_links"]["reply_thread"]);
    let answer = app
        .ppost(
            &format!("{thread}/messages"),
            token,
            json!({"type": "TEXT", "body": "answer", "user": {"username": "bob"}}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let notice = app
        .ppost(
            &format!("/channels/{}/messages", c.secret),
            token,
            json!({"type": "TEXT", "body": "maintenance tonight"}),
        )
        .await;
    assert_eq!(notice.status, 200, "{}", notice.text);
    let p = principal(app);
    let bob = c.users[1]["id"].as_i64().unwrap();
    let emoji = Emoji::parse("👍").unwrap();
    app.services
        .platform
        .react(&p, bob, question["id"].as_i64().unwrap(), &emoji)
        .await
        .map_err(|e| e.into_domain())
        .unwrap();

    let job = exported(
        app,
        token,
        "/analytics/messages",
        "MESSAGE_ANALYTICS_EXPORT",
    )
    .await;
    let rows = download(app, token, &job).await;
    assert_eq!(rows.len(), 3);
    let q = &rows[0];
    assert_eq!(q["id"], question["id"].to_string());
    assert_eq!(q["channel_name"], "general");
    assert_eq!(q["channel_type"], "PUBLIC");
    assert_eq!(q["sender_name"], "alice");
    assert_eq!(q["type"], "TEXT");
    assert_eq!(q["body_length"], "8");
    assert_eq!(q["reactions_count"], "1");
    assert_eq!(q["nested_level"], "0");
    assert_eq!(q["parent_message_id"], "");
    let a = &rows[1];
    assert_eq!(a["sender_name"], "bob");
    assert_eq!(a["nested_level"], "1");
    assert_eq!(a["parent_message_id"], question["id"].to_string());
    assert_eq!(a["reactions_count"], "0");
    let n = &rows[2];
    assert_eq!(n["type"], "SYSTEM_TEXT");
    assert_eq!(n["sender_id"], "");
    assert_eq!(n["channel_name"], "secret");

    // The CSV is the application's: another one's token cannot read it.
    let other = app.other_application("elsewhere").await;
    let url = job["file"].as_str().unwrap();
    let res = app
        .client
        .get(url)
        .bearer_auth(&other.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = app.client.get(url).send().await.unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn a_users_export_lists_every_user_with_the_messages_they_sent() {
    let c = chat().await;
    let (app, token) = (&c.app, &c.token);
    c.text(c.general, "alice", "one").await;
    c.text(c.general, "alice", "two").await;
    c.text(c.general, "bob", "three").await;
    let job = exported(app, token, "/analytics/users", "USER_ANALYTICS_EXPORT").await;
    let rows = download(app, token, &job).await;
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str()).collect();
    assert_eq!(names, ["alice", "bob", "carol"]);
    let sent: Vec<&str> = rows.iter().map(|r| r["messages_sent"].as_str()).collect();
    assert_eq!(sent, ["2", "1", "0"]);
    assert_eq!(rows[0]["display_name"], "ALICE");
    assert_eq!(rows[0]["type"], "PERSON");
    assert_eq!(rows[0]["is_guest"], "false");
    // Both exports are listed with the application's jobs.
    let jobs = app.pget("/jobs", token).await;
    assert_eq!(jobs.body["_embedded"]["jobs"][0]["id"], job["id"]);
}

#[tokio::test]
async fn an_empty_application_exports_a_header_and_exports_need_a_token() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let job = exported(
        &app,
        &token,
        "/analytics/messages",
        "MESSAGE_ANALYTICS_EXPORT",
    )
    .await;
    let url = job["file"].as_str().unwrap();
    let text = app
        .client
        .get(url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.starts_with("id,channel_id,channel_type,"), "{text}");
    assert_eq!(text.lines().count(), 1);
    let r = app.pcall("POST", "/analytics/users", None, &[], None).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let r = app
        .pcall("GET", "/analytics/users", Some(&token), &[], None)
        .await;
    assert_platform_error(&r, 405, "MethodNotAllowedError");
}
