//! Migrations, round trips of every kind of field, NULLs, updates and deletes.

use palaver_domain::filter::Where;
use palaver_domain::models::{BOT, CHANNEL, FLAKE, ORGANISATION, TAG, USER};
use palaver_store::{Db, Documents, Scope, StoreError};
use serde_json::{json, Value};

use crate::support::{account, bot, contract, doc, ids, organisation, strings, STAMP};

contract!(
    migrate_is_idempotent,
    flake_round_trip_keeps_every_kind,
    user_round_trip_keeps_ints_bools_and_documents,
    bot_and_channel_round_trip,
    organisations_round_trip_and_list_oldest_first,
    missing_and_null_fields_read_back_as_null,
    dates_are_normalised_to_utc_millis,
    values_of_the_wrong_kind_are_refused,
    update_changes_only_the_given_fields,
    delete_and_delete_all_report_what_they_removed,
    login_candidates_span_organisations,
);

async fn migrate_is_idempotent(db: Db) {
    // The harness migrated once already.
    db.migrate().await.expect("second run");
    db.migrate().await.expect("third run");
    let docs = Documents::new(db.clone());
    organisation(&docs, "org-a").await;
    bot(&docs, "org-a", "bot-1").await;
    let got = docs.get(&BOT, &Scope::org("org-a"), "bot-1").await.unwrap();
    assert!(
        got.is_some(),
        "a write after repeated migrations reads back"
    );
    assert!(db.ping().await);
}

async fn flake_round_trip_keeps_every_kind(db: Db) {
    let docs = Documents::new(db);
    organisation(&docs, "org-a").await;
    bot(&docs, "org-a", "bot-1").await;
    let scope = Scope::child("org-a", "bot_id", "bot-1");
    let input = doc(json!({
        "title": "Ünïcode ☃ title with 'quotes' and \"double\" and \\ backslash",
        "description": "line one\nline two",
        "image_url": "https://img.example/a.png",
        "bullet_points": [{"text": "one", "n": 1}, {"text": "two", "nested": {"deep": [1, 2.5, null, true]}}],
        "status": "published",
        "publish_at": "2017-08-21T06:31:57.547Z",
        "category": ["c1", "c2"],
        "id": "f1",
        "created": "2017-08-20T00:00:00.001Z",
        "modified": "2017-08-22T23:59:59.999Z",
        "author_name": "Ann",
        "tags": ["t1", "t 2", ""],
    }));
    docs.insert(&FLAKE, &scope, &input).await.unwrap();
    let got = docs.get(&FLAKE, &scope, "f1").await.unwrap().expect("row");

    // Every field of the model, in model order, with the tenant and parent set from the scope.
    let expected = doc(json!({
        "title": "Ünïcode ☃ title with 'quotes' and \"double\" and \\ backslash",
        "description": "line one\nline two",
        "image_url": "https://img.example/a.png",
        "bullet_points": [{"text": "one", "n": 1}, {"text": "two", "nested": {"deep": [1, 2.5, null, true]}}],
        "status": "published",
        "publish_at": "2017-08-21T06:31:57.547Z",
        "category": ["c1", "c2"],
        "bot_id": "bot-1",
        "id": "f1",
        "created": "2017-08-20T00:00:00.001Z",
        "modified": "2017-08-22T23:59:59.999Z",
        "author_name": "Ann",
        "organisation_id": "org-a",
        "tags": ["t1", "t 2", ""],
    }));
    assert_eq!(Value::Object(got.clone()), Value::Object(expected));
    let order: Vec<&str> = got.keys().map(String::as_str).collect();
    let model_order: Vec<&str> = FLAKE.fields.iter().map(|f| f.name).collect();
    assert_eq!(order, model_order);

    // find returns the same document.
    let found = docs
        .find(&FLAKE, &scope, &Default::default())
        .await
        .unwrap();
    assert_eq!(found, vec![got]);
}

async fn user_round_trip_keeps_ints_bools_and_documents(db: Db) {
    let docs = Documents::new(db);
    organisation(&docs, "org-a").await;
    let scope = Scope::org("org-a");
    let cases = [
        ("u1", json!(i64::MAX), true),
        ("u2", json!(i64::MIN), false),
        ("u3", json!(0), true),
        ("u4", json!(-42), false),
    ];
    for (id, level, verified) in &cases {
        docs.insert(
            &USER,
            &scope,
            &doc(json!({
                "bot_id": "bot-1",
                "role": "customer",
                "email": format!("{id}@example.test"),
                "emailVerified": verified,
                "password": "hash",
                "id": id,
                "created": STAMP,
                "modified": STAMP,
                "quiz_sets": {"set": [1, 2], "done": false},
                "read_stories": ["s1", {"id": "s2"}],
                "context_session": "just a string",
                "level": level,
            })),
        )
        .await
        .unwrap();
    }
    for (id, level, verified) in &cases {
        let got = docs.get(&USER, &scope, id).await.unwrap().expect("row");
        assert_eq!(got["level"], *level, "{id}");
        assert_eq!(got["emailVerified"], json!(verified), "{id}");
        assert_eq!(got["quiz_sets"], json!({"set": [1, 2], "done": false}));
        assert_eq!(got["read_stories"], json!(["s1", {"id": "s2"}]));
        assert_eq!(got["context_session"], json!("just a string"));
        assert_eq!(got["password"], json!("hash"), "hidden fields are read too");
        assert_eq!(got["organisation_id"], json!("org-a"));
        assert_eq!(got["bot_id"], json!("bot-1"));
        assert_eq!(got["platform"], Value::Null);
        assert_eq!(got.len(), USER.fields.len());
    }
}

async fn bot_and_channel_round_trip(db: Db) {
    let docs = Documents::new(db);
    organisation(&docs, "org-a").await;
    bot(&docs, "org-a", "bot-1").await;
    let got = docs
        .get(&BOT, &Scope::org("org-a"), "bot-1")
        .await
        .unwrap()
        .expect("bot");
    assert_eq!(
        Value::Object(got),
        json!({
            "name": "bot bot-1",
            "platform": "web",
            "domain": "bot-1.example",
            // Not linked to a platform application.
            "application_id": null,
            "chat_user_id": null,
            "organisation_id": "org-a",
            "id": "bot-1",
            "created": STAMP,
            "modified": STAMP,
        })
    );

    let scope = Scope::child("org-a", "bot_id", "bot-1");
    docs.insert(
        &CHANNEL,
        &scope,
        &doc(json!({
            "name": "news",
            "keywordSource": {"rss": ["https://a.example/feed"], "weights": {"a": 1.5}},
            "category": [],
            "cron_time": "0 */5 * * * *",
            "status": "active",
            "id": "ch1",
            "created": STAMP,
            "modified": STAMP,
        })),
    )
    .await
    .unwrap();
    let got = docs
        .get(&CHANNEL, &scope, "ch1")
        .await
        .unwrap()
        .expect("channel");
    assert_eq!(
        Value::Object(got),
        json!({
            "name": "news",
            "keywordSource": {"rss": ["https://a.example/feed"], "weights": {"a": 1.5}},
            "category": [],
            "cron_time": "0 */5 * * * *",
            "status": "active",
            // Stored without one: feed flakes are drafts.
            "flake_status": null,
            "bot_id": "bot-1",
            "id": "ch1",
            "created": STAMP,
            "modified": STAMP,
        })
    );
}

async fn organisations_round_trip_and_list_oldest_first(db: Db) {
    let docs = Documents::new(db);
    for (id, created) in [
        ("org-c", "2019-01-01T00:00:00.000Z"),
        ("org-b", "2018-01-01T00:00:00.000Z"),
        ("org-a", "2019-01-01T00:00:00.000Z"),
    ] {
        docs.insert(
            &ORGANISATION,
            &Scope::org(id),
            &doc(json!({"company_name": id, "created": created, "modified": created})),
        )
        .await
        .unwrap();
    }
    let got = docs
        .get(&ORGANISATION, &Scope::org("org-b"), "org-b")
        .await
        .unwrap()
        .expect("org");
    assert_eq!(
        Value::Object(got),
        json!({
            "company_name": "org-b",
            "plan": null,
            "email": null,
            "id": "org-b",
            "created": "2018-01-01T00:00:00.000Z",
            "modified": "2018-01-01T00:00:00.000Z",
            "username": null,
        })
    );
    let all = docs.all_organisations().await.unwrap();
    // Oldest first; equal times by id.
    assert_eq!(ids(&all), strings(&["org-b", "org-a", "org-c"]));
}

async fn missing_and_null_fields_read_back_as_null(db: Db) {
    let docs = Documents::new(db);
    organisation(&docs, "org-a").await;
    bot(&docs, "org-a", "bot-1").await;
    let scope = Scope::child("org-a", "bot_id", "bot-1");
    // Explicit nulls for every nullable kind.
    docs.insert(
        &FLAKE,
        &scope,
        &doc(json!({
            "title": null, "bullet_points": null, "publish_at": null,
            "category": null, "tags": null,
            "id": "f-null", "created": STAMP, "modified": STAMP,
        })),
    )
    .await
    .unwrap();
    // Fields simply left out.
    docs.insert(
        &FLAKE,
        &scope,
        &doc(json!({"id": "f-missing", "created": STAMP, "modified": STAMP})),
    )
    .await
    .unwrap();
    for id in ["f-null", "f-missing"] {
        let got = docs.get(&FLAKE, &scope, id).await.unwrap().expect("row");
        for f in FLAKE.fields {
            let v = &got[f.name];
            match f.name {
                "id" => assert_eq!(v, id),
                "bot_id" => assert_eq!(v, "bot-1"),
                "organisation_id" => assert_eq!(v, "org-a"),
                "created" | "modified" => assert_eq!(v, STAMP),
                _ => assert_eq!(v, &Value::Null, "{id}.{}", f.name),
            }
        }
    }
    // Empty list and empty text are not null.
    docs.insert(
        &FLAKE,
        &scope,
        &doc(
            json!({"id": "f-empty", "title": "", "tags": [], "bullet_points": {},
                    "created": STAMP, "modified": STAMP}),
        ),
    )
    .await
    .unwrap();
    let got = docs
        .get(&FLAKE, &scope, "f-empty")
        .await
        .unwrap()
        .expect("row");
    assert_eq!(got["title"], json!(""));
    assert_eq!(got["tags"], json!([]));
    assert_eq!(got["bullet_points"], json!({}));

    // A user's null int, bool-by-default and null document.
    organisation(&docs, "org-b").await;
    docs.insert(
        &USER,
        &Scope::org("org-b"),
        &doc(
            json!({"role": "customer", "email": "x@y.test", "password": "p", "level": null,
                    "quiz_sets": null, "id": "u1", "created": STAMP, "modified": STAMP}),
        ),
    )
    .await
    .unwrap();
    let got = docs
        .get(&USER, &Scope::org("org-b"), "u1")
        .await
        .unwrap()
        .expect("user");
    assert_eq!(got["level"], Value::Null);
    assert_eq!(got["quiz_sets"], Value::Null);
    assert_eq!(got["emailVerified"], json!(false), "column default");

    // Setting a field to null through update.
    let changed = docs
        .update(
            &FLAKE,
            &scope,
            "f-empty",
            &doc(json!({"title": null, "tags": null, "publish_at": null})),
        )
        .await
        .unwrap();
    assert!(changed);
    let got = docs
        .get(&FLAKE, &scope, "f-empty")
        .await
        .unwrap()
        .expect("row");
    assert_eq!(got["title"], Value::Null);
    assert_eq!(got["tags"], Value::Null);
    assert_eq!(got["publish_at"], Value::Null);
}

async fn dates_are_normalised_to_utc_millis(db: Db) {
    let docs = Documents::new(db);
    organisation(&docs, "org-a").await;
    bot(&docs, "org-a", "bot-1").await;
    let scope = Scope::child("org-a", "bot_id", "bot-1");
    let cases = [
        (
            "d1",
            json!("2017-08-21T08:31:57.547+02:00"),
            "2017-08-21T06:31:57.547Z",
        ),
        ("d2", json!("2017-08-21"), "2017-08-21T00:00:00.000Z"),
        (
            "d3",
            json!(1_503_297_117_547_i64),
            "2017-08-21T06:31:57.547Z",
        ),
        (
            "d4",
            json!("1969-12-31T23:59:59.999Z"),
            "1969-12-31T23:59:59.999Z",
        ),
        (
            "d5",
            json!("2017-08-21T06:31:57Z"),
            "2017-08-21T06:31:57.000Z",
        ),
    ];
    for (id, input, _) in &cases {
        docs.insert(
            &FLAKE,
            &scope,
            &doc(json!({"id": id, "publish_at": input, "created": STAMP, "modified": STAMP})),
        )
        .await
        .unwrap();
    }
    for (id, _, shown) in &cases {
        let got = docs.get(&FLAKE, &scope, id).await.unwrap().expect("row");
        assert_eq!(got["publish_at"], json!(shown), "{id}");
    }
}

async fn values_of_the_wrong_kind_are_refused(db: Db) {
    let docs = Documents::new(db);
    organisation(&docs, "org-a").await;
    bot(&docs, "org-a", "bot-1").await;
    let scope = Scope::child("org-a", "bot_id", "bot-1");
    let bad = [
        json!({"publish_at": "not a date"}),
        json!({"publish_at": true}),
        json!({"title": 12}),
    ];
    for (i, fields) in bad.iter().enumerate() {
        let mut d = doc(json!({"id": format!("bad{i}"), "created": STAMP, "modified": STAMP}));
        d.extend(doc(fields.clone()));
        let err = docs.insert(&FLAKE, &scope, &d).await.unwrap_err();
        assert!(matches!(err, StoreError::Decode(_)), "{fields}: {err:?}");
    }
    let err = docs
        .insert(
            &USER,
            &Scope::org("org-a"),
            &doc(
                json!({"role": "r", "email": "e", "password": "p", "level": 1.5,
                        "id": "u1", "created": STAMP, "modified": STAMP}),
            ),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Decode(_)), "{err:?}");
    assert_eq!(docs.count(&FLAKE, &scope, &Where::All).await.unwrap(), 0);
    assert_eq!(
        docs.count(&USER, &Scope::org("org-a"), &Where::All)
            .await
            .unwrap(),
        0
    );
}

async fn update_changes_only_the_given_fields(db: Db) {
    let docs = Documents::new(db);
    organisation(&docs, "org-a").await;
    bot(&docs, "org-a", "bot-1").await;
    let scope = Scope::child("org-a", "bot_id", "bot-1");
    docs.insert(
        &TAG,
        &scope,
        &doc(
            json!({"name": "Rust", "slug": "rust", "type": "topic", "id": "t1",
                    "created": STAMP, "modified": STAMP}),
        ),
    )
    .await
    .unwrap();
    docs.insert(
        &TAG,
        &scope,
        &doc(json!({"name": "Go", "slug": "go", "id": "t2", "created": STAMP, "modified": STAMP})),
    )
    .await
    .unwrap();
    let changed = docs
        .update(
            &TAG,
            &scope,
            "t1",
            &doc(
                json!({"name": "Rust lang", "modified": "2021-02-03T04:05:06.007Z",
                        "not_a_field": "ignored"}),
            ),
        )
        .await
        .unwrap();
    assert!(changed);
    let got = docs.get(&TAG, &scope, "t1").await.unwrap().expect("tag");
    assert_eq!(
        Value::Object(got),
        json!({"name": "Rust lang", "slug": "rust", "type": "topic", "bot_id": "bot-1",
               "id": "t1", "created": STAMP, "modified": "2021-02-03T04:05:06.007Z"})
    );
    let other = docs.get(&TAG, &scope, "t2").await.unwrap().expect("tag");
    assert_eq!(other["name"], json!("Go"), "other rows untouched");

    assert!(!docs
        .update(&TAG, &scope, "nope", &doc(json!({"name": "x"})))
        .await
        .unwrap());
    // Nothing to change: the answer is whether the row exists.
    assert!(docs
        .update(&TAG, &scope, "t1", &doc(json!({"unknown": 1})))
        .await
        .unwrap());
    assert!(!docs
        .update(&TAG, &scope, "nope", &doc(json!({})))
        .await
        .unwrap());
}

async fn delete_and_delete_all_report_what_they_removed(db: Db) {
    let docs = Documents::new(db);
    organisation(&docs, "org-a").await;
    bot(&docs, "org-a", "bot-1").await;
    let scope = Scope::child("org-a", "bot_id", "bot-1");
    for i in 0..5 {
        docs.insert(
            &TAG,
            &scope,
            &doc(json!({"slug": format!("s{i}"), "id": format!("t{i}"),
                        "created": STAMP, "modified": STAMP})),
        )
        .await
        .unwrap();
    }
    assert!(docs.delete(&TAG, &scope, "t0").await.unwrap());
    assert!(
        !docs.delete(&TAG, &scope, "t0").await.unwrap(),
        "already gone"
    );
    assert!(docs.get(&TAG, &scope, "t0").await.unwrap().is_none());
    assert_eq!(docs.delete_all(&TAG, &scope).await.unwrap(), 4);
    assert_eq!(docs.delete_all(&TAG, &scope).await.unwrap(), 0);
    assert_eq!(docs.count(&TAG, &scope, &Where::All).await.unwrap(), 0);
    assert!(docs
        .get(&BOT, &Scope::org("org-a"), "bot-1")
        .await
        .unwrap()
        .is_some());
}

async fn login_candidates_span_organisations(db: Db) {
    let docs = Documents::new(db);
    organisation(&docs, "org-a").await;
    organisation(&docs, "org-b").await;
    account(&docs, "org-b", "acc-2", "same@example.test").await;
    account(&docs, "org-a", "acc-1", "same@example.test").await;
    account(&docs, "org-a", "acc-3", "Same@example.test").await;
    let got = docs
        .login_candidates(&USER, "email", "same@example.test")
        .await
        .unwrap();
    // Exact match (case included), every organisation, by id.
    assert_eq!(ids(&got), strings(&["acc-1", "acc-2"]));
    assert_eq!(got[0]["organisation_id"], json!("org-a"));
    assert_eq!(got[1]["organisation_id"], json!("org-b"));
    assert_eq!(got[0]["password"], json!("$2b$04$digest"));
    assert!(docs
        .login_candidates(&USER, "email", "nobody@example.test")
        .await
        .unwrap()
        .is_empty());
}
