//! The gateway's Prometheus series: open WebSocket connections, topic subscriptions, and the
//! topic messages delivered to clients.

/// Open WebSocket connections.
pub const CONNECTIONS: &str = "palaver_gateway_connections";
/// Topic subscriptions of the open connections.
pub const SUBSCRIPTIONS: &str = "palaver_gateway_subscriptions";
/// MESSAGE frames written to clients from the topics they subscribe to.
pub const DELIVERED: &str = "palaver_gateway_messages_delivered_total";

/// Counts one connection open for as long as it lives, however its task ends.
pub(crate) struct Open;

impl Open {
    pub(crate) fn new() -> Self {
        metrics::gauge!(CONNECTIONS).increment(1.0);
        Open
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        metrics::gauge!(CONNECTIONS).decrement(1.0);
    }
}

pub(crate) fn subscribed() {
    metrics::gauge!(SUBSCRIPTIONS).increment(1.0);
}

pub(crate) fn unsubscribed(n: usize) {
    if n > 0 {
        metrics::gauge!(SUBSCRIPTIONS).decrement(n as f64);
    }
}

pub(crate) fn delivered(n: usize) {
    if n > 0 {
        metrics::counter!(DELIVERED).increment(n as u64);
    }
}
