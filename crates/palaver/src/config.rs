//! Configuration: one typed struct. Layers, lowest first: built-in defaults, an optional TOML
//! file, `PALAVER_*` environment variables, command-line flags. Secrets are never logged.
//!
//! Every setting is declared once, in the [`settings!`] table below: its documentation, type,
//! default and environment variable. From that one row come the [`Config`] field, its default,
//! the [`Layer`] field (a TOML key, a `--flag` and a `PALAVER_*` variable), the merge, the
//! redacted `Debug` line and the README's configuration table ([`markdown_table`]).

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

/// The type of a setting in [`Config`]: `req` settings always have a value, `opt` ones may be
/// absent (their default is `None`).
macro_rules! setting_type {
    (req $t:ty) => { $t };
    (opt $t:ty) => { Option<$t> };
}

/// How a setting is shown in `Debug`: as itself, or through a redacting function.
macro_rules! shown_setting {
    ($v:expr) => {
        &$v
    };
    ($v:expr, $show:expr) => {
        &($show)(&$v)
    };
}

/// Declares every setting: its documentation (which is also the flag's help and the README's
/// text), `req`/`opt`, type, default and environment variable, with extra `clap` attributes
/// and a redacting `shown` function where needed.
macro_rules! settings {
    ($(
        $(#[doc = $doc:literal])+
        $(#[arg($($arg:tt)*)])?
        $name:ident: $kind:ident $ty:ty = $default:expr, $env:literal $(, shown $show:expr)?;
    )*) => {
        /// Everything the server can be told.
        #[derive(Clone)]
        pub struct Config {
            $( $(#[doc = $doc])+ pub $name: setting_type!($kind $ty), )*
        }

        impl Default for Config {
            fn default() -> Self {
                Self { $( $name: $default, )* }
            }
        }

        /// One layer of settings: every field optional, later layers win. Read from a TOML
        /// file, or from flags and `PALAVER_*` variables (which every command accepts).
        #[derive(Default, Clone, Deserialize, clap::Args)]
        #[serde(deny_unknown_fields)]
        pub struct Layer {
            $(
                $(#[doc = $doc])+
                #[arg(long, env = $env, global = true, help_heading = "Settings" $(, $($arg)*)?)]
                pub $name: Option<$ty>,
            )*
        }

        impl Layer {
            /// Sets in `c` what this layer sets.
            fn apply_to(&self, c: &mut Config) {
                $( if let Some(v) = &self.$name { c.$name = v.clone().into(); } )*
            }
        }

        impl std::fmt::Debug for Config {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("Config")
                    $( .field(stringify!($name), shown_setting!(self.$name $(, $show)?)) )*
                    .finish()
            }
        }

        /// Every setting, documented: key, environment variable, default and meaning.
        pub fn documented() -> Vec<Documented> {
            let d = Config::default();
            vec![$(
                Documented {
                    key: stringify!($name),
                    env: $env,
                    default: default_text(serde_json::to_value(&d.$name).ok()),
                    doc: [$($doc),+].iter().map(|l| l.trim()).collect::<Vec<_>>().join(" "),
                },
            )*]
        }
    };
}

/// One setting as the README's table shows it.
pub struct Documented {
    pub key: &'static str,
    pub env: &'static str,
    pub default: String,
    pub doc: String,
}

fn default_text(v: Option<serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => "none".into(),
        Some(serde_json::Value::String(s)) => format!("`{s}`"),
        Some(v) => format!("`{v}`"),
    }
}

/// The README's configuration table, made from the declarations.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| setting (TOML key) | flag / environment | default | meaning |\n|---|---|---|---|\n",
    );
    for s in documented() {
        out.push_str(&format!(
            "| `{}` | `--{}` / `{}` | {} | {} |\n",
            s.key,
            s.key.replace('_', "-"),
            s.env,
            s.default,
            s.doc.replace('|', "\\|")
        ));
    }
    out
}

/// A secret is shown only as being set.
fn secret(v: &Option<String>) -> Option<&'static str> {
    v.as_ref().map(|_| "<set>")
}

/// An optional URL is shown with its password replaced.
fn optional_url(v: &Option<String>) -> Option<String> {
    v.as_deref().map(redact_url)
}

settings! {
    /// Address to listen on.
    listen: req SocketAddr = SocketAddr::from(([127, 0, 0, 1], 8080)), "PALAVER_LISTEN";
    /// `sqlite://path` (the file and its folder are created) or
    /// `postgres://user:password@host:5432/dbname`.
    database_url: req String = "sqlite://data/palaver.db".into(), "PALAVER_DATABASE_URL",
        shown redact_url;
    /// Most database connections held open: PostgreSQL's pool; on SQLite, the most idle
    /// connections kept (SQLite opens one per statement running at the same moment).
    max_connections: req u32 = 16, "PALAVER_MAX_CONNECTIONS";
    /// Content API token life in seconds when a login does not ask for one (two weeks).
    token_ttl_seconds: req i64 = 1_209_600, "PALAVER_TOKEN_TTL_SECONDS";
    /// Platform API bearer token life in seconds (12 h).
    oauth_token_ttl_seconds: req i64 = 43_200, "PALAVER_OAUTH_TOKEN_TTL_SECONDS";
    /// How long a platform bearer token's resolution is kept in memory, in milliseconds (0 to
    /// 60000; 0 keeps none). A token revoked by another process or instance works here for this
    /// long at most.
    oauth_token_memo_millis: req u64 = 1_000, "PALAVER_OAUTH_TOKEN_MEMO_MILLIS";
    /// How long outbox events are kept, in hours (1 to 87840): older ones are pruned once every
    /// consumer has handled them.
    outbox_retention_hours: req u64 = 168, "PALAVER_OUTBOX_RETENTION_HOURS";
    /// bcrypt work factor (4 to 31) of new account password and client secret hashes.
    bcrypt_cost: req u32 = 10, "PALAVER_BCRYPT_COST";
    /// Serve repeated reads of bot content and token lookups from memory until a write touches
    /// them. Exact only when this process makes every write, so when absent it is on for SQLite
    /// and off for PostgreSQL (where several instances share the database).
    read_cache: opt bool = None, "PALAVER_READ_CACHE";
    /// The URL clients reach this server at, for HAL links (`https://chat.example.com`); when
    /// absent, links are built from the request's `Host` / `X-Forwarded-*` headers.
    public_url: opt String = None, "PALAVER_PUBLIC_URL";
    /// NATS server through which several instances share real-time events (`nats://host:4222`);
    /// when absent, real-time events stay in this process (one instance).
    #[arg(hide_env_values = true)]
    nats_url: opt String = None, "PALAVER_NATS_URL", shown optional_url;
    /// How long real-time sessions outlive their instance's last lease renewal, in seconds (1 to
    /// 3600): how long a stopped instance's sessions stay ACTIVE.
    session_lease_seconds: req u64 = 30, "PALAVER_SESSION_LEASE_SECONDS";
    /// How long a dropped real-time connection's sessions wait for their client to reconnect
    /// (`StompX-Auth-Session-ID`) before they end, in seconds (0 to 3600; 0: they end at once).
    session_resume_seconds: req u64 = 15, "PALAVER_SESSION_RESUME_SECONDS";
    /// Real-time actions one connection may make per window, at once or spread out (0: no
    /// limit); the default lets one client send 20 messages a second with its keystrokes. One
    /// more is answered `RateLimitedError`.
    gateway_action_limit: req u32 = 300, "PALAVER_GATEWAY_ACTION_LIMIT";
    /// Real-time relays one connection may make per window (0: no limit); the client retries
    /// after the `coolOffDuration`.
    gateway_relay_limit: req u32 = 200, "PALAVER_GATEWAY_RELAY_LIMIT";
    /// The window of the two real-time limits above, in seconds (1 to 3600).
    gateway_limit_window_seconds: req u64 = 10, "PALAVER_GATEWAY_LIMIT_WINDOW_SECONDS";
    /// Largest STOMP frame a real-time client may send, headers and body, in bytes (1024 to
    /// 16777216); a larger one is answered `ERROR` and the connection closed.
    gateway_max_frame_bytes: req usize = 65_536, "PALAVER_GATEWAY_MAX_FRAME_BYTES";
    /// Topic messages queued for one real-time connection (16 to 65536); a client that falls
    /// this far behind is disconnected with an `ERROR` rather than held in memory.
    gateway_outgoing_queue: req usize = 1_024, "PALAVER_GATEWAY_OUTGOING_QUEUE";
    /// The heart-beat interval the gateway offers and accepts at least, in milliseconds (1000 to
    /// 600000); a connection silent past its negotiated interval and a grace is closed.
    gateway_heartbeat_millis: req u64 = 10_000, "PALAVER_GATEWAY_HEARTBEAT_MILLIS";
    /// How long a new real-time connection may stay silent before its CONNECT, in seconds (1 to
    /// 3600).
    gateway_connect_timeout_seconds: req u64 = 30, "PALAVER_GATEWAY_CONNECT_TIMEOUT_SECONDS";
    /// How long a real-time connection that negotiated no heart-beats may stay silent, in seconds
    /// (1 to 86400).
    gateway_idle_timeout_seconds: req u64 = 300, "PALAVER_GATEWAY_IDLE_TIMEOUT_SECONDS";
    /// How long after its last keystrokes a user is told to have stopped typing
    /// (`thread.typing.stopped`), in milliseconds (10 to 600000).
    typing_timeout_millis: req u64 = 5_000, "PALAVER_TYPING_TIMEOUT_MILLIS";
    /// Background job workers of this instance (0 to 64: imports, exports, file clean-up,
    /// functions, publishing); with 0 it runs none and leaves the jobs to other instances on the
    /// same database.
    job_workers: req usize = 2, "PALAVER_JOB_WORKERS";
    /// Where hosted files (uploaded display pictures, FILE messages, imports, exports) are kept:
    /// a folder (created), `file:///abs/dir`, or S3-compatible storage as `s3://bucket/prefix`.
    files_url: req String = "./data/files".into(), "PALAVER_FILES_URL";
    /// S3: the URL of an S3-compatible service (MinIO, Ceph, R2, …); AWS's when absent.
    s3_endpoint: opt String = None, "PALAVER_S3_ENDPOINT";
    /// S3: the region; `AWS_REGION`, else `us-east-1`, when absent.
    s3_region: opt String = None, "PALAVER_S3_REGION";
    /// S3: the access key id; `AWS_ACCESS_KEY_ID`, else the instance's role, when absent.
    s3_access_key_id: opt String = None, "PALAVER_S3_ACCESS_KEY_ID";
    /// S3: the secret access key; `AWS_SECRET_ACCESS_KEY` when absent. A secret, never logged.
    #[arg(hide_env_values = true)]
    s3_secret_access_key: opt String = None, "PALAVER_S3_SECRET_ACCESS_KEY", shown secret;
    /// S3: allow an `http://` `s3_endpoint`.
    s3_allow_http: req bool = false, "PALAVER_S3_ALLOW_HTTP";
    /// Let outbound calls (content channels' feeds, webhook deliveries) reach private, loopback,
    /// link-local and other non-public addresses (sources on the server's own network, tests);
    /// refused by default.
    outbound_allow_private: req bool = false, "PALAVER_OUTBOUND_ALLOW_PRIVATE";
    /// The deadline of one content channel feed fetch (connect, redirects and the whole body),
    /// in milliseconds (1 to 600000).
    feed_timeout_millis: req u64 = 10_000, "PALAVER_FEED_TIMEOUT_MILLIS";
    /// The largest feed body a content channel reads, in bytes (up to 1 GiB); a larger one is
    /// that source's error.
    feed_max_bytes: req u64 = 5 * 1024 * 1024, "PALAVER_FEED_MAX_BYTES";
    /// The largest upload (display picture, FILE message) accepted, in bytes; a larger one is
    /// answered `413` and nothing is kept. Uploads stream to the storage, so memory does not
    /// grow with this.
    max_upload_bytes: req u64 = 104_857_600, "PALAVER_MAX_UPLOAD_BYTES";
    /// The largest import file (`POST /imports/...`) accepted, in bytes; a larger one is
    /// answered `413`. Import files are read as they stream, so memory does not grow with this.
    max_import_bytes: req u64 = 1 << 30, "PALAVER_MAX_IMPORT_BYTES";
    /// Where chat functions' runtimes (`runtimes/<app>/v<version>-…`, each with its
    /// `node_modules`) and the workers' files (`work/`) live.
    functions_dir: req String = "./data/functions".into(), "PALAVER_FUNCTIONS_DIR";
    /// The Node.js (20 or later, for its permission model) that runs chat functions; a bare
    /// name is looked up on `PATH`. Without it functions can still be managed; their
    /// invocations fail with `Node.js not found at …`.
    node_path: req String = "node".into(), "PALAVER_NODE_PATH";
    /// The `npm` that installs runtimes' dependencies (`npm install --omit=dev
    /// --ignore-scripts`), from the registry npm is configured for: point npm at a mirror on a
    /// machine without internet.
    npm_path: req String = "npm".into(), "PALAVER_NPM_PATH";
    /// A non-blocking function invocation's deadline, in milliseconds (100 to 600000); past it
    /// the worker is killed and the invocation FAILED.
    function_timeout_millis: req u64 = 10_000, "PALAVER_FUNCTION_TIMEOUT_MILLIS";
    /// The `user.attempted.start_session` function's deadline, in milliseconds (100 to 60000):
    /// a secured session start waits this long at most, then is denied.
    function_session_timeout_millis: req u64 = 5_000, "PALAVER_FUNCTION_SESSION_TIMEOUT_MILLIS";
    /// V8 heap cap of each function worker, in MiB (16 to 16384); a handler past it fails with
    /// `memory limit exceeded`.
    function_heap_mb: req u32 = 128, "PALAVER_FUNCTION_HEAP_MB";
    /// `node` function workers alive at most (1 to 256; one per application); past it the least
    /// recently used idle one stops. An idle worker stops after 5 minutes.
    function_workers: req usize = 4, "PALAVER_FUNCTION_WORKERS";
    /// `allow` or `deny`: whether handlers may call other servers, as ChatKitty's may; `deny`
    /// runs workers in an empty network namespace (`unshare -rn`, Linux), where their Platform
    /// API clients still work.
    function_network: req String = "allow".into(), "PALAVER_FUNCTION_NETWORK";
    /// Runs of a failing non-blocking invocation at most, the first included (1 to 10); each run
    /// is its own invocation, after the job back-off (2 s, doubling).
    function_max_attempts: req u32 = 1, "PALAVER_FUNCTION_MAX_ATTEMPTS";
    /// Allow `file:` and path dependencies (packages from the server's disk) in runtimes.
    function_local_dependencies: req bool = false, "PALAVER_FUNCTION_LOCAL_DEPENDENCIES";
    /// Origins whose browser pages may call the content API (`https://dash.example.com`), with
    /// credentials; comma-separated in flags and variables, a list in TOML. When absent every
    /// origin may, as LoopBack's scaffold `cors: {origin: true, credentials: true}` allows;
    /// other origins get no CORS headers, so their browsers refuse the answer.
    #[arg(value_delimiter = ',')]
    content_cors_origins: opt Vec<String> = None, "PALAVER_CONTENT_CORS_ORIGINS";
    /// Platform API requests per second per application (its bearer token's); its chat
    /// functions' calls have a bucket of the same size of their own. 0: no limit. One more is
    /// answered `429` with `Retry-After`. Limits are per instance.
    rate_limit_platform_per_second: req u32 = 300, "PALAVER_RATE_LIMIT_PLATFORM_PER_SECOND";
    /// The burst of the per-application platform limit: requests at once after a quiet spell.
    rate_limit_platform_burst: req u32 = 1_000, "PALAVER_RATE_LIMIT_PLATFORM_BURST";
    /// Content API requests per second per access token (0: no limit).
    rate_limit_content_token_per_second: req u32 = 50, "PALAVER_RATE_LIMIT_CONTENT_TOKEN_PER_SECOND";
    /// The burst of the per-token content limit.
    rate_limit_content_token_burst: req u32 = 200, "PALAVER_RATE_LIMIT_CONTENT_TOKEN_BURST";
    /// Requests per second per client address: every content API request, and platform API
    /// requests without a valid token (token guessing, file downloads). 0: no limit.
    rate_limit_ip_per_second: req u32 = 100, "PALAVER_RATE_LIMIT_IP_PER_SECOND";
    /// The burst of the per-address limit.
    rate_limit_ip_burst: req u32 = 400, "PALAVER_RATE_LIMIT_IP_BURST";
    /// `POST /oauth/token` and `POST /api/users/login` together, per client address and second:
    /// each checks a slow password hash, so this bounds what guessing costs (0: no limit).
    rate_limit_login_per_second: req u32 = 5, "PALAVER_RATE_LIMIT_LOGIN_PER_SECOND";
    /// The burst of the login limit (a fleet of backends behind one address restarting at
    /// once).
    rate_limit_login_burst: req u32 = 20, "PALAVER_RATE_LIMIT_LOGIN_BURST";
    /// Take the client address from the last `X-Forwarded-For` entry instead of the peer: only
    /// behind a proxy that sets it, or clients could pick their own.
    rate_limit_trust_forwarded_for: req bool = false, "PALAVER_RATE_LIMIT_TRUST_FORWARDED_FOR";
    /// The largest JSON or urlencoded request body, in bytes; a larger one is answered `413`.
    /// Uploads and imports have their own limits.
    max_json_body_bytes: req usize = 1 << 20, "PALAVER_MAX_JSON_BODY_BYTES";
    /// The key (base64 of 32 bytes) that encrypts user secrets, webhook secrets and function
    /// runtimes' variables at rest (AES-256-GCM). When absent, the key file's. Several instances
    /// on one database need the same key; a different one stops the start. A secret.
    #[arg(hide_env_values = true)]
    secrets_key: opt String = None, "PALAVER_SECRETS_KEY", shown secret;
    /// The file holding the secrets key when `secrets_key` is absent: read, or made (mode 0600)
    /// with a new random key on the first start. When absent, `secrets.key` beside a SQLite
    /// database, else `./data/secrets.key`. Back it up with the database.
    secrets_key_file: opt String = None, "PALAVER_SECRETS_KEY_FILE";
    /// Serve the API explorer at `/docs` and a landing page at `/`; when off those answer the
    /// platform API's 404 (the OpenAPI documents are served either way).
    docs_enabled: req bool = true, "PALAVER_DOCS_ENABLED";
    /// Record metrics and serve them in Prometheus's text format at `/metrics`.
    metrics_enabled: req bool = true, "PALAVER_METRICS_ENABLED";
    /// Serve `/metrics` only on this address (`127.0.0.1:9100`), not on the main listener.
    metrics_listen: opt SocketAddr = None, "PALAVER_METRICS_LISTEN";
    /// Basic-auth user name `/metrics` asks for (set together with `metrics_password`); open
    /// when absent.
    metrics_username: opt String = None, "PALAVER_METRICS_USERNAME";
    /// Basic-auth password of `/metrics`. A secret.
    #[arg(hide_env_values = true)]
    metrics_password: opt String = None, "PALAVER_METRICS_PASSWORD", shown secret;
    /// How often, in seconds, the metrics upkeep runs (histogram upkeep, database, job, outbox
    /// and memory gauges; 1 to 3600).
    metrics_upkeep_seconds: req u64 = 5, "PALAVER_METRICS_UPKEEP_SECONDS";
    /// How long a client has to send a request's head, in seconds (1 to 3600): from connecting
    /// for the first request, from its first byte for a later one. A slower client is cut off.
    http_header_read_timeout_seconds: req u64 = 10, "PALAVER_HTTP_HEADER_READ_TIMEOUT_SECONDS";
    /// How long a kept-alive connection may wait for its next request, in seconds (1 to 86400);
    /// never applies to a request in flight or a WebSocket.
    http_idle_timeout_seconds: req u64 = 60, "PALAVER_HTTP_IDLE_TIMEOUT_SECONDS";
    /// Open connections at most, WebSockets included; one more is answered `503` and closed.
    /// When absent, the file limit (raised to its hard limit at start) less 256 for the
    /// database, files and workers.
    http_max_connections: opt usize = None, "PALAVER_HTTP_MAX_CONNECTIONS";
    /// Requests handled at once; one more is answered `503` with `Retry-After` (in the face's
    /// error shape) and logged.
    http_max_concurrent_requests: req usize = 1024, "PALAVER_HTTP_MAX_CONCURRENT_REQUESTS";
    /// At shutdown, how long requests in flight get to finish, in seconds (0 to 3600).
    http_drain_timeout_seconds: req u64 = 10, "PALAVER_HTTP_DRAIN_TIMEOUT_SECONDS";
    /// First-start superadmin email; `admin@palaver.local` when absent.
    bootstrap_email: opt String = None, "PALAVER_BOOTSTRAP_EMAIL";
    /// First-start superadmin username, shown in its login answer's `userDetail` and usable to
    /// log in; the email's local part (`admin`) when absent.
    bootstrap_username: opt String = None, "PALAVER_BOOTSTRAP_USERNAME";
    /// First-start superadmin password; generated and printed once when absent.
    #[arg(hide_env_values = true)]
    bootstrap_password: opt String = None, "PALAVER_BOOTSTRAP_PASSWORD", shown secret;
    /// First-start application client id; generated when absent.
    bootstrap_client_id: opt String = None, "PALAVER_BOOTSTRAP_CLIENT_ID";
    /// First-start application client secret; generated and printed once when absent.
    #[arg(hide_env_values = true)]
    bootstrap_client_secret: opt String = None, "PALAVER_BOOTSTRAP_CLIENT_SECRET", shown secret;
}

/// A database URL with any password replaced, fit for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl Layer {
    /// Reads a TOML file of the same keys.
    pub fn from_file(path: &Path) -> anyhow::Result<Layer> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
    }
}

impl Config {
    /// Applies layers in order over the defaults.
    pub fn from_layers(layers: &[Layer]) -> anyhow::Result<Config> {
        let mut c = Config::default();
        for l in layers {
            l.apply_to(&mut c);
        }
        // Ten years at most: arithmetic on a token's expiry stays far from overflowing.
        const MAX_TTL: i64 = 10 * 366 * 24 * 3600;
        anyhow::ensure!(
            (1..=MAX_TTL).contains(&c.token_ttl_seconds),
            "token_ttl_seconds must be 1 to {MAX_TTL}"
        );
        anyhow::ensure!(
            (1..=MAX_TTL).contains(&c.oauth_token_ttl_seconds),
            "oauth_token_ttl_seconds must be 1 to {MAX_TTL}"
        );
        anyhow::ensure!(
            c.oauth_token_memo_millis <= 60_000,
            "oauth_token_memo_millis must be 0 to 60000"
        );
        // An hour at least: events must outlive a consumer's restart. Ten years at most, as
        // for tokens: the cutoff's arithmetic stays far from overflowing.
        const MAX_RETENTION_HOURS: u64 = 10 * 366 * 24;
        anyhow::ensure!(
            (1..=MAX_RETENTION_HOURS).contains(&c.outbox_retention_hours),
            "outbox_retention_hours must be 1 to {MAX_RETENTION_HOURS}"
        );
        anyhow::ensure!(
            (4..=31).contains(&c.bcrypt_cost),
            "bcrypt_cost must be 4 to 31"
        );
        anyhow::ensure!(c.max_connections > 0, "max_connections must be positive");
        anyhow::ensure!(
            (1..=3600).contains(&c.session_lease_seconds),
            "session_lease_seconds must be 1 to 3600"
        );
        anyhow::ensure!(
            c.session_resume_seconds <= 3600,
            "session_resume_seconds must be 0 to 3600"
        );
        anyhow::ensure!(
            (1..=3600).contains(&c.gateway_limit_window_seconds),
            "gateway_limit_window_seconds must be 1 to 3600"
        );
        anyhow::ensure!(
            (1024..=16 * 1024 * 1024).contains(&c.gateway_max_frame_bytes),
            "gateway_max_frame_bytes must be 1024 to 16777216"
        );
        anyhow::ensure!(
            (16..=65_536).contains(&c.gateway_outgoing_queue),
            "gateway_outgoing_queue must be 16 to 65536"
        );
        anyhow::ensure!(
            (1_000..=600_000).contains(&c.gateway_heartbeat_millis),
            "gateway_heartbeat_millis must be 1000 to 600000"
        );
        anyhow::ensure!(
            (1..=3600).contains(&c.gateway_connect_timeout_seconds),
            "gateway_connect_timeout_seconds must be 1 to 3600"
        );
        anyhow::ensure!(
            (1..=86_400).contains(&c.gateway_idle_timeout_seconds),
            "gateway_idle_timeout_seconds must be 1 to 86400"
        );
        anyhow::ensure!(
            (10..=600_000).contains(&c.typing_timeout_millis),
            "typing_timeout_millis must be 10 to 600000"
        );
        anyhow::ensure!(c.job_workers <= 64, "job_workers must be 0 to 64");
        anyhow::ensure!(
            (1..=600_000).contains(&c.feed_timeout_millis),
            "feed_timeout_millis must be 1 to 600000"
        );
        const MAX_FEED_BYTES: u64 = 1 << 30;
        anyhow::ensure!(
            (1..=MAX_FEED_BYTES).contains(&c.feed_max_bytes),
            "feed_max_bytes must be 1 to {MAX_FEED_BYTES}"
        );
        if let Some(u) = &c.nats_url {
            anyhow::ensure!(
                u.starts_with("nats://") || u.starts_with("tls://"),
                "nats_url must start with nats:// or tls://"
            );
        }
        // Up to S3's largest object.
        const MAX_UPLOAD: u64 = 5 * 1024 * 1024 * 1024 * 1024;
        anyhow::ensure!(
            (1..=MAX_UPLOAD).contains(&c.max_upload_bytes),
            "max_upload_bytes must be 1 to {MAX_UPLOAD}"
        );
        anyhow::ensure!(
            (1..=MAX_UPLOAD).contains(&c.max_import_bytes),
            "max_import_bytes must be 1 to {MAX_UPLOAD}"
        );
        anyhow::ensure!(
            !c.files_url.trim().is_empty(),
            "files_url must not be empty"
        );
        if let Some(u) = &c.s3_endpoint {
            anyhow::ensure!(
                u.starts_with("http://") || u.starts_with("https://"),
                "s3_endpoint must start with http:// or https://"
            );
        }
        for o in c.content_cors_origins.iter().flatten() {
            let rest = o
                .strip_prefix("https://")
                .or_else(|| o.strip_prefix("http://"));
            anyhow::ensure!(
                rest.is_some_and(|r| !r.is_empty()
                    && !r.trim_end_matches('/').contains('/')
                    && r.chars().all(|ch| ch.is_ascii_graphic())),
                "content_cors_origins entries must be origins such as https://dash.example.com, not {o:?}"
            );
        }
        for (key, path) in [
            ("functions_dir", &c.functions_dir),
            ("node_path", &c.node_path),
            ("npm_path", &c.npm_path),
        ] {
            anyhow::ensure!(!path.trim().is_empty(), "{key} must not be empty");
        }
        anyhow::ensure!(
            (100..=600_000).contains(&c.function_timeout_millis),
            "function_timeout_millis must be 100 to 600000"
        );
        anyhow::ensure!(
            (100..=60_000).contains(&c.function_session_timeout_millis),
            "function_session_timeout_millis must be 100 to 60000"
        );
        anyhow::ensure!(
            (16..=16_384).contains(&c.function_heap_mb),
            "function_heap_mb must be 16 to 16384"
        );
        anyhow::ensure!(
            (1..=256).contains(&c.function_workers),
            "function_workers must be 1 to 256"
        );
        anyhow::ensure!(
            matches!(c.function_network.as_str(), "allow" | "deny"),
            "function_network must be allow or deny"
        );
        anyhow::ensure!(
            (1..=10).contains(&c.function_max_attempts),
            "function_max_attempts must be 1 to 10"
        );
        anyhow::ensure!(
            (1024..=(1 << 30)).contains(&c.max_json_body_bytes),
            "max_json_body_bytes must be 1024 to 1073741824"
        );
        anyhow::ensure!(
            (1..=3600).contains(&c.metrics_upkeep_seconds),
            "metrics_upkeep_seconds must be 1 to 3600"
        );
        anyhow::ensure!(
            c.metrics_username.is_some() == c.metrics_password.is_some(),
            "metrics_username and metrics_password go together"
        );
        anyhow::ensure!(
            (1..=3600).contains(&c.http_header_read_timeout_seconds),
            "http_header_read_timeout_seconds must be 1 to 3600"
        );
        anyhow::ensure!(
            (1..=86_400).contains(&c.http_idle_timeout_seconds),
            "http_idle_timeout_seconds must be 1 to 86400"
        );
        anyhow::ensure!(
            c.http_drain_timeout_seconds <= 3600,
            "http_drain_timeout_seconds must be 0 to 3600"
        );
        anyhow::ensure!(
            c.http_max_connections != Some(0) && c.http_max_concurrent_requests > 0,
            "http_max_connections and http_max_concurrent_requests must be positive"
        );
        if let Some(u) = &c.bootstrap_username {
            anyhow::ensure!(!u.trim().is_empty(), "bootstrap_username must not be empty");
        }
        if let Some(u) = &c.public_url {
            anyhow::ensure!(
                u.starts_with("http://") || u.starts_with("https://"),
                "public_url must start with http:// or https://"
            );
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_layers_win_over_earlier_and_defaults() {
        let file = Layer {
            database_url: Some("sqlite://f.db".into()),
            bcrypt_cost: Some(5),
            public_url: Some("https://chat.example.com".into()),
            ..Layer::default()
        };
        let env = Layer {
            bcrypt_cost: Some(6),
            ..Layer::default()
        };
        let cli = Layer {
            listen: Some("127.0.0.1:9000".parse().unwrap()),
            ..Layer::default()
        };
        let c = Config::from_layers(&[file, env, cli]).unwrap();
        assert_eq!(c.database_url, "sqlite://f.db");
        assert_eq!(c.bcrypt_cost, 6);
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.public_url.as_deref(), Some("https://chat.example.com"));
        assert_eq!(c.token_ttl_seconds, 1_209_600);
        assert_eq!(c.oauth_token_ttl_seconds, 43_200);
        assert_eq!(c.oauth_token_memo_millis, 1_000);
        assert_eq!(c.outbox_retention_hours, 168);
        assert_eq!(c.files_url, "./data/files");
        assert_eq!(c.max_upload_bytes, 104_857_600);
        assert!(!c.s3_allow_http);
    }

    #[test]
    fn bad_values_are_refused() {
        for (n, l) in [
            Layer {
                bcrypt_cost: Some(2),
                ..Layer::default()
            },
            Layer {
                token_ttl_seconds: Some(0),
                ..Layer::default()
            },
            Layer {
                oauth_token_ttl_seconds: Some(i64::MAX),
                ..Layer::default()
            },
            Layer {
                oauth_token_memo_millis: Some(60_001),
                ..Layer::default()
            },
            Layer {
                outbox_retention_hours: Some(0),
                ..Layer::default()
            },
            Layer {
                outbox_retention_hours: Some(10 * 366 * 24 + 1),
                ..Layer::default()
            },
            Layer {
                public_url: Some("chat.example.com".into()),
                ..Layer::default()
            },
            Layer {
                max_upload_bytes: Some(0),
                ..Layer::default()
            },
            Layer {
                files_url: Some(" ".into()),
                ..Layer::default()
            },
            Layer {
                s3_endpoint: Some("minio:9000".into()),
                ..Layer::default()
            },
            Layer {
                content_cors_origins: Some(vec!["dash.example.com".into()]),
                ..Layer::default()
            },
            Layer {
                content_cors_origins: Some(vec!["https://dash.example.com/app".into()]),
                ..Layer::default()
            },
            Layer {
                bootstrap_username: Some(" ".into()),
                ..Layer::default()
            },
        ]
        .iter()
        .enumerate()
        {
            assert!(
                Config::from_layers(std::slice::from_ref(l)).is_err(),
                "bad layer #{n} was accepted"
            );
        }
    }

    #[test]
    fn toml_files_parse_and_unknown_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "listen = \"0.0.0.0:80\"\ntoken_ttl_seconds = 60\n").unwrap();
        let l = Layer::from_file(&p).unwrap();
        assert_eq!(l.token_ttl_seconds, Some(60));
        std::fs::write(
            &p,
            "content_cors_origins = [\"https://dash.example.com\"]\nbootstrap_username = \"root\"\n",
        )
        .unwrap();
        let l = Layer::from_file(&p).unwrap();
        assert_eq!(
            l.content_cors_origins,
            Some(vec!["https://dash.example.com".to_string()])
        );
        assert_eq!(l.bootstrap_username.as_deref(), Some("root"));
        std::fs::write(&p, "nosuch = 1\n").unwrap();
        assert!(Layer::from_file(&p).is_err());
    }

    #[test]
    fn flags_fill_a_layer() {
        use clap::{CommandFactory, Parser};
        #[derive(clap::Parser)]
        struct Flags {
            #[command(flatten)]
            settings: Layer,
        }
        Flags::command().debug_assert();
        let f = Flags::try_parse_from([
            "palaver",
            "--listen",
            "127.0.0.1:9000",
            "--content-cors-origins",
            "https://a.example.com,https://b.example.com",
            "--read-cache",
            "false",
            "--job-workers",
            "0",
        ])
        .unwrap();
        let c = Config::from_layers(&[f.settings]).unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(
            c.content_cors_origins,
            Some(vec![
                "https://a.example.com".to_string(),
                "https://b.example.com".to_string()
            ])
        );
        assert_eq!(c.read_cache, Some(false));
        assert_eq!(c.job_workers, 0);
        assert!(Flags::try_parse_from(["palaver", "--job-workers", "many"]).is_err());
    }

    /// The README's table between its markers is [`markdown_table`]'s; run with
    /// `PALAVER_WRITE_README=1` to write it there after changing a setting.
    #[test]
    fn the_readme_shows_every_declared_setting() {
        const START: &str = "<!-- settings: made by config.rs -->\n";
        const END: &str = "<!-- /settings -->";
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
        let readme = std::fs::read_to_string(path).unwrap();
        let from = readme
            .find(START)
            .expect("the README has the settings markers")
            + START.len();
        let to = from + readme[from..].find(END).expect("the end marker");
        let table = markdown_table();
        if std::env::var_os("PALAVER_WRITE_README").is_some() {
            std::fs::write(path, format!("{}{table}{}", &readme[..from], &readme[to..])).unwrap();
            return;
        }
        assert!(
            readme[from..to] == table,
            "the README's settings table is not the one declared in config.rs: run \
             `PALAVER_WRITE_README=1 cargo test -p palaver --lib the_readme` to write it"
        );
        let documented = documented();
        assert!(documented.len() > 40);
        let listen = documented.iter().find(|d| d.key == "listen").unwrap();
        assert_eq!(listen.default, "`127.0.0.1:8080`");
        assert_eq!(listen.env, "PALAVER_LISTEN");
        let public_url = documented.iter().find(|d| d.key == "public_url").unwrap();
        assert_eq!(public_url.default, "none");
    }

    #[test]
    fn secrets_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("sqlite://data/p.db"), "sqlite://data/p.db");
        let c = Config {
            bootstrap_password: Some("hunter2".into()),
            bootstrap_client_secret: Some("s3cr3t-client".into()),
            s3_secret_access_key: Some("aws-s3cr3t".into()),
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hunter2")
                && !shown.contains("s3cr3t-client")
                && !shown.contains("aws-s3cr3t"),
            "{shown}"
        );
    }
}
