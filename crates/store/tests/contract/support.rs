//! The engines every contract test runs on, and the fixtures the tests share.
//!
//! SQLite always runs, on a fresh file in a temporary folder. PostgreSQL runs too when
//! `PALAVER_TEST_DATABASE_URL` is set: each test gets a schema of its own, dropped afterwards
//! (also when the test fails).

use std::future::Future;

use palaver_domain::filter::{parse_filter, parse_where, Filter, Where};
use palaver_domain::id::new_object_id;
use palaver_domain::Model;
use palaver_store::{Db, Documents, Scope};
use serde_json::{json, Map, Value};

pub const DATABASE_URL_VAR: &str = "PALAVER_TEST_DATABASE_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The PostgreSQL URL the suite was given, if any.
pub fn postgres_url() -> Option<String> {
    std::env::var(DATABASE_URL_VAR)
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// A migrated, empty database on `engine`, and what to do to dispose of it.
pub struct TestDb {
    pub db: Db,
    _dir: Option<tempfile::TempDir>,
    schema: Option<String>,
}

impl TestDb {
    /// None when the engine is PostgreSQL and no URL was given.
    pub async fn open(engine: Engine) -> Option<TestDb> {
        let test_db = match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let url = format!("sqlite://{}", dir.path().join("contract.db").display());
                let db = Db::connect(&url, 4).await.expect("open SQLite");
                TestDb {
                    db,
                    _dir: Some(dir),
                    schema: None,
                }
            }
            Engine::Postgres => {
                let url = postgres_url()?;
                let schema = format!("contract_{}", new_object_id());
                let db = Db::connect_postgres_schema(&url, &schema)
                    .await
                    .expect("connect to PostgreSQL");
                TestDb {
                    db,
                    _dir: None,
                    schema: Some(schema),
                }
            }
        };
        test_db.db.migrate().await.expect("migrate");
        Some(test_db)
    }

    pub async fn dispose(self) {
        if let Some(schema) = &self.schema {
            self.db.drop_schema(schema).await.expect("drop test schema");
        }
        self.db.close().await;
    }
}

/// Runs `body` on a fresh database of `engine`, then disposes of the database whether or not the
/// body panicked, and passes the panic on. PostgreSQL runs only when it is configured; under CI
/// (`CI` set) it must be, so that the suite cannot quietly skip it there.
pub async fn run<F, Fut>(engine: Engine, body: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(test_db) = TestDb::open(engine).await else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{DATABASE_URL_VAR} must be set under CI: the PostgreSQL half of the contract would not run"
        );
        return;
    };
    let outcome = tokio::spawn(body(test_db.db.clone())).await;
    test_db.dispose().await;
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("test body did not finish: {e}"),
        }
    }
}

/// Generates, for each named `async fn(Db)`, one test that runs it on SQLite and then, when
/// `PALAVER_TEST_DATABASE_URL` is set, on PostgreSQL: every generated test checks something.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite_then_postgres() {
                crate::support::run(crate::support::Engine::Sqlite, super::$name).await;
                crate::support::run(crate::support::Engine::Postgres, super::$name).await;
            }
        }
    )*};
}
pub(crate) use contract;

/// A JSON object literal as a document.
pub fn doc(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

pub fn filter(model: &'static Model, v: Value) -> Filter {
    parse_filter(model, &v).unwrap_or_else(|e| panic!("filter {v} refused: {}", e.message))
}

pub fn where_(model: &'static Model, v: Value) -> Where {
    parse_where(model, &v).unwrap_or_else(|e| panic!("where {v} refused: {}", e.message))
}

/// The ids of `docs`, in order.
pub fn ids(docs: &[Map<String, Value>]) -> Vec<String> {
    docs.iter()
        .map(|d| match d.get("id") {
            Some(Value::String(s)) => s.clone(),
            other => panic!("document without a text id: {other:?}"),
        })
        .collect()
}

pub fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

pub const STAMP: &str = "2020-01-01T00:00:00.000Z";

/// Inserts an organisation with id `id`.
pub async fn organisation(docs: &Documents, id: &str) {
    docs.insert(
        &palaver_domain::models::ORGANISATION,
        &Scope::org(id),
        &doc(json!({
            "company_name": format!("{id} Ltd"),
            "plan": "free",
            "email": format!("owner@{id}.test"),
            "created": STAMP,
            "modified": STAMP,
            "username": format!("{id}-owner"),
        })),
    )
    .await
    .expect("insert organisation");
}

/// Inserts a bot `id` in organisation `org`.
pub async fn bot(docs: &Documents, org: &str, id: &str) {
    docs.insert(
        &palaver_domain::models::BOT,
        &Scope::org(org),
        &doc(json!({
            "name": format!("bot {id}"),
            "platform": "web",
            "domain": format!("{id}.example"),
            "id": id,
            "created": STAMP,
            "modified": STAMP,
        })),
    )
    .await
    .expect("insert bot");
}

/// Inserts an account `id` with this email in organisation `org`.
pub async fn account(docs: &Documents, org: &str, id: &str, email: &str) {
    docs.insert(
        &palaver_domain::models::USER,
        &Scope::org(org),
        &doc(json!({
            "role": "owner",
            "email": email,
            "emailVerified": false,
            "password": "$2b$04$digest",
            "id": id,
            "created": STAMP,
            "modified": STAMP,
        })),
    )
    .await
    .expect("insert account");
}

/// A flake document with the fields a test cares about; the rest are null or defaults.
pub fn flake(id: &str, fields: Value) -> Map<String, Value> {
    let mut d = doc(json!({
        "id": id,
        "created": STAMP,
        "modified": STAMP,
    }));
    d.extend(doc(fields));
    d
}

/// A fresh platform application in a new organisation `org`; answers its id.
pub async fn application(db: &palaver_store::Db, org: &str) -> i64 {
    use palaver_store::platform::{Applications, NewApplication};
    organisation(&Documents::new(db.clone()), org).await;
    Applications::new(db.clone())
        .insert(&NewApplication {
            organisation_id: org.into(),
            name: "app".into(),
            api_key: format!("key-{org}"),
            client_id: format!("client-{org}"),
            client_secret_digest: "digest".into(),
            created: 1,
        })
        .await
        .unwrap()
        .id
}
