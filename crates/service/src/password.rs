//! Password rules and hashing (bcrypt, as LoopBack's User model stores them: `$2b$<cost>$…`).
//! Hashing runs on the blocking pool so that it never stalls the async workers.

use palaver_domain::{DomainError, ErrorCode};

/// bcrypt reads at most 72 bytes; LoopBack refuses longer passwords rather than truncating.
const MAX_PASSWORD_BYTES: usize = 72;

/// Checks a new password: a non-empty string of at most 72 UTF-8 bytes.
pub(crate) fn check(password: &serde_json::Value) -> Result<&str, DomainError> {
    let Some(p) = password.as_str().filter(|p| !p.is_empty()) else {
        return Err(DomainError::new(
            ErrorCode::InvalidPassword,
            "Invalid password.",
        ));
    };
    if p.len() > MAX_PASSWORD_BYTES {
        return Err(DomainError::new(
            ErrorCode::PasswordTooLong,
            format!(
                "The password entered was too long. Max length is {MAX_PASSWORD_BYTES} (entered {})",
                p.len()
            ),
        ));
    }
    Ok(p)
}

pub(crate) async fn hash(password: &str, cost: u32) -> Result<String, DomainError> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || bcrypt::hash(password, cost))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing stopped");
            DomainError::internal()
        })?
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            DomainError::internal()
        })
}

/// Checks `password` against a hash of nothing, taking as long as a real check; never matches.
pub(crate) async fn verify_against_nothing(password: &str, cost: u32) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = match DUMMY.get() {
        Some(h) => h.clone(),
        None => {
            let fresh = hash(&rand_filler(), cost).await.unwrap_or_default();
            DUMMY.get_or_init(|| fresh).clone()
        }
    };
    verify(password, &hash).await;
}

/// A value no one types, hashed once to have something to compare with.
fn rand_filler() -> String {
    use rand::distributions::Alphanumeric;
    use rand::Rng;
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

/// True when `password` matches `hash`. A malformed stored hash never matches.
pub(crate) async fn verify(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
        .await
        .unwrap_or(false)
}
