//! A count of events logged at most once a second: refused connections and shed requests come
//! in floods, and a line for each would flood the log as well.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// The shortest time between two lines.
const INTERVAL: Duration = Duration::from_secs(1);

#[derive(Default)]
struct Inner {
    /// Events not yet reported.
    pending: u64,
    /// When the last line was due.
    last: Option<Instant>,
}

/// Events counted between log lines.
#[derive(Default)]
pub struct Throttled {
    inner: Mutex<Inner>,
}

impl Throttled {
    /// Counts one event at `now`; when a line is due, returns how many events it reports (this
    /// one and those since the last line).
    pub fn note(&self, now: Instant) -> Option<u64> {
        let mut s = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        s.pending += 1;
        if s.last.is_some_and(|t| now.duration_since(t) < INTERVAL) {
            return None;
        }
        s.last = Some(now);
        Some(std::mem::take(&mut s.pending))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_a_second_with_the_count_since_the_last() {
        let t = Throttled::default();
        let t0 = Instant::now();
        assert_eq!(t.note(t0), Some(1), "the first event is told at once");
        for ms in [10, 500, 999] {
            assert_eq!(t.note(t0 + Duration::from_millis(ms)), None);
        }
        assert_eq!(t.note(t0 + Duration::from_millis(1000)), Some(4));
        assert_eq!(t.note(t0 + Duration::from_millis(1500)), None);
        assert_eq!(t.note(t0 + Duration::from_millis(5000)), Some(2));
    }
}
