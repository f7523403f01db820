//! What one connection is doing: handling requests, waiting for the next one, or reading a
//! request's head, and since when; its watchdog reads the deadline of the phase from here.
//!
//! hyper's own header-read timer also runs while a kept-alive connection waits, so it would
//! close idle connections after the header timeout; tracking both phases here keeps the two
//! timeouts apart.

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;
use tokio::time::Instant;

use super::ServeLimits;

/// Why a connection's time ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// A request's head did not arrive whole in time.
    HeadTooSlow,
    /// No request came in time on a kept-alive connection.
    Idle,
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Expiry::HeadTooSlow => "request head not received in time",
            Expiry::Idle => "idle past the keep-alive timeout",
        })
    }
}

struct State {
    /// Requests handed to the router whose answer has not been sent whole.
    in_flight: usize,
    /// The next request's head is being read (from accept, or from its first byte).
    reading_head: bool,
    /// When the current phase (waiting, or reading a head) began.
    since: Instant,
}

/// One connection's activity, shared by its IO, its service and its watchdog.
pub struct Activity {
    state: Mutex<State>,
    /// Woken when the phase changes, for the watchdog to take the new deadline.
    changed: Notify,
}

impl Activity {
    /// A connection accepted at `now`: a client connects to send a request, so the time for its
    /// head runs.
    pub fn new(now: Instant) -> Self {
        Activity {
            state: Mutex::new(State {
                in_flight: 0,
                reading_head: true,
                since: now,
            }),
            changed: Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent whatever panicked while holding it: every update is one
        // assignment.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bytes arrived at `now`: on a waiting connection, the next request's head has begun.
    pub fn on_read(&self, now: Instant) {
        let mut s = self.state();
        if s.in_flight == 0 && !s.reading_head {
            s.reading_head = true;
            s.since = now;
            drop(s);
            self.changed.notify_one();
        }
    }

    /// Bytes were sent at `now`: a waiting connection still taking the end of its last answer
    /// is not idle. (The deadline only moves later, so the watchdog need not wake.)
    pub fn on_write(&self, now: Instant) {
        let mut s = self.state();
        if s.in_flight == 0 && !s.reading_head {
            s.since = now;
        }
    }

    /// A request's head has been read and the request handed on.
    pub fn request_started(&self) {
        self.state().in_flight += 1;
        self.changed.notify_one();
    }

    /// A request's answer has been sent whole (or abandoned) at `now`.
    pub fn request_ended(&self, now: Instant) {
        let mut s = self.state();
        s.in_flight = s.in_flight.saturating_sub(1);
        if s.in_flight == 0 {
            s.reading_head = false;
            s.since = now;
        }
        drop(s);
        self.changed.notify_one();
    }

    /// When the current phase runs out and why; `None` while a request is in flight.
    pub fn deadline(&self, limits: &ServeLimits) -> Option<(Instant, Expiry)> {
        let s = self.state();
        if s.in_flight > 0 {
            None
        } else if s.reading_head {
            Some((s.since + limits.header_read_timeout, Expiry::HeadTooSlow))
        } else {
            Some((s.since + limits.idle_timeout, Expiry::Idle))
        }
    }

    /// Completes once the phase has changed since the last call (or at once, if it has).
    pub async fn changed(&self) {
        self.changed.notified().await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::time::Duration;

    use super::*;

    fn limits() -> ServeLimits {
        ServeLimits {
            header_read_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(5),
            ..ServeLimits::default()
        }
    }

    fn at(start: Instant, millis: u64) -> Instant {
        start + Duration::from_millis(millis)
    }

    #[test]
    fn phases_follow_requests_and_bytes() {
        let t0 = Instant::now();
        let a = Activity::new(t0);
        // A new connection must send its first head within the header timeout.
        assert_eq!(
            a.deadline(&limits()),
            Some((at(t0, 1000), Expiry::HeadTooSlow))
        );
        // Bytes of that head move nothing.
        a.on_read(at(t0, 300));
        assert_eq!(a.deadline(&limits()).unwrap().0, at(t0, 1000));
        // A request in flight has no deadline, however long it takes or whatever it reads.
        a.request_started();
        a.on_read(at(t0, 30_000));
        assert_eq!(a.deadline(&limits()), None);
        // Pipelined: a second request before the first is answered.
        a.request_started();
        a.request_ended(at(t0, 31_000));
        assert_eq!(a.deadline(&limits()), None);
        // Once all are answered, the connection waits for the next up to the idle timeout...
        a.request_ended(at(t0, 32_000));
        assert_eq!(a.deadline(&limits()), Some((at(t0, 37_000), Expiry::Idle)));
        // Bytes of the answer still going out keep it from idling...
        a.on_write(at(t0, 33_000));
        assert_eq!(a.deadline(&limits()), Some((at(t0, 38_000), Expiry::Idle)));
        // ...and the next head, once begun, has the header timeout from its first byte.
        a.on_read(at(t0, 34_000));
        assert_eq!(
            a.deadline(&limits()),
            Some((at(t0, 35_000), Expiry::HeadTooSlow))
        );
        a.on_read(at(t0, 34_500));
        assert_eq!(a.deadline(&limits()).unwrap().0, at(t0, 35_000));
    }

    #[tokio::test]
    async fn a_change_before_the_wait_is_not_missed() {
        let a = Activity::new(Instant::now());
        a.request_started();
        // The watchdog was busy when the phase changed: its next wait returns at once.
        tokio::time::timeout(Duration::from_secs(5), a.changed())
            .await
            .expect("the change is remembered");
    }
}
