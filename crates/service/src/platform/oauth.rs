//! `POST /oauth/token` with the client credentials grant, and bearer token resolution.

use palaver_domain::{DomainError, ErrorCode};

use super::{random_token, AppPrincipal, Platform};
use crate::auth::digest;
use crate::error::Result;

/// A granted bearer token.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub access_token: String,
    pub expires_in: i64,
    pub scope: String,
}

/// Compares two digests without an early exit, so timing tells nothing of a near miss.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Platform {
    /// Grants a token to the application whose client credentials these are.
    pub async fn grant(&self, client_id: &str, client_secret: &str) -> Result<TokenGrant> {
        let bad_client = || DomainError::new(ErrorCode::InvalidClient, "Bad client credentials");
        let app = self
            .apps
            .by_client_id(client_id)
            .await?
            .ok_or_else(bad_client)?;
        if !same(&digest(client_secret), &app.client_secret_digest) {
            return Err(bad_client().into());
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

#[cfg(test)]
mod tests {
    #[test]
    fn digests_compare_whole() {
        assert!(super::same("abc", "abc"));
        assert!(!super::same("abc", "abd"));
        assert!(!super::same("abc", "ab"));
    }
}
