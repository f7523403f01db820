//! The read cache's scope: a write to one bot's content leaves another bot's cached results in
//! place, and every write that can change a cached result (its bot's rows, a move between bots,
//! a bot's deletion, a token or account change) is seen by the very next read.
//!
//! A cached result that outlives a write is shown by changing the row behind the cache's back
//! (through repositories without it, as another process would): the cached answer is still served.

use palaver_domain::filter::{Filter, Where};
use palaver_domain::models::{BOT, CATEGORY, FLAKE, TAG, USER};
use palaver_store::{AccessTokenRow, Db, Documents, ReadCache, Scope, Tokens};
use serde_json::json;

use crate::support::{account, bot, contract, doc, flake, ids, organisation, strings, STAMP};

contract!(
    a_write_to_one_bot_keeps_another_bots_cached_reads,
    a_write_to_a_bot_is_seen_by_its_next_read,
    reads_across_the_organisation_see_every_bots_writes,
    a_flake_moved_to_another_bot_leaves_both_bots_right,
    deleting_a_bot_clears_its_cached_content_only,
    a_cascading_delete_clears_what_it_takes_with_it,
    a_transaction_counts_as_written_once_it_ends,
    token_resolutions_follow_their_accounts_writes,
);

const A: Scope<'static> = Scope {
    organisation_id: "org-a",
    parent: Some(("bot_id", "bot-a")),
};
const B: Scope<'static> = Scope {
    organisation_id: "org-a",
    parent: Some(("bot_id", "bot-b")),
};

/// Repositories with a cache, and one without it (writes the cache cannot see).
async fn setup(db: Db) -> (Documents, Documents) {
    let cached = Documents::with_cache(db.clone(), Some(ReadCache::new()));
    let behind = Documents::new(db);
    organisation(&behind, "org-a").await;
    bot(&behind, "org-a", "bot-a").await;
    bot(&behind, "org-a", "bot-b").await;
    for (scope, id) in [(&A, "a1"), (&B, "b1")] {
        behind
            .insert(&FLAKE, scope, &flake(id, json!({"title": id})))
            .await
            .unwrap();
    }
    (cached, behind)
}

async fn list(docs: &Documents, scope: &Scope<'_>) -> Vec<String> {
    ids(&docs.find(&FLAKE, scope, &Filter::default()).await.unwrap())
}

async fn count(docs: &Documents, scope: &Scope<'_>) -> u64 {
    docs.count(&FLAKE, scope, &Where::All).await.unwrap()
}

async fn a_write_to_one_bot_keeps_another_bots_cached_reads(db: Db) {
    let (cached, behind) = setup(db).await;
    assert_eq!(list(&cached, &A).await, strings(&["a1"]));
    assert_eq!(count(&cached, &A).await, 1);
    cached
        .insert(&FLAKE, &B, &flake("b2", json!({"title": "b2"})))
        .await
        .unwrap();
    // Changed behind the cache's back: what A's reads answer now comes from the cache.
    behind
        .insert(&FLAKE, &A, &flake("a-hidden", json!({"title": "x"})))
        .await
        .unwrap();
    assert_eq!(
        list(&cached, &A).await,
        strings(&["a1"]),
        "A's list was kept"
    );
    assert_eq!(count(&cached, &A).await, 1, "A's count was kept");
    assert_eq!(list(&cached, &B).await, strings(&["b1", "b2"]));
    // Other tables of the same bot are apart too.
    cached
        .insert(
            &TAG,
            &A,
            &doc(
                json!({"id": "t1", "name": "t", "slug": "t", "created": STAMP, "modified": STAMP}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(list(&cached, &A).await, strings(&["a1"]));
}

async fn a_write_to_a_bot_is_seen_by_its_next_read(db: Db) {
    let (cached, _) = setup(db).await;
    assert_eq!(list(&cached, &A).await, strings(&["a1"]));
    assert_eq!(count(&cached, &A).await, 1);
    cached
        .insert(&FLAKE, &A, &flake("a2", json!({"title": "a2"})))
        .await
        .unwrap();
    assert_eq!(list(&cached, &A).await, strings(&["a1", "a2"]));
    assert_eq!(count(&cached, &A).await, 2);
    assert!(cached
        .update(&FLAKE, &A, "a2", &doc(json!({"title": "new"})))
        .await
        .unwrap());
    let got = cached.get(&FLAKE, &A, "a2").await.unwrap().expect("a2");
    assert_eq!(got["title"], json!("new"));
    assert!(cached.delete(&FLAKE, &A, "a1").await.unwrap());
    assert_eq!(list(&cached, &A).await, strings(&["a2"]));
    assert_eq!(cached.delete_all(&FLAKE, &A).await.unwrap(), 1);
    assert_eq!(count(&cached, &A).await, 0);
    // A write that changes nothing is not an error, and the answer stays right.
    assert!(!cached.delete(&FLAKE, &A, "a1").await.unwrap());
    assert_eq!(list(&cached, &A).await, Vec::<String>::new());
}

async fn reads_across_the_organisation_see_every_bots_writes(db: Db) {
    let (cached, _) = setup(db).await;
    let org = Scope::org("org-a");
    assert_eq!(count(&cached, &org).await, 2);
    assert!(cached.get(&FLAKE, &org, "b2").await.unwrap().is_none());
    cached
        .insert(&FLAKE, &B, &flake("b2", json!({"title": "b2"})))
        .await
        .unwrap();
    assert_eq!(count(&cached, &org).await, 3);
    assert!(cached.get(&FLAKE, &org, "b2").await.unwrap().is_some());
    // And an organisation-wide write reaches every bot's cached reads.
    assert_eq!(list(&cached, &A).await, strings(&["a1"]));
    assert_eq!(cached.delete_all(&FLAKE, &org).await.unwrap(), 3);
    assert_eq!(list(&cached, &A).await, Vec::<String>::new());
    assert_eq!(count(&cached, &B).await, 0);
}

async fn a_flake_moved_to_another_bot_leaves_both_bots_right(db: Db) {
    let (cached, _) = setup(db).await;
    assert_eq!(list(&cached, &A).await, strings(&["a1"]));
    assert_eq!(list(&cached, &B).await, strings(&["b1"]));
    assert!(cached
        .update(&FLAKE, &A, "a1", &doc(json!({"bot_id": "bot-b"})))
        .await
        .unwrap());
    assert_eq!(list(&cached, &A).await, Vec::<String>::new());
    assert_eq!(list(&cached, &B).await, strings(&["a1", "b1"]));
    // The same inside a transaction.
    let mut write = cached.begin_write().await.unwrap();
    assert!(write
        .update_if(
            &FLAKE,
            &B,
            "a1",
            &doc(json!({"title": "a1"})),
            &doc(json!({"bot_id": "bot-a"})),
        )
        .await
        .unwrap());
    write.commit().await.unwrap();
    assert_eq!(list(&cached, &A).await, strings(&["a1"]));
    assert_eq!(list(&cached, &B).await, strings(&["b1"]));
}

async fn deleting_a_bot_clears_its_cached_content_only(db: Db) {
    let (cached, behind) = setup(db).await;
    let org = Scope::org("org-a");
    assert_eq!(list(&cached, &A).await, strings(&["a1"]));
    assert_eq!(list(&cached, &B).await, strings(&["b1"]));
    assert_eq!(cached.count(&BOT, &org, &Where::All).await.unwrap(), 2);
    assert!(cached
        .delete_with_children(&BOT, &org, "bot-b", &[&FLAKE, &CATEGORY], "bot_id")
        .await
        .unwrap());
    assert_eq!(list(&cached, &B).await, Vec::<String>::new());
    assert_eq!(cached.count(&BOT, &org, &Where::All).await.unwrap(), 1);
    behind
        .insert(&FLAKE, &A, &flake("a-hidden", json!({"title": "x"})))
        .await
        .unwrap();
    assert_eq!(
        list(&cached, &A).await,
        strings(&["a1"]),
        "bot A's cached list outlives bot B's deletion"
    );
}

async fn a_cascading_delete_clears_what_it_takes_with_it(db: Db) {
    let (cached, _) = setup(db).await;
    let org = Scope::org("org-a");
    assert_eq!(list(&cached, &A).await, strings(&["a1"]));
    assert_eq!(count(&cached, &B).await, 1);
    // The schema deletes a bot's flakes with it: a plain delete of the bot row.
    assert!(cached.delete(&BOT, &org, "bot-a").await.unwrap());
    assert_eq!(list(&cached, &A).await, Vec::<String>::new());
    assert_eq!(cached.delete_all(&BOT, &org).await.unwrap(), 1);
    assert_eq!(count(&cached, &B).await, 0);
}

async fn a_transaction_counts_as_written_once_it_ends(db: Db) {
    let (cached, _) = setup(db).await;
    assert_eq!(list(&cached, &A).await, strings(&["a1"]));
    // Rolled back: the cache answers what the database holds, the old rows.
    let mut write = cached.begin_write().await.unwrap();
    assert!(write.delete(&FLAKE, &A, "a1").await.unwrap());
    drop(write);
    assert_eq!(list(&cached, &A).await, strings(&["a1"]));
    // Committed: the next read sees it.
    let mut write = cached.begin_write().await.unwrap();
    assert!(write.delete(&FLAKE, &A, "a1").await.unwrap());
    assert!(!write.delete(&FLAKE, &A, "no-such").await.unwrap());
    write
        .insert(&FLAKE, &A, &flake("a2", json!({"title": "a2"})))
        .await
        .unwrap();
    write.commit().await.unwrap();
    assert_eq!(list(&cached, &A).await, strings(&["a2"]));
}

async fn token_resolutions_follow_their_accounts_writes(db: Db) {
    let cache = Some(ReadCache::new());
    let docs = Documents::with_cache(db.clone(), cache.clone());
    let tokens = Tokens::with_cache(db.clone(), cache);
    let behind = Tokens::new(db);
    organisation(&docs, "org-a").await;
    account(&docs, "org-a", "acc-1", "one@example.test").await;
    account(&docs, "org-a", "acc-2", "two@example.test").await;
    let row = |digest: &str, account: &str| AccessTokenRow {
        digest: digest.into(),
        account_id: account.into(),
        organisation_id: "org-a".into(),
        ttl: 60,
        created: 1,
    };
    for (d, a) in [("d1", "acc-1"), ("d2", "acc-2"), ("d3", "acc-2")] {
        tokens.insert(&row(d, a)).await.unwrap();
    }
    let owner = |d: &'static str| {
        let tokens = &tokens;
        async move { tokens.resolve(d).await.unwrap().map(|o| o.token.account_id) }
    };
    assert_eq!(owner("d1").await.as_deref(), Some("acc-1"));
    assert_eq!(owner("d2").await.as_deref(), Some("acc-2"));

    // Another account's tokens change: d1's resolution is kept (shown by deleting d1 behind
    // the cache), d2's is not.
    assert!(behind.delete("org-a", "acc-1", "d1").await.unwrap());
    assert_eq!(
        tokens
            .delete_for_account("org-a", "acc-2", Some("d3"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(owner("d1").await.as_deref(), Some("acc-1"), "kept");
    assert_eq!(owner("d2").await, None, "deleted with its account's tokens");
    assert_eq!(owner("d3").await.as_deref(), Some("acc-2"));

    // Deleting a token of its own account is seen at once.
    assert!(tokens.delete("org-a", "acc-2", "d3").await.unwrap());
    assert_eq!(owner("d3").await, None);

    // An account write is seen by its tokens' resolutions.
    tokens.insert(&row("d4", "acc-2")).await.unwrap();
    assert_eq!(owner("d4").await.as_deref(), Some("acc-2"));
    assert!(docs
        .update(
            &USER,
            &Scope::org("org-a"),
            "acc-2",
            &doc(json!({"role": "customer"}))
        )
        .await
        .unwrap());
    let resolved = tokens.resolve("d4").await.unwrap().expect("d4");
    assert_eq!(resolved.role, "customer");

    // An account deleted takes its tokens with it.
    assert!(docs
        .delete(&USER, &Scope::org("org-a"), "acc-2")
        .await
        .unwrap());
    assert_eq!(owner("d4").await, None);
}
