//! Bearer token resolutions kept in memory for a moment, so that a client making many requests
//! does not make the database resolve its token for every one of them.
//!
//! A token is revoked only by rotating its application's secret. A rotation in this process
//! forgets the application's resolutions at once; one made elsewhere (the operator command,
//! another instance on the same database) cannot be seen here, so a resolution is trusted for
//! `max_age` at most: that long is the most a revoked token keeps working on this instance.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use palaver_store::platform::TokenApplication;

/// The most resolutions kept; past it the memo starts afresh (cheaper than tracking recency,
/// and a refill costs one read per token).
const MAX_ENTRIES: usize = 10_000;

/// How long a resolution is trusted by default.
pub(crate) const DEFAULT_MAX_AGE: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct Inner {
    /// Token digest → its application and when it was read.
    entries: HashMap<String, (TokenApplication, Instant)>,
    /// Moves on at every forget: a resolution read before one is not kept.
    generation: u64,
}

#[derive(Debug)]
pub(crate) struct TokenMemo {
    max_age: Duration,
    inner: Mutex<Inner>,
}

impl TokenMemo {
    pub(crate) fn new(max_age: Duration) -> Self {
        Self {
            max_age,
            inner: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the map inconsistent; keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The application a recent resolution of `digest` gave, if the token is still live at
    /// `now` (epoch milliseconds); `Err` with the generation to hand [`Self::keep`] otherwise.
    pub(crate) fn get(&self, digest: &str, now: i64) -> Result<TokenApplication, u64> {
        let inner = self.lock();
        match inner.entries.get(digest) {
            Some((owner, read)) if read.elapsed() < self.max_age && owner.expires > now => {
                Ok(owner.clone())
            }
            _ => Err(inner.generation),
        }
    }

    /// Keeps a resolution read from the database after [`Self::get`] gave `generation`, unless
    /// an application was forgotten meanwhile (the read may have preceded its revocation).
    pub(crate) fn keep(&self, digest: &str, owner: &TokenApplication, generation: u64) {
        let mut inner = self.lock();
        if inner.generation != generation || self.max_age.is_zero() {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.clear();
        }
        inner
            .entries
            .insert(digest.to_string(), (owner.clone(), Instant::now()));
    }

    /// Drops every resolution to `application_id`, whose tokens were just revoked.
    pub(crate) fn forget(&self, application_id: i64) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner
            .entries
            .retain(|_, (owner, _)| owner.application_id != application_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(app: i64, expires: i64) -> TokenApplication {
        TokenApplication {
            application_id: app,
            organisation_id: "org".into(),
            expires,
        }
    }

    #[test]
    fn a_kept_resolution_is_served_until_the_token_expires() {
        let memo = TokenMemo::new(Duration::from_secs(60));
        let generation = memo.get("d", 0).unwrap_err();
        memo.keep("d", &owner(1, 100), generation);
        assert_eq!(memo.get("d", 99), Ok(owner(1, 100)));
        assert!(memo.get("d", 100).is_err(), "served after expiry");
        assert!(memo.get("other", 0).is_err());
    }

    #[test]
    fn a_resolution_is_trusted_for_max_age_only() {
        let memo = TokenMemo::new(Duration::from_millis(20));
        let generation = memo.get("d", 0).unwrap_err();
        memo.keep("d", &owner(1, i64::MAX), generation);
        assert!(memo.get("d", 0).is_ok());
        std::thread::sleep(Duration::from_millis(30));
        assert!(memo.get("d", 0).is_err(), "served past its age");
    }

    #[test]
    fn forgetting_an_application_drops_its_tokens_only() {
        let memo = TokenMemo::new(Duration::from_secs(60));
        let generation = memo.get("a", 0).unwrap_err();
        memo.keep("a", &owner(1, i64::MAX), generation);
        memo.keep("b", &owner(2, i64::MAX), generation);
        memo.forget(1);
        assert!(memo.get("a", 0).is_err());
        assert_eq!(memo.get("b", 0), Ok(owner(2, i64::MAX)));
    }

    #[test]
    fn a_resolution_read_before_a_revocation_is_not_kept() {
        let memo = TokenMemo::new(Duration::from_secs(60));
        let generation = memo.get("a", 0).unwrap_err(); // the read starts
        memo.forget(1); // the application's tokens are revoked meanwhile
        memo.keep("a", &owner(1, i64::MAX), generation);
        assert!(memo.get("a", 0).is_err());
    }

    #[test]
    fn a_zero_max_age_keeps_nothing() {
        let memo = TokenMemo::new(Duration::ZERO);
        let generation = memo.get("a", 0).unwrap_err();
        memo.keep("a", &owner(1, i64::MAX), generation);
        assert!(memo.get("a", 0).is_err());
    }
}
