//! `TestApp`: a real Palaver on a free port over a fresh database (a SQLite file, or a schema of
//! its own in PostgreSQL), with an HTTP client and fixtures (the bootstrap superadmin, other
//! organisations, bots), for API tests.

// A test harness: a fixture that cannot be set up should fail the test loudly, right there.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod scripts;
pub mod stomp;

use std::time::Duration;

use palaver::{App, Config};
use palaver_service::secrets::SecretsConfig;
use palaver_service::Services;
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// The bootstrap superadmin every TestApp starts with.
pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin-password-1";
/// Client credentials of the application every TestApp starts with.
pub const CLIENT_ID: &str = "test-client-id";
pub const CLIENT_SECRET: &str = "test-client-secret";

/// A response: status, JSON body (`Null` when empty or not JSON), headers.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    /// The body's `id` as a string (panics with the whole response when absent).
    pub fn id(&self) -> String {
        match self.body.get("id").and_then(Value::as_str) {
            Some(id) => id.to_string(),
            None => panic!("no id in response {} {}", self.status, self.text),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// An application made by [`TestApp::other_application`], with a live bearer token.
#[derive(Debug, Clone)]
pub struct OtherApplication {
    pub org_id: String,
    pub app_id: i64,
    pub api_key: String,
    pub client_id: String,
    pub client_secret: String,
    pub token: String,
}

/// Checks a platform API error: the status, and a body of exactly `error`, `message`,
/// `explanation` and `timestamp` (an ISO-8601 instant of the last minute), with `error` as given.
/// Returns the explanation.
pub fn assert_platform_error(r: &Resp, status: u16, error: &str) -> String {
    assert_eq!(r.status, status, "{}", r.text);
    let obj = r
        .body
        .as_object()
        .unwrap_or_else(|| panic!("not a JSON object: {}", r.text));
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["error", "explanation", "message", "timestamp"],
        "{}",
        r.text
    );
    assert_eq!(r.body["error"], error, "{}", r.text);
    let message = r.body["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{}", r.text);
    let timestamp = r.body["timestamp"].as_str().unwrap_or_default();
    assert!(timestamp.ends_with('Z'), "{}", r.text);
    let at = palaver_domain::time::parse_date(timestamp)
        .unwrap_or_else(|| panic!("timestamp {timestamp} does not parse"));
    let now = palaver_domain::time::now_millis();
    assert!(
        (now - 60_000..=now + 1_000).contains(&at),
        "timestamp {timestamp} is not now"
    );
    let explanation = r.body["explanation"].as_str().unwrap_or_default();
    assert!(!explanation.is_empty(), "{}", r.text);
    explanation.to_string()
}

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub services: Services,
    /// Runs the server's chat functions (what [`TestApp::run_jobs`] invokes them with).
    pub functions: palaver_jobs::FunctionHost,
    /// The bootstrap organisation.
    pub org_id: String,
    pub admin_id: String,
    /// The bootstrap application's id and public API key.
    pub app_id: i64,
    pub api_key: String,
    /// The services' clock: [`TestApp::advance_clock`] moves it.
    pub clock: palaver_domain::time::Clock,
    /// The server's rate and body limits (defaults): [`palaver_api::Limits::configure`] changes
    /// them for the requests that follow.
    pub limits: palaver_api::Limits,
    /// The secrets key the server was given: a random one of its own, its key file unused.
    pub secrets: SecretsConfig,
    /// The configuration it was built with (for [`TestApp::build_again`]).
    config: Config,
    shutdown: Option<oneshot::Sender<()>>,
    storage: Storage,
    /// Where hosted files go (unless a test points `files_url` elsewhere), removed with it.
    #[allow(dead_code)]
    files: tempfile::TempDir,
}

/// The PostgreSQL server the PostgreSQL API tests use: `PALAVER_TEST_DATABASE_URL`, as for the
/// store's contract suite, or else the local server that CI and the development machines run.
pub fn postgres_url() -> String {
    std::env::var("PALAVER_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A new random secrets key, as `secrets_key` takes it (base64 of 32 bytes).
pub fn random_secrets_key() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(palaver_service::secrets::random_key())
}

/// Where a TestApp's data lives, to be removed with it.
enum Storage {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { url: String, schema: String },
}

/// `url` with one more libpq `options` setting (`-c name=value`) for every connection.
fn with_setting(url: &str, name: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20{name}%3D{value}")
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Storage::Postgres { url, schema } = &self.storage {
            // Drop runs inside the test's runtime, which cannot be blocked on: the schema goes
            // on a thread of its own, after the server's connections (which carry the schema's
            // name) are ended, so that none of its transactions can hold the drop up.
            let (url, name) = (url.clone(), schema.clone());
            let done = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    let admin = sqlx::PgPool::connect(&url).await?;
                    sqlx::query(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE application_name = $1",
                    )
                    .bind(&name)
                    .execute(&admin)
                    .await?;
                    sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                        .execute(&admin)
                        .await?;
                    admin.close().await;
                    Ok::<_, sqlx::Error>(())
                })
            });
            if let Ok(Err(e)) = done.join() {
                eprintln!("test schema {schema} not dropped: {e}");
            }
        }
    }
}

impl TestApp {
    /// Starts a server on a fresh SQLite database with the bootstrap superadmin.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// As [`TestApp::spawn`], after `adjust` has changed the configuration.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("palaver.db").display());
        Self::start(url, Storage::Sqlite(dir), adjust).await
    }

    /// As [`TestApp::spawn_with`], on a schema of its own in the PostgreSQL server of
    /// [`postgres_url`], dropped with the TestApp.
    pub async fn spawn_postgres_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let url = postgres_url();
        let schema = format!("api_{}", palaver_domain::id::new_object_id());
        // Connecting there creates the schema.
        palaver_store::Db::connect_postgres_schema(&url, &schema)
            .await
            .expect("PostgreSQL for the API tests (PALAVER_TEST_DATABASE_URL)")
            .close()
            .await;
        // The connections carry the schema's name, for Drop to find them.
        let app_url = format!(
            "{}&application_name={schema}",
            with_setting(&url, "search_path", &schema)
        );
        Self::start(app_url, Storage::Postgres { url, schema }, adjust).await
    }

    async fn start(url: String, storage: Storage, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let files = tempfile::tempdir().expect("temp dir for files");
        let mut config = Config {
            listen: "127.0.0.1:0".parse().expect("addr"),
            database_url: url,
            max_connections: 8,
            bcrypt_cost: 4,
            bootstrap_email: Some(ADMIN_EMAIL.into()),
            bootstrap_password: Some(ADMIN_PASSWORD.into()),
            bootstrap_client_id: Some(CLIENT_ID.into()),
            bootstrap_client_secret: Some(CLIENT_SECRET.into()),
            // Tests run jobs themselves, with `run_jobs`, when they are due.
            job_workers: 0,
            files_url: files.path().join("files").display().to_string(),
            functions_dir: files.path().join("functions").display().to_string(),
            // Tests install packages from folders they make, not from a registry.
            function_local_dependencies: true,
            ..Config::default()
        };
        adjust(&mut config);
        let clock = palaver_domain::time::Clock::system();
        let secrets = SecretsConfig {
            key: Some(random_secrets_key()),
            key_file: files.path().join("secrets.key"),
        };
        let app = App::build_with(config.clone(), clock.clone(), secrets.clone())
            .await
            .expect("app builds");
        let boot = app
            .bootstrap()
            .await
            .expect("bootstrap")
            .expect("empty database bootstraps");
        let services = app.services.clone();
        let functions = app.functions.clone();
        let limits = app.limits.clone();
        let (tx, rx) = oneshot::channel::<()>();
        let (addr, server) = app
            .serve(async move {
                let _ = rx.await;
            })
            .await
            .expect("server binds");
        tokio::spawn(server);
        TestApp {
            base: format!("http://{addr}"),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            services,
            functions,
            org_id: boot.account.organisation_id,
            admin_id: boot.account.account_id,
            app_id: boot.application.app.id,
            api_key: boot.application.app.api_key,
            clock,
            limits,
            secrets,
            config,
            shutdown: Some(tx),
            storage,
            files,
        }
    }

    /// Builds another server on this one's database, as a restart or a second instance would
    /// (migrations, the key check, sealing what is stored in plain text), with `secrets` as its
    /// key; not served. The error is the whole message an operator would read.
    pub async fn build_again(&self, secrets: SecretsConfig) -> Result<App, String> {
        App::build_with(self.config.clone(), self.clock.clone(), secrets)
            .await
            .map_err(|e| format!("{e:#}"))
    }

    /// Runs every job that is due now, one after the other, until none is left (jobs a job
    /// enqueues included); answers how many ran. No test waits for a background worker.
    pub async fn run_jobs(&self) -> usize {
        palaver::app::job_worker(&self.services, &self.functions, 0)
            .drain()
            .await
    }

    /// Moves the services' clock forward: leases run out, back-offs pass, scheduled jobs
    /// come due, without sleeping.
    pub fn advance_clock(&self, by: Duration) {
        self.clock.advance(by);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request; `token` goes in `KTL-Access-Token`, `body` as JSON.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.header("KTL-Access-Token", t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::read(req.send().await.expect("request sent")).await
    }

    /// Sends a request with exactly the given headers and raw body (no token added).
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Resp {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        Self::read(req.send().await.expect("request sent")).await
    }

    /// Turns a reqwest response into a [`Resp`].
    pub async fn read(res: reqwest::Response) -> Resp {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body read");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            body,
            text,
            headers,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call("GET", path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call("POST", path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call("PATCH", path, Some(token), Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call("PUT", path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        self.call("DELETE", path, Some(token), None).await
    }

    /// GET with query parameters, URL-encoded (e.g. `[("filter", "{…}")]`).
    pub async fn get_query(&self, path: &str, token: &str, query: &[(&str, &str)]) -> Resp {
        let req = self
            .client
            .get(self.url(path))
            .header("KTL-Access-Token", token)
            .query(query);
        Self::read(req.send().await.expect("request sent")).await
    }

    /// GET with a `filter` given as JSON.
    pub async fn get_filter(&self, path: &str, token: &str, filter: Value) -> Resp {
        self.get_query(path, token, &[("filter", &filter.to_string())])
            .await
    }

    /// Logs in and returns the token (panics on failure).
    pub async fn login(&self, email: &str, password: &str) -> String {
        let r = self
            .call(
                "POST",
                "/api/users/login",
                None,
                Some(json!({"email": email, "password": password, "source": "platform"})),
            )
            .await;
        assert_eq!(r.status, 200, "login as {email}: {}", r.text);
        r.id()
    }

    /// A token of the bootstrap superadmin.
    pub async fn admin_token(&self) -> String {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// Creates a bot and returns its id.
    pub async fn create_bot(&self, token: &str, name: &str) -> String {
        let r = self
            .post(
                "/api/bots",
                token,
                json!({"name": name, "platform": "slack", "domain": "news"}),
            )
            .await;
        assert_eq!(r.status, 200, "create bot: {}", r.text);
        r.id()
    }

    /// Creates an account in an organisation through the operator and returns its id.
    pub async fn create_account(
        &self,
        org_id: &str,
        email: &str,
        password: &str,
        role: &str,
        bot: Option<&str>,
    ) -> String {
        let doc = self
            .services
            .operator
            .create_account(org_id, email, password, role, bot)
            .await
            .map_err(|e| e.into_domain())
            .expect("account created");
        doc["id"].as_str().expect("id").to_string()
    }

    /// How many rows of a content model (`flakes`, `tags`, `bot`, …) the database holds in an
    /// organisation, optionally only under one bot, whatever the API shows.
    pub async fn stored(&self, model: &str, org_id: &str, bot_id: Option<&str>) -> u64 {
        let model = palaver_domain::models::by_name(model).expect("model");
        let docs = palaver_store::Documents::new(self.services.db.clone());
        let scope = match bot_id {
            Some(b) => palaver_store::Scope::child(org_id, "bot_id", b),
            None => palaver_store::Scope::org(org_id),
        };
        docs.count(model, &scope, &palaver_domain::filter::Where::All)
            .await
            .expect("count")
    }

    /// A second organisation with its own superadmin; returns (org id, token).
    pub async fn other_org(&self, name: &str) -> (String, String) {
        let org = self
            .services
            .operator
            .create_org(name)
            .await
            .map_err(|e| e.into_domain())
            .expect("org");
        let org_id = org["id"].as_str().expect("id").to_string();
        let email = format!("admin@{name}.example.com");
        self.create_account(&org_id, &email, "other-password", "superadmin", None)
            .await;
        let token = self.login(&email, "other-password").await;
        (org_id, token)
    }

    // ---- Platform API (ChatKitty-compatible): OAuth client credentials and bearer calls ----

    /// Asks `/oauth/token` for a token with HTTP Basic client credentials (urlencoded
    /// `grant_type=client_credentials`), panicking unless it is granted.
    pub async fn token_for(&self, client_id: &str, client_secret: &str) -> String {
        let res = self
            .client
            .post(self.url("/oauth/token"))
            .basic_auth(client_id, Some(client_secret))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .expect("request sent");
        let r = Self::read(res).await;
        assert_eq!(r.status, 200, "token for {client_id}: {}", r.text);
        r.body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// A bearer token of the bootstrap application.
    pub async fn platform_token(&self) -> String {
        self.token_for(CLIENT_ID, CLIENT_SECRET).await
    }

    /// Sends a platform API request: `token` as `Authorization: Bearer`, then `headers`, then
    /// `body` as JSON text (with `Content-Type: application/json` unless `headers` sets one).
    pub async fn pcall(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Resp {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                req = req.header("Content-Type", "application/json");
            }
            req = req.body(b.to_string());
        }
        Self::read(req.send().await.expect("request sent")).await
    }

    pub async fn pget(&self, path: &str, token: &str) -> Resp {
        self.pcall("GET", path, Some(token), &[], None).await
    }

    /// A platform GET with query parameters, URL-encoded (repeated keys kept).
    pub async fn pget_query(&self, path: &str, token: &str, query: &[(&str, &str)]) -> Resp {
        let req = self
            .client
            .get(self.url(path))
            .header("Authorization", format!("Bearer {token}"))
            .query(query);
        Self::read(req.send().await.expect("request sent")).await
    }

    pub async fn ppost(&self, path: &str, token: &str, body: Value) -> Resp {
        self.pcall("POST", path, Some(token), &[], Some(body)).await
    }

    pub async fn pput(&self, path: &str, token: &str, body: Value) -> Resp {
        self.pcall("PUT", path, Some(token), &[], Some(body)).await
    }

    /// PATCH with the merge-patch media type the official clients send.
    pub async fn ppatch(&self, path: &str, token: &str, body: Value) -> Resp {
        self.pcall(
            "PATCH",
            path,
            Some(token),
            &[("Content-Type", "application/json+merge-patch")],
            Some(body),
        )
        .await
    }

    pub async fn pdelete(&self, path: &str, token: &str) -> Resp {
        self.pcall("DELETE", path, Some(token), &[], None).await
    }

    /// Creates a chat user through `POST /users` and returns its resource (panics unless 200).
    pub async fn create_chat_user(&self, token: &str, body: Value) -> Value {
        let r = self.ppost("/users", token, body).await;
        assert_eq!(r.status, 200, "create chat user: {}", r.text);
        r.body
    }

    /// A second application, in a new organisation of its own: (application id, client id,
    /// client secret, bearer token).
    pub async fn other_application(&self, org_name: &str) -> OtherApplication {
        let (org_id, _) = self.other_org(org_name).await;
        let created = self
            .services
            .platform
            .create_application(&org_id, &format!("{org_name} app"), None)
            .await
            .map_err(|e| e.into_domain())
            .expect("application created");
        let token = self
            .token_for(&created.app.client_id, &created.client_secret)
            .await;
        OtherApplication {
            org_id,
            app_id: created.app.id,
            api_key: created.app.api_key,
            client_id: created.app.client_id,
            client_secret: created.client_secret,
            token,
        }
    }
}

/// The value of the first sample of `name` carrying every one of `labels` in a Prometheus
/// text scrape.
pub fn metric_sample(scrape: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let (head, value) = l.rsplit_once(' ')?;
            let (n, inner) = match head.split_once('{') {
                Some((n, rest)) => (n, rest.strip_suffix('}')?),
                None => (head, ""),
            };
            let all = labels
                .iter()
                .all(|(k, v)| inner.split(',').any(|kv| kv == format!("{k}=\"{v}\"")));
            (n == name && all).then(|| value.parse().ok()).flatten()
        })
}
