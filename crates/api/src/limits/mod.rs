//! Limits of the HTTP faces: request rates per caller (application, access token, client
//! address, and a tighter one on the two login endpoints) and the size of JSON bodies. Each face
//! applies them in its own middleware and answers in its own error shape; this module holds the
//! settings and the limiters' state, which lives in this process only.

mod client;
mod config;
mod keyed;

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tower::{Layer, ServiceExt};

pub(crate) use client::{client_key, ClientKey};
pub use config::{BodyLimitConfig, RateLimit, RateLimitConfig};
use keyed::Keyed;
pub use keyed::RateClock;

/// The limiters of one server, shared by its routers and by its chat functions' in-process
/// calls. Cheap to clone; every clone sees [`Limits::configure`].
#[derive(Clone)]
pub struct Limits(Arc<RwLock<Arc<LimitSet>>>);

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits")
            .field("tracked_keys", &self.tracked_keys())
            .finish()
    }
}

/// The limiters of one configuration.
pub(crate) struct LimitSet {
    /// Platform API requests per application id.
    pub(crate) per_app: Keyed<i64>,
    /// Chat functions' in-process platform calls per application id: a bucket of their own, so
    /// a burst of function runs cannot lock the application's backend out, nor run unlimited.
    pub(crate) in_process: Keyed<i64>,
    /// Content API requests per access token (its digest).
    pub(crate) per_token: Keyed<String>,
    pub(crate) per_ip: Keyed<ClientKey>,
    pub(crate) login: Keyed<ClientKey>,
    pub(crate) trust_forwarded_for: bool,
    pub(crate) max_json_bytes: usize,
    clock: RateClock,
}

impl LimitSet {
    fn new(rate: &RateLimitConfig, body: &BodyLimitConfig, clock: RateClock) -> Self {
        LimitSet {
            per_app: Keyed::new(rate.platform_per_app, &clock),
            in_process: Keyed::new(rate.platform_per_app, &clock),
            per_token: Keyed::new(rate.content_per_token, &clock),
            per_ip: Keyed::new(rate.per_ip, &clock),
            login: Keyed::new(rate.login_per_ip, &clock),
            trust_forwarded_for: rate.trust_forwarded_for,
            max_json_bytes: body.max_json_bytes,
            clock,
        }
    }

    fn all(&self) -> [&dyn Prunable; 5] {
        [
            &self.per_app,
            &self.in_process,
            &self.per_token,
            &self.per_ip,
            &self.login,
        ]
    }
}

/// What [`Limits`] asks of each of its limiters, whatever their key.
trait Prunable {
    fn prune(&self);
    fn len(&self) -> usize;
}

impl<K: std::hash::Hash + Eq + Clone> Prunable for Keyed<K> {
    fn prune(&self) {
        Keyed::prune(self);
    }

    fn len(&self) -> usize {
        Keyed::len(self)
    }
}

impl Limits {
    pub fn new(rate: &RateLimitConfig, body: &BodyLimitConfig) -> Self {
        Self::with_clock(rate, body, RateClock::system())
    }

    /// As [`Limits::new`], reading `clock` (a manual one in tests).
    pub fn with_clock(rate: &RateLimitConfig, body: &BodyLimitConfig, clock: RateClock) -> Self {
        Limits(Arc::new(RwLock::new(Arc::new(LimitSet::new(
            rate, body, clock,
        )))))
    }

    /// No rate limits; JSON bodies at their default limit.
    pub fn off() -> Self {
        Self::new(&RateLimitConfig::off(), &BodyLimitConfig::default())
    }

    /// Puts these settings in force for every clone (the server's routers and its chat
    /// functions' calls), with fresh limiters, from the next request on.
    pub fn configure(&self, rate: &RateLimitConfig, body: &BodyLimitConfig, clock: RateClock) {
        let set = Arc::new(LimitSet::new(rate, body, clock));
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = set;
    }

    /// Turns every rate limit off, for every clone (benchmarks measure the server, not its
    /// limits); the body limit stays.
    pub fn rates_off(&self) {
        let set = self.set();
        let body = BodyLimitConfig {
            max_json_bytes: set.max_json_bytes,
        };
        self.configure(&RateLimitConfig::off(), &body, set.clock.clone());
    }

    /// The clock the limiters read.
    pub fn clock(&self) -> RateClock {
        self.set().clock.clone()
    }

    /// Forgets every key whose bucket is full again. Requests do this as they come (every
    /// [`keyed::PRUNE_EVERY`] checks of a limiter); this is for whoever wants it now.
    pub fn prune(&self) {
        self.set().all().iter().for_each(|k| k.prune());
    }

    /// How many keys the limiters remember, all together.
    pub fn tracked_keys(&self) -> usize {
        self.set().all().iter().map(|k| k.len()).sum()
    }

    pub(crate) fn set(&self) -> Arc<LimitSet> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::new(&RateLimitConfig::default(), &BodyLimitConfig::default())
    }
}

/// The configured JSON body limit, for routes that lift axum's to take uploads as well.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonLimit(pub usize);

/// Runs the rest of the request with the JSON body limit of `set`: axum's limit for the routes
/// that keep it (the streaming ones lift it), and [`JsonLimit`] for those that read JSON beside
/// an upload.
pub(crate) async fn run_within_body_limit(
    set: &LimitSet,
    mut req: Request,
    next: Next,
) -> Response {
    let n = set.max_json_bytes;
    req.extensions_mut().insert(JsonLimit(n));
    match DefaultBodyLimit::max(n).layer(next).oneshot(req).await {
        Ok(res) => res,
        Err(never) => match never {},
    }
}

/// Whole seconds to wait, at least 1, as `Retry-After` says it.
pub(crate) fn retry_after_seconds(wait: Duration) -> u64 {
    let whole = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    whole.max(1)
}

/// Adds `Retry-After` to a 429 answer.
pub(crate) fn with_retry_after(mut res: Response, seconds: u64) -> Response {
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_secs(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_seconds(Duration::from_secs(60)), 60);
    }

    #[test]
    fn configure_reaches_every_clone_and_starts_afresh() {
        let clock = RateClock::manual();
        let one = RateLimit::new(1, 1);
        let rate = RateLimitConfig {
            platform_per_app: one,
            ..RateLimitConfig::off()
        };
        let limits = Limits::with_clock(&rate, &BodyLimitConfig::default(), clock.clone());
        let clone = limits.clone();
        assert!(limits.set().per_app.check(&7).is_ok());
        assert!(clone.set().per_app.check(&7).is_err());
        assert_eq!(clone.tracked_keys(), 1);
        limits.configure(&RateLimitConfig::off(), &BodyLimitConfig::default(), clock);
        assert_eq!(clone.tracked_keys(), 0);
        assert!(clone.set().per_app.check(&7).is_ok());
    }
}
