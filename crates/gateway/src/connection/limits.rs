//! A connection's rate limits at work: each relay and action takes a token of its bucket, and
//! one without is answered `RateLimitedError` on `/user/queue/errors` with the header of the
//! request it refuses and the `coolOffDuration` the client waits before it retries a relay.

use std::time::Duration;

use palaver_domain::time::{format_millis, now_millis};
use serde_json::json;
use tokio::time::Instant;

use super::Conn;
use crate::frame::{Command, Frame};
use crate::rate::cool_off;

/// The kind of request a bucket counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Relay,
    Action,
}

impl Conn {
    /// Takes a token for a request of `kind`; when there is none, how long until there is.
    /// Until the client listens on its errors queue nothing is refused: the only way to say so
    /// would be a fatal ERROR.
    pub(super) fn over_limit(&mut self, kind: Kind) -> Option<Duration> {
        self.errors_sub.as_ref()?;
        let bucket = match kind {
            Kind::Relay => &mut self.relay_bucket,
            Kind::Action => &mut self.action_bucket,
        };
        bucket.take(Instant::now()).err()
    }

    /// Refuses the request of `kind` that `header: id` answers: come back after `wait`.
    pub(super) fn rate_limited(&mut self, kind: Kind, header: &str, id: &str, wait: Duration) {
        let Some(sub) = self.errors_sub.clone() else {
            return;
        };
        let what = match kind {
            Kind::Relay => "relays",
            Kind::Action => "actions",
        };
        let body = json!({
            "error": "RateLimitedError",
            "message": format!("Too many {what}: try again after the cool-off"),
            "coolOffDuration": cool_off(wait),
            "timestamp": format_millis(now_millis()),
        });
        let mid = self.message_id();
        let f = Frame::new(Command::Message)
            .header("subscription", sub)
            .header("message-id", mid.clone())
            .header("ack", mid)
            .header("destination", "/user/queue/errors")
            .header("content-type", "application/json;charset=UTF-8")
            .header(header, id)
            .body(body.to_string());
        self.push_frame(f);
    }
}
