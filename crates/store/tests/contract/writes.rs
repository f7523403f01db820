//! Writes that must hold across rows: unique indexes, all-or-none batches, cascading deletes,
//! and access tokens.

use palaver_domain::filter::Where;
use palaver_domain::models::{BOT, CATEGORY, CHANNEL, FLAKE, TAG, USER};
use palaver_store::{AccessTokenRow, Db, Documents, Jobs, NewJob, Scope, StoreError, Tokens};
use serde_json::{json, Map, Value};

use crate::support::{account, bot, contract, doc, flake, ids, organisation, strings, STAMP};

contract!(
    unique_slug_per_bot_is_a_conflict,
    unique_email_per_organisation_is_a_conflict,
    duplicate_id_is_a_conflict,
    insert_many_is_all_or_none,
    delete_with_children_removes_the_bot_and_its_content,
    a_child_of_a_missing_parent_is_refused,
    tokens_insert_get_delete,
    a_conditional_update_changes_the_row_once,
    a_document_write_commits_with_its_job_or_not_at_all,
);

fn tag(id: &str, slug: &str) -> Map<String, Value> {
    doc(json!({"name": slug, "slug": slug, "type": "tag", "id": id,
               "created": STAMP, "modified": STAMP}))
}

async fn unique_slug_per_bot_is_a_conflict(db: Db) {
    let docs = Documents::new(db);
    organisation(&docs, "org-a").await;
    bot(&docs, "org-a", "bot-1").await;
    bot(&docs, "org-a", "bot-2").await;
    let one = Scope::child("org-a", "bot_id", "bot-1");
    let two = Scope::child("org-a", "bot_id", "bot-2");
    docs.insert(&TAG, &one, &tag("t1", "news")).await.unwrap();
    let err = docs
        .insert(&TAG, &one, &tag("t2", "news"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    // The same slug in another bot, or for a category, is fine.
    docs.insert(&TAG, &two, &tag("t3", "news")).await.unwrap();
    docs.insert(&CATEGORY, &one, &tag("c1", "news"))
        .await
        .unwrap();
    let err = docs
        .insert(&CATEGORY, &one, &tag("c2", "news"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(
        ids(&docs.find(&TAG, &one, &Default::default()).await.unwrap()),
        strings(&["t1"])
    );

    // An update into a taken slug is a conflict too, and changes nothing.
    docs.insert(&TAG, &one, &tag("t4", "sport")).await.unwrap();
    let err = docs
        .update(&TAG, &one, "t4", &doc(json!({"slug": "news"})))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let t4 = docs.get(&TAG, &one, "t4").await.unwrap().expect("t4");
    assert_eq!(t4["slug"], json!("sport"));
}

async fn unique_email_per_organisation_is_a_conflict(db: Db) {
    let docs = Documents::new(db);
    organisation(&docs, "org-a").await;
    organisation(&docs, "org-b").await;
    account(&docs, "org-a", "acc-1", "same@example.test").await;
    account(&docs, "org-b", "acc-2", "same@example.test").await;
    let err = docs
        .insert(
            &USER,
            &Scope::org("org-a"),
            &doc(
                json!({"role": "owner", "email": "same@example.test", "password": "p",
                        "id": "acc-3", "created": STAMP, "modified": STAMP}),
            ),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(
        docs.count(&USER, &Scope::org("org-a"), &Where::All)
            .await
            .unwrap(),
        1
    );
}

async fn duplicate_id_is_a_conflict(db: Db) {
    let docs = Documents::new(db);
    organisation(&docs, "org-a").await;
    organisation(&docs, "org-b").await;
    bot(&docs, "org-a", "bot-1").await;
    let err = docs
        .insert(
            &BOT,
            &Scope::org("org-b"),
            &doc(json!({"name": "clash", "id": "bot-1", "created": STAMP, "modified": STAMP})),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let kept = docs
        .get(&BOT, &Scope::org("org-a"), "bot-1")
        .await
        .unwrap()
        .expect("bot");
    assert_eq!(kept["name"], json!("bot bot-1"));
    assert!(docs
        .get(&BOT, &Scope::org("org-b"), "bot-1")
        .await
        .unwrap()
        .is_none());
}

async fn insert_many_is_all_or_none(db: Db) {
    let docs = Documents::new(db);
    organisation(&docs, "org-a").await;
    bot(&docs, "org-a", "bot-1").await;
    let scope = Scope::child("org-a", "bot_id", "bot-1");

    docs.insert_many(
        &TAG,
        &scope,
        &[tag("t1", "a"), tag("t2", "b"), tag("t3", "c")],
    )
    .await
    .unwrap();
    assert_eq!(
        ids(&docs.find(&TAG, &scope, &Default::default()).await.unwrap()),
        strings(&["t1", "t2", "t3"])
    );

    // The second row clashes with the first of the same batch.
    let err = docs
        .insert_many(
            &TAG,
            &scope,
            &[tag("t4", "d"), tag("t5", "d"), tag("t6", "e")],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    // The last row clashes with a stored one.
    let err = docs
        .insert_many(&TAG, &scope, &[tag("t7", "f"), tag("t8", "a")])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    // A bad value half-way.
    let mut bad = tag("t10", "h");
    bad.insert("created".into(), json!("not a date"));
    let err = docs
        .insert_many(&TAG, &scope, &[tag("t9", "g"), bad])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Decode(_)), "{err:?}");

    assert_eq!(
        ids(&docs.find(&TAG, &scope, &Default::default()).await.unwrap()),
        strings(&["t1", "t2", "t3"]),
        "no row of a failed batch is kept"
    );
    docs.insert_many(&TAG, &scope, &[]).await.unwrap();
    assert_eq!(docs.count(&TAG, &scope, &Where::All).await.unwrap(), 3);
}

async fn delete_with_children_removes_the_bot_and_its_content(db: Db) {
    let docs = Documents::new(db);
    organisation(&docs, "org-a").await;
    bot(&docs, "org-a", "bot-1").await;
    bot(&docs, "org-a", "bot-2").await;
    for b in ["bot-1", "bot-2"] {
        let scope = Scope::child("org-a", "bot_id", b);
        for i in 0..3 {
            docs.insert(
                &FLAKE,
                &scope,
                &flake(&format!("{b}-f{i}"), json!({"title": "x"})),
            )
            .await
            .unwrap();
        }
        docs.insert(&TAG, &scope, &tag(&format!("{b}-t"), "s"))
            .await
            .unwrap();
        docs.insert(&CATEGORY, &scope, &tag(&format!("{b}-c"), "s"))
            .await
            .unwrap();
        docs.insert(
            &CHANNEL,
            &scope,
            &doc(
                json!({"name": "n", "id": format!("{b}-ch"), "created": STAMP, "modified": STAMP}),
            ),
        )
        .await
        .unwrap();
    }
    let org = Scope::org("org-a");
    let children = [&FLAKE, &TAG, &CATEGORY, &CHANNEL];
    assert!(docs
        .delete_with_children(&BOT, &org, "bot-1", &children, "bot_id")
        .await
        .unwrap());
    assert!(docs.get(&BOT, &org, "bot-1").await.unwrap().is_none());
    for model in children {
        let left = ids(&docs.find(model, &org, &Default::default()).await.unwrap());
        assert!(
            left.iter().all(|id| id.starts_with("bot-2-")),
            "{}: {left:?}",
            model.table
        );
        let expected = if model.table == "flakes" { 3 } else { 1 };
        assert_eq!(left.len(), expected, "{}: bot-2's rows stay", model.table);
    }
    assert!(docs.get(&BOT, &org, "bot-2").await.unwrap().is_some());
    assert!(!docs
        .delete_with_children(&BOT, &org, "bot-1", &children, "bot_id")
        .await
        .unwrap());
}

async fn a_child_of_a_missing_parent_is_refused(db: Db) {
    let docs = Documents::new(db);
    organisation(&docs, "org-a").await;
    let err = docs
        .insert(
            &FLAKE,
            &Scope::child("org-a", "bot_id", "no-such-bot"),
            &flake("f1", json!({})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Database(_) | StoreError::Sqlite(_)),
        "{err:?}"
    );
    assert_eq!(
        docs.count(&FLAKE, &Scope::org("org-a"), &Where::All)
            .await
            .unwrap(),
        0
    );
}

async fn a_conditional_update_changes_the_row_once(db: Db) {
    let docs = Documents::new(db);
    organisation(&docs, "org-a").await;
    organisation(&docs, "org-b").await;
    bot(&docs, "org-a", "bot-1").await;
    let scope = Scope::child("org-a", "bot_id", "bot-1");
    for id in ["f1", "f2"] {
        docs.insert(
            &FLAKE,
            &scope,
            &flake(
                id,
                json!({"title": "t", "status": "schedule", "publish_at": 1_000}),
            ),
        )
        .await
        .unwrap();
    }
    let expect = doc(json!({"status": "schedule", "publish_at": 1_000}));
    let publish = doc(json!({"status": "publish", "modified": 2_000}));

    // Another time, another organisation, a missing row: nothing changes.
    let later = doc(json!({"status": "schedule", "publish_at": 1_001}));
    assert!(!docs
        .update_if(&FLAKE, &scope, "f1", &later, &publish)
        .await
        .unwrap());
    let elsewhere = Scope::child("org-b", "bot_id", "bot-1");
    assert!(!docs
        .update_if(&FLAKE, &elsewhere, "f1", &expect, &publish)
        .await
        .unwrap());
    assert!(!docs
        .update_if(&FLAKE, &scope, "nope", &expect, &publish)
        .await
        .unwrap());

    assert!(docs
        .update_if(&FLAKE, &scope, "f1", &expect, &publish)
        .await
        .unwrap());
    assert!(!docs
        .update_if(&FLAKE, &scope, "f1", &expect, &publish)
        .await
        .unwrap());
    let f1 = docs.get(&FLAKE, &scope, "f1").await.unwrap().expect("f1");
    assert_eq!(f1["status"], json!("publish"));
    assert_eq!(f1["modified"], json!("1970-01-01T00:00:02.000Z"));

    // Racing on the same expectation, exactly one writer wins.
    let (a, b) = tokio::join!(
        docs.update_if(&FLAKE, &scope, "f2", &expect, &publish),
        docs.update_if(&FLAKE, &scope, "f2", &expect, &publish),
    );
    assert_eq!([a.unwrap(), b.unwrap()].iter().filter(|w| **w).count(), 1);

    // `null` expects no value.
    docs.insert(&FLAKE, &scope, &flake("f3", json!({"title": "t"})))
        .await
        .unwrap();
    let unset = doc(json!({"publish_at": null}));
    assert!(docs
        .update_if(&FLAKE, &scope, "f3", &unset, &doc(json!({"title": "u"})))
        .await
        .unwrap());
}

async fn a_document_write_commits_with_its_job_or_not_at_all(db: Db) {
    let docs = Documents::new(db.clone());
    let jobs = Jobs::new(db);
    organisation(&docs, "org-a").await;
    bot(&docs, "org-a", "bot-1").await;
    let scope = Scope::child("org-a", "bot_id", "bot-1");
    let job = NewJob {
        application_id: None,
        kind: "FLAKE_PUBLISH".into(),
        payload: json!({}),
        run_at: 1_000,
        max_attempts: 5,
        created: 1,
    };
    docs.insert(&FLAKE, &scope, &flake("f0", json!({"title": "t"})))
        .await
        .unwrap();

    // Dropped before its commit: neither the rows nor the job are kept.
    let mut write = docs.begin_write().await.unwrap();
    write
        .insert(&FLAKE, &scope, &flake("f1", json!({"title": "t"})))
        .await
        .unwrap();
    assert!(write
        .update(&FLAKE, &scope, "f0", &doc(json!({"title": "u"})))
        .await
        .unwrap());
    let dropped = Jobs::enqueue(write.tx(), &job).await.unwrap();
    drop(write);
    assert!(docs.get(&FLAKE, &scope, "f1").await.unwrap().is_none());
    let f0 = docs.get(&FLAKE, &scope, "f0").await.unwrap().expect("f0");
    assert_eq!(f0["title"], json!("t"));
    assert!(jobs.by_id(dropped.id).await.unwrap().is_none());

    // Committed: all of it.
    let mut write = docs.begin_write().await.unwrap();
    write
        .insert(&FLAKE, &scope, &flake("f1", json!({"title": "t"})))
        .await
        .unwrap();
    assert!(write
        .update(&FLAKE, &scope, "f0", &doc(json!({"title": "u"})))
        .await
        .unwrap());
    assert!(!write
        .update(&FLAKE, &scope, "nope", &doc(json!({"title": "u"})))
        .await
        .unwrap());
    let kept = Jobs::enqueue(write.tx(), &job).await.unwrap();
    write.commit().await.unwrap();
    assert!(docs.get(&FLAKE, &scope, "f1").await.unwrap().is_some());
    let f0 = docs.get(&FLAKE, &scope, "f0").await.unwrap().expect("f0");
    assert_eq!(f0["title"], json!("u"));
    assert_eq!(
        jobs.by_id(kept.id).await.unwrap().map(|j| j.kind),
        Some(job.kind)
    );
}

async fn tokens_insert_get_delete(db: Db) {
    let docs = Documents::new(db.clone());
    let tokens = Tokens::new(db);
    organisation(&docs, "org-a").await;
    account(&docs, "org-a", "acc-1", "one@example.test").await;
    account(&docs, "org-a", "acc-2", "two@example.test").await;
    let row = |digest: &str, account: &str, ttl: i64| AccessTokenRow {
        digest: digest.into(),
        account_id: account.into(),
        organisation_id: "org-a".into(),
        ttl,
        created: 1_503_297_117_547,
    };
    tokens.insert(&row("d1", "acc-1", 1_209_600)).await.unwrap();
    tokens.insert(&row("d2", "acc-1", -1)).await.unwrap();
    tokens.insert(&row("d3", "acc-1", 60)).await.unwrap();
    tokens.insert(&row("d4", "acc-2", i64::MAX)).await.unwrap();

    let got = tokens.get("d1").await.unwrap().expect("d1");
    assert_eq!(
        (
            got.digest.as_str(),
            got.account_id.as_str(),
            got.organisation_id.as_str(),
            got.ttl,
            got.created
        ),
        ("d1", "acc-1", "org-a", 1_209_600, 1_503_297_117_547)
    );
    assert_eq!(tokens.get("d4").await.unwrap().expect("d4").ttl, i64::MAX);
    assert!(
        tokens.get("D1").await.unwrap().is_none(),
        "digests match exactly"
    );
    assert!(tokens.get("nope").await.unwrap().is_none());

    let err = tokens.insert(&row("d1", "acc-2", 1)).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let err = tokens
        .insert(&row("d9", "no-such-account", 1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Database(_) | StoreError::Sqlite(_)),
        "{err:?}"
    );

    assert!(
        !tokens.delete("org-a", "acc-2", "d3").await.unwrap(),
        "a token is deleted only as its own account's"
    );
    assert!(!tokens.delete("org-b", "acc-1", "d3").await.unwrap());
    assert!(tokens.get("d3").await.unwrap().is_some());
    assert!(tokens.delete("org-a", "acc-1", "d3").await.unwrap());
    assert!(!tokens.delete("org-a", "acc-1", "d3").await.unwrap());
    assert!(tokens.get("d3").await.unwrap().is_none());

    // Every other token of the account goes; the kept one and other accounts' stay.
    tokens.insert(&row("d5", "acc-1", 60)).await.unwrap();
    assert_eq!(
        tokens
            .delete_for_account("org-a", "acc-1", Some("d1"))
            .await
            .unwrap(),
        2
    );
    assert!(tokens.get("d1").await.unwrap().is_some());
    assert!(tokens.get("d2").await.unwrap().is_none());
    assert!(tokens.get("d5").await.unwrap().is_none());
    assert!(tokens.get("d4").await.unwrap().is_some());
    // Another organisation naming the account removes nothing.
    assert_eq!(
        tokens
            .delete_for_account("org-b", "acc-1", None)
            .await
            .unwrap(),
        0
    );
    assert!(tokens.get("d1").await.unwrap().is_some());
    assert_eq!(
        tokens
            .delete_for_account("org-a", "acc-1", None)
            .await
            .unwrap(),
        1
    );
    assert!(tokens.get("d1").await.unwrap().is_none());
    assert_eq!(
        tokens
            .delete_for_account("org-a", "acc-1", None)
            .await
            .unwrap(),
        0
    );

    // Deleting the account takes its tokens with it.
    assert!(docs
        .delete(&USER, &Scope::org("org-a"), "acc-2")
        .await
        .unwrap());
    assert!(tokens.get("d4").await.unwrap().is_none());
}
