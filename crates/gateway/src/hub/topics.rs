//! The hub's registry of listened topics, with an index of the channels listened to per
//! application and topic name, so that "does anyone of this application listen to some
//! channel's participants, and which" is answered without scanning every topic.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::{ConnHandle, Key};

/// A topic's listeners: connection id → the connection's user (whose access may end) and how
/// to reach it.
type Listeners = HashMap<u64, (i64, ConnHandle)>;

#[derive(Debug, Default)]
pub(super) struct Topics {
    listeners: HashMap<(i64, Key), Listeners>,
    /// (application, channel topic name) → the channels someone listens to by that name.
    channels: HashMap<(i64, &'static str), HashSet<i64>>,
}

impl Topics {
    pub(super) fn insert(&mut self, app: i64, key: Key, conn: u64, user: i64, h: ConnHandle) {
        let listeners = self.listeners.entry((app, key)).or_insert_with(|| {
            if let Key::Channel(channel, name) = key {
                self.channels
                    .entry((app, name))
                    .or_default()
                    .insert(channel);
            }
            Listeners::new()
        });
        listeners.insert(conn, (user, h));
    }

    /// Drops the listeners of `key` that `keep` refuses, and the topic once it has none.
    pub(super) fn retain(&mut self, app: i64, key: Key, keep: impl Fn(u64, i64) -> bool) {
        let Some(l) = self.listeners.get_mut(&(app, key)) else {
            return;
        };
        l.retain(|conn, (user, _)| keep(*conn, *user));
        if !l.is_empty() {
            return;
        }
        self.listeners.remove(&(app, key));
        if let Key::Channel(channel, name) = key {
            if let Some(set) = self.channels.get_mut(&(app, name)) {
                set.remove(&channel);
                if set.is_empty() {
                    self.channels.remove(&(app, name));
                }
            }
        }
    }

    pub(super) fn heard(&self, app: i64, key: Key) -> bool {
        self.listeners.contains_key(&(app, key))
    }

    /// The channels of `app` whose `name` topic someone listens to.
    pub(super) fn channels(&self, app: i64, name: &'static str) -> Vec<i64> {
        self.channels
            .get(&(app, name))
            .map(|set| set.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The connections listening to `key`.
    pub(super) fn handles(&self, app: i64, key: Key) -> Option<Vec<ConnHandle>> {
        let l = self.listeners.get(&(app, key))?;
        Some(l.values().map(|(_, h)| h.clone()).collect())
    }

    /// The applications someone listens to.
    pub(super) fn apps(&self) -> BTreeSet<i64> {
        self.listeners.keys().map(|(app, _)| *app).collect()
    }
}
