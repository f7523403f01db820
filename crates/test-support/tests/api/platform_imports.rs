//! Imports and jobs: `POST /imports/...` answers 202 with a PENDING job; the job, run when the
//! test drains the queue, creates what the file holds, skips what an idempotency key says was
//! imported before, reports each bad element and carries on; a job whose worker died goes on
//! from its last checkpoint. `GET /jobs` pages and filters them; bad uploads are refused at the
//! door in the platform error shape.

use std::time::Duration;

use palaver_domain::job::JobKind;
use palaver_test_support::{assert_platform_error, Resp, TestApp};
use serde_json::{json, Value};

/// A `multipart/form-data` body of `parts` (name, file name, content type, bytes) and its
/// content type.
fn form(parts: &[(&str, Option<&str>, &str, Vec<u8>)]) -> (String, Vec<u8>) {
    let boundary = "palaver-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, file, kind, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let file = file.map_or(String::new(), |f| format!("; filename=\"{f}\""));
        body.extend_from_slice(
            format!(
                "Content-Disposition: form-data; name=\"{name}\"{file}\r\nContent-Type: {kind}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_form(
    app: &TestApp,
    path: &str,
    token: &str,
    parts: &[(&str, Option<&str>, &str, Vec<u8>)],
) -> Resp {
    let (kind, body) = form(parts);
    let res = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header("Content-Type", kind)
        .body(body)
        .send()
        .await
        .unwrap();
    TestApp::read(res).await
}

/// Uploads `elements` as a browser's `Blob` would send them (`filename="blob"`).
pub(crate) async fn import(app: &TestApp, path: &str, token: &str, elements: Value) -> Resp {
    let bytes = elements.to_string().into_bytes();
    post_form(
        app,
        path,
        token,
        &[("file", Some("blob"), "application/json", bytes)],
    )
    .await
}

/// Imports `elements`, checks the 202 job, runs the queue, and answers the ended job.
async fn imported(app: &TestApp, path: &str, token: &str, elements: Value, kind: JobKind) -> Value {
    let r = import(app, path, token, elements).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["type"], kind.as_str());
    assert_eq!(r.body["state"], "PENDING");
    let id = r.body["id"].as_i64().unwrap();
    assert!(r.body["_links"]["self"]["href"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/jobs/{id}")));
    assert!(app.run_jobs().await >= 1);
    let job = app.pget(&format!("/jobs/{id}"), token).await;
    assert_eq!(job.status, 200, "{}", job.text);
    assert!(job.body["ended_time"].is_string(), "{}", job.text);
    job.body
}

fn progress(job: &Value) -> [u64; 4] {
    let p = &job["progress"];
    ["processed", "created", "skipped", "failed"].map(|k| p[k].as_u64().unwrap())
}

async fn errors(app: &TestApp, token: &str, job: &Value) -> Vec<Value> {
    let r = app
        .pget(&format!("/jobs/{}/errors", job["id"]), token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["_embedded"]["errors"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn user_named(app: &TestApp, token: &str, name: &str) -> Option<Value> {
    let r = app.pget_query("/users", token, &[("name", name)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["_embedded"]["users"]
        .as_array()
        .and_then(|u| u.iter().find(|u| u["name"] == name).cloned())
}

#[tokio::test]
async fn a_users_import_creates_its_users_and_a_second_run_creates_nothing_twice() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let users = json!([
        {"name": "imp1", "display_name": "I1", "guest": false, "properties": {"team": "red"},
         "idempotency_key": "u-1"},
        {"name": "imp2", "display_name": "I2", "guest": true, "properties": {},
         "display_picture": {"url": "https://cdn.example.com/p.png", "name": "p.png",
                             "content_type": "image/png", "size": 10},
         "idempotency_key": "u-2"},
        {"name": "imp3", "display_name": "I3", "guest": false, "properties": {}}
    ]);
    let job = imported(
        &app,
        "/imports/users",
        &token,
        users.clone(),
        JobKind::UserImport,
    )
    .await;
    assert_eq!(job["state"], "FINISHED", "{job}");
    assert_eq!(progress(&job), [3, 3, 0, 0]);
    let imp1 = user_named(&app, &token, "imp1")
        .await
        .expect("imp1 imported");
    assert_eq!(imp1["display_name"], "I1");
    assert_eq!(imp1["properties"]["team"], "red");
    let imp2 = user_named(&app, &token, "imp2")
        .await
        .expect("imp2 imported");
    assert_eq!(imp2["isGuest"], true);
    assert_eq!(imp2["display_picture_url"], "https://cdn.example.com/p.png");

    // Again: keyed elements are skipped; the unkeyed one meets its own name and fails.
    let again = imported(&app, "/imports/users", &token, users, JobKind::UserImport).await;
    assert_eq!(again["state"], "FINISHED", "{again}");
    assert_eq!(progress(&again), [3, 0, 2, 1]);
    let report = errors(&app, &token, &again).await;
    assert_eq!(report.len(), 1);
    assert_eq!(report[0]["position"], 2);
    assert_eq!(report[0]["reason"], "A user named \"imp3\" already exists");
    let all = app.pget_query("/users", &token, &[("size", "100")]).await;
    assert_eq!(all.body["page"]["total_elements"], 3, "{}", all.text);
}

#[tokio::test]
async fn bad_elements_are_reported_one_by_one_and_the_rest_is_imported() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let job = imported(
        &app,
        "/imports/users",
        &token,
        json!([
            {"name": "ok1", "display_name": "A", "guest": false, "properties": {}},
            {"display_name": "no name", "idempotency_key": "k-1"},
            5,
            {"name": "ok1", "display_name": "again", "guest": false, "properties": {}},
            {"name": "bad-guest", "guest": "yes"},
            {"name": "ok2", "display_name": "B", "guest": false, "properties": {}}
        ]),
        JobKind::UserImport,
    )
    .await;
    assert_eq!(job["state"], "FINISHED", "{job}");
    assert_eq!(progress(&job), [6, 2, 0, 4]);
    let report = errors(&app, &token, &job).await;
    let positions: Vec<i64> = report
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, [1, 2, 3, 4]);
    assert_eq!(report[0]["reason"], "missing field `name`");
    assert_eq!(report[0]["idempotency_key"], "k-1");
    assert_eq!(report[1]["reason"], "the element is not a JSON object");
    assert!(report[3]["reason"]
        .as_str()
        .unwrap()
        .contains("invalid type"));
    assert!(user_named(&app, &token, "ok2").await.is_some());
    assert!(user_named(&app, &token, "bad-guest").await.is_none());
}

#[tokio::test]
async fn channels_members_and_messages_import_in_order_without_notifications() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    for name in ["alice", "bob", "carol"] {
        app.create_chat_user(&token, json!({"name": name, "display_name": name}))
            .await;
    }
    let job = imported(
        &app,
        "/imports/channels",
        &token,
        json!([
            {"type": "PUBLIC", "name": "imp-ch", "members": ["alice"], "idempotency_key": "c-1"},
            {"type": "DIRECT", "members": ["alice", "bob"]},
            {"type": "PRIVATE", "name": "hideout", "display_name": "Hideout",
             "creator": "carol", "members": ["alice"], "properties": {"x": 1}},
            {"type": "PUBLIC", "name": "ghosts", "members": ["nobody"]},
            {"type": "GROUP", "members": []},
            {"type": "DIRECT", "members": ["alice"]}
        ]),
        JobKind::ChannelImport,
    )
    .await;
    assert_eq!(job["state"], "FINISHED", "{job}");
    assert_eq!(progress(&job), [6, 3, 0, 3]);
    let report = errors(&app, &token, &job).await;
    assert_eq!(report[0]["reason"], "No user named \"nobody\"");
    assert!(report[1]["reason"].as_str().unwrap().contains("GROUP"));
    assert_eq!(
        report[2]["reason"],
        "a DIRECT channel needs at least 2 distinct members"
    );
    let channels = app.pget_query("/channels", &token, &[("size", "50")]).await;
    let list = channels.body["_embedded"]["channels"]
        .as_array()
        .unwrap()
        .clone();
    let named = |n: &str| list.iter().find(|c| c["name"] == n).cloned().unwrap();
    let imp = named("imp-ch")["id"].as_i64().unwrap();
    let hideout = named("hideout");
    assert_eq!(hideout["type"], "PRIVATE");
    assert_eq!(hideout["display_name"], "Hideout");
    assert_eq!(hideout["creator"]["name"], "carol");
    assert_eq!(list.iter().filter(|c| c["type"] == "DIRECT").count(), 1);

    // Members: bob joins, alice already is one (skipped), nobody is unknown.
    let job = imported(
        &app,
        &format!("/imports/channels/{imp}/members"),
        &token,
        json!([{"username": "bob"}, {"username": "alice"}, {"username": "nobody"}]),
        JobKind::ChannelMembersImport,
    )
    .await;
    assert_eq!(progress(&job), [3, 1, 1, 1], "{job}");
    let members = app.pget(&format!("/channels/{imp}/members"), &token).await;
    let names: Vec<&str> = members.body["_embedded"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{}", members.text);
    assert!(names.contains(&"bob"));

    let job = imported(
        &app,
        "/imports/messages",
        &token,
        json!([
            {"type": "TEXT", "channel_id": imp, "body": "first", "user": "alice",
             "idempotency_key": "m-1"},
            {"type": "SYSTEM_TEXT", "channel_id": imp, "body": "second", "group_tag": "sys"},
            {"type": "TEXT", "channel_id": imp, "body": "third @bob", "user": "bob",
             "properties": {"imported": true}},
            {"type": "TEXT", "channel_id": imp, "body": "lost", "user": "nobody"},
            {"type": "TEXT", "channel_id": 999999, "body": "nowhere", "user": "alice"}
        ]),
        JobKind::MessageImport,
    )
    .await;
    assert_eq!(job["state"], "FINISHED", "{job}");
    assert_eq!(progress(&job), [5, 3, 0, 2]);
    let report = errors(&app, &token, &job).await;
    assert_eq!(report[0]["reason"], "No user named \"nobody\"");
    assert_eq!(report[1]["reason"], "No channel with id 999999");
    let history = app.pget(&format!("/channels/{imp}/messages"), &token).await;
    assert_eq!(history.status, 200, "{}", history.text);
    let bodies: Vec<&str> = history.body["_embedded"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    // Newest first, in the order of the file.
    assert_eq!(bodies, ["third @bob", "second", "first"]);
    let messages = history.body["_embedded"]["messages"].as_array().unwrap();
    assert_eq!(messages[1]["type"], "SYSTEM_TEXT");
    assert_eq!(messages[1]["group_tag"], "sys");
    assert_eq!(messages[0]["properties"]["imported"], true);
    assert_eq!(messages[0]["mentions"][0]["user"]["name"], "bob");
    // Imported history notifies nobody.
    let p = palaver_service::AppPrincipal {
        application_id: app.app_id,
        organisation_id: app.org_id.clone(),
    };
    assert_eq!(
        app.services.platform.drain_notifications(&p).await.unwrap(),
        0
    );
    // The same file again creates only what has no key.
    let again = imported(
        &app,
        "/imports/messages",
        &token,
        json!([{"type": "TEXT", "channel_id": imp, "body": "first", "user": "alice",
                "idempotency_key": "m-1"}]),
        JobKind::MessageImport,
    )
    .await;
    assert_eq!(progress(&again), [1, 0, 1, 0]);
}

#[tokio::test]
async fn a_job_whose_worker_died_goes_on_from_its_checkpoint_without_duplicates() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let elements: Vec<Value> = (0..1_200)
        .map(|i| {
            json!({"name": format!("u{i}"), "display_name": format!("U {i}"),
                        "guest": false, "properties": {}})
        })
        .collect();
    let r = import(
        &app,
        "/imports/users",
        &token,
        Value::Array(elements.clone()),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();

    // A worker claims the job, imports its first batch, and dies.
    let queue = app.services.platform.jobs();
    let (job, lease) = queue
        .claim("doomed", &[JobKind::UserImport], Duration::from_secs(30))
        .await
        .unwrap()
        .expect("the import is due");
    assert_eq!(job.id, id);
    let first: Vec<Value> = elements[..500].to_vec();
    let after = app
        .services
        .platform
        .import_batch(
            &job,
            &lease,
            palaver_domain::platform::imports::ImportTarget::Users,
            0,
            first,
            job.progress,
        )
        .await
        .unwrap()
        .expect("the lease is held");
    assert_eq!(after.processed, 500);
    let running = app.pget(&format!("/jobs/{id}"), &token).await;
    assert_eq!(running.body["state"], "RUNNING");
    assert_eq!(running.body["progress"]["created"], 500);
    let open = app
        .pget_query("/jobs", &token, &[("running", "true")])
        .await;
    assert_eq!(open.body["page"]["total_elements"], 1, "{}", open.text);

    // Nobody takes it while the lease lasts; once it ran out, another worker goes on.
    assert_eq!(app.run_jobs().await, 0);
    app.advance_clock(Duration::from_secs(31));
    assert_eq!(app.run_jobs().await, 1);
    let done = app.pget(&format!("/jobs/{id}"), &token).await;
    assert_eq!(done.body["state"], "FINISHED", "{}", done.text);
    assert_eq!(progress(&done.body), [1_200, 1_200, 0, 0]);
    let all = app.pget_query("/users", &token, &[("size", "1")]).await;
    assert_eq!(all.body["page"]["total_elements"], 1_200);
}

#[tokio::test]
async fn a_file_that_breaks_off_fails_its_job_after_importing_what_came_before() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let broken = br#"[{"name": "early", "display_name": "E", "guest": false, "properties": {}},
                      {"name": "late" "display_name": "L"}]"#
        .to_vec();
    let r = post_form(
        &app,
        "/imports/users",
        &token,
        &[(
            "file",
            Some("users.json"),
            "application/octet-stream",
            broken,
        )],
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text);
    app.run_jobs().await;
    let job = app.pget(&format!("/jobs/{}", r.body["id"]), &token).await;
    assert_eq!(job.body["state"], "FAILED", "{}", job.text);
    let reason = job.body["error"].as_str().unwrap();
    assert!(
        reason.starts_with("The file is not a JSON array of elements"),
        "{reason}"
    );
    assert!(reason.contains("line 2"), "{reason}");
    assert!(user_named(&app, &token, "early").await.is_some());
}

#[tokio::test]
async fn bad_uploads_are_refused_at_the_door() {
    let app = crate::spawn_with(|c| c.max_import_bytes = 200).await;
    let token = app.platform_token().await;
    // Not multipart.
    let r = app.ppost("/imports/users", &token, json!([])).await;
    assert_platform_error(&r, 400, "InvalidParameterError");
    // No `file` part.
    let r = post_form(
        &app,
        "/imports/users",
        &token,
        &[("other", None, "text/plain", b"x".to_vec())],
    )
    .await;
    let why = assert_platform_error(&r, 400, "InvalidParameterError");
    assert!(why.contains("\"file\""), "{why}");
    // Not a JSON array.
    let r = import(&app, "/imports/users", &token, json!({"name": "x"})).await;
    assert_platform_error(&r, 400, "InvalidParameterError");
    // Larger than the limit.
    let big: Vec<Value> = (0..20)
        .map(|i| json!({"name": format!("user{i}")}))
        .collect();
    let r = import(&app, "/imports/users", &token, Value::Array(big)).await;
    assert_platform_error(&r, 413, "PayloadTooLargeError");
    // Members of a channel that does not exist.
    let r = import(&app, "/imports/channels/424242/members", &token, json!([])).await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");
    // Nor of a DIRECT channel, whose members do not change.
    for name in ["ann", "ben"] {
        app.create_chat_user(&token, json!({"name": name})).await;
    }
    let direct = app
        .ppost(
            "/channels",
            &token,
            json!({"type": "DIRECT", "members": [{"username": "ann"}, {"username": "ben"}]}),
        )
        .await;
    let path = format!("/imports/channels/{}/members", direct.body["id"]);
    let r = import(&app, &path, &token, json!([{"username": "ann"}])).await;
    let why = assert_platform_error(&r, 400, "InvalidParameterError");
    assert!(why.contains("DIRECT"), "{why}");
    // Without a token.
    let (kind, body) = form(&[("file", Some("blob"), "application/json", b"[]".to_vec())]);
    let res = app
        .client
        .post(app.url("/imports/users"))
        .header("Content-Type", kind)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // None of it made a job.
    let jobs = app.pget("/jobs", &token).await;
    assert_eq!(jobs.body["page"]["total_elements"], 0, "{}", jobs.text);
}

#[tokio::test]
async fn jobs_are_paged_filtered_and_private_to_their_application() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    let first = import(&app, "/imports/users", &token, json!([])).await;
    app.run_jobs().await;
    let second = import(&app, "/imports/channels", &token, json!([])).await;
    let (first, second) = (first.body["id"].clone(), second.body["id"].clone());

    let all = app.pget("/jobs", &token).await;
    assert_eq!(all.status, 200, "{}", all.text);
    let ids: Vec<Value> = all.body["_embedded"]["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].clone())
        .collect();
    assert_eq!(ids, [second.clone(), first.clone()], "newest first");
    let running = app
        .pget_query("/jobs", &token, &[("running", "true")])
        .await;
    assert_eq!(running.body["_embedded"]["jobs"][0]["id"], second);
    assert_eq!(running.body["page"]["total_elements"], 1);
    let ended = app
        .pget_query("/jobs", &token, &[("running", "false")])
        .await;
    assert_eq!(ended.body["_embedded"]["jobs"][0]["id"], first);
    assert_eq!(ended.body["_embedded"]["jobs"][0]["state"], "FINISHED");
    let paged = app
        .pget_query(
            "/jobs",
            &token,
            &[("size", "1"), ("page", "1"), ("sort", "id,asc")],
        )
        .await;
    assert_eq!(paged.body["_embedded"]["jobs"][0]["id"], second);

    let r = app
        .pget_query("/jobs", &token, &[("running", "maybe")])
        .await;
    assert_platform_error(&r, 400, "InvalidParameterError");
    let r = app.pget("/jobs/987654", &token).await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");
    let r = app.pget("/jobs/abc", &token).await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");
    let other = app.other_application("elsewhere").await;
    let r = app.pget(&format!("/jobs/{first}"), &other.token).await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");
    let r = app
        .pget(&format!("/jobs/{first}/errors"), &other.token)
        .await;
    assert_platform_error(&r, 404, "ResourceNotFoundError");
    let theirs = app.pget("/jobs", &other.token).await;
    assert_eq!(theirs.body["page"]["total_elements"], 0);
}

#[tokio::test]
async fn deleting_a_file_message_or_its_sender_cleans_the_stored_file_up_in_a_job() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    app.create_chat_user(&token, json!({"name": "alice", "display_name": "A"}))
        .await;
    let channel = app
        .ppost(
            "/channels",
            &token,
            json!({"type": "PUBLIC", "name": "files", "creator": {"username": "alice"}}),
        )
        .await;
    let channel = channel.body["id"].as_i64().unwrap();
    let stored = || async {
        app.services
            .platform
            .file_store()
            .keys("")
            .await
            .unwrap()
            .len()
    };
    let send = |body: &'static [u8]| {
        let path = format!("/channels/{channel}/messages");
        let token = token.clone();
        let app = &app;
        async move {
            let r = post_form(
                app,
                &path,
                &token,
                &[
                    ("file", Some("notes.txt"), "text/plain", body.to_vec()),
                    ("username", None, "text/plain", b"alice".to_vec()),
                ],
            )
            .await;
            assert_eq!(r.status, 200, "{}", r.text);
            r.body
        }
    };
    let first = send(b"first file").await;
    send(b"second file").await;
    assert_eq!(stored().await, 2);

    let r = app
        .pdelete(&format!("/messages/{}", first["id"]), &token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The request does not wait for the storage: the clean-up is a job.
    assert_eq!(stored().await, 2);
    assert_eq!(app.run_jobs().await, 1);
    assert_eq!(stored().await, 1);
    let url = first["file"]["url"].as_str().unwrap();
    let gone = app
        .client
        .get(url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);

    // Deleting the sender takes its messages, and their files with them.
    let alice = user_named(&app, &token, "alice").await.unwrap();
    let r = app
        .pdelete(&format!("/users/{}", alice["id"]), &token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.run_jobs().await, 1);
    assert_eq!(stored().await, 0);
    // Clean-up jobs are the server's own: the application does not see them.
    let jobs = app.pget("/jobs", &token).await;
    assert_eq!(jobs.body["page"]["total_elements"], 0, "{}", jobs.text);
}

#[tokio::test]
async fn imported_messages_get_reply_threads_and_keys_across_batches() {
    let app = crate::spawn().await;
    let token = app.platform_token().await;
    for name in ["alice", "bob"] {
        let r = app
            .ppost(
                "/users",
                &token,
                json!({"name": name, "display_name": name}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let mut channels = Vec::new();
    for name in ["one", "two"] {
        let r = app
            .ppost("/channels", &token, json!({"type": "PUBLIC", "name": name}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        channels.push(r.body["id"].as_i64().unwrap());
    }
    // More than a batch (1,000) and than a statement (500); every other one with a key.
    let elements: Vec<Value> = (0..1_005)
        .map(|i| {
            let mut e = json!({"type": "TEXT", "channel_id": channels[i % 2],
                               "body": format!("m{i}"), "user": "alice"});
            if i % 2 == 0 {
                e["idempotency_key"] = json!(format!("k{i}"));
            }
            e
        })
        .collect();
    let job = imported(
        &app,
        "/imports/messages",
        &token,
        Value::Array(elements.clone()),
        JobKind::MessageImport,
    )
    .await;
    assert_eq!(progress(&job), [1_005, 1_005, 0, 0], "{job}");

    // The newest of channel two is the file's last element for it, numbered after the rest.
    let history = app
        .pget_query(
            &format!("/channels/{}/messages", channels[1]),
            &token,
            &[("size", "2")],
        )
        .await;
    assert_eq!(history.status, 200, "{}", history.text);
    let newest = &history.body["_embedded"]["messages"][0];
    assert_eq!(newest["body"], "m1003");
    assert_eq!(newest["replies_count"], 0, "{newest}");
    // Its reply thread is there and answers; a reply goes to it and is counted.
    let thread = newest["_links"]["reply_thread"]["href"]
        .as_str()
        .unwrap()
        .strip_prefix(&app.base)
        .unwrap()
        .to_string();
    let t = app.pget(&thread, &token).await;
    assert_eq!(t.status, 200, "{}", t.text);
    assert_eq!(t.body["type"], "MESSAGE");
    assert_eq!(
        t.body["_links"]["message"]["href"],
        newest["_links"]["self"]["href"]
    );
    let r = app
        .ppost(
            &format!("{thread}/messages"),
            &token,
            json!({"type": "TEXT", "body": "a reply", "user": {"username": "bob"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["nested_level"], 1);
    let again = app
        .pget(&format!("/messages/{}", newest["id"]), &token)
        .await;
    assert_eq!(again.body["replies_count"], 1, "{}", again.text);
    // Every imported message has a thread of its own: the older one on the page too.
    let older = &history.body["_embedded"]["messages"][1];
    assert_eq!(older["body"], "m1001");
    assert_ne!(
        older["_links"]["reply_thread"]["href"],
        newest["_links"]["reply_thread"]["href"]
    );

    // The same file again: what carried a key (503 elements, over both batches) is skipped.
    let again = imported(
        &app,
        "/imports/messages",
        &token,
        Value::Array(elements),
        JobKind::MessageImport,
    )
    .await;
    assert_eq!(progress(&again), [1_005, 502, 503, 0], "{again}");
}
