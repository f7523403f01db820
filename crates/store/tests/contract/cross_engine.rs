//! The same data and the same filters give the same documents, in the same order, on SQLite and
//! PostgreSQL. Needs `PALAVER_TEST_DATABASE_URL`; without it only SQLite runs (in the other files).

use palaver_domain::models::{FLAKE, USER};
use palaver_domain::Model;
use palaver_store::{Documents, Scope};
use serde_json::json;

use crate::filters::{self, Cases};
use crate::support::{filter, postgres_url, Engine, TestDb, DATABASE_URL_VAR};

/// Every case of `filters` as a whole filter.
fn flake_filters() -> Vec<serde_json::Value> {
    let where_cases: Cases = [
        filters::eq_cases(),
        filters::date_cases(),
        filters::inq_cases(),
        filters::like_cases(),
        filters::unicode_like_cases(),
        filters::regexp_cases(),
        filters::logic_cases(),
        filters::list_cases(),
        filters::like_edge_cases(),
    ]
    .concat();
    let mut out: Vec<_> = where_cases
        .into_iter()
        .map(|(w, _)| json!({ "where": w }))
        .collect();
    out.extend(filters::order_cases().into_iter().map(|(f, _)| f));
    // And each where clause once more under a descending order with paging.
    out.extend(
        filters::list_cases()
            .into_iter()
            .chain(filters::logic_cases())
            .map(|(w, _)| json!({"where": w, "order": "publish_at DESC", "limit": 3, "skip": 1})),
    );
    out
}

fn user_filters() -> Vec<serde_json::Value> {
    filters::user_cases()
        .into_iter()
        .map(|(w, _)| json!({ "where": w }))
        .chain(filters::user_order_cases().into_iter().map(|(f, _)| f))
        .collect()
}

async fn compare(
    sqlite: &Documents,
    postgres: &Documents,
    model: &'static Model,
    scope: &Scope<'_>,
    filters: Vec<serde_json::Value>,
) -> Vec<String> {
    let mut differences = Vec::new();
    for v in filters {
        let f = filter(model, v.clone());
        let a = sqlite.find(model, scope, &f).await.unwrap();
        let b = postgres.find(model, scope, &f).await.unwrap();
        if a != b {
            differences.push(format!("{}: {v}", model.name));
        }
        let a = sqlite.count(model, scope, &f.r#where).await.unwrap();
        let b = postgres.count(model, scope, &f.r#where).await.unwrap();
        if a != b {
            differences.push(format!("{} count: {v}: {a} vs {b}", model.name));
        }
    }
    differences
}

/// Needs PostgreSQL, so it runs only when asked for (`.ci/run` does, with `--ignored`).
#[tokio::test]
#[ignore = "compares SQLite with PostgreSQL: set PALAVER_TEST_DATABASE_URL and pass --ignored"]
async fn sqlite_and_postgres_agree() {
    assert!(
        postgres_url().is_some(),
        "{DATABASE_URL_VAR} is not set: there is no PostgreSQL to compare SQLite with"
    );
    let lite = TestDb::open(Engine::Sqlite).await.expect("sqlite");
    let pg = TestDb::open(Engine::Postgres).await.expect("postgres");
    let (a, b) = (
        Documents::new(lite.db.clone()),
        Documents::new(pg.db.clone()),
    );
    let outcome = tokio::spawn(async move {
        for docs in [&a, &b] {
            filters::seed_tenants(docs).await;
            filters::seed_flakes(docs).await;
            filters::seed_edge_rows(docs).await;
            filters::seed_users(docs).await;
        }
        let mut differences = compare(&a, &b, &FLAKE, &filters::scope(), flake_filters()).await;
        differences.extend(compare(&a, &b, &USER, &Scope::org(filters::ORG), user_filters()).await);
        assert!(
            differences.is_empty(),
            "SQLite and PostgreSQL differ on:\n{}",
            differences.join("\n")
        );
    })
    .await;
    lite.dispose().await;
    pg.dispose().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
