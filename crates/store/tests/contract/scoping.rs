//! Tenant and parent scoping: a row outside the scope is invisible to every call.

use palaver_domain::filter::{Filter, Where};
use palaver_domain::models::{BOT, FLAKE, ORGANISATION, TAG, USER};
use palaver_store::{Db, Documents, Scope};
use serde_json::json;

use crate::support::{account, bot, contract, doc, flake, ids, organisation, strings, where_};

contract!(
    other_organisations_rows_are_invisible,
    other_parents_rows_are_invisible,
    organisations_see_only_themselves,
    delete_with_children_stays_in_scope,
);

async fn other_organisations_rows_are_invisible(db: Db) {
    let docs = Documents::new(db);
    organisation(&docs, "org-a").await;
    organisation(&docs, "org-b").await;
    bot(&docs, "org-a", "bot-a").await;
    bot(&docs, "org-b", "bot-b").await;
    account(&docs, "org-a", "acc-a", "a@example.test").await;
    let a = Scope::org("org-a");
    let b = Scope::org("org-b");
    let everything = Filter::default();

    assert!(docs.get(&BOT, &b, "bot-a").await.unwrap().is_none());
    assert!(docs.get(&USER, &b, "acc-a").await.unwrap().is_none());
    assert_eq!(
        ids(&docs.find(&BOT, &b, &everything).await.unwrap()),
        strings(&["bot-b"])
    );
    assert!(docs.find(&USER, &b, &everything).await.unwrap().is_empty());
    // Even a filter naming the other tenant's row by id finds nothing.
    let by_id = where_(&BOT, json!({"id": "bot-a"}));
    assert_eq!(docs.count(&BOT, &b, &by_id).await.unwrap(), 0);
    assert_eq!(docs.count(&BOT, &a, &by_id).await.unwrap(), 1);
    let by_org = where_(&BOT, json!({"organisation_id": "org-a"}));
    assert_eq!(docs.count(&BOT, &b, &by_org).await.unwrap(), 0);
    assert_eq!(docs.count(&BOT, &b, &Where::All).await.unwrap(), 1);
    assert_eq!(
        docs.existing_ids(&BOT, &b, &strings(&["bot-a", "bot-b", "bot-x"]))
            .await
            .unwrap(),
        strings(&["bot-b"])
    );
    assert!(!docs
        .update(&BOT, &b, "bot-a", &doc(json!({"name": "hijacked"})))
        .await
        .unwrap());
    assert!(!docs
        .update(&BOT, &b, "bot-a", &doc(json!({})))
        .await
        .unwrap());
    assert!(!docs.delete(&BOT, &b, "bot-a").await.unwrap());
    assert!(!docs.delete(&USER, &b, "acc-a").await.unwrap());
    assert_eq!(docs.delete_all(&USER, &b).await.unwrap(), 0);

    // Organisation A still has its rows, unchanged.
    let got = docs.get(&BOT, &a, "bot-a").await.unwrap().expect("bot-a");
    assert_eq!(got["name"], json!("bot bot-a"));
    assert!(docs.get(&USER, &a, "acc-a").await.unwrap().is_some());
    assert_eq!(
        docs.existing_ids(&BOT, &a, &strings(&["bot-a", "bot-b"]))
            .await
            .unwrap(),
        strings(&["bot-a"])
    );
}

async fn other_parents_rows_are_invisible(db: Db) {
    let docs = Documents::new(db);
    organisation(&docs, "org-a").await;
    organisation(&docs, "org-b").await;
    bot(&docs, "org-a", "bot-1").await;
    bot(&docs, "org-a", "bot-2").await;
    bot(&docs, "org-b", "bot-3").await;
    let one = Scope::child("org-a", "bot_id", "bot-1");
    let two = Scope::child("org-a", "bot_id", "bot-2");
    // A scope naming another tenant's bot.
    let foreign = Scope::child("org-a", "bot_id", "bot-3");
    let three = Scope::child("org-b", "bot_id", "bot-3");
    docs.insert(&FLAKE, &one, &flake("f1", json!({"title": "one"})))
        .await
        .unwrap();
    docs.insert(&FLAKE, &two, &flake("f2", json!({"title": "two"})))
        .await
        .unwrap();
    docs.insert(&FLAKE, &three, &flake("f3", json!({"title": "three"})))
        .await
        .unwrap();

    let all = Filter::default();
    assert_eq!(
        ids(&docs.find(&FLAKE, &one, &all).await.unwrap()),
        strings(&["f1"])
    );
    assert_eq!(
        ids(&docs.find(&FLAKE, &two, &all).await.unwrap()),
        strings(&["f2"])
    );
    assert!(docs.find(&FLAKE, &foreign, &all).await.unwrap().is_empty());
    // The whole organisation sees both of its bots' flakes, and not the other tenant's.
    assert_eq!(
        ids(&docs.find(&FLAKE, &Scope::org("org-a"), &all).await.unwrap()),
        strings(&["f1", "f2"])
    );
    assert!(docs.get(&FLAKE, &two, "f1").await.unwrap().is_none());
    assert!(docs.get(&FLAKE, &foreign, "f3").await.unwrap().is_none());
    assert_eq!(
        docs.count(&FLAKE, &two, &where_(&FLAKE, json!({"id": "f1"})))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        docs.count(&FLAKE, &two, &where_(&FLAKE, json!({"bot_id": "bot-1"})))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        docs.existing_ids(&FLAKE, &two, &strings(&["f1", "f2", "f3"]))
            .await
            .unwrap(),
        strings(&["f2"])
    );
    assert!(docs
        .existing_ids(&FLAKE, &two, &[])
        .await
        .unwrap()
        .is_empty());
    assert!(!docs
        .update(&FLAKE, &two, "f1", &doc(json!({"title": "moved"})))
        .await
        .unwrap());
    assert!(!docs.delete(&FLAKE, &two, "f1").await.unwrap());
    assert!(!docs.delete(&FLAKE, &foreign, "f3").await.unwrap());
    assert_eq!(docs.delete_all(&FLAKE, &foreign).await.unwrap(), 0);
    assert_eq!(docs.delete_all(&FLAKE, &two).await.unwrap(), 1);

    let f1 = docs
        .get(&FLAKE, &one, "f1")
        .await
        .unwrap()
        .expect("f1 survives");
    assert_eq!(f1["title"], json!("one"));
    assert!(docs.get(&FLAKE, &three, "f3").await.unwrap().is_some());
}

async fn organisations_see_only_themselves(db: Db) {
    let docs = Documents::new(db);
    organisation(&docs, "org-a").await;
    organisation(&docs, "org-b").await;
    let a = Scope::org("org-a");
    assert!(docs
        .get(&ORGANISATION, &a, "org-b")
        .await
        .unwrap()
        .is_none());
    assert!(docs
        .get(&ORGANISATION, &a, "org-a")
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        ids(&docs
            .find(&ORGANISATION, &a, &Filter::default())
            .await
            .unwrap()),
        strings(&["org-a"])
    );
    assert_eq!(docs.count(&ORGANISATION, &a, &Where::All).await.unwrap(), 1);
    assert!(!docs
        .update(&ORGANISATION, &a, "org-b", &doc(json!({"plan": "pro"})))
        .await
        .unwrap());
    assert!(!docs.delete(&ORGANISATION, &a, "org-b").await.unwrap());
    let b = docs
        .get(&ORGANISATION, &Scope::org("org-b"), "org-b")
        .await
        .unwrap()
        .expect("org-b");
    assert_eq!(b["plan"], json!("free"));
}

async fn delete_with_children_stays_in_scope(db: Db) {
    let docs = Documents::new(db);
    organisation(&docs, "org-a").await;
    organisation(&docs, "org-b").await;
    bot(&docs, "org-b", "bot-b").await;
    let child = Scope::child("org-b", "bot_id", "bot-b");
    docs.insert(&FLAKE, &child, &flake("f1", json!({})))
        .await
        .unwrap();
    docs.insert(
        &TAG,
        &child,
        &doc(
            json!({"slug": "s", "id": "t1", "created": crate::support::STAMP,
                    "modified": crate::support::STAMP}),
        ),
    )
    .await
    .unwrap();
    let deleted = docs
        .delete_with_children(
            &BOT,
            &Scope::org("org-a"),
            "bot-b",
            &[&FLAKE, &TAG],
            "bot_id",
        )
        .await
        .unwrap();
    assert!(!deleted);
    assert!(docs
        .get(&BOT, &Scope::org("org-b"), "bot-b")
        .await
        .unwrap()
        .is_some());
    assert!(docs.get(&FLAKE, &child, "f1").await.unwrap().is_some());
    assert!(docs.get(&TAG, &child, "t1").await.unwrap().is_some());
}
