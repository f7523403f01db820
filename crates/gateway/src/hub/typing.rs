//! Who is typing where, on this instance: a user who typed in a channel is typing until it sends
//! a message or types nothing more for a while; then its channel is told it stopped. One timer
//! task per typing user (not per keystroke), and a bounded number of them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

/// Typing users tracked at most: past this, a new typer's stop goes untold (its keystrokes
/// still go out).
const MAX_TYPING: usize = 10_000;

/// A typing user: application, channel, user.
pub(crate) type Typist = (i64, i64, i64);

#[derive(Debug)]
pub(crate) struct Typing {
    timeout: Duration,
    /// When each typing user stops typing if it types nothing more.
    until: Arc<Mutex<HashMap<Typist, Instant>>>,
    stopped: mpsc::Sender<Typist>,
    /// What the hub's loop reads the stops from (taken once, by it).
    pub(crate) stops: Mutex<Option<mpsc::Receiver<Typist>>>,
}

impl Default for Typing {
    fn default() -> Self {
        Typing::new(Duration::from_secs(5))
    }
}

impl Typing {
    pub(crate) fn new(timeout: Duration) -> Self {
        let (stopped, stops) = mpsc::channel(MAX_TYPING);
        Typing {
            timeout,
            until: Default::default(),
            stopped,
            stops: Mutex::new(Some(stops)),
        }
    }

    /// `who` typed: it types on until the timeout passes without another keystroke.
    pub(crate) fn typed(&self, who: Typist) {
        let deadline = Instant::now() + self.timeout;
        {
            let mut until = self.until.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(d) = until.get_mut(&who) {
                *d = deadline;
                return;
            }
            if until.len() >= MAX_TYPING {
                return;
            }
            until.insert(who, deadline);
        }
        let (until, stopped) = (self.until.clone(), self.stopped.clone());
        tokio::spawn(async move {
            let mut at = deadline;
            loop {
                tokio::time::sleep_until(at).await;
                let mut map = until.lock().unwrap_or_else(PoisonError::into_inner);
                match map.get(&who) {
                    // Stopped meanwhile (it sent a message): nothing more to tell.
                    None => return,
                    Some(&d) if d > Instant::now() => at = d,
                    Some(_) => {
                        map.remove(&who);
                        drop(map);
                        let _ = stopped.try_send(who);
                        return;
                    }
                }
            }
        });
    }

    /// `who` stopped typing (it sent a message, or said so); true when it was typing.
    pub(crate) fn stop(&self, who: Typist) -> bool {
        self.until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&who)
            .is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn silence_stops_typing_and_each_keystroke_puts_it_off() {
        let t = Typing::new(Duration::from_millis(100));
        let mut stops = t.stops.lock().unwrap().take().unwrap();
        t.typed((1, 2, 3));
        tokio::time::sleep(Duration::from_millis(60)).await;
        t.typed((1, 2, 3));
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(stops.try_recv().is_err(), "put off by the second keystroke");
        assert_eq!(stops.recv().await, Some((1, 2, 3)));
        assert!(!t.stop((1, 2, 3)), "no longer typing");
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_before_the_timeout_is_the_only_one() {
        let t = Typing::new(Duration::from_millis(100));
        let mut stops = t.stops.lock().unwrap().take().unwrap();
        t.typed((1, 2, 3));
        assert!(t.stop((1, 2, 3)));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(stops.try_recv().is_err());
    }
}
