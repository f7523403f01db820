//! An in-process read cache with exact invalidation: every cached result remembers the write
//! generation of each table it was read from, and every write through this process bumps its
//! table's generation after committing. A result whose tables have moved on is never served.
//!
//! It is exact only while this process makes every write to those tables, which is why it is on
//! by default for an embedded SQLite file (one server per file) and off for PostgreSQL, where
//! several instances share the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use palaver_domain::filter::Where;
use serde_json::{Map, Value};

use crate::tokens::TokenOwner;

/// What a cached result answers: the parts of a query that decide its rows. Two equal keys
/// would run the same SQL, so no SQL needs building to look a result up.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum CacheKey {
    Rows {
        table: &'static str,
        org: String,
        parent: Option<(&'static str, String)>,
        r#where: Where,
        order: Vec<(&'static str, bool)>,
        limit: Option<u64>,
        skip: u64,
        id: Option<String>,
    },
    Count {
        table: &'static str,
        org: String,
        parent: Option<(&'static str, String)>,
        r#where: Where,
    },
    Owner(String),
}

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
    /// Writes under way per table: while any is, reads of that table bypass the cache.
    writing: HashMap<&'static str, usize>,
    entries: HashMap<CacheKey, (Vec<u64>, Cached)>,
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

    fn busy(inner: &Inner, tables: &[&'static str]) -> bool {
        tables
            .iter()
            .any(|t| inner.writing.get(t).is_some_and(|n| *n > 0))
    }

    /// The current generations of `tables`, to be taken before the read they will tag; `None`
    /// while one of them is being written (the read may straddle the commit, so it must not be
    /// kept).
    pub(crate) fn generations(&self, tables: &[&'static str]) -> Option<Vec<u64>> {
        let inner = self.lock();
        if Self::busy(&inner, tables) {
            return None;
        }
        Some(
            tables
                .iter()
                .map(|t| inner.generations.get(t).copied().unwrap_or(0))
                .collect(),
        )
    }

    /// The result cached under `key`, if none of `tables` has been written since it was read
    /// and none is being written now.
    pub(crate) fn get(&self, key: &CacheKey, tables: &[&'static str]) -> Option<Cached> {
        let inner = self.lock();
        if Self::busy(&inner, tables) {
            return None;
        }
        let (gens, value) = inner.entries.get(key)?;
        let current = tables
            .iter()
            .map(|t| inner.generations.get(t).copied().unwrap_or(0));
        current.eq(gens.iter().copied()).then(|| value.clone())
    }

    pub(crate) fn put(&self, key: CacheKey, generations: Vec<u64>, value: Cached) {
        let mut inner = self.lock();
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.clear();
        }
        inner.entries.insert(key, (generations, value));
    }

    /// Marks `tables` as being written until the guard drops (after the commit, or the failure).
    /// Generations move on both at the start and at the end, so no result read before or during
    /// the write is served after it.
    pub(crate) fn writing(&self, tables: &[&'static str]) -> WriteGuard<'_> {
        let mut inner = self.lock();
        for t in tables {
            *inner.generations.entry(t).or_insert(0) += 1;
            *inner.writing.entry(t).or_insert(0) += 1;
        }
        WriteGuard {
            cache: self,
            tables: tables.to_vec(),
        }
    }
}

/// A write under way; see [`ReadCache::writing`].
pub(crate) struct WriteGuard<'a> {
    cache: &'a ReadCache,
    tables: Vec<&'static str>,
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        let mut inner = self.cache.lock();
        for t in &self.tables {
            *inner.generations.entry(t).or_insert(0) += 1;
            if let Some(n) = inner.writing.get_mut(t) {
                *n = n.saturating_sub(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> CacheKey {
        CacheKey::Owner(s.to_string())
    }

    #[test]
    fn a_write_to_any_read_table_hides_the_result() {
        let c = ReadCache::new();
        let gens = c.generations(&["a", "b"]).unwrap();
        c.put(key("k"), gens, Cached::Count(7));
        assert!(matches!(
            c.get(&key("k"), &["a", "b"]),
            Some(Cached::Count(7))
        ));
        assert!(c.get(&key("other"), &["a", "b"]).is_none());
        drop(c.writing(&["c"]));
        assert!(
            c.get(&key("k"), &["a", "b"]).is_some(),
            "other tables do not matter"
        );
        drop(c.writing(&["b"]));
        assert!(c.get(&key("k"), &["a", "b"]).is_none());
    }

    #[test]
    fn a_result_read_before_a_write_is_never_served_after_it() {
        let c = ReadCache::new();
        let gens = c.generations(&["a"]).unwrap(); // taken before the read
        drop(c.writing(&["a"])); // a write runs and commits while the read runs
        c.put(key("k"), gens, Cached::Count(1));
        assert!(c.get(&key("k"), &["a"]).is_none());
    }

    #[test]
    fn nothing_is_served_or_kept_while_a_table_is_being_written() {
        let c = ReadCache::new();
        let gens = c.generations(&["a"]).unwrap();
        c.put(key("k"), gens, Cached::Count(1));
        let w = c.writing(&["a"]);
        assert!(c.get(&key("k"), &["a"]).is_none(), "served during a write");
        assert!(
            c.generations(&["a"]).is_none(),
            "a read during a write would be kept"
        );
        drop(w);
        assert!(c.get(&key("k"), &["a"]).is_none(), "served after the write");
        let gens = c.generations(&["a"]).unwrap();
        c.put(key("k"), gens, Cached::Count(2));
        assert!(matches!(c.get(&key("k"), &["a"]), Some(Cached::Count(2))));
    }

    #[test]
    fn different_filters_are_different_keys() {
        use palaver_domain::filter::parse_where;
        use palaver_domain::models::FLAKE;
        let rows = |w: serde_json::Value| CacheKey::Count {
            table: "flakes",
            org: "o".into(),
            parent: None,
            r#where: parse_where(&FLAKE, &w).unwrap(),
        };
        let c = ReadCache::new();
        c.put(
            rows(serde_json::json!({"status": "draft"})),
            vec![0],
            Cached::Count(1),
        );
        assert!(c
            .get(&rows(serde_json::json!({"status": "draft"})), &["flakes"])
            .is_some());
        assert!(c
            .get(&rows(serde_json::json!({"status": "publish"})), &["flakes"])
            .is_none());
        assert!(c
            .get(
                &rows(serde_json::json!({"status": {"neq": "draft"}})),
                &["flakes"]
            )
            .is_none());
    }

    #[test]
    fn the_cache_is_bounded() {
        let c = ReadCache::new();
        for i in 0..(MAX_ENTRIES + 10) {
            c.put(key(&format!("k{i}")), vec![], Cached::Count(i as u64));
        }
        assert!(c.lock().entries.len() <= MAX_ENTRIES);
    }
}
