//! Rate limits of one connection: a token bucket each for its actions and its relays. A bucket
//! holds up to `count` tokens (the burst) and refills `count` every `per`; a request takes one,
//! and without one it is refused with how long to wait (`RateLimitedError`, whose
//! `coolOffDuration` the client waits out before retrying a relay).

use std::time::Duration;

use tokio::time::Instant;

/// `count` requests per `per`, in bursts of up to `count`; a `count` of 0 is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub count: u32,
    pub per: Duration,
}

impl RateLimit {
    pub const fn new(count: u32, per: Duration) -> Self {
        RateLimit { count, per }
    }
}

/// One connection's bucket for one kind of request.
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    limit: RateLimit,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Bucket {
            limit,
            tokens: f64::from(limit.count),
            last: Instant::now(),
        }
    }

    /// Takes a token at `now`; without one, how long until there is one.
    pub(crate) fn take(&mut self, now: Instant) -> Result<(), Duration> {
        let RateLimit { count, per } = self.limit;
        if count == 0 || per.is_zero() {
            return Ok(());
        }
        let rate = f64::from(count) / per.as_secs_f64();
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(f64::from(count));
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        Err(Duration::from_secs_f64((1.0 - self.tokens) / rate))
    }
}

/// `wait` as the ISO-8601 duration the client reads: `PT<seconds>S`, to the millisecond
/// (it accepts nothing else: `^PT(\d+(\.\d+)?)S$`).
pub(crate) fn cool_off(wait: Duration) -> String {
    let ms = wait.as_millis().max(1);
    format!("PT{}.{:03}S", ms / 1000, ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_per_refill() {
        let mut b = Bucket::new(RateLimit::new(2, Duration::from_secs(1)));
        let t0 = Instant::now();
        assert!(b.take(t0).is_ok());
        assert!(b.take(t0).is_ok());
        let wait = b.take(t0).unwrap_err();
        assert!(wait > Duration::from_millis(400) && wait <= Duration::from_millis(500));
        assert!(b.take(t0 + Duration::from_millis(500)).is_ok());
        assert!(b.take(t0 + Duration::from_millis(500)).is_err());
    }

    #[test]
    fn no_count_is_no_limit() {
        let mut b = Bucket::new(RateLimit::new(0, Duration::from_secs(1)));
        let t0 = Instant::now();
        for _ in 0..1000 {
            assert!(b.take(t0).is_ok());
        }
    }

    #[test]
    fn the_cool_off_is_what_the_client_parses() {
        for (wait, text) in [
            (Duration::from_millis(250), "PT0.250S"),
            (Duration::from_secs(3), "PT3.000S"),
            (Duration::ZERO, "PT0.001S"),
        ] {
            let s = cool_off(wait);
            assert_eq!(s, text);
            let digits = s
                .strip_prefix("PT")
                .and_then(|r| r.strip_suffix('S'))
                .unwrap();
            assert!(digits.parse::<f64>().is_ok());
        }
    }
}
