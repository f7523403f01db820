//! An in-process read cache with exact invalidation, scoped by region: every cached result
//! remembers the regions (a table, one organisation's rows of it, or one part of those, such
//! as one bot's) it was read from, every write through this process names the regions it
//! touches, and a result is served only while no write has touched a region overlapping its own
//! since it was read. A write to bot B's flakes leaves bot A's cached flakes in place.
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

/// Rows a read saw or a write may change: a whole table, one organisation's rows of it, or one
/// part of those. Each table is split into parts by one column only (the repository decides
/// which, e.g. `bot_id`), so two parts of one organisation never share a row; a region that
/// cannot be told that finely is named at the level above, which is always exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Region<'a> {
    pub table: &'static str,
    /// `None`: every organisation (then `part` is `None` too).
    pub org: Option<&'a str>,
    pub part: Option<&'a str>,
}

impl<'a> Region<'a> {
    pub fn table(table: &'static str) -> Self {
        Self {
            table,
            org: None,
            part: None,
        }
    }

    pub fn org(table: &'static str, org: &'a str) -> Self {
        Self {
            table,
            org: Some(org),
            part: None,
        }
    }

    pub fn part(table: &'static str, org: &'a str, part: &'a str) -> Self {
        Self {
            table,
            org: Some(org),
            part: Some(part),
        }
    }

    fn owned(&self) -> OwnedRegion {
        OwnedRegion {
            table: self.table,
            org: self.org.map(str::to_string),
            part: self.org.and(self.part).map(str::to_string),
        }
    }
}

/// A [`Region`] kept in an entry or a write guard.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OwnedRegion {
    table: &'static str,
    org: Option<String>,
    part: Option<String>,
}

impl OwnedRegion {
    fn borrow(&self) -> Region<'_> {
        Region {
            table: self.table,
            org: self.org.as_deref(),
            part: self.part.as_deref(),
        }
    }
}

/// The most results kept; past it the cache starts afresh (cheaper than tracking recency).
const MAX_ENTRIES: usize = 4096;

/// The most regions whose writes are remembered; past it they are forgotten together with every
/// result (a forgotten region could not prove a result current).
const MAX_REGIONS: usize = 16_384;

/// A cached result.
#[derive(Debug, Clone)]
pub(crate) enum Cached {
    Documents(Arc<Vec<Map<String, Value>>>),
    Count(u64),
    Owner(Option<TokenOwner>),
}

/// What the cache knows of writes to one region. Times are ticks of the cache's clock.
#[derive(Debug, Default)]
struct Node {
    /// The last write that named exactly this region (it may change any row of it).
    own: u64,
    /// The last write that named this region or one inside it.
    below: u64,
    /// Writes under way that named exactly this region.
    writing_own: u32,
    /// Writes under way that named this region or one inside it.
    writing_below: u32,
}

impl Node {
    fn idle(&self) -> bool {
        self.writing_below == 0
    }
}

#[derive(Debug, Default)]
struct OrgNode {
    node: Node,
    parts: HashMap<String, Node>,
}

#[derive(Debug, Default)]
struct TableNode {
    node: Node,
    orgs: HashMap<String, OrgNode>,
}

#[derive(Debug)]
struct Entry {
    /// The clock when the read began.
    read_at: u64,
    regions: Vec<OwnedRegion>,
    value: Cached,
}

#[derive(Debug, Default)]
struct Inner {
    /// Ticks once per write start and once per write end.
    clock: u64,
    /// The clock when regions were last forgotten: no read begun before it may be kept.
    floor: u64,
    tables: HashMap<&'static str, TableNode>,
    regions: usize,
    entries: HashMap<CacheKey, Entry>,
}

/// How a write moves a region's node: the time, and one more or one fewer write under way.
#[derive(Clone, Copy)]
enum Step {
    Start(u64),
    End(u64),
}

impl Step {
    fn apply(self, node: &mut Node, exact: bool) {
        let (at, under_way): (u64, fn(&mut u32)) = match self {
            Step::Start(at) => (at, |n| *n += 1),
            Step::End(at) => (at, |n| *n = n.saturating_sub(1)),
        };
        node.below = at;
        under_way(&mut node.writing_below);
        if exact {
            node.own = at;
            under_way(&mut node.writing_own);
        }
    }
}

impl Inner {
    /// Whether no write has touched a region overlapping `r` since `since`, and none is under
    /// way there: every enclosing region's own writes, and every write in or under `r`.
    fn unchanged(&self, r: Region, since: u64) -> bool {
        let Some(t) = self.tables.get(r.table) else {
            return true;
        };
        let (Some(org), true) = (r.org, t.node.own <= since && t.node.writing_own == 0) else {
            // The whole table is the region, or a write to the whole table touched it.
            return r.org.is_none() && t.node.below <= since && t.node.idle();
        };
        let Some(o) = t.orgs.get(org) else {
            return true;
        };
        let (Some(part), true) = (r.part, o.node.own <= since && o.node.writing_own == 0) else {
            return r.part.is_none() && o.node.below <= since && o.node.idle();
        };
        o.parts
            .get(part)
            .is_none_or(|p| p.below <= since && p.idle())
    }

    /// Moves the nodes of `r` and of every region enclosing it.
    fn step(&mut self, r: Region, step: Step) {
        let mut created = 0;
        let t = self.tables.entry(r.table).or_insert_with(|| {
            created += 1;
            TableNode::default()
        });
        step.apply(&mut t.node, r.org.is_none());
        if let Some(org) = r.org {
            let o = t.orgs.entry(org.to_string()).or_insert_with(|| {
                created += 1;
                OrgNode::default()
            });
            step.apply(&mut o.node, r.part.is_none());
            if let Some(part) = r.part {
                let p = o.parts.entry(part.to_string()).or_insert_with(|| {
                    created += 1;
                    Node::default()
                });
                step.apply(p, true);
            }
        }
        self.regions += created;
    }

    /// Forgets every region no write is under way in, and every result: past this point a
    /// region without a node has not been written since [`Inner::floor`], and no result read
    /// before it is kept.
    fn forget(&mut self) {
        self.floor = self.clock;
        self.entries.clear();
        let mut kept = 0;
        self.tables.retain(|_, t| {
            t.orgs.retain(|_, o| {
                o.parts.retain(|_, p| p.writing_below > 0);
                kept += o.parts.len();
                o.node.writing_below > 0
            });
            kept += t.orgs.len();
            t.node.writing_below > 0
        });
        self.regions = kept + self.tables.len();
    }
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

    /// The time to tag a read with, taken before the read begins.
    pub(crate) fn read_start(&self) -> u64 {
        self.lock().clock
    }

    /// The result cached under `key`, if no write has touched its regions since it was read
    /// and none is touching them now.
    pub(crate) fn get(&self, key: &CacheKey) -> Option<Cached> {
        let inner = self.lock();
        let e = inner.entries.get(key)?;
        let current = e.read_at >= inner.floor
            && e.regions
                .iter()
                .all(|r| inner.unchanged(r.borrow(), e.read_at));
        current.then(|| e.value.clone())
    }

    /// Keeps `value`, read from `regions` by a read begun at `read_at` (see
    /// [`ReadCache::read_start`]), unless a write touched one of them since then or is under
    /// way there now: then the read may have straddled a commit.
    pub(crate) fn put(&self, key: CacheKey, read_at: u64, regions: &[Region], value: Cached) {
        let mut inner = self.lock();
        if read_at < inner.floor || !regions.iter().all(|r| inner.unchanged(*r, read_at)) {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.clear();
        }
        let entry = Entry {
            read_at,
            regions: regions.iter().map(Region::owned).collect(),
            value,
        };
        inner.entries.insert(key, entry);
    }

    /// Marks `regions` as being written until the guard drops (after the commit, or the
    /// failure). Their times move on both at the start and at the end, so no result read before
    /// or during the write is served after it.
    pub(crate) fn writing(&self, regions: &[Region]) -> WriteGuard<'_> {
        let mut guard = WriteGuard {
            cache: self,
            regions: Vec::with_capacity(regions.len()),
        };
        for r in regions {
            guard.add(*r);
        }
        guard
    }
}

/// A write under way; see [`ReadCache::writing`].
#[derive(Debug)]
pub(crate) struct WriteGuard<'a> {
    cache: &'a ReadCache,
    regions: Vec<OwnedRegion>,
}

impl WriteGuard<'_> {
    /// Adds `r` to the regions being written (before the statement that writes it runs); a
    /// region already held is not counted twice.
    pub(crate) fn add(&mut self, r: Region) {
        let r = r.owned();
        if self.regions.contains(&r) {
            return;
        }
        let mut inner = self.cache.lock();
        if inner.regions >= MAX_REGIONS {
            inner.forget();
        }
        inner.clock += 1;
        let at = inner.clock;
        inner.step(r.borrow(), Step::Start(at));
        self.regions.push(r);
    }
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        let mut inner = self.cache.lock();
        inner.clock += 1;
        let at = inner.clock;
        for r in &self.regions {
            inner.step(r.borrow(), Step::End(at));
        }
    }
}

#[cfg(test)]
mod tests;
