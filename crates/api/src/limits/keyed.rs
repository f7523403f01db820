//! One keyed rate limiter (governor's GCRA over a concurrent map) whose memory stays bounded:
//! every [`PRUNE_EVERY`] checks it forgets the keys whose state is back to a fresh one, and the
//! clock it reads, which tests can hold still and move by hand.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

use super::config::RateLimit;

/// How many checks pass between two prunings of a limiter. A pruning walks every key, so it is
/// paid for by this many requests; between two of them at most this many new keys are added.
pub(crate) const PRUNE_EVERY: u64 = 1024;

/// The time the limiters read: the monotonic system clock, or a manual one that moves only
/// when told (tests: a burst is then spent whatever the machine's speed).
#[derive(Debug, Clone)]
pub struct RateClock {
    start: Instant,
    manual: Option<Arc<AtomicU64>>,
}

impl RateClock {
    pub fn system() -> Self {
        RateClock {
            start: Instant::now(),
            manual: None,
        }
    }

    /// A clock that stands still until [`RateClock::advance`] moves it.
    pub fn manual() -> Self {
        RateClock {
            start: Instant::now(),
            manual: Some(Arc::new(AtomicU64::new(0))),
        }
    }

    /// Moves a manual clock (and its clones) forward; a system clock moves on its own.
    pub fn advance(&self, by: Duration) {
        if let Some(m) = &self.manual {
            let ns = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
            m.fetch_add(ns, Ordering::Relaxed);
        }
    }
}

impl Default for RateClock {
    fn default() -> Self {
        Self::system()
    }
}

impl governor::clock::Clock for RateClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        match &self.manual {
            Some(m) => Nanos::from(m.load(Ordering::Relaxed)),
            None => Nanos::from(self.start.elapsed()),
        }
    }
}

/// Keys are hashed with foldhash, seeded per limiter: std's SipHash was most of a check's cost,
/// and the keys (addresses, token digests, application ids) are not the caller's to choose
/// freely enough to flood one bucket of a seeded hash.
type Hasher = foldhash::fast::RandomState;
type Limiter<K> = RateLimiter<K, DashMapStateStore<K, Hasher>, RateClock, NoOpMiddleware<Nanos>>;

/// A limiter for one kind of key; `None` inside when its limit is off.
pub(crate) struct Keyed<K: Hash + Eq + Clone> {
    limiter: Option<Limiter<K>>,
    checks: AtomicU64,
}

impl<K: Hash + Eq + Clone> Keyed<K> {
    pub(crate) fn new(limit: RateLimit, clock: &RateClock) -> Self {
        let limiter = NonZeroU32::new(limit.per_second).map(|rate| {
            let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
            let quota = Quota::per_second(rate).allow_burst(burst);
            let store = DashMapStateStore::with_hasher(Hasher::default());
            RateLimiter::new(quota, store, clock.clone())
        });
        Keyed {
            limiter,
            checks: AtomicU64::new(0),
        }
    }

    /// Counts a request of `key`; when it is over the limit, how long until one would pass.
    pub(crate) fn check(&self, key: &K) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.prune();
        }
        limiter.check_key(key).map_err(|not_until| {
            use governor::clock::Clock;
            not_until.wait_time_from(limiter.clock().now())
        })
    }

    /// Forgets the keys that are as good as new: their bucket has been full again for one
    /// emission interval (governor's margin).
    pub(crate) fn prune(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// How many keys are remembered.
    pub(crate) fn len(&self) -> usize {
        self.limiter.as_ref().map_or(0, |l| l.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_wait_until_the_next() {
        let clock = RateClock::manual();
        let k: Keyed<u32> = Keyed::new(RateLimit::new(2, 3), &clock);
        for _ in 0..3 {
            assert_eq!(k.check(&1), Ok(()));
        }
        assert_eq!(k.check(&1), Err(Duration::from_millis(500)));
        // Another key has its own bucket.
        assert_eq!(k.check(&2), Ok(()));
        clock.advance(Duration::from_millis(500));
        assert_eq!(k.check(&1), Ok(()));
        assert!(k.check(&1).is_err());
    }

    #[test]
    fn off_is_no_limit_and_no_memory() {
        let clock = RateClock::manual();
        let k: Keyed<u32> = Keyed::new(RateLimit::OFF, &clock);
        for n in 0..5000 {
            assert_eq!(k.check(&n), Ok(()));
        }
        assert_eq!(k.len(), 0);
    }

    #[test]
    fn keys_back_to_fresh_are_pruned_and_busy_ones_kept() {
        let clock = RateClock::manual();
        let k: Keyed<u32> = Keyed::new(RateLimit::new(1, 2), &clock);
        k.check(&1).unwrap();
        k.check(&2).unwrap();
        k.check(&2).unwrap();
        assert_eq!(k.len(), 2);
        // Key 1 is full again after a second, and forgotten one more interval on; key 2 spent
        // its whole burst and needs a second more.
        clock.advance(Duration::from_secs(2));
        k.prune();
        assert_eq!(k.len(), 1);
        assert!(k.check(&2).is_ok());
        clock.advance(Duration::from_secs(10));
        k.prune();
        assert_eq!(k.len(), 0);
    }

    #[test]
    fn pruning_happens_as_requests_come() {
        let clock = RateClock::manual();
        let k: Keyed<u64> = Keyed::new(RateLimit::new(1, 1), &clock);
        // A flood of one-off keys (addresses, say) never holds more than a pruning's worth.
        for n in 0..(PRUNE_EVERY * 5) {
            k.check(&n).unwrap();
            clock.advance(Duration::from_millis(1));
            // A key is forgotten two intervals (2 s, 2000 requests here) after its request.
            assert!(k.len() <= usize::try_from(PRUNE_EVERY).unwrap() + 2000);
        }
        clock.advance(Duration::from_secs(3));
        for _ in 0..PRUNE_EVERY {
            let _ = k.check(&u64::MAX);
        }
        assert_eq!(k.len(), 1, "only the key still in use is left");
    }
}
