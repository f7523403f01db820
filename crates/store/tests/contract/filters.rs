//! Filters through `find` and `count`: every operator, list fields, ordering and paging.
//!
//! The expected ids are written out by hand from the fixture below, not computed by the store.

use palaver_domain::filter::Filter;
use palaver_domain::models::{FLAKE, USER};
use palaver_domain::Model;
use palaver_store::{Db, Documents, Scope};
use serde_json::{json, Value};

use crate::support::{
    bot, contract, doc, filter, flake, ids, organisation, strings, where_, STAMP,
};

/// (a `where` clause, or a whole filter for the ordering cases; the ids expected, in order)
pub type Cases = Vec<(Value, Vec<&'static str>)>;

pub const ORG: &str = "org-a";
pub const BOT: &str = "bot-1";

pub fn scope() -> Scope<'static> {
    Scope::child(ORG, "bot_id", BOT)
}

/// org-a with bot-1 and bot-2, and org-b with bot-3.
pub async fn seed_tenants(docs: &Documents) {
    organisation(docs, ORG).await;
    organisation(docs, "org-b").await;
    bot(docs, ORG, BOT).await;
    bot(docs, ORG, "bot-2").await;
    bot(docs, "org-b", "bot-3").await;
}

/// Eight flakes in bot-1 of org-a, plus look-alikes in another bot and another organisation
/// that no filter in scope may return.
pub async fn seed_flakes(docs: &Documents) {
    let rows = [
        (
            "f01",
            json!({"title": "Alpha news", "status": "published", "publish_at": "2017-01-01T00:00:00.000Z",
                       "author_name": "ann", "category": ["c1"], "tags": ["t1", "t2"], "created": "2020-01-01T00:00:01.000Z"}),
        ),
        (
            "f02",
            json!({"title": "alpha blog", "status": "draft", "publish_at": "2017-06-01T00:00:00.000Z",
                       "author_name": null, "category": [], "tags": ["t2"], "created": "2020-01-01T00:00:02.000Z"}),
        ),
        (
            "f03",
            json!({"title": "Beta", "status": "published", "publish_at": null,
                       "author_name": "bob", "category": ["c2"], "tags": null, "created": "2020-01-01T00:00:03.000Z"}),
        ),
        (
            "f04",
            json!({"title": "100% pure", "status": null, "publish_at": "2018-01-01T00:00:00.000Z",
                       "author_name": "Ann", "category": ["c1", "c2"], "tags": ["T1"], "created": "2020-01-01T00:00:04.000Z"}),
        ),
        (
            "f05",
            json!({"title": "1000 pure", "status": "archived", "publish_at": "2016-01-01T00:00:00.000Z",
                       "author_name": "carl", "category": null, "tags": [], "created": "2020-01-01T00:00:02.000Z"}),
        ),
        (
            "f06",
            json!({"title": null, "status": "draft", "publish_at": "2017-06-01T00:00:00.000Z",
                       "author_name": "ann", "category": ["c3"], "tags": ["t3", "t1"], "created": "2020-01-01T00:00:06.000Z"}),
        ),
        (
            "f07",
            json!({"title": "under_score", "status": "published", "publish_at": "2019-01-01T00:00:00.000Z",
                       "author_name": "Émile", "category": ["c1"], "tags": ["t_x"], "created": "2020-01-01T00:00:07.000Z"}),
        ),
        (
            "f08",
            json!({"title": "underXscore", "status": "Published", "publish_at": "2015-06-15T12:00:00.000Z",
                       "author_name": "dora", "category": [], "tags": ["t2", "t4"], "created": "2020-01-01T00:00:08.000Z"}),
        ),
    ];
    // Inserted out of id order, so that id order is the store's doing.
    for i in [4, 7, 0, 2, 6, 1, 5, 3] {
        let (id, fields) = &rows[i];
        docs.insert(&FLAKE, &scope(), &flake(id, fields.clone()))
            .await
            .unwrap();
    }
    let lookalike = json!({"title": "Alpha news", "status": "published", "publish_at": "2017-06-01T00:00:00.000Z",
                           "author_name": "ann", "category": ["c1"], "tags": ["t1", "t2", "t3", "t4", "T1"]});
    docs.insert(
        &FLAKE,
        &Scope::child(ORG, "bot_id", "bot-2"),
        &flake("n1", lookalike.clone()),
    )
    .await
    .unwrap();
    docs.insert(
        &FLAKE,
        &Scope::child("org-b", "bot_id", "bot-3"),
        &flake("n2", lookalike),
    )
    .await
    .unwrap();
}

/// Five accounts of org-a with levels and verification flags, plus one in org-b.
pub async fn seed_users(docs: &Documents) {
    let rows = [
        ("u1", json!(1), true),
        ("u2", json!(5), false),
        ("u3", Value::Null, true),
        ("u4", json!(10), false),
        ("u5", json!(-3), true),
    ];
    for (id, level, verified) in rows {
        docs.insert(
            &USER,
            &Scope::org(ORG),
            &doc(
                json!({"role": "customer", "email": format!("{id}@example.test"), "password": "p",
                        "emailVerified": verified, "level": level, "id": id,
                        "created": STAMP, "modified": STAMP}),
            ),
        )
        .await
        .unwrap();
    }
    docs.insert(
        &USER,
        &Scope::org("org-b"),
        &doc(
            json!({"role": "customer", "email": "n@example.test", "password": "p",
                    "emailVerified": true, "level": 5, "id": "n1",
                    "created": STAMP, "modified": STAMP}),
        ),
    )
    .await
    .unwrap();
}

pub fn eq_cases() -> Cases {
    vec![
        (json!({"status": "published"}), vec!["f01", "f03", "f07"]),
        (json!({"status": {"eq": "draft"}}), vec!["f02", "f06"]),
        (json!({"status": null}), vec!["f04"]),
        (json!({"status": {"eq": null}}), vec!["f04"]),
        (json!({"title": null}), vec!["f06"]),
        (json!({"author_name": "ann"}), vec!["f01", "f06"]),
        (json!({"id": "f03"}), vec!["f03"]),
        (json!({"status": "nope"}), vec![]),
        (
            json!({"bullet_points": null}),
            vec!["f01", "f02", "f03", "f04", "f05", "f06", "f07", "f08"],
        ),
        (json!({"bullet_points": {"neq": null}}), vec![]),
        // neq matches rows where the field is null.
        (
            json!({"status": {"neq": "published"}}),
            vec!["f02", "f04", "f05", "f06", "f08"],
        ),
        (
            json!({"status": {"neq": null}}),
            vec!["f01", "f02", "f03", "f05", "f06", "f07", "f08"],
        ),
        (
            json!({"author_name": {"neq": "ann"}}),
            vec!["f02", "f03", "f04", "f05", "f07", "f08"],
        ),
        (
            json!({"title": {"neq": "Beta"}}),
            vec!["f01", "f02", "f04", "f05", "f06", "f07", "f08"],
        ),
    ]
}

pub fn date_cases() -> Cases {
    vec![
        (
            json!({"publish_at": {"gt": "2017-01-01T00:00:00.000Z"}}),
            vec!["f02", "f04", "f06", "f07"],
        ),
        (
            json!({"publish_at": {"gte": "2017-01-01T00:00:00.000Z"}}),
            vec!["f01", "f02", "f04", "f06", "f07"],
        ),
        (
            json!({"publish_at": {"lt": "2017-06-01"}}),
            vec!["f01", "f05", "f08"],
        ),
        (
            json!({"publish_at": {"lte": "2017-06-01T00:00:00.000Z"}}),
            vec!["f01", "f02", "f05", "f06", "f08"],
        ),
        (
            json!({"publish_at": {"lte": "2017-06-01T02:00:00+02:00"}}),
            vec!["f01", "f02", "f05", "f06", "f08"],
        ),
        (
            json!({"publish_at": {"between": ["2017-01-01", "2018-01-01"]}}),
            vec!["f01", "f02", "f04", "f06"],
        ),
        (
            json!({"publish_at": {"between": [1_451_606_400_000_i64, 1_483_142_400_000_i64]}}),
            vec!["f05"],
        ),
        (
            json!({"publish_at": {"between": ["2019-01-01", "2015-01-01"]}}),
            vec![],
        ),
        (
            json!({"publish_at": "2017-06-01T00:00:00.000Z"}),
            vec!["f02", "f06"],
        ),
        (
            json!({"publish_at": {"neq": "2017-06-01"}}),
            vec!["f01", "f03", "f04", "f05", "f07", "f08"],
        ),
        (
            json!({"publish_at": {"inq": ["2016-01-01", "2019-01-01T00:00:00.000Z"]}}),
            vec!["f05", "f07"],
        ),
        (json!({"publish_at": {"gt": null}}), vec![]),
        (
            json!({"created": {"gt": "2020-01-01T00:00:05.000Z"}}),
            vec!["f06", "f07", "f08"],
        ),
        (
            json!({"created": {"lte": "2020-01-01T00:00:02.000Z"}}),
            vec!["f01", "f02", "f05"],
        ),
    ]
}

pub fn inq_cases() -> Cases {
    vec![
        (
            json!({"status": {"inq": ["draft", "archived"]}}),
            vec!["f02", "f05", "f06"],
        ),
        (
            json!({"status": {"inq": ["draft", null]}}),
            vec!["f02", "f04", "f06"],
        ),
        (json!({"status": {"inq": [null]}}), vec!["f04"]),
        (json!({"status": {"inq": []}}), vec![]),
        (
            json!({"status": {"nin": ["draft", "published"]}}),
            vec!["f04", "f05", "f08"],
        ),
        (
            json!({"status": {"nin": ["draft", null]}}),
            vec!["f01", "f03", "f05", "f07", "f08"],
        ),
        (
            json!({"status": {"nin": [null]}}),
            vec!["f01", "f02", "f03", "f05", "f06", "f07", "f08"],
        ),
        (
            json!({"status": {"nin": []}}),
            vec!["f01", "f02", "f03", "f04", "f05", "f06", "f07", "f08"],
        ),
        (
            json!({"id": {"inq": ["f01", "f03", "n1", "n2", "zz"]}}),
            vec!["f01", "f03"],
        ),
        (
            json!({"id": {"nin": ["f01", "f03"]}}),
            vec!["f02", "f04", "f05", "f06", "f07", "f08"],
        ),
    ]
}

pub fn like_cases() -> Cases {
    vec![
        // like is case-sensitive on both engines.
        (json!({"title": {"like": "Alpha%"}}), vec!["f01"]),
        (json!({"title": {"like": "alpha%"}}), vec!["f02"]),
        (json!({"title": {"like": "ALPHA%"}}), vec![]),
        (json!({"title": {"like": "%A%"}}), vec!["f01"]),
        (json!({"title": {"like": "%a%"}}), vec!["f01", "f02", "f03"]),
        (
            json!({"status": {"like": "published"}}),
            vec!["f01", "f03", "f07"],
        ),
        // Anchored: no implicit wildcards.
        (json!({"title": {"like": "pure"}}), vec![]),
        (json!({"title": {"like": "%pure"}}), vec!["f04", "f05"]),
        (json!({"title": {"like": "100_ pure"}}), vec!["f04", "f05"]),
        (
            json!({"title": {"like": "under_score"}}),
            vec!["f07", "f08"],
        ),
        // A backslash escapes a wildcard.
        (json!({"title": {"like": "100\\% pure"}}), vec!["f04"]),
        (json!({"title": {"like": "under\\_score"}}), vec!["f07"]),
        // nlike matches null fields, as neq does.
        (
            json!({"title": {"nlike": "alpha%"}}),
            vec!["f01", "f03", "f04", "f05", "f06", "f07", "f08"],
        ),
        (json!({"title": {"ilike": "alpha%"}}), vec!["f01", "f02"]),
        (json!({"title": {"ilike": "%BLOG"}}), vec!["f02"]),
        (
            json!({"title": {"like": "ALPHA%", "options": "i"}}),
            vec!["f01", "f02"],
        ),
        (
            json!({"title": {"nilike": "ALPHA%"}}),
            vec!["f03", "f04", "f05", "f06", "f07", "f08"],
        ),
        (
            json!({"author_name": {"ilike": "ANN"}}),
            vec!["f01", "f04", "f06"],
        ),
        (
            json!({"status": {"ilike": "PUBLISHED"}}),
            vec!["f01", "f03", "f07", "f08"],
        ),
    ]
}

/// ilike folds case beyond ASCII.
pub fn unicode_like_cases() -> Cases {
    vec![
        (json!({"author_name": {"like": "É%"}}), vec!["f07"]),
        (json!({"author_name": {"like": "é%"}}), vec![]),
        (json!({"author_name": {"ilike": "émile"}}), vec!["f07"]),
        (json!({"author_name": {"ilike": "ÉMILE"}}), vec!["f07"]),
        (
            json!({"author_name": {"regexp": "/^émile$/i"}}),
            vec!["f07"],
        ),
    ]
}

pub fn regexp_cases() -> Cases {
    vec![
        (json!({"title": {"regexp": "^alpha"}}), vec!["f02"]),
        (json!({"title": {"regexp": "/^alpha/"}}), vec!["f02"]),
        (
            json!({"title": {"regexp": "/^alpha/i"}}),
            vec!["f01", "f02"],
        ),
        (json!({"title": {"regexp": "/^ALPHA/"}}), vec![]),
        (
            json!({"title": {"regexp": "^BETA", "options": "i"}}),
            vec!["f03"],
        ),
        // Unanchored unless anchored.
        (json!({"title": {"regexp": "pure$"}}), vec!["f04", "f05"]),
        (json!({"title": {"regexp": "ph"}}), vec!["f01", "f02"]),
        (json!({"title": {"regexp": "^[0-9]+% "}}), vec!["f04"]),
        (
            json!({"title": {"regexp": "under.score"}}),
            vec!["f07", "f08"],
        ),
        (json!({"status": {"regexp": "^Pub"}}), vec!["f08"]),
        (
            json!({"status": {"regexp": "/^pub/i"}}),
            vec!["f01", "f03", "f07", "f08"],
        ),
        (
            json!({"status": {"regexp": "/^pub/gim"}}),
            vec!["f01", "f03", "f07", "f08"],
        ),
    ]
}

pub fn logic_cases() -> Cases {
    vec![
        (
            json!({"or": [{"status": "draft"}, {"author_name": "bob"}]}),
            vec!["f02", "f03", "f06"],
        ),
        (
            json!({"status": "draft", "author_name": "ann"}),
            vec!["f06"],
        ),
        (
            json!({"and": [{"status": "published"},
                        {"or": [{"author_name": "ann"}, {"publish_at": {"gt": "2018-06-01"}}]}]}),
            vec!["f01", "f07"],
        ),
        (
            json!({"or": [{"and": [{"status": "draft"}, {"title": {"like": "alpha%"}}]},
                       {"and": [{"status": null}, {"tags": "T1"}]}]}),
            vec!["f02", "f04"],
        ),
        // An or beside a field test is ANDed with it.
        (
            json!({"author_name": {"neq": null}, "or": [{"status": null}, {"status": "archived"}]}),
            vec!["f04", "f05"],
        ),
        (
            json!({"or": [{"status": {"neq": "published"}}, {"title": null}]}),
            vec!["f02", "f04", "f05", "f06", "f08"],
        ),
        (json!({"or": []}), vec![]),
        (
            json!({"and": []}),
            vec!["f01", "f02", "f03", "f04", "f05", "f06", "f07", "f08"],
        ),
        (
            json!({"status": {"gt": "d", "lt": "p"}}),
            vec!["f02", "f06"],
        ),
        (
            json!({"or": [{"or": [{"id": "f01"}, {"id": "f02"}]}, {"and": [{"id": "f08"}, {"status": "Published"}]}]}),
            vec!["f01", "f02", "f08"],
        ),
    ]
}

pub fn list_cases() -> Cases {
    vec![
        // Any element matches.
        (json!({"tags": "t1"}), vec!["f01", "f06"]),
        (json!({"tags": {"eq": "t2"}}), vec!["f01", "f02", "f08"]),
        (json!({"tags": {"inq": ["t3", "t4"]}}), vec!["f06", "f08"]),
        (json!({"tags": {"inq": ["T1", "t_x"]}}), vec!["f04", "f07"]),
        (json!({"category": "c1"}), vec!["f01", "f04", "f07"]),
        (
            json!({"category": {"inq": ["c2", "c3"]}}),
            vec!["f03", "f04", "f06"],
        ),
        // neq / nin: carries none of these (null and empty lists carry none).
        (
            json!({"tags": {"neq": "t1"}}),
            vec!["f02", "f03", "f04", "f05", "f07", "f08"],
        ),
        (
            json!({"tags": {"nin": ["t1", "t2"]}}),
            vec!["f03", "f04", "f05", "f07"],
        ),
        (
            json!({"category": {"nin": ["c1"]}}),
            vec!["f02", "f03", "f05", "f06", "f08"],
        ),
        // Null tests look at the list itself.
        (json!({"tags": null}), vec!["f03"]),
        (
            json!({"tags": {"neq": null}}),
            vec!["f01", "f02", "f04", "f05", "f06", "f07", "f08"],
        ),
        (json!({"category": null}), vec!["f05"]),
        // Text tests on elements.
        (
            json!({"tags": {"like": "t%"}}),
            vec!["f01", "f02", "f06", "f07", "f08"],
        ),
        (json!({"tags": {"like": "t\\_%"}}), vec!["f07"]),
        (json!({"tags": {"ilike": "t1"}}), vec!["f01", "f04", "f06"]),
        (json!({"tags": {"nlike": "t%"}}), vec!["f03", "f04", "f05"]),
        (
            json!({"tags": {"regexp": "^t[0-9]$"}}),
            vec!["f01", "f02", "f06", "f08"],
        ),
        (
            json!({"tags": {"regexp": "/^t1$/i"}}),
            vec!["f01", "f04", "f06"],
        ),
        (json!({"tags": {"gt": "t2"}}), vec!["f06", "f07", "f08"]),
        (
            json!({"and": [{"tags": "t1"}, {"tags": "t2"}]}),
            vec!["f01"],
        ),
        (
            json!({"tags": "t1", "category": {"neq": "c1"}}),
            vec!["f06"],
        ),
    ]
}

/// Whole filters; the ids are in the order expected.
pub fn order_cases() -> Cases {
    vec![
        // No order: by id.
        (
            json!({}),
            vec!["f01", "f02", "f03", "f04", "f05", "f06", "f07", "f08"],
        ),
        (
            json!({"order": "id DESC"}),
            vec!["f08", "f07", "f06", "f05", "f04", "f03", "f02", "f01"],
        ),
        // Nulls first going up, last going down; ties on id in the same direction.
        (
            json!({"order": "publish_at ASC"}),
            vec!["f03", "f08", "f05", "f01", "f02", "f06", "f04", "f07"],
        ),
        (
            json!({"order": "publish_at"}),
            vec!["f03", "f08", "f05", "f01", "f02", "f06", "f04", "f07"],
        ),
        (
            json!({"order": "publish_at DESC"}),
            vec!["f07", "f04", "f06", "f02", "f01", "f05", "f08", "f03"],
        ),
        (
            json!({"order": "publish_at desc"}),
            vec!["f07", "f04", "f06", "f02", "f01", "f05", "f08", "f03"],
        ),
        // Text sorts by code point: upper case before lower, '%' before '0', 'X' before '_'.
        (
            json!({"order": "status ASC"}),
            vec!["f04", "f08", "f05", "f02", "f06", "f01", "f03", "f07"],
        ),
        (
            json!({"order": "status DESC"}),
            vec!["f07", "f03", "f01", "f06", "f02", "f05", "f08", "f04"],
        ),
        (
            json!({"order": "title ASC"}),
            vec!["f06", "f04", "f05", "f01", "f03", "f02", "f08", "f07"],
        ),
        (
            json!({"order": "title DESC"}),
            vec!["f07", "f08", "f02", "f03", "f01", "f05", "f04", "f06"],
        ),
        (
            json!({"order": ["status ASC", "publish_at DESC"]}),
            vec!["f04", "f08", "f05", "f06", "f02", "f07", "f01", "f03"],
        ),
        (
            json!({"order": "status DESC, publish_at ASC"}),
            vec!["f03", "f01", "f07", "f02", "f06", "f05", "f08", "f04"],
        ),
        (
            json!({"order": "author_name ASC"}),
            vec!["f02", "f04", "f01", "f06", "f03", "f05", "f08", "f07"],
        ),
        (
            json!({"order": "created DESC"}),
            vec!["f08", "f07", "f06", "f04", "f03", "f05", "f02", "f01"],
        ),
        (
            json!({"order": "created ASC"}),
            vec!["f01", "f02", "f05", "f03", "f04", "f06", "f07", "f08"],
        ),
        (
            json!({"order": ["created ASC", "id DESC"]}),
            vec!["f01", "f05", "f02", "f03", "f04", "f06", "f07", "f08"],
        ),
        // Unknown keys and lists are skipped.
        (
            json!({"order": ["nope DESC", "tags DESC"]}),
            vec!["f01", "f02", "f03", "f04", "f05", "f06", "f07", "f08"],
        ),
        (
            json!({"where": {"status": {"neq": "draft"}}, "order": "publish_at DESC"}),
            vec!["f07", "f04", "f01", "f05", "f08", "f03"],
        ),
        // Paging.
        (
            json!({"order": "created ASC", "limit": 3}),
            vec!["f01", "f02", "f05"],
        ),
        (
            json!({"order": "created ASC", "limit": 3, "skip": 3}),
            vec!["f03", "f04", "f06"],
        ),
        (
            json!({"order": "created ASC", "limit": 3, "skip": 6}),
            vec!["f07", "f08"],
        ),
        (
            json!({"order": "created ASC", "limit": 3, "offset": 6}),
            vec!["f07", "f08"],
        ),
        (json!({"order": "created ASC", "skip": 10}), vec![]),
        (
            json!({"skip": 2}),
            vec!["f03", "f04", "f05", "f06", "f07", "f08"],
        ),
        (json!({"limit": 1}), vec!["f01"]),
        (
            json!({"where": {"tags": "t2"}, "order": "publish_at DESC", "limit": 2}),
            vec!["f02", "f01"],
        ),
        (
            json!({"where": {"tags": "t2"}, "order": "publish_at DESC", "limit": 2, "skip": 2}),
            vec!["f08"],
        ),
    ]
}

pub fn user_cases() -> Cases {
    vec![
        (json!({"level": 5}), vec!["u2"]),
        (json!({"level": "5"}), vec!["u2"]),
        (json!({"level": {"gt": 1}}), vec!["u2", "u4"]),
        (json!({"level": {"gte": 1}}), vec!["u1", "u2", "u4"]),
        (json!({"level": {"lt": 5}}), vec!["u1", "u5"]),
        (json!({"level": {"lt": "5"}}), vec!["u1", "u5"]),
        (json!({"level": {"lte": 5}}), vec!["u1", "u2", "u5"]),
        (json!({"level": {"between": [0, 5]}}), vec!["u1", "u2"]),
        (json!({"level": {"between": [-3, -3]}}), vec!["u5"]),
        // The same statements as above with fractional numbers: the engine must not read the
        // new value with the earlier one's type.
        (json!({"level": {"gt": 1.5}}), vec!["u2", "u4"]),
        (json!({"level": {"gte": 1.5}}), vec!["u2", "u4"]),
        (json!({"level": {"lt": -2.5}}), vec!["u5"]),
        (json!({"level": {"lte": 1.5}}), vec!["u1", "u5"]),
        (json!({"level": {"between": [-0.5, 5.5]}}), vec!["u1", "u2"]),
        (json!({"level": 1.5}), vec![]),
        (
            json!({"level": {"neq": 1.5}}),
            vec!["u1", "u2", "u3", "u4", "u5"],
        ),
        (json!({"level": {"inq": [10, 1.5]}}), vec!["u4"]),
        (
            json!({"level": {"nin": [10, 1.5]}}),
            vec!["u1", "u2", "u3", "u5"],
        ),
        (json!({"level": {"gt": 1e20}}), vec![]),
        (json!({"level": {"lt": 1e20}}), vec!["u1", "u2", "u4", "u5"]),
        (
            json!({"level": {"gte": -1e20}}),
            vec!["u1", "u2", "u4", "u5"],
        ),
        (json!({"level": {"lte": -1e20}}), vec![]),
        (json!({"level": {"neq": 5}}), vec!["u1", "u3", "u4", "u5"]),
        (json!({"level": null}), vec!["u3"]),
        (
            json!({"level": {"inq": [1, 10, null]}}),
            vec!["u1", "u3", "u4"],
        ),
        (json!({"level": {"nin": [1, 10]}}), vec!["u2", "u3", "u5"]),
        (json!({"level": {"nin": [1, null]}}), vec!["u2", "u4", "u5"]),
        (json!({"emailVerified": true}), vec!["u1", "u3", "u5"]),
        (json!({"emailVerified": false}), vec!["u2", "u4"]),
        (json!({"emailVerified": "true"}), vec!["u1", "u3", "u5"]),
        (json!({"emailVerified": {"neq": true}}), vec!["u2", "u4"]),
        (
            json!({"emailVerified": true, "level": {"gt": 0}}),
            vec!["u1"],
        ),
        (
            json!({"email": {"like": "u%@example.test"}}),
            vec!["u1", "u2", "u3", "u4", "u5"],
        ),
    ]
}

pub fn user_order_cases() -> Cases {
    vec![
        (
            json!({"order": "level ASC"}),
            vec!["u3", "u5", "u1", "u2", "u4"],
        ),
        (
            json!({"order": "level DESC"}),
            vec!["u4", "u2", "u1", "u5", "u3"],
        ),
        (
            json!({"order": ["emailVerified ASC", "level DESC"]}),
            vec!["u4", "u2", "u1", "u5", "u3"],
        ),
        (
            json!({"order": ["emailVerified DESC", "level ASC"]}),
            vec!["u3", "u5", "u1", "u2", "u4"],
        ),
        (
            json!({"order": "level DESC", "limit": 2, "skip": 1}),
            vec!["u2", "u1"],
        ),
    ]
}

/// Runs `where` cases: find (no order given, so by id) and count must both agree with the case.
async fn check_where(docs: &Documents, model: &'static Model, scope: &Scope<'_>, cases: Cases) {
    let mut failures = Vec::new();
    for (w, expected) in cases {
        let f = filter(model, json!({ "where": w }));
        let found = ids(&docs.find(model, scope, &f).await.unwrap());
        let counted = docs
            .count(model, scope, &where_(model, w.clone()))
            .await
            .unwrap();
        if found != strings(&expected) || counted != expected.len() as u64 {
            failures.push(format!(
                "where {w}: expected {expected:?}, found {found:?}, counted {counted}"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Runs whole-filter cases: find must return exactly these ids in this order.
async fn check_filters(docs: &Documents, model: &'static Model, scope: &Scope<'_>, cases: Cases) {
    let mut failures = Vec::new();
    for (v, expected) in cases {
        let found = ids(&docs
            .find(model, scope, &filter(model, v.clone()))
            .await
            .unwrap());
        if found != strings(&expected) {
            failures.push(format!(
                "filter {v}: expected {expected:?}, found {found:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

async fn seeded(db: Db) -> Documents {
    let docs = Documents::new(db);
    seed_tenants(&docs).await;
    seed_flakes(&docs).await;
    docs
}

/// Backslashes, wildcard characters in the data, and multi-line values.
pub const EDGE_ROWS: [(&str, &str); 4] = [
    ("e1", "C:\\"),
    ("e2", "a\\b"),
    ("e3", "50%"),
    ("e4", "Line one\nline two"),
];

pub fn like_edge_cases() -> Cases {
    vec![
        // A trailing lone backslash stands for itself.
        (json!({"title": {"like": "C:\\"}}), vec!["e1"]),
        (json!({"title": {"ilike": "c:\\"}}), vec!["e1"]),
        (json!({"title": {"like": "a\\\\b"}}), vec!["e2"]),
        (json!({"title": {"ilike": "A\\\\B"}}), vec!["e2"]),
        (json!({"title": {"like": "%\\%"}}), vec!["e3"]),
        (json!({"title": {"ilike": "%\\%"}}), vec!["e3"]),
        (json!({"title": {"nilike": "%\\%"}}), vec!["e1", "e2", "e4"]),
        (json!({"title": {"like": "50%"}}), vec!["e3"]),
        // Wildcards span lines.
        (json!({"title": {"like": "Line%two"}}), vec!["e4"]),
        (json!({"title": {"ilike": "line%TWO"}}), vec!["e4"]),
        (json!({"title": {"ilike": "line_one%"}}), vec!["e4"]),
        // Regex characters in a like pattern are plain characters.
        (json!({"title": {"ilike": "C:."}}), vec![]),
        (json!({"title": {"ilike": "(a)|e"}}), vec![]),
    ]
}

pub async fn seed_edge_rows(docs: &Documents) {
    for (id, title) in EDGE_ROWS {
        docs.insert(&FLAKE, &scope(), &flake(id, json!({ "title": title })))
            .await
            .unwrap();
    }
}

contract!(
    like_patterns_with_escapes_and_newlines,
    eq_and_neq,
    comparisons_on_dates,
    comparisons_on_ints_and_bools,
    inq_and_nin,
    like_ilike_nlike,
    ilike_folds_unicode_case,
    regexp_with_and_without_flags,
    and_or_nesting,
    list_fields_match_any_element,
    order_limit_skip,
    order_on_ints_and_bools,
    skip_without_limit,
    paging_walks_the_whole_order,
);

async fn eq_and_neq(db: Db) {
    check_where(&seeded(db).await, &FLAKE, &scope(), eq_cases()).await;
}

async fn comparisons_on_dates(db: Db) {
    check_where(&seeded(db).await, &FLAKE, &scope(), date_cases()).await;
}

async fn comparisons_on_ints_and_bools(db: Db) {
    let docs = Documents::new(db);
    seed_tenants(&docs).await;
    seed_users(&docs).await;
    check_where(&docs, &USER, &Scope::org(ORG), user_cases()).await;
}

async fn inq_and_nin(db: Db) {
    check_where(&seeded(db).await, &FLAKE, &scope(), inq_cases()).await;
}

async fn like_ilike_nlike(db: Db) {
    check_where(&seeded(db).await, &FLAKE, &scope(), like_cases()).await;
}

async fn ilike_folds_unicode_case(db: Db) {
    check_where(&seeded(db).await, &FLAKE, &scope(), unicode_like_cases()).await;
}

async fn regexp_with_and_without_flags(db: Db) {
    check_where(&seeded(db).await, &FLAKE, &scope(), regexp_cases()).await;
}

async fn and_or_nesting(db: Db) {
    check_where(&seeded(db).await, &FLAKE, &scope(), logic_cases()).await;
}

async fn list_fields_match_any_element(db: Db) {
    check_where(&seeded(db).await, &FLAKE, &scope(), list_cases()).await;
}

async fn order_limit_skip(db: Db) {
    check_filters(&seeded(db).await, &FLAKE, &scope(), order_cases()).await;
}

async fn order_on_ints_and_bools(db: Db) {
    let docs = Documents::new(db);
    seed_tenants(&docs).await;
    seed_users(&docs).await;
    check_filters(&docs, &USER, &Scope::org(ORG), user_order_cases()).await;
}

async fn skip_without_limit(db: Db) {
    // Not reachable through parse_filter (a skip alone means limit 100), but the store takes it.
    let docs = seeded(db).await;
    let f = Filter {
        skip: 5,
        ..Filter::default()
    };
    assert_eq!(
        ids(&docs.find(&FLAKE, &scope(), &f).await.unwrap()),
        strings(&["f06", "f07", "f08"])
    );
    let f = Filter {
        skip: 8,
        ..Filter::default()
    };
    assert!(docs.find(&FLAKE, &scope(), &f).await.unwrap().is_empty());
    let f = Filter {
        limit: Some(0),
        ..Filter::default()
    };
    assert!(docs.find(&FLAKE, &scope(), &f).await.unwrap().is_empty());
}

async fn paging_walks_the_whole_order(db: Db) {
    let docs = seeded(db).await;
    for order in [
        "publish_at DESC",
        "publish_at ASC",
        "status ASC",
        "created DESC",
        "title DESC",
    ] {
        let whole = ids(&docs
            .find(&FLAKE, &scope(), &filter(&FLAKE, json!({ "order": order })))
            .await
            .unwrap());
        assert_eq!(whole.len(), 8);
        let mut paged = Vec::new();
        for page in 0..5 {
            let f = filter(
                &FLAKE,
                json!({"order": order, "limit": 2, "skip": page * 2}),
            );
            paged.extend(ids(&docs.find(&FLAKE, &scope(), &f).await.unwrap()));
        }
        assert_eq!(paged, whole, "pages of {order}");
    }
}

async fn like_patterns_with_escapes_and_newlines(db: Db) {
    let docs = Documents::new(db);
    seed_tenants(&docs).await;
    seed_edge_rows(&docs).await;
    check_where(&docs, &FLAKE, &scope(), like_edge_cases()).await;
}
