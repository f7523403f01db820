//! The platform API's use-cases: OAuth client credentials, applications and their settings,
//! chat users and their secrets. Every operation is bound to the caller's application.

mod applications;
mod oauth;
mod users;

pub use applications::{CreatedApplication, SettingsInput};
pub use oauth::TokenGrant;
pub use palaver_store::platform::{ApplicationRow, ChatUserRow};
pub use users::{NewUserInput, UserPatch, UsersQuery, USER_SORTABLE};

use palaver_store::platform::{Applications, ChatUsers, OauthTokens};
use palaver_store::{Db, Documents};

/// Platform API settings.
#[derive(Debug, Clone)]
pub struct PlatformConfig {
    /// Bearer token life in seconds (default 12 h).
    pub token_ttl_seconds: i64,
    /// Where clients reach the server, for links; `None` to build links from each request.
    pub public_url: Option<String>,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        Self {
            token_ttl_seconds: 43_200,
            public_url: None,
        }
    }
}

/// A platform API caller: the application its bearer token was issued to.
#[derive(Debug, Clone)]
pub struct AppPrincipal {
    pub application_id: i64,
    pub organisation_id: String,
}

#[derive(Debug, Clone)]
pub struct Platform {
    docs: Documents,
    apps: Applications,
    users: ChatUsers,
    tokens: OauthTokens,
    config: PlatformConfig,
}

impl Platform {
    pub fn new(db: Db, config: PlatformConfig) -> Self {
        Self {
            docs: Documents::new(db.clone()),
            apps: Applications::new(db.clone()),
            users: ChatUsers::new(db.clone()),
            tokens: OauthTokens::new(db),
            config,
        }
    }

    pub fn config(&self) -> &PlatformConfig {
        &self.config
    }
}

/// 32 random characters from `[A-Za-z0-9]`: keys, client ids, secrets and tokens.
pub(crate) fn random_token(len: usize) -> String {
    use rand::distributions::Alphanumeric;
    use rand::Rng;
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}
