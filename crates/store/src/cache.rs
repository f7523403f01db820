//! An in-process read cache with exact invalidation: every cached result remembers the write
//! generation of each table it was read from, and every write through this process bumps its
//! table's generation after committing. A result whose tables have moved on is never served.
//!
//! It is exact only while this process makes every write to those tables, which is why it is on
//! by default for an embedded SQLite file (one server per file) and off for PostgreSQL, where
//! several instances share the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use crate::tokens::TokenOwner;

/// The most results kept; past it the cache starts afresh (cheaper than tracking recency).
const MAX_ENTRIES: usize = 4096;

/// A cached result.
#[derive(Debug, Clone)]
pub(crate) enum Cached {
    Documents(Arc<Vec<Map<String, Value>>>),
    Count(u64),
    Owner(Option<TokenOwner>),
}

#[derive(Debug, Default)]
struct Inner {
    generations: HashMap<&'static str, u64>,
    entries: HashMap<String, (Vec<u64>, Cached)>,
}

/// Shared by the repositories of one process.
#[derive(Debug, Default)]
pub struct ReadCache {
    inner: Mutex<Inner>,
}

impl ReadCache {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps inconsistent; keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current generations of `tables`, to be taken before the read they will tag.
    pub(crate) fn generations(&self, tables: &[&'static str]) -> Vec<u64> {
        let inner = self.lock();
        tables
            .iter()
            .map(|t| inner.generations.get(t).copied().unwrap_or(0))
            .collect()
    }

    /// The result cached under `key`, if none of `tables` has been written since it was read.
    pub(crate) fn get(&self, key: &str, tables: &[&'static str]) -> Option<Cached> {
        let inner = self.lock();
        let (gens, value) = inner.entries.get(key)?;
        let current = tables
            .iter()
            .map(|t| inner.generations.get(t).copied().unwrap_or(0));
        current.eq(gens.iter().copied()).then(|| value.clone())
    }

    pub(crate) fn put(&self, key: String, generations: Vec<u64>, value: Cached) {
        let mut inner = self.lock();
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.clear();
        }
        inner.entries.insert(key, (generations, value));
    }

    /// Marks `table` as written. Call after the write has committed.
    pub(crate) fn bump(&self, table: &'static str) {
        let mut inner = self.lock();
        *inner.generations.entry(table).or_insert(0) += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_to_any_read_table_hides_the_result() {
        let c = ReadCache::new();
        let gens = c.generations(&["a", "b"]);
        c.put("k".into(), gens, Cached::Count(7));
        assert!(matches!(c.get("k", &["a", "b"]), Some(Cached::Count(7))));
        c.bump("c");
        assert!(
            c.get("k", &["a", "b"]).is_some(),
            "other tables do not matter"
        );
        c.bump("b");
        assert!(c.get("k", &["a", "b"]).is_none());
    }

    #[test]
    fn a_result_read_before_a_write_is_never_served_after_it() {
        let c = ReadCache::new();
        let gens = c.generations(&["a"]); // taken before the read
        c.bump("a"); // a write commits while the read runs
        c.put("k".into(), gens, Cached::Count(1));
        assert!(c.get("k", &["a"]).is_none());
    }

    #[test]
    fn the_cache_is_bounded() {
        let c = ReadCache::new();
        for i in 0..(MAX_ENTRIES + 10) {
            c.put(format!("k{i}"), vec![], Cached::Count(i as u64));
        }
        assert!(c.lock().entries.len() <= MAX_ENTRIES);
    }
}
