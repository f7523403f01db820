//! Content API authentication with LoopBack's `User`/`AccessToken` semantics: log in with email
//! and password for a 64-character token, resolve a token to its account, log out.

use base64::Engine;
use palaver_domain::time::{format_millis, Clock};
use palaver_domain::{models, DomainError, ErrorCode};
use palaver_store::{AccessTokenRow, Documents, Tokens};
use rand::distributions::Alphanumeric;
use rand::Rng;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::content::present;
use crate::error::Result;
use crate::password;
use crate::principal::{Principal, Role};

/// LoopBack's longest allowed token life: one year.
const MAX_TTL_SECONDS: i64 = 31_556_926;

/// Token and password settings.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Token life when the login does not ask for one (LoopBack: two weeks).
    pub token_ttl_seconds: i64,
    /// bcrypt work factor for new password hashes.
    pub bcrypt_cost: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            token_ttl_seconds: 1_209_600,
            bcrypt_cost: 10,
        }
    }
}

/// The result of a successful login.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    pub token: String,
    pub ttl: i64,
    pub created: String,
    pub user: Map<String, Value>,
}

#[derive(Debug, Clone)]
pub struct Auth {
    docs: Documents,
    tokens: Tokens,
    config: AuthConfig,
    /// Token lives are counted on the service clock, which tests move.
    clock: Clock,
}

/// SHA-256 of a token, hex-encoded: what the store keeps.
pub(crate) fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Accepts the forms LoopBack reads from `Authorization`: the raw token, `Bearer <base64(token)>`
/// and `Basic <base64(user:token)>` (the longer part is the token).
pub fn token_from_authorization(header: &str) -> String {
    let header = header.trim();
    let decode = |s: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
    };
    if let Some(rest) = header.strip_prefix("Bearer ") {
        return decode(rest).unwrap_or_else(|| rest.trim().to_string());
    }
    if let Some(rest) = header.strip_prefix("Basic ") {
        if let Some(pair) = decode(rest) {
            let (a, b) = pair.split_once(':').unwrap_or((&pair, ""));
            return if a.len() >= b.len() {
                a.to_string()
            } else {
                b.to_string()
            };
        }
    }
    header.to_string()
}

impl Auth {
    pub fn new(docs: Documents, tokens: Tokens, config: AuthConfig, clock: Clock) -> Self {
        Self {
            docs,
            tokens,
            config,
            clock,
        }
    }

    /// `POST /api/users/login`.
    pub async fn login(&self, body: &Value) -> Result<LoginOutcome> {
        let email = body.get("email").filter(|v| !v.is_null());
        let username = body.get("username").filter(|v| !v.is_null());
        let (field, value) = match (email, username) {
            (Some(Value::String(e)), _) => ("email", e.clone()),
            (Some(_), _) => {
                return Err(
                    DomainError::new(ErrorCode::InvalidEmail, "email must be a string").into(),
                )
            }
            (None, Some(Value::String(u))) => ("username", u.clone()),
            (None, Some(_)) => {
                return Err(
                    DomainError::new(ErrorCode::BadRequest, "username must be a string").into(),
                )
            }
            (None, None) => {
                return Err(DomainError::new(
                    ErrorCode::UsernameEmailRequired,
                    "username or email is required",
                )
                .into())
            }
        };
        let login_failed = || DomainError::new(ErrorCode::LoginFailed, "login failed");
        let Some(password) = body.get("password").and_then(Value::as_str) else {
            return Err(login_failed().into());
        };
        let mut account = None;
        let candidates = self
            .docs
            .login_candidates(&models::USER, field, &value)
            .await?;
        if candidates.is_empty() {
            // Spend what a wrong password costs, so timing does not tell which emails exist.
            password::verify_against_nothing(password, self.config.bcrypt_cost).await;
        }
        for candidate in candidates {
            let hash = candidate
                .get("password")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if password::verify(password, hash).await {
                account = Some(candidate);
                break;
            }
        }
        let Some(account) = account else {
            return Err(login_failed().into());
        };
        let ttl = match body.get("ttl").and_then(Value::as_i64) {
            Some(t) if t > 0 => t.min(MAX_TTL_SECONDS),
            _ => self.config.token_ttl_seconds,
        };
        let token: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(64)
            .map(char::from)
            .collect();
        let created = self.clock.now_millis();
        let text = |k: &str| {
            account
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        self.tokens
            .insert(&AccessTokenRow {
                digest: digest(&token),
                account_id: text("id"),
                organisation_id: text("organisation_id"),
                ttl,
                created,
            })
            .await?;
        Ok(LoginOutcome {
            token,
            ttl,
            created: format_millis(created),
            user: present(&models::USER, &account, None),
        })
    }

    /// Resolves a token to its caller. `None` for unknown or expired tokens (an expired one is
    /// deleted on sight).
    pub async fn authenticate(&self, token: &str) -> Result<Option<Principal>> {
        if token.is_empty() || token.len() > 512 {
            return Ok(None);
        }
        let digest = digest(token);
        let Some(owner) = self.tokens.resolve(&digest).await? else {
            return Ok(None);
        };
        let row = owner.token;
        if self.clock.now_millis() - row.created >= row.ttl.saturating_mul(1000) {
            self.tokens
                .delete(&row.organisation_id, &row.account_id, &digest)
                .await?;
            return Ok(None);
        }
        let Some(role) = Role::parse(&owner.role) else {
            return Ok(None);
        };
        Ok(Some(Principal {
            account_id: row.account_id,
            organisation_id: row.organisation_id,
            role,
            username: owner.username,
            token_digest: digest,
        }))
    }

    /// `POST /api/users/logout`: the caller's token stops working.
    pub async fn logout(&self, principal: Option<&Principal>) -> Result<()> {
        let refused = || {
            DomainError::new(
                ErrorCode::LogoutWithoutToken,
                "accessToken is required to logout",
            )
        };
        let Some(p) = principal else {
            return Err(refused().into());
        };
        if !self
            .tokens
            .delete(&p.organisation_id, &p.account_id, &p.token_digest)
            .await?
        {
            return Err(refused().into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_header_forms() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert_eq!(token_from_authorization("abc123"), "abc123");
        assert_eq!(
            token_from_authorization(&format!("Bearer {}", b64("tok"))),
            "tok"
        );
        assert_eq!(
            token_from_authorization(&format!("Basic {}", b64("me:longtoken"))),
            "longtoken"
        );
        assert_eq!(
            token_from_authorization(&format!("Basic {}", b64("longtoken:x"))),
            "longtoken"
        );
    }

    #[test]
    fn digests_are_stable_hex() {
        assert_eq!(
            digest("a"),
            "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
        );
        assert_eq!(digest("a"), digest("a"));
        assert_ne!(digest("a"), digest("b"));
    }
}
