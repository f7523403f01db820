//! [`App`]: the database, the services and the HTTP router, built from a [`Config`] and served
//! until a shutdown signal.

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use palaver_service::{AuthConfig, Bootstrap, BootstrapOutcome, Services};
use palaver_store::{Db, Dialect, ReadCache};
use tokio::net::TcpListener;

use crate::config::{redact_url, Config};

/// A built server, not yet listening.
pub struct App {
    pub config: Config,
    pub services: Services,
}

impl App {
    /// Connects to the database and brings its schema up to date.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let db = Db::connect(&config.database_url, config.max_connections)
            .await
            .with_context(|| {
                format!("cannot open database {}", redact_url(&config.database_url))
            })?;
        db.migrate().await.context("cannot migrate the database")?;
        let auth = AuthConfig {
            token_ttl_seconds: config.token_ttl_seconds,
            bcrypt_cost: config.bcrypt_cost,
        };
        let cache_on = config.read_cache.unwrap_or(db.dialect() == Dialect::Sqlite);
        let services = Services::new(db, auth, cache_on.then(ReadCache::new));
        Ok(App { config, services })
    }

    /// On an empty database, creates the `default` organisation and its superadmin.
    pub async fn bootstrap(&self) -> anyhow::Result<Option<BootstrapOutcome>> {
        let b = Bootstrap {
            email: self.config.bootstrap_email.clone(),
            password: self.config.bootstrap_password.clone(),
        };
        self.services
            .operator
            .bootstrap(&b)
            .await
            .map_err(|e| anyhow::anyhow!(e.into_domain()))
    }

    /// Binds the configured address (port 0 picks a free one) and returns it with the server
    /// future, which runs until `shutdown` completes, then drains open requests.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<(SocketAddr, impl Future<Output = anyhow::Result<()>>)> {
        let listener = TcpListener::bind(self.config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", self.config.listen))?;
        let addr = listener.local_addr()?;
        let router = palaver_api::router(self.services.clone());
        let db = self.services.db.clone();
        let server = async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await?;
            db.close().await;
            Ok(())
        };
        Ok((addr, server))
    }
}
