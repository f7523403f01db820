//! Sessions a client may pick up again: when a connection drops without DISCONNECT, its user
//! session and chat sessions stay ACTIVE for a grace period, and a CONNECT that names the session
//! (`StompX-Auth-Session-ID`, as the SDK sends on every reconnect) continues them — nobody sees
//! the user leave and come back. Unclaimed, they end when the grace runs out.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use palaver_service::platform::{ChatSessionRow, UserSessionRow};

/// A dropped connection's sessions, waiting for their client.
#[derive(Debug)]
pub(crate) struct Parked {
    pub application_id: i64,
    pub row: UserSessionRow,
    pub chats: HashMap<i64, ChatSessionRow>,
}

/// The parked sessions of this instance, by session id.
#[derive(Debug, Default)]
pub(crate) struct Resumable {
    parked: Mutex<HashMap<String, Parked>>,
}

impl Resumable {
    pub fn park(&self, id: &str, p: Parked) {
        let mut m = self.parked.lock().unwrap_or_else(PoisonError::into_inner);
        m.insert(id.to_string(), p);
    }

    /// The sessions parked under `id`, if they are `user`'s in `app` (anyone else naming the
    /// id gets a session of its own).
    pub fn take(&self, id: &str, app: i64, user: i64) -> Option<Parked> {
        let mut m = self.parked.lock().unwrap_or_else(PoisonError::into_inner);
        match m.get(id) {
            Some(p) if p.application_id == app && p.row.user_id == user => m.remove(id),
            _ => None,
        }
    }

    /// The sessions parked under `id`, whoever's: their grace ran out.
    pub fn expire(&self, id: &str, row_id: i64) -> Option<Parked> {
        let mut m = self.parked.lock().unwrap_or_else(PoisonError::into_inner);
        match m.get(id) {
            // Only the parking this expiry was scheduled for: a later one has its own.
            Some(p) if p.row.id == row_id => m.remove(id),
            _ => None,
        }
    }
}
