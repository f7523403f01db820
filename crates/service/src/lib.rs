//! Palaver's use-cases. Every operation takes the caller ([`Principal`]) and checks what it may
//! do, validates input into the model's shape, and writes through the store. HTTP faces call these
//! and only render; they never touch the store.

mod auth;
pub mod content;
mod error;
pub mod fetch;
pub mod jobs;
mod operator;
mod password;
pub mod platform;
mod principal;
pub mod secrets;

pub use auth::{token_from_authorization, Auth, AuthConfig, LoginOutcome};
pub use content::Content;
pub use error::ServiceError;
pub use jobs::{JobLease, JobQueue};
pub use operator::{Bootstrap, BootstrapOutcome, Operator};
pub use platform::{AppPrincipal, Platform, PlatformConfig};
pub use principal::{Principal, Role};

use std::sync::Arc;

use palaver_store::{Db, Documents, ReadCache, Tokens};

/// All services over one database: a shared handle, cloned per request for nothing more than
/// a reference count.
#[derive(Debug, Clone)]
pub struct Services(Arc<ServiceSet>);

impl std::ops::Deref for Services {
    type Target = ServiceSet;

    fn deref(&self) -> &ServiceSet {
        &self.0
    }
}

/// The services behind a [`Services`] handle.
#[derive(Debug)]
pub struct ServiceSet {
    pub db: Db,
    pub auth: Auth,
    pub content: Content,
    pub operator: Operator,
    pub platform: Platform,
}

impl Services {
    /// Services over `db`, with hosted files in `files`, sealing secrets at rest with `sealer`
    /// (see [`secrets::open`]); with `cache`, repeated reads of bot content and token
    /// resolutions are served from memory until a write touches their tables (see
    /// [`ReadCache`]).
    pub fn new(
        db: Db,
        auth_config: AuthConfig,
        platform_config: PlatformConfig,
        files: platform::FileStore,
        cache: Option<Arc<ReadCache>>,
        sealer: secrets::Sealer,
    ) -> Self {
        let docs = Documents::with_cache(db.clone(), cache.clone());
        let tokens = Tokens::with_cache(db.clone(), cache);
        let clock = platform_config.clock.clone();
        let outbound = platform_config.outbound.clone();
        let feeds = platform_config.feeds.clone();
        let auth = Auth::new(docs.clone(), tokens.clone(), auth_config.clone(), clock);
        let platform = Platform::new(db.clone(), platform_config, files, sealer.clone());
        // One job queue (and one clock) for the whole instance: content's scheduled flakes wake
        // the same workers as the platform's jobs.
        let content = Content::new(
            docs.clone(),
            tokens,
            auth_config.bcrypt_cost,
            platform.jobs().clone(),
            sealer,
        )
        .with_delivery(platform.clone(), outbound)
        .with_fetch_limits(feeds);
        Self(Arc::new(ServiceSet {
            operator: Operator::with_content(docs, content.clone()),
            content,
            auth,
            platform,
            db,
        }))
    }
}

impl ServiceSet {
    /// True while the database answers (for load balancers' health checks).
    pub async fn healthy(&self) -> bool {
        self.db.ping().await
    }
}
