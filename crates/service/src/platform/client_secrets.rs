//! Client secrets at rest: a bcrypt hash at the configured cost, as account passwords are kept,
//! made and checked on the blocking pool so that a grant never stalls the async workers.
//! Applications made before kept a hex SHA-256 digest: it is still accepted, and the grant that
//! presents the right secret replaces it with a hash (a digest cannot become one without it).

use palaver_domain::{DomainError, ErrorCode};

use crate::auth::digest;

/// bcrypt reads 72 bytes at most, the terminating NUL included; a longer secret is refused
/// rather than cut short.
pub(crate) const MAX_SECRET_BYTES: usize = 71;

/// The fewest bytes an operator-chosen secret may have.
pub(crate) const MIN_SECRET_BYTES: usize = 8;

/// What checking a presented secret against the stored one found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Wrong,
    Right,
    /// Right, against a legacy digest that should be replaced by a hash.
    RightLegacy,
}

/// Refuses a secret bcrypt cannot keep whole, or one too short to be one.
pub(crate) fn check(secret: &str) -> Result<(), DomainError> {
    if (MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&secret.len()) {
        Ok(())
    } else {
        Err(DomainError::new(
            ErrorCode::InvalidParameter,
            format!(
                "a client secret has {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes, not {}",
                secret.len()
            ),
        ))
    }
}

/// The hash to store for `secret` (checked with [`check`] first).
pub(crate) async fn hash(secret: &str, cost: u32) -> Result<String, DomainError> {
    check(secret)?;
    let secret = secret.to_string();
    tokio::task::spawn_blocking(move || bcrypt::non_truncating_hash(secret, cost))
        .await
        .map_err(|_| DomainError::internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "client secret hashing failed");
            DomainError::internal()
        })
}

/// A legacy digest: 64 lowercase hex characters (a bcrypt hash starts with `$2`).
fn is_legacy_digest(stored: &str) -> bool {
    stored.len() == 64
        && stored
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Compares two digests without an early exit, so timing tells nothing of a near miss.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Checks `secret` against what the application's row holds.
pub(crate) async fn verify(secret: &str, stored: &str) -> Verdict {
    if is_legacy_digest(stored) {
        return if same(&digest(secret), stored) {
            Verdict::RightLegacy
        } else {
            Verdict::Wrong
        };
    }
    let (secret, stored) = (secret.to_string(), stored.to_string());
    // Refuses (rather than cuts) a presented secret longer than bcrypt reads: its first bytes
    // alone must not pass for it.
    let right = tokio::task::spawn_blocking(move || {
        bcrypt::non_truncating_verify(secret, &stored).unwrap_or(false)
    })
    .await
    .unwrap_or(false);
    if right {
        Verdict::Right
    } else {
        Verdict::Wrong
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_is_bcrypt_and_checks_the_whole_secret() {
        let h = hash("the-client-secret", 4).await.unwrap();
        assert!(h.starts_with("$2"), "{h}");
        assert_eq!(verify("the-client-secret", &h).await, Verdict::Right);
        assert_eq!(verify("the-client-secreT", &h).await, Verdict::Wrong);
        assert_eq!(verify("", &h).await, Verdict::Wrong);
    }

    #[tokio::test]
    async fn a_secret_of_the_most_bytes_is_not_matched_by_a_longer_one() {
        let secret = "s".repeat(MAX_SECRET_BYTES);
        let h = hash(&secret, 4).await.unwrap();
        assert_eq!(verify(&secret, &h).await, Verdict::Right);
        assert_eq!(verify(&format!("{secret}x"), &h).await, Verdict::Wrong);
    }

    #[tokio::test]
    async fn secrets_bcrypt_cannot_keep_whole_are_refused() {
        assert!(hash(&"s".repeat(MAX_SECRET_BYTES + 1), 4).await.is_err());
        assert!(hash("short", 4).await.is_err());
    }

    #[tokio::test]
    async fn a_legacy_digest_is_recognised_and_still_checks() {
        let d = digest("old-secret");
        assert_eq!(verify("old-secret", &d).await, Verdict::RightLegacy);
        assert_eq!(verify("other", &d).await, Verdict::Wrong);
        // A digest-shaped value in capitals is no digest this server wrote.
        assert_eq!(
            verify("old-secret", &d.to_uppercase()).await,
            Verdict::Wrong
        );
        assert_eq!(verify("x", "garbage").await, Verdict::Wrong);
    }

    #[test]
    fn digests_compare_whole() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
