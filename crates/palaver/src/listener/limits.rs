//! [`ServeLimits`]: how long a connection may take over a request's head or sit idle, and how
//! many connections and requests in flight the server takes on.

use std::time::Duration;

/// File descriptors kept back from connections, for what else the process opens: the database
/// pool, hosted files, chat functions' processes, the broker, outbound fetches.
const FD_RESERVE: u64 = 256;

/// The connection cap when the file limit cannot be read.
const FALLBACK_CONNECTIONS: usize = 256;

/// The most connections a default allows, whatever the file limit (an unlimited one included).
const MAX_DEFAULT_CONNECTIONS: u64 = 1 << 20;

/// The limits of [`super::serve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeLimits {
    /// How long a client has to send a request's head: from connecting for the first request,
    /// from the first byte of a later one on a kept-alive connection.
    pub header_read_timeout: Duration,
    /// How long a kept-alive connection may wait for its next request. A request in flight
    /// (however long its upload or answer takes) and a WebSocket connection are never idle.
    pub idle_timeout: Duration,
    /// Open connections, WebSockets included; one more is answered 503 and closed at once.
    pub max_connections: usize,
    /// Requests handled at once; one more is answered 503 with `Retry-After`. A WebSocket holds
    /// a slot only until its upgrade is answered.
    pub max_concurrent_requests: usize,
    /// At shutdown, how long requests in flight get to finish before their connections close.
    pub drain_timeout: Duration,
}

impl Default for ServeLimits {
    /// `max_connections` follows the process's file limit as it stands (the binary raises it to
    /// the hard limit at start).
    fn default() -> Self {
        let max_connections = match rlimit::getrlimit(rlimit::Resource::NOFILE) {
            Ok((soft, _hard)) => connections_for_file_limit(soft),
            Err(_) => FALLBACK_CONNECTIONS,
        };
        ServeLimits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections,
            max_concurrent_requests: 1024,
            drain_timeout: Duration::from_secs(10),
        }
    }
}

/// The connections a process whose soft file limit is `soft` can hold beside everything else:
/// the limit less a reserve, or half of a limit too small to spare the whole reserve.
pub fn connections_for_file_limit(soft: u64) -> usize {
    let n = if soft > 2 * FD_RESERVE {
        soft - FD_RESERVE
    } else {
        soft / 2
    };
    usize::try_from(n.clamp(1, MAX_DEFAULT_CONNECTIONS)).unwrap_or(FALLBACK_CONNECTIONS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_cap_leaves_room_for_other_files() {
        assert_eq!(connections_for_file_limit(20_000), 19_744);
        assert_eq!(connections_for_file_limit(1024), 768);
        // Too small for the whole reserve: half for connections.
        assert_eq!(connections_for_file_limit(512), 256);
        assert_eq!(connections_for_file_limit(1), 1);
        assert_eq!(connections_for_file_limit(0), 1);
        // Unlimited (RLIM_INFINITY) still makes a finite cap.
        assert_eq!(connections_for_file_limit(u64::MAX), 1 << 20);
    }
}
