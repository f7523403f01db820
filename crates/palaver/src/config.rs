//! Configuration: one typed struct. Layers, lowest first: built-in defaults, an optional TOML
//! file, `PALAVER_*` environment variables, command-line flags. Secrets are never logged.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

/// Everything the server can be told.
#[derive(Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// `sqlite://path` (the default, a file under `./data/`) or `postgres://…`.
    pub database_url: String,
    /// Most database connections held open.
    pub max_connections: u32,
    /// Content API token life in seconds when a login does not ask for one.
    pub token_ttl_seconds: i64,
    /// Platform API bearer token life in seconds.
    pub oauth_token_ttl_seconds: i64,
    /// How long a platform bearer token's resolution is kept in memory (milliseconds; 0 keeps
    /// none). A token revoked by another process or instance works here for this long at most.
    pub oauth_token_memo_millis: u64,
    /// How long outbox events are kept, in hours: older ones are pruned once every consumer
    /// has handled them.
    pub outbox_retention_hours: u64,
    /// bcrypt work factor for new password hashes.
    pub bcrypt_cost: u32,
    /// Serve repeated reads of bot content and token lookups from memory until a write touches
    /// them. Exact only when this process makes every write, so `None` means on for SQLite and
    /// off for PostgreSQL (where several instances share the database).
    pub read_cache: Option<bool>,
    /// The URL clients reach this server at (for HAL links), e.g. `https://chat.example.com`.
    /// When absent, links are built from the request's `Host` / `X-Forwarded-*` headers.
    pub public_url: Option<String>,
    /// NATS server through which several instances share real-time events (`nats://host:4222`);
    /// without it the in-process bus serves one instance.
    pub nats_url: Option<String>,
    /// How long real-time sessions outlive their instance's last lease renewal, in seconds.
    pub session_lease_seconds: u64,
    /// How long a dropped real-time connection's sessions wait for their client to reconnect,
    /// in seconds (0: they end at once).
    pub session_resume_seconds: u64,
    /// Real-time actions one connection may make per `gateway_limit_window_seconds` (also its
    /// burst); 0: no limit.
    pub gateway_action_limit: u32,
    /// Real-time relays one connection may make per `gateway_limit_window_seconds`; 0: none.
    pub gateway_relay_limit: u32,
    /// The window of the two limits above, in seconds.
    pub gateway_limit_window_seconds: u64,
    /// How long after its last keystrokes a user stops typing, in milliseconds.
    pub typing_timeout_millis: u64,
    /// Background job workers of this instance (imports, exports, file clean-up); 0 runs none
    /// (another instance on the same database does the work).
    pub job_workers: usize,
    /// Where hosted files (uploads) are kept: a folder (`./data/files`), `file:///abs/dir`, or
    /// S3-compatible storage as `s3://bucket/prefix`.
    pub files_url: String,
    /// S3: the endpoint of an S3-compatible service (MinIO…); AWS's when absent.
    pub s3_endpoint: Option<String>,
    /// S3: the region (`AWS_REGION`, else `us-east-1`, when absent).
    pub s3_region: Option<String>,
    /// S3: the access key id (`AWS_ACCESS_KEY_ID` when absent).
    pub s3_access_key_id: Option<String>,
    /// S3: the secret access key (`AWS_SECRET_ACCESS_KEY` when absent). A secret.
    pub s3_secret_access_key: Option<String>,
    /// S3: allow an `http://` endpoint.
    pub s3_allow_http: bool,
    /// Let outbound calls (webhook deliveries, content channels' feeds) reach private,
    /// loopback and link-local addresses; refused by default.
    pub outbound_allow_private: bool,
    /// A content channel's feed fetch deadline (connect, redirects and body), in milliseconds.
    pub feed_timeout_millis: u64,
    /// The largest feed body a content channel reads, in bytes; a larger one is that source's
    /// error.
    pub feed_max_bytes: u64,
    /// The largest upload (display picture, file message) accepted, in bytes.
    pub max_upload_bytes: u64,
    /// The largest import file (`POST /imports/...`) accepted, in bytes.
    pub max_import_bytes: u64,
    /// Where chat functions' runtimes (npm installs) and workers' files live.
    pub functions_dir: String,
    /// The `node` executable chat functions run on (a bare name is looked up on `PATH`).
    pub node_path: String,
    /// The `npm` executable that installs runtimes' dependencies.
    pub npm_path: String,
    /// A non-blocking function invocation's deadline, in milliseconds.
    pub function_timeout_millis: u64,
    /// The start-session function's deadline, in milliseconds: a secured session start waits
    /// this long at most.
    pub function_session_timeout_millis: u64,
    /// V8 heap cap of each function worker, in MiB.
    pub function_heap_mb: u32,
    /// Function workers (one `node` process per application) alive at most.
    pub function_workers: usize,
    /// `allow` or `deny`: whether handlers may open network connections (`deny` runs workers
    /// in an empty network namespace with `unshare`).
    pub function_network: String,
    /// Runs of a failing non-blocking invocation at most, the first included.
    pub function_max_attempts: u32,
    /// Allow `file:` and path dependencies in runtimes (packages from this machine's disk).
    pub function_local_dependencies: bool,
    /// Origins whose browser pages may call the content API (`https://dash.example.com`), with
    /// credentials. When absent every origin may, as LoopBack's `cors: {origin: true}` allows.
    pub content_cors_origins: Option<Vec<String>>,
    /// First-start superadmin email; `admin@palaver.local` when absent.
    pub bootstrap_email: Option<String>,
    /// First-start superadmin username; the email's local part when absent.
    pub bootstrap_username: Option<String>,
    /// First-start superadmin password; generated (and printed once) when absent.
    pub bootstrap_password: Option<String>,
    /// First-start application client id; generated when absent.
    pub bootstrap_client_id: Option<String>,
    /// First-start application client secret; generated (and printed once) when absent.
    pub bootstrap_client_secret: Option<String>,
}

fn set(secret: &Option<String>) -> Option<&'static str> {
    secret.as_ref().map(|_| "<set>")
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("max_connections", &self.max_connections)
            .field("token_ttl_seconds", &self.token_ttl_seconds)
            .field("oauth_token_ttl_seconds", &self.oauth_token_ttl_seconds)
            .field("oauth_token_memo_millis", &self.oauth_token_memo_millis)
            .field("outbox_retention_hours", &self.outbox_retention_hours)
            .field("bcrypt_cost", &self.bcrypt_cost)
            .field("read_cache", &self.read_cache)
            .field("public_url", &self.public_url)
            .field("nats_url", &self.nats_url.as_deref().map(redact_url))
            .field("session_lease_seconds", &self.session_lease_seconds)
            .field("session_resume_seconds", &self.session_resume_seconds)
            .field("gateway_action_limit", &self.gateway_action_limit)
            .field("gateway_relay_limit", &self.gateway_relay_limit)
            .field(
                "gateway_limit_window_seconds",
                &self.gateway_limit_window_seconds,
            )
            .field("typing_timeout_millis", &self.typing_timeout_millis)
            .field("job_workers", &self.job_workers)
            .field("files_url", &self.files_url)
            .field("s3_endpoint", &self.s3_endpoint)
            .field("s3_region", &self.s3_region)
            .field("s3_access_key_id", &self.s3_access_key_id)
            .field("s3_secret_access_key", &set(&self.s3_secret_access_key))
            .field("s3_allow_http", &self.s3_allow_http)
            .field("outbound_allow_private", &self.outbound_allow_private)
            .field("feed_timeout_millis", &self.feed_timeout_millis)
            .field("feed_max_bytes", &self.feed_max_bytes)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("max_import_bytes", &self.max_import_bytes)
            .field("functions_dir", &self.functions_dir)
            .field("node_path", &self.node_path)
            .field("npm_path", &self.npm_path)
            .field("function_timeout_millis", &self.function_timeout_millis)
            .field(
                "function_session_timeout_millis",
                &self.function_session_timeout_millis,
            )
            .field("function_heap_mb", &self.function_heap_mb)
            .field("function_workers", &self.function_workers)
            .field("function_network", &self.function_network)
            .field("function_max_attempts", &self.function_max_attempts)
            .field(
                "function_local_dependencies",
                &self.function_local_dependencies,
            )
            .field("content_cors_origins", &self.content_cors_origins)
            .field("bootstrap_email", &self.bootstrap_email)
            .field("bootstrap_username", &self.bootstrap_username)
            .field("bootstrap_password", &set(&self.bootstrap_password))
            .field("bootstrap_client_id", &self.bootstrap_client_id)
            .field(
                "bootstrap_client_secret",
                &set(&self.bootstrap_client_secret),
            )
            .finish()
    }
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

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite://data/palaver.db".into(),
            max_connections: 16,
            token_ttl_seconds: 1_209_600,
            oauth_token_ttl_seconds: 43_200,
            oauth_token_memo_millis: 1_000,
            outbox_retention_hours: 168,
            bcrypt_cost: 10,
            read_cache: None,
            public_url: None,
            nats_url: None,
            session_lease_seconds: 30,
            session_resume_seconds: 15,
            gateway_action_limit: 300,
            gateway_relay_limit: 200,
            gateway_limit_window_seconds: 10,
            typing_timeout_millis: 5_000,
            job_workers: 2,
            files_url: "./data/files".into(),
            s3_endpoint: None,
            s3_region: None,
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_allow_http: false,
            outbound_allow_private: false,
            feed_timeout_millis: 10_000,
            feed_max_bytes: 5 * 1024 * 1024,
            max_upload_bytes: 104_857_600,
            max_import_bytes: 1 << 30,
            functions_dir: "./data/functions".into(),
            node_path: "node".into(),
            npm_path: "npm".into(),
            function_timeout_millis: 10_000,
            function_session_timeout_millis: 5_000,
            function_heap_mb: 128,
            function_workers: 4,
            function_network: "allow".into(),
            function_max_attempts: 1,
            function_local_dependencies: false,
            content_cors_origins: None,
            bootstrap_email: None,
            bootstrap_username: None,
            bootstrap_password: None,
            bootstrap_client_id: None,
            bootstrap_client_secret: None,
        }
    }
}

/// One layer of settings: every field optional, later layers win.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub listen: Option<SocketAddr>,
    pub database_url: Option<String>,
    pub max_connections: Option<u32>,
    pub token_ttl_seconds: Option<i64>,
    pub oauth_token_ttl_seconds: Option<i64>,
    pub oauth_token_memo_millis: Option<u64>,
    pub outbox_retention_hours: Option<u64>,
    pub bcrypt_cost: Option<u32>,
    pub read_cache: Option<bool>,
    pub public_url: Option<String>,
    pub nats_url: Option<String>,
    pub session_lease_seconds: Option<u64>,
    pub session_resume_seconds: Option<u64>,
    pub gateway_action_limit: Option<u32>,
    pub gateway_relay_limit: Option<u32>,
    pub gateway_limit_window_seconds: Option<u64>,
    pub typing_timeout_millis: Option<u64>,
    pub job_workers: Option<usize>,
    pub files_url: Option<String>,
    pub s3_endpoint: Option<String>,
    pub s3_region: Option<String>,
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<String>,
    pub s3_allow_http: Option<bool>,
    pub outbound_allow_private: Option<bool>,
    pub feed_timeout_millis: Option<u64>,
    pub feed_max_bytes: Option<u64>,
    pub max_upload_bytes: Option<u64>,
    pub max_import_bytes: Option<u64>,
    pub functions_dir: Option<String>,
    pub node_path: Option<String>,
    pub npm_path: Option<String>,
    pub function_timeout_millis: Option<u64>,
    pub function_session_timeout_millis: Option<u64>,
    pub function_heap_mb: Option<u32>,
    pub function_workers: Option<usize>,
    pub function_network: Option<String>,
    pub function_max_attempts: Option<u32>,
    pub function_local_dependencies: Option<bool>,
    pub content_cors_origins: Option<Vec<String>>,
    pub bootstrap_email: Option<String>,
    pub bootstrap_username: Option<String>,
    pub bootstrap_password: Option<String>,
    pub bootstrap_client_id: Option<String>,
    pub bootstrap_client_secret: Option<String>,
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
            macro_rules! take {
                ($($f:ident),*) => { $( if let Some(v) = l.$f.clone() { c.$f = v; } )* };
            }
            macro_rules! take_optional {
                ($($f:ident),*) => { $( if l.$f.is_some() { c.$f = l.$f.clone(); } )* };
            }
            take!(
                listen,
                database_url,
                max_connections,
                token_ttl_seconds,
                oauth_token_ttl_seconds,
                oauth_token_memo_millis,
                outbox_retention_hours,
                session_lease_seconds,
                session_resume_seconds,
                gateway_action_limit,
                gateway_relay_limit,
                gateway_limit_window_seconds,
                typing_timeout_millis,
                job_workers,
                files_url,
                s3_allow_http,
                outbound_allow_private,
                feed_timeout_millis,
                feed_max_bytes,
                max_upload_bytes,
                max_import_bytes,
                functions_dir,
                node_path,
                npm_path,
                function_timeout_millis,
                function_session_timeout_millis,
                function_heap_mb,
                function_workers,
                function_network,
                function_max_attempts,
                function_local_dependencies,
                bcrypt_cost
            );
            take_optional!(
                read_cache,
                public_url,
                nats_url,
                s3_endpoint,
                s3_region,
                s3_access_key_id,
                s3_secret_access_key,
                content_cors_origins,
                bootstrap_email,
                bootstrap_username,
                bootstrap_password,
                bootstrap_client_id,
                bootstrap_client_secret
            );
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
        for l in [
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
        ] {
            assert!(
                Config::from_layers(std::slice::from_ref(&l)).is_err(),
                "{l:?}"
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
