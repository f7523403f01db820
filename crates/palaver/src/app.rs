//! [`App`]: the database, the services and the HTTP router, built from a [`Config`] and served
//! until a shutdown signal.

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use palaver_domain::time::Clock;
use palaver_files::{FileStore, FilesConfig};
use palaver_gateway::broker::Broker;
use palaver_gateway::{Gateway, GatewayConfig, RateLimit};
use palaver_jobs::{FunctionHost, Supervisor, Worker};
use palaver_service::fetch::FetchLimits;
use palaver_service::platform::CreatedApplication;
use palaver_service::secrets::SecretsConfig;
use palaver_service::{AuthConfig, Bootstrap, BootstrapOutcome, PlatformConfig, Services};
use palaver_store::{Db, Dialect, ReadCache};
use tokio::net::TcpListener;

use crate::config::{redact_url, Config};
use crate::listener::ServeLimits;

/// How long background tasks get to finish their work (a job worker its job) at shutdown.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// A job worker named uniquely across instances and restarts (it marks the leases it holds).
pub fn job_worker(services: &Services, functions: &FunctionHost, n: usize) -> Worker {
    use rand::Rng;
    let tag: u32 = rand::thread_rng().gen();
    Worker::new(
        services.platform.jobs().clone(),
        palaver_jobs::handlers(services, functions),
        format!("worker-{tag:08x}-{n}"),
    )
}

/// What the first start created.
pub struct FirstStart {
    pub account: BootstrapOutcome,
    pub application: CreatedApplication,
    /// The client secret was generated (and must be shown once).
    pub generated_secret: bool,
}

/// A built server, not yet listening.
pub struct App {
    pub config: Config,
    pub services: Services,
    /// Runs chat functions: job handlers, and the gateway's start-session decisions.
    pub functions: FunctionHost,
    /// Rate and body limits of the HTTP faces, shared with the chat functions' platform calls:
    /// defaults until [`palaver_api::Limits::configure`] says otherwise.
    pub limits: palaver_api::Limits,
    /// `/metrics` and its upkeep, as configured.
    pub metrics: crate::telemetry::MetricsConfig,
    /// Run every request in its span with its request id, and count it (on by default; the
    /// benchmarks turn it off to measure what it costs).
    pub request_spans: bool,
    /// Where the metrics listener bound and how many upkeep rounds ran, once serving.
    pub metrics_probe: crate::telemetry::MetricsProbe,
}

impl App {
    /// Connects to the database and brings its schema up to date.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        Self::build_with_clock(config, Clock::system()).await
    }

    /// As [`App::build`], with the services reading the time from `clock` (tests move it).
    pub async fn build_with_clock(config: Config, clock: Clock) -> anyhow::Result<App> {
        // The key file beside the data, until the configuration names the key.
        let mut secrets = SecretsConfig::beside(&config.database_url);
        secrets.key = config.secrets_key.clone();
        if let Some(file) = &config.secrets_key_file {
            secrets.key_file = file.into();
        }
        Self::build_with(config, clock, secrets).await
    }

    /// As [`App::build_with_clock`], with the secrets key from `secrets`.
    pub async fn build_with(
        config: Config,
        clock: Clock,
        secrets: SecretsConfig,
    ) -> anyhow::Result<App> {
        let db = Db::connect(&config.database_url, config.max_connections)
            .await
            .with_context(|| {
                format!("cannot open database {}", redact_url(&config.database_url))
            })?;
        db.migrate().await.context("cannot migrate the database")?;
        // Before anything is served: a wrong key stops the start here, and values stored
        // before sealing existed are sealed (SQL cannot, not having the key).
        let sealer = palaver_service::secrets::open(&db, &secrets)
            .await
            .context("cannot open the secrets key")?;
        palaver_service::secrets::seal_plain(&db, &sealer)
            .await
            .context("cannot seal the stored secrets")?;
        let auth = AuthConfig {
            token_ttl_seconds: config.token_ttl_seconds,
            bcrypt_cost: config.bcrypt_cost,
        };
        let cache_on = config.read_cache.unwrap_or(db.dialect() == Dialect::Sqlite);
        let platform = PlatformConfig {
            token_ttl_seconds: config.oauth_token_ttl_seconds,
            token_memo_max_age: std::time::Duration::from_millis(config.oauth_token_memo_millis),
            public_url: config.public_url.clone(),
            clock,
            max_upload_bytes: config.max_upload_bytes,
            max_import_bytes: config.max_import_bytes,
            bcrypt_cost: config.bcrypt_cost,
            outbound: FetchLimits::webhooks(config.outbound_allow_private),
            feeds: FetchLimits {
                allow_private: config.outbound_allow_private,
                timeout: std::time::Duration::from_millis(config.feed_timeout_millis),
                max_bytes: config.feed_max_bytes,
                ..FetchLimits::default()
            },
            ..PlatformConfig::default()
        };
        let files = FileStore::from_config(&FilesConfig {
            url: config.files_url.clone(),
            s3_endpoint: config.s3_endpoint.clone(),
            s3_region: config.s3_region.clone(),
            s3_access_key_id: config.s3_access_key_id.clone(),
            s3_secret_access_key: config.s3_secret_access_key.clone(),
            s3_allow_http: config.s3_allow_http,
        })
        .with_context(|| format!("cannot open file storage {}", config.files_url))?;
        let services = Services::new(
            db,
            auth,
            platform,
            files,
            cache_on.then(ReadCache::new),
            sealer,
        );
        let limits = palaver_api::Limits::new(&rate_limits(&config), &body_limits(&config));
        let functions = crate::functions::host(&config, &services, &limits).await?;
        let metrics = metrics_config(&config);
        Ok(App {
            config,
            services,
            functions,
            limits,
            metrics,
            request_spans: true,
            metrics_probe: Default::default(),
        })
    }

    /// On an empty database, creates the `default` organisation, its superadmin and its first
    /// application.
    pub async fn bootstrap(&self) -> anyhow::Result<Option<FirstStart>> {
        let b = Bootstrap {
            email: self.config.bootstrap_email.clone(),
            username: self.config.bootstrap_username.clone(),
            password: self.config.bootstrap_password.clone(),
        };
        let fail = |e: palaver_service::ServiceError| anyhow::anyhow!(e.into_domain());
        let Some(account) = self.services.operator.bootstrap(&b).await.map_err(fail)? else {
            return Ok(None);
        };
        let credentials = match (
            &self.config.bootstrap_client_id,
            &self.config.bootstrap_client_secret,
        ) {
            (Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
            (None, None) => None,
            _ => anyhow::bail!("bootstrap client id and client secret go together"),
        };
        let generated_secret = credentials.is_none();
        let application = self
            .services
            .platform
            .create_application(&account.organisation_id, "default", credentials)
            .await
            .map_err(fail)?;
        Ok(Some(FirstStart {
            account,
            application,
            generated_secret,
        }))
    }

    /// Binds the configured address (port 0 picks a free one) and returns it with the server
    /// future, which runs until `shutdown` completes, then drains open requests.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<(SocketAddr, impl Future<Output = anyhow::Result<()>>)> {
        let limits = serve_limits(&self.config);
        self.serve_with_limits(limits, shutdown).await
    }

    /// As [`App::serve`], with connections served under `serve_limits` (timeouts and caps).
    pub async fn serve_with_limits(
        self,
        serve_limits: ServeLimits,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<(SocketAddr, impl Future<Output = anyhow::Result<()>>)> {
        let listener = TcpListener::bind(self.config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", self.config.listen))?;
        let addr = listener.local_addr()?;
        let window = std::time::Duration::from_secs(self.config.gateway_limit_window_seconds);
        let gateway = Gateway::new(
            self.services.clone(),
            GatewayConfig {
                public_url: self.config.public_url.clone(),
                session_lease: std::time::Duration::from_secs(self.config.session_lease_seconds),
                resume_grace: std::time::Duration::from_secs(self.config.session_resume_seconds),
                action_limit: RateLimit::new(self.config.gateway_action_limit, window),
                relay_limit: RateLimit::new(self.config.gateway_relay_limit, window),
                typing_timeout: std::time::Duration::from_millis(self.config.typing_timeout_millis),
                max_frame_bytes: self.config.gateway_max_frame_bytes,
                outgoing_queue: self.config.gateway_outgoing_queue,
                heartbeat: std::time::Duration::from_millis(self.config.gateway_heartbeat_millis),
                connect_timeout: std::time::Duration::from_secs(
                    self.config.gateway_connect_timeout_seconds,
                ),
                idle_timeout: std::time::Duration::from_secs(
                    self.config.gateway_idle_timeout_seconds,
                ),
            },
        )
        // Secured sessions start as the application's start-session function decides.
        .with_gate(std::sync::Arc::new(self.functions.clone()));
        // Several instances share their events through the broker; one serves alone without.
        let broker =
            match &self.config.nats_url {
                Some(url) => Some(Broker::connect(url, self.services.clone()).await.map_err(
                    |e| anyhow::anyhow!("cannot connect to NATS at {}: {e}", redact_url(url)),
                )?),
                None => None,
            };
        // The gateway's upload streams are HTTP routes answering with its resources.
        let views = palaver_api::StreamViews {
            message: palaver_gateway::resources::message,
            current_user: palaver_gateway::resources::current_user,
        };
        let metrics = crate::telemetry::Metrics::bind(&self.metrics, &self.metrics_probe).await?;
        let router = palaver_api::faces(
            self.services.clone(),
            self.config.content_cors_origins.as_deref(),
            &self.limits,
            &palaver_api::DocsConfig {
                enabled: self.config.docs_enabled,
            },
        )
        .merge(palaver_api::stream_routes(self.services.clone(), views))
        .merge(gateway.clone().router())
        .merge(
            metrics
                .as_ref()
                .map(|m| m.main_routes())
                .unwrap_or_default(),
        );
        // Every request runs in its span with its request id, and is counted.
        let router = palaver_api::outermost(router, self.request_spans);
        let db = self.services.db.clone();
        let retention = std::time::Duration::from_secs(self.config.outbox_retention_hours * 3600);
        let mut tasks = Supervisor::new();
        if let Some(m) = metrics {
            m.spawn(&mut tasks, db.clone(), self.metrics_probe.clone());
        }
        // Notifications are made from committed events, beside the requests that commit them.
        let services = self.services.clone();
        tasks.spawn_until_stopped(
            "notifier",
            async move { services.platform.run_notifier().await },
        );
        // Non-blocking chat functions run as jobs enqueued from the same events.
        let services = self.services.clone();
        tasks.spawn_until_stopped("function triggers", async move {
            services.platform.run_function_triggers().await
        });
        // Events past retention that every consumer has handled are deleted now and then.
        let services = self.services.clone();
        tasks.spawn_until_stopped("outbox pruner", async move {
            services.platform.run_outbox_pruner(retention).await
        });
        // Real-time topics are fed from the same events.
        let hub = gateway.clone();
        tasks.spawn_until_stopped("session leases", async move { hub.run_leases().await });
        let hub = gateway.clone();
        tasks.spawn_until_stopped("real-time hub", async move { hub.run_hub().await });
        for n in 0..self.config.job_workers {
            let worker = job_worker(&self.services, &self.functions, n);
            tasks.spawn("job worker", move |stopping| async move {
                worker.run(stopping).await
            });
        }
        let ending = gateway.clone();
        let functions = self.functions.clone();
        let server = async move {
            crate::listener::serve(listener, router, serve_limits, shutdown).await;
            tasks.shutdown(SHUTDOWN_GRACE).await;
            functions.shutdown();
            ending.end_own_sessions().await;
            if let Some(b) = &broker {
                b.stop();
            }
            db.close().await;
            Ok(())
        };
        Ok((addr, server))
    }
}

/// The HTTP faces' rate limits, as configured.
fn rate_limits(c: &Config) -> palaver_api::RateLimitConfig {
    use palaver_api::RateLimit;
    palaver_api::RateLimitConfig {
        platform_per_app: RateLimit::new(
            c.rate_limit_platform_per_second,
            c.rate_limit_platform_burst,
        ),
        content_per_token: RateLimit::new(
            c.rate_limit_content_token_per_second,
            c.rate_limit_content_token_burst,
        ),
        per_ip: RateLimit::new(c.rate_limit_ip_per_second, c.rate_limit_ip_burst),
        login_per_ip: RateLimit::new(c.rate_limit_login_per_second, c.rate_limit_login_burst),
        trust_forwarded_for: c.rate_limit_trust_forwarded_for,
    }
}

/// The HTTP faces' body limit, as configured.
fn body_limits(c: &Config) -> palaver_api::BodyLimitConfig {
    palaver_api::BodyLimitConfig {
        max_json_bytes: c.max_json_body_bytes,
    }
}

/// `/metrics` and its upkeep, as configured.
fn metrics_config(c: &Config) -> crate::telemetry::MetricsConfig {
    crate::telemetry::MetricsConfig {
        enabled: c.metrics_enabled,
        listen: c.metrics_listen,
        username: c.metrics_username.clone(),
        password: c.metrics_password.clone(),
        upkeep_seconds: c.metrics_upkeep_seconds,
    }
}

/// How connections are served, as configured.
fn serve_limits(c: &Config) -> ServeLimits {
    use std::time::Duration;
    let defaults = ServeLimits::default();
    ServeLimits {
        header_read_timeout: Duration::from_secs(c.http_header_read_timeout_seconds),
        idle_timeout: Duration::from_secs(c.http_idle_timeout_seconds),
        max_connections: c.http_max_connections.unwrap_or(defaults.max_connections),
        max_concurrent_requests: c.http_max_concurrent_requests,
        drain_timeout: Duration::from_secs(c.http_drain_timeout_seconds),
    }
}
