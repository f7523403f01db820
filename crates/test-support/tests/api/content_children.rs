//! A bot's content under `/api/bots/{id}/…`: flakes, tags, categories and channels, served as
//! LoopBack hasMany relation routes.

use palaver_test_support::TestApp;
use serde_json::{json, Value};

const KINDS: [&str; 4] = ["flakes", "tags", "categories", "channels"];

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

/// A valid body for each kind.
fn sample(kind: &str, n: usize) -> Value {
    match kind {
        "flakes" => json!({"title": format!("Flake {n}")}),
        "channels" => json!({"name": format!("Channel {n}")}),
        _ => json!({"name": format!("Name {n}")}),
    }
}

fn parent_missing(id: &str) -> Value {
    json!({"error": {"statusCode": 404, "name": "Error", "message": format!("could not find a model with id {id}"), "code": "MODEL_NOT_FOUND"}})
}

fn child_missing(id: &str, kind: &str) -> Value {
    json!({"error": {"statusCode": 404, "name": "Error", "message": format!("No instance with id {id} found for {kind}")}})
}

async fn setup() -> (TestApp, String, String) {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let bot = app.create_bot(&token, "Newsy").await;
    (app, token, bot)
}

#[tokio::test]
async fn flake_has_the_seed_shape() {
    let (app, token, bot) = setup().await;
    let cat = app
        .post(
            &format!("/api/bots/{bot}/categories"),
            &token,
            json!({"name": "World"}),
        )
        .await
        .id();
    let tag = app
        .post(
            &format!("/api/bots/{bot}/tags"),
            &token,
            json!({"name": "Politics"}),
        )
        .await
        .id();
    let bullets = json!([
        {"type": "image", "text": "Look", "button": [{"name": "More", "action": "more"}], "file_url": "http://img/1.png"},
        {"type": "text", "text": "Read", "button": []},
        {"type": "video", "text": "Watch", "button": [], "file_url": "http://vid/1.mp4"}
    ]);
    let r = app
        .post(
            &format!("/api/bots/{bot}/flakes"),
            &token,
            json!({
                "title": "Big story", "description": "What happened", "image_url": "http://img/big.png",
                "bullet_points": bullets, "status": "publish", "category": [cat],
                "author_name": "Reporter", "tags": [tag]
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        keys(&r.body),
        [
            "title",
            "description",
            "image_url",
            "bullet_points",
            "status",
            "category",
            "bot_id",
            "id",
            "created",
            "modified",
            "author_name",
            "organisation_id",
            "tags"
        ]
    );
    assert_eq!(r.body["bullet_points"], bullets);
    assert_eq!(r.body["category"], json!([cat]));
    assert_eq!(r.body["tags"], json!([tag]));
    assert_eq!(r.body["bot_id"], bot.as_str());
    assert_eq!(r.body["organisation_id"], app.org_id.as_str());
    assert_eq!(r.body["status"], "publish");
    let id = r.id();
    let got = app
        .get(&format!("/api/bots/{bot}/flakes/{id}"), &token)
        .await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.body, r.body);
    let list = app
        .get_filter(
            &format!("/api/bots/{bot}/flakes"),
            &token,
            json!({"where": {"status": "publish"}, "limit": 10, "skip": 0}),
        )
        .await;
    assert_eq!(list.body, json!([r.body]));
}

#[tokio::test]
async fn a_new_flake_is_a_draft_by_the_callers_name() {
    let (app, token, bot) = setup().await;
    let r = app
        .post(
            &format!("/api/bots/{bot}/flakes"),
            &token,
            json!({"title": "t"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "draft");
    // The bootstrap admin's username is its email's local part.
    assert_eq!(r.body["author_name"], "admin", "{}", r.text);
    app.patch(
        &format!("/api/users/{}", app.admin_id),
        &token,
        json!({"username": "editor"}),
    )
    .await;
    let r = app
        .post(
            &format!("/api/bots/{bot}/flakes"),
            &token,
            json!({"title": "t2"}),
        )
        .await;
    assert_eq!(r.body["author_name"], "editor");
}

#[tokio::test]
async fn taxonomy_and_channel_shapes() {
    let (app, token, bot) = setup().await;
    for kind in ["tags", "categories"] {
        let r = app
            .post(
                &format!("/api/bots/{bot}/{kind}"),
                &token,
                json!({"name": "Tech & AI 2017", "type": "topic"}),
            )
            .await;
        assert_eq!(r.status, 200, "{kind}: {}", r.text);
        assert_eq!(
            keys(&r.body),
            ["name", "slug", "type", "bot_id", "id", "created", "modified"],
            "{kind}"
        );
        assert_eq!(r.body["slug"], "tech-ai-2017", "{kind}");
        assert_eq!(r.body["bot_id"], bot.as_str());
    }
    let r = app
        .post(
            &format!("/api/bots/{bot}/channels"),
            &token,
            json!({
                "name": "Morning",
                "keywordSource": [
                    {"keyword": "cricket", "source": [{"name": "espn", "value": "http://espn"}]},
                    {"keyword": "football", "source": [{"name": "bbc", "value": "http://bbc", "id": "keep-me"}]}
                ],
                "category": ["sports"],
                "cron_time": {"hour": 9, "minute": 0},
                "status": "active"
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        keys(&r.body),
        [
            "name",
            "keywordSource",
            "category",
            "cron_time",
            "status",
            "bot_id",
            "id",
            "created",
            "modified"
        ]
    );
    let src = &r.body["keywordSource"][0]["source"][0];
    assert_eq!(keys(src), ["name", "value", "id", "created", "modified"]);
    let sid = src["id"].as_str().unwrap();
    assert_eq!(sid.len(), 24, "{sid}");
    assert!(sid.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(src["created"].as_str().unwrap().len(), 24);
    assert_eq!(r.body["keywordSource"][1]["source"][0]["id"], "keep-me");
    assert_eq!(r.body["cron_time"], json!({"hour": 9, "minute": 0}));
    // The generated source ids are stored, not made up on every read.
    let got = app
        .get(&format!("/api/bots/{bot}/channels/{}", r.id()), &token)
        .await;
    assert_eq!(got.body, r.body);
}

#[tokio::test]
async fn every_kind_supports_list_create_count_get_update_delete() {
    let (app, token, bot) = setup().await;
    for kind in KINDS {
        let base = format!("/api/bots/{bot}/{kind}");
        assert_eq!(app.get(&base, &token).await.body, json!([]), "{kind}");
        let one = app.post(&base, &token, sample(kind, 1)).await;
        assert_eq!(one.status, 200, "{kind}: {}", one.text);
        assert!(one.body.is_object());
        let many = app
            .post(&base, &token, json!([sample(kind, 2), sample(kind, 3)]))
            .await;
        assert_eq!(many.status, 200, "{kind}: {}", many.text);
        assert_eq!(many.body.as_array().map(Vec::len), Some(2), "{kind}");
        let list = app.get(&base, &token).await;
        let ids: Vec<&str> = list
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap())
            .collect();
        let want = [
            one.id(),
            many.body[0]["id"].as_str().unwrap().to_string(),
            many.body[1]["id"].as_str().unwrap().to_string(),
        ];
        assert_eq!(ids, want, "{kind}");
        assert_eq!(
            app.get(&format!("{base}/count"), &token).await.body,
            json!({"count": 3})
        );
        let name_field = if kind == "flakes" { "title" } else { "name" };
        let name_of_2 = sample(kind, 2)[name_field].clone();
        let r = app
            .get_query(
                &format!("{base}/count"),
                &token,
                &[("where", &json!({name_field: name_of_2}).to_string())],
            )
            .await;
        assert_eq!(r.body, json!({"count": 1}), "{kind}");
        let id = one.id();
        let got = app.get(&format!("{base}/{id}"), &token).await;
        assert_eq!(got.body, one.body, "{kind}");
        // PUT on a relation route is a partial update.
        let renamed = json!({name_field: "Renamed"});
        let r = app.put(&format!("{base}/{id}"), &token, renamed).await;
        assert_eq!(r.status, 200, "{kind}: {}", r.text);
        assert_eq!(r.body[name_field], "Renamed");
        assert_eq!(r.body["created"], one.body["created"]);
        for (k, v) in one.body.as_object().unwrap() {
            if !["modified", name_field, "slug"].contains(&k.as_str()) {
                assert_eq!(&r.body[k], v, "{kind}.{k} kept");
            }
        }
        let r = app.delete(&format!("{base}/{id}"), &token).await;
        assert_eq!(r.status, 204, "{kind}: {}", r.text);
        assert_eq!(r.text, "");
        let r = app.get(&format!("{base}/{id}"), &token).await;
        assert_eq!(r.status, 404);
        assert_eq!(r.body, child_missing(&id, kind));
        let r = app.delete(&format!("{base}/{id}"), &token).await;
        assert_eq!(r.body, child_missing(&id, kind));
        assert_eq!(
            app.get(&format!("{base}/count"), &token).await.body,
            json!({"count": 2})
        );
        let r = app.delete(&base, &token).await;
        assert_eq!(r.status, 204, "{kind}: {}", r.text);
        assert_eq!(r.text, "");
        assert_eq!(
            app.get(&format!("{base}/count"), &token).await.body,
            json!({"count": 0})
        );
        assert_eq!(app.stored(kind, &app.org_id, Some(&bot)).await, 0);
    }
}

#[tokio::test]
async fn a_missing_parent_bot_is_model_not_found_on_every_route() {
    let (app, token, _) = setup().await;
    for kind in KINDS {
        let base = format!("/api/bots/nobot/{kind}");
        let responses = [
            app.get(&base, &token).await,
            app.get(&format!("{base}/count"), &token).await,
            app.post(&base, &token, sample(kind, 1)).await,
            app.delete(&base, &token).await,
            app.get(&format!("{base}/x1"), &token).await,
            app.put(&format!("{base}/x1"), &token, sample(kind, 1))
                .await,
            app.delete(&format!("{base}/x1"), &token).await,
        ];
        for r in responses {
            assert_eq!(r.status, 404, "{kind}: {}", r.text);
            assert_eq!(r.body, parent_missing("nobot"), "{kind}");
        }
    }
}

#[tokio::test]
async fn a_missing_child_has_no_code() {
    let (app, token, bot) = setup().await;
    for kind in KINDS {
        let base = format!("/api/bots/{bot}/{kind}/5a0000000000000000000000");
        for r in [
            app.get(&base, &token).await,
            app.put(&base, &token, sample(kind, 1)).await,
            app.delete(&base, &token).await,
        ] {
            assert_eq!(r.status, 404, "{kind}: {}", r.text);
            assert_eq!(r.body, child_missing("5a0000000000000000000000", kind));
        }
    }
}

#[tokio::test]
async fn a_child_of_another_bot_is_missing_here() {
    let (app, token, bot) = setup().await;
    let other = app.create_bot(&token, "Other").await;
    for kind in KINDS {
        let theirs = app
            .post(
                &format!("/api/bots/{other}/{kind}"),
                &token,
                sample(kind, 1),
            )
            .await
            .id();
        let path = format!("/api/bots/{bot}/{kind}/{theirs}");
        for r in [
            app.get(&path, &token).await,
            app.put(&path, &token, sample(kind, 9)).await,
            app.delete(&path, &token).await,
        ] {
            assert_eq!(r.status, 404, "{kind}: {}", r.text);
            assert_eq!(r.body, child_missing(&theirs, kind));
        }
        // Untouched where it lives.
        let r = app
            .get(&format!("/api/bots/{other}/{kind}/{theirs}"), &token)
            .await;
        assert_eq!(r.status, 200);
        let name_field = if kind == "flakes" { "title" } else { "name" };
        assert_eq!(r.body[name_field], sample(kind, 1)[name_field]);
        // Asking the list for the other bot's rows finds nothing.
        let r = app
            .get_filter(
                &format!("/api/bots/{bot}/{kind}"),
                &token,
                json!({"where": {"bot_id": other}}),
            )
            .await;
        assert_eq!(r.body, json!([]), "{kind}");
    }
}

#[tokio::test]
async fn bot_id_in_the_body_is_forced_to_the_paths_bot() {
    let (app, token, bot) = setup().await;
    let other = app.create_bot(&token, "Other").await;
    for kind in KINDS {
        let mut body = sample(kind, 1);
        body["bot_id"] = json!(other);
        let r = app
            .post(&format!("/api/bots/{bot}/{kind}"), &token, body)
            .await;
        assert_eq!(r.status, 200, "{kind}: {}", r.text);
        assert_eq!(r.body["bot_id"], bot.as_str());
        let id = r.id();
        let r = app
            .put(
                &format!("/api/bots/{bot}/{kind}/{id}"),
                &token,
                json!({"bot_id": other}),
            )
            .await;
        assert_eq!(r.status, 200, "{kind}: {}", r.text);
        assert_eq!(r.body["bot_id"], bot.as_str());
        assert_eq!(
            app.stored(kind, &app.org_id, Some(&other)).await,
            0,
            "{kind}"
        );
    }
    let r = app
        .post(
            &format!("/api/bots/{bot}/flakes"),
            &token,
            json!({"title": "x", "organisation_id": "forged"}),
        )
        .await;
    assert_eq!(r.body["organisation_id"], app.org_id.as_str());
}

#[tokio::test]
async fn a_flake_without_title_gives_loopbacks_exact_validation_error() {
    let (app, token, bot) = setup().await;
    let r = app
        .post(
            &format!("/api/bots/{bot}/flakes"),
            &token,
            json!({"description": "no title"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.text,
        r#"{"error":{"statusCode":422,"name":"ValidationError","message":"The `flakes` instance is not valid. Details: `title` can't be blank (value: undefined).","details":{"context":"flakes","codes":{"title":["presence"]},"messages":{"title":["can't be blank"]}}}}"#
    );
    assert_eq!(app.stored("flakes", &app.org_id, Some(&bot)).await, 0);
}

#[tokio::test]
async fn flake_validation_rules() {
    let (app, token, bot) = setup().await;
    let other = app.create_bot(&token, "Other").await;
    let foreign_tag = app
        .post(
            &format!("/api/bots/{other}/tags"),
            &token,
            json!({"name": "x"}),
        )
        .await
        .id();
    let foreign_cat = app
        .post(
            &format!("/api/bots/{other}/categories"),
            &token,
            json!({"name": "x"}),
        )
        .await
        .id();
    let cases = [
        (
            json!({"title": "t", "status": "live"}),
            json!({"status": ["inclusion"]}),
        ),
        (
            json!({"title": "t", "status": "schedule"}),
            json!({"publish_at": ["presence"]}),
        ),
        (
            json!({"title": "", "status": "draft"}),
            json!({"title": ["presence"]}),
        ),
        (
            json!({"title": "t", "tags": [foreign_tag]}),
            json!({"tags": ["exists"]}),
        ),
        (
            json!({"title": "t", "tags": ["nosuchtag"]}),
            json!({"tags": ["exists"]}),
        ),
        (
            json!({"title": "t", "category": [foreign_cat]}),
            json!({"category": ["exists"]}),
        ),
        (
            json!({"title": "t", "bullet_points": [{"type": "gif", "text": "x"}]}),
            json!({"bullet_points": ["format"]}),
        ),
        (
            json!({"title": "t", "bullet_points": {"type": "text"}}),
            json!({"bullet_points": ["format"]}),
        ),
        (
            json!({"title": "t", "bullet_points": [{"type": "text", "button": "nope"}]}),
            json!({"bullet_points": ["format"]}),
        ),
        (
            json!({"title": "t", "bullet_points": [{"type": "text", "button": [{"name": 1}]}]}),
            json!({"bullet_points": ["format"]}),
        ),
        (
            json!({"title": "t", "publish_at": "garbage"}),
            json!({"publish_at": ["date"]}),
        ),
    ];
    for (body, codes) in cases {
        let r = app
            .post(&format!("/api/bots/{bot}/flakes"), &token, body.clone())
            .await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert_eq!(r.body["error"]["name"], "ValidationError");
        assert_eq!(r.body["error"]["details"]["context"], "flakes");
        assert_eq!(r.body["error"]["details"]["codes"], codes, "{body}");
    }
    assert_eq!(app.stored("flakes", &app.org_id, Some(&bot)).await, 0);
    let r = app
        .post(
            &format!("/api/bots/{bot}/flakes"),
            &token,
            json!({"title": "t", "status": "schedule", "publish_at": "2017-09-15T11:56:45.982Z"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["publish_at"], "2017-09-15T11:56:45.982Z");
    // An update is checked against the merged object.
    let id = r.id();
    let r = app
        .put(
            &format!("/api/bots/{bot}/flakes/{id}"),
            &token,
            json!({"publish_at": null}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(
        r.body["error"]["details"]["codes"],
        json!({"publish_at": ["presence"]})
    );
    let r = app
        .put(
            &format!("/api/bots/{bot}/flakes/{id}"),
            &token,
            json!({"tags": [foreign_tag]}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    let got = app
        .get(&format!("/api/bots/{bot}/flakes/{id}"), &token)
        .await;
    assert_eq!(got.body["publish_at"], "2017-09-15T11:56:45.982Z");
    assert!(got.body.get("tags").is_none());
}

#[tokio::test]
async fn a_list_field_given_a_non_list_is_400() {
    let (app, token, bot) = setup().await;
    let r = app
        .post(
            &format!("/api/bots/{bot}/flakes"),
            &token,
            json!({"title": "t", "tags": "notarray"}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"error": {"statusCode": 400, "name": "Error", "message": "could not create List from JSON string: \"notarray\""}})
    );
}

#[tokio::test]
async fn an_invalid_element_in_an_array_creates_nothing() {
    let (app, token, bot) = setup().await;
    for kind in KINDS {
        let bad = if kind == "flakes" {
            json!({"description": "x"})
        } else {
            json!({"type": "x"})
        };
        let r = app
            .post(
                &format!("/api/bots/{bot}/{kind}"),
                &token,
                json!([sample(kind, 1), bad, sample(kind, 3)]),
            )
            .await;
        assert_eq!(r.status, 422, "{kind}: {}", r.text);
        assert_eq!(r.body["error"]["name"], "ValidationError");
        assert_eq!(app.stored(kind, &app.org_id, Some(&bot)).await, 0, "{kind}");
    }
}

#[tokio::test]
async fn slugs_are_unique_per_bot() {
    let (app, token, bot) = setup().await;
    let other = app.create_bot(&token, "Other").await;
    for kind in ["tags", "categories"] {
        let base = format!("/api/bots/{bot}/{kind}");
        let first = app
            .post(&base, &token, json!({"name": "Hello, World!"}))
            .await;
        assert_eq!(first.body["slug"], "hello-world");
        let r = app
            .post(&base, &token, json!({"name": "hello world"}))
            .await;
        assert_eq!(r.status, 422, "{kind}: {}", r.text);
        assert_eq!(
            r.body,
            json!({"error": {"statusCode": 422, "name": "ValidationError", "message": format!("The `{kind}` instance is not valid. Details: `slug` is not unique (value: \"hello-world\")."), "details": {"context": kind, "codes": {"slug": ["uniqueness"]}, "messages": {"slug": ["is not unique"]}}}})
        );
        let r = app
            .post(
                &base,
                &token,
                json!({"name": "Other", "slug": "hello-world"}),
            )
            .await;
        assert_eq!(r.status, 422, "{kind}: {}", r.text);
        // An explicit slug is kept.
        let r = app
            .post(&base, &token, json!({"name": "Other", "slug": "custom"}))
            .await;
        assert_eq!(r.status, 200, "{kind}: {}", r.text);
        assert_eq!(r.body["slug"], "custom");
        // Renaming onto a taken slug fails; keeping one's own slug does not.
        let id = r.id();
        let r = app
            .put(
                &format!("{base}/{id}"),
                &token,
                json!({"slug": "hello-world"}),
            )
            .await;
        assert_eq!(r.status, 422, "{kind}: {}", r.text);
        let r = app
            .put(
                &format!("{base}/{id}"),
                &token,
                json!({"slug": "custom", "type": "t"}),
            )
            .await;
        assert_eq!(r.status, 200, "{kind}: {}", r.text);
        // Two of the same in one batch clash too, and nothing is created.
        let r = app
            .post(&base, &token, json!([{"name": "Dup"}, {"name": "dup"}]))
            .await;
        assert_eq!(r.status, 422, "{kind}: {}", r.text);
        assert_eq!(
            app.get(&format!("{base}/count"), &token).await.body,
            json!({"count": 2})
        );
        // Another bot may use the same slug.
        let r = app
            .post(
                &format!("/api/bots/{other}/{kind}"),
                &token,
                json!({"name": "Hello, World!"}),
            )
            .await;
        assert_eq!(r.status, 200, "{kind}: {}", r.text);
        assert_eq!(r.body["slug"], "hello-world");
    }
}

#[tokio::test]
async fn channel_cron_time_is_range_checked() {
    let (app, token, bot) = setup().await;
    let base = format!("/api/bots/{bot}/channels");
    for cron in [
        json!({"hour": 24, "minute": 0}),
        json!({"hour": -1, "minute": 0}),
        json!({"hour": 9, "minute": 60}),
        json!({"minute": 5}),
        json!({"hour": "9"}),
        json!("09:00"),
    ] {
        let r = app
            .post(&base, &token, json!({"name": "c", "cron_time": cron}))
            .await;
        assert_eq!(r.status, 422, "{cron}: {}", r.text);
        assert_eq!(
            r.body["error"]["details"]["codes"],
            json!({"cron_time": ["range"]}),
            "{cron}"
        );
    }
    for cron in [
        json!({"hour": 0, "minute": 0}),
        json!({"hour": 23, "minute": 59}),
        json!({"hour": 7}),
    ] {
        let r = app
            .post(&base, &token, json!({"name": "c", "cron_time": cron}))
            .await;
        assert_eq!(r.status, 200, "{cron}: {}", r.text);
        assert_eq!(r.body["cron_time"], cron);
    }
    let r = app
        .post(
            &base,
            &token,
            json!({"name": "c", "keywordSource": [{"source": []}]}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(
        r.body["error"]["details"]["codes"],
        json!({"keywordSource": ["format"]})
    );
}

#[tokio::test]
async fn an_unknown_relation_has_no_method() {
    let (app, token, bot) = setup().await;
    let r = app.get(&format!("/api/bots/{bot}/nosuch"), &token).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"error": {"statusCode": 404, "name": "Error", "message": format!("Shared class \"bot\" has no method handling GET /{bot}/nosuch")}})
    );
}
