//! `POST /oauth/token` with the client credentials grant, and bearer token resolution.

use palaver_domain::{DomainError, ErrorCode};

use super::client_secrets::{self, Verdict};
use super::{random_token, AppPrincipal, Platform};
use crate::auth::digest;
use crate::error::Result;
use crate::password;

/// A granted bearer token.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub access_token: String,
    pub expires_in: i64,
    pub scope: String,
}

impl Platform {
    /// Grants a token to the application whose client credentials these are.
    pub async fn grant(&self, client_id: &str, client_secret: &str) -> Result<TokenGrant> {
        let bad_client = || DomainError::new(ErrorCode::InvalidClient, "Bad client credentials");
        let Some(app) = self.apps.by_client_id(client_id).await? else {
            // Spend what a wrong secret costs, so timing does not tell which client ids exist.
            password::verify_against_nothing(client_secret, self.config.bcrypt_cost).await;
            return Err(bad_client().into());
        };
        match client_secrets::verify(client_secret, &app.client_secret_digest).await {
            Verdict::Wrong => return Err(bad_client().into()),
            Verdict::Right => {}
            Verdict::RightLegacy => self.rehash_client_secret(&app, client_secret).await,
        }
        let token = random_token(40);
        let now = self.now();
        let ttl = self.config.token_ttl_seconds;
        // Expired tokens are swept as new ones are granted, so the table holds live ones only.
        self.tokens.purge_expired(now).await?;
        self.tokens
            .insert(
                &digest(&token),
                app.id,
                now,
                now.saturating_add(ttl.saturating_mul(1000)),
            )
            .await?;
        Ok(TokenGrant {
            access_token: token,
            expires_in: ttl,
            scope: format!(
                "org:{}:app:{} create:* read:* update:* delete:*",
                app.organisation_id, app.id
            ),
        })
    }

    /// Replaces an application's legacy secret digest with a hash of the secret just shown
    /// to match it, unless the row changed meanwhile (a rotation). A failure leaves the digest,
    /// which keeps working; the grant goes on either way.
    async fn rehash_client_secret(
        &self,
        app: &palaver_store::platform::ApplicationRow,
        secret: &str,
    ) {
        // A legacy secret longer than bcrypt reads keeps its digest until it is rotated.
        let Ok(hash) = client_secrets::hash(secret, self.config.bcrypt_cost).await else {
            tracing::warn!(application = app.id, "client secret kept as a digest");
            return;
        };
        match self
            .apps
            .replace_secret_digest(app.id, &app.client_secret_digest, &hash)
            .await
        {
            Ok(true) => tracing::info!(application = app.id, "client secret digest re-hashed"),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(application = app.id, error = %e, "client secret not re-hashed")
            }
        }
    }

    /// The application a live bearer token speaks for; `None` when unknown or expired.
    pub async fn authenticate(&self, bearer: &str) -> Result<Option<AppPrincipal>> {
        if bearer.is_empty() || bearer.len() > 512 {
            return Ok(None);
        }
        let key = digest(bearer);
        let now = self.now();
        let owner = match self.token_memo.get(&key, now) {
            Ok(owner) => owner,
            Err(generation) => {
                // Unknown tokens are not remembered: guessing must not fill the memory.
                let Some(owner) = self.tokens.application_of(&key, now).await? else {
                    return Ok(None);
                };
                self.token_memo.keep(&key, &owner, generation);
                owner
            }
        };
        Ok(Some(AppPrincipal {
            application_id: owner.application_id,
            organisation_id: owner.organisation_id,
        }))
    }
}
