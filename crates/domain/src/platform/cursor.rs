//! Cursor requests of the platform API's history pages (`size`, `start`, `next`, `relation`)
//! and the cursor values in them: opaque int64s bound to one listing, so a cursor that was
//! tampered with or belongs to another listing is refused instead of silently mis-paging.

use crate::error::{DomainError, ErrorCode};
use crate::platform::paging::{DEFAULT_SIZE, MAX_SIZE};

/// Bits of a cursor that check it; the rest is the position.
const CHECK_BITS: u32 = 16;
/// Positions must fit in the bits left of a positive int64.
const MAX_POSITION: i64 = (1 << (63 - CHECK_BITS)) - 1;

fn invalid(message: impl Into<String>) -> DomainError {
    DomainError::new(ErrorCode::InvalidParameter, message)
}

/// FNV-1a: small, stable across builds and versions, enough to catch an edited cursor.
fn check(listing: &str, position: i64) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in listing.bytes().chain(position.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h & ((1 << CHECK_BITS) - 1)) as i64
}

/// The cursor of `position` (a key of the listing, 0 or more) in `listing`.
pub fn encode(listing: &str, position: i64) -> i64 {
    let p = position.clamp(0, MAX_POSITION);
    (p << CHECK_BITS) | check(listing, p)
}

/// The position a cursor of `listing` stands for.
pub fn decode(listing: &str, raw: &str, name: &str) -> Result<i64, DomainError> {
    let bad = || {
        invalid(format!(
            "{name} is not a cursor of this listing; use the links of a page as they are"
        ))
    };
    let v: i64 = raw.trim().parse().map_err(|_| bad())?;
    if v < 0 {
        return Err(bad());
    }
    let position = v >> CHECK_BITS;
    if v & ((1 << CHECK_BITS) - 1) != check(listing, position) {
        return Err(bad());
    }
    Ok(position)
}

/// Where a cursor page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    SelfPage,
    /// The older neighbour of the page whose `next` cursor is given.
    Next,
    /// The newer neighbour of the page whose `prev` link is followed.
    Previous,
}

/// The keys a request asks for, decoded against its listing. Pages are newest first; a page
/// holds keys below `below`, or, going back towards the newest, the keys just above `above`
/// (and below `below`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The newest key of the traversal, fixed by its first page.
    pub start: Option<i64>,
    pub below: Option<i64>,
    pub above: Option<i64>,
    /// The page is not the first of its traversal: a newer page is before it.
    pub follows: bool,
}

/// A page cut from what a [`Window`] fetched, with the cursors its links carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut<T> {
    pub items: Vec<T>,
    pub start: Option<i64>,
    /// Where the older page begins; None on the oldest.
    pub next: Option<i64>,
    /// Where the newer page begins; None on the newest of the traversal.
    pub prev: Option<i64>,
    /// The `next` bound a SELF request reads this page again with; None on the first page.
    pub this: Option<i64>,
}

impl Window {
    /// Turns what was fetched for this window (newest first, up to `size + 1` items: one more
    /// than a page, to tell whether there is a further page) into the page.
    pub fn cut<T>(&self, mut items: Vec<T>, size: u64, key: impl Fn(&T) -> i64) -> Cut<T> {
        let size = size as usize;
        let (next, prev, this) = if let Some(above) = self.above {
            // Going back: the items nearest `above` are this page; one more means more newer.
            let newer = items.len() > size;
            if newer {
                items.drain(..items.len() - size);
            }
            let next = items.last().map(&key).or(Some(above.saturating_add(1)));
            let prev = if newer { items.first().map(&key) } else { None };
            let this = prev.map(|p| p.saturating_add(1));
            (next, prev, this)
        } else {
            let older = items.len() > size;
            items.truncate(size);
            let next = if older { items.last().map(&key) } else { None };
            // An empty page still leads back: to the page ending at its bound.
            let this = self.below.filter(|_| self.follows);
            let prev = this.map(|b| items.first().map_or(b.saturating_sub(1), &key));
            (next, prev, this)
        };
        Cut {
            start: self.start.or_else(|| items.first().map(&key)),
            items,
            next,
            prev,
            this,
        }
    }
}

/// A validated cursor request; `start` and `next` are still encoded (they are decoded against
/// the listing they are used on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorRequest {
    pub size: u64,
    pub start: Option<String>,
    pub next: Option<String>,
    pub relation: Relation,
}

impl Default for CursorRequest {
    fn default() -> Self {
        Self {
            size: DEFAULT_SIZE,
            start: None,
            next: None,
            relation: Relation::SelfPage,
        }
    }
}

impl CursorRequest {
    pub fn from_query(pairs: &[(String, String)]) -> Result<Self, DomainError> {
        let mut req = CursorRequest::default();
        for (k, v) in pairs {
            match k.as_str() {
                "size" => {
                    req.size = v
                        .trim()
                        .parse::<u64>()
                        .ok()
                        .filter(|s| (1..=MAX_SIZE).contains(s))
                        .ok_or_else(|| {
                            invalid(format!(
                                "size must be a whole number from 1 to {MAX_SIZE}, not \"{v}\""
                            ))
                        })?
                }
                "start" => req.start = Some(v.clone()),
                "next" => req.next = Some(v.clone()),
                "relation" => {
                    req.relation = match v.trim().to_ascii_uppercase().as_str() {
                        "SELF" => Relation::SelfPage,
                        "NEXT" => Relation::Next,
                        "PREVIOUS" => Relation::Previous,
                        _ => {
                            return Err(invalid(format!(
                                "relation must be SELF, NEXT or PREVIOUS, not \"{v}\""
                            )))
                        }
                    }
                }
                _ => {}
            }
        }
        if req.relation == Relation::Next && req.next.is_none() {
            return Err(invalid("relation NEXT needs the next cursor of a page"));
        }
        if req.relation == Relation::Previous && (req.next.is_none() || req.start.is_none()) {
            return Err(invalid(
                "relation PREVIOUS needs the start and next cursors of a prev link",
            ));
        }
        Ok(req)
    }

    /// The keys this request asks for in `listing`; its cursors must be that listing's.
    pub fn window(&self, listing: &str) -> Result<Window, DomainError> {
        let start = self
            .start
            .as_deref()
            .map(|s| decode(listing, s, "start"))
            .transpose()?;
        let next = self
            .next
            .as_deref()
            .map(|s| decode(listing, s, "next"))
            .transpose()?;
        // The first page again (no `next`): the same keys, none newer than `start`.
        let first = start.map(|s| s.saturating_add(1));
        Ok(match (self.relation, next) {
            (Relation::Previous, Some(n)) => Window {
                start,
                below: first,
                above: Some(n),
                follows: false,
            },
            (_, Some(n)) => Window {
                start,
                below: Some(n),
                above: None,
                follows: true,
            },
            (_, None) => Window {
                start,
                below: first,
                above: None,
                follows: false,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_within_their_listing_only() {
        let c = encode("channel:7", 124);
        assert_eq!(decode("channel:7", &c.to_string(), "next").ok(), Some(124));
        assert!(decode("channel:8", &c.to_string(), "next").is_err());
        assert!(decode("channel:7", &(c + 1).to_string(), "next").is_err());
        assert!(decode("channel:7", &(c ^ (1 << 20)).to_string(), "next").is_err());
        assert!(decode("channel:7", "garbage", "next").is_err());
        assert!(decode("channel:7", "-5", "next").is_err());
        assert_eq!(
            decode("x", &encode("x", 0).to_string(), "start").ok(),
            Some(0)
        );
    }

    #[test]
    fn requests_validate_size_and_relation() {
        let q = |pairs: &[(&str, &str)]| {
            CursorRequest::from_query(
                &pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!(q(&[]).ok().map(|r| r.size), Some(DEFAULT_SIZE));
        assert!(q(&[("size", "0")]).is_err());
        assert!(q(&[("size", "101")]).is_err());
        assert!(q(&[("relation", "SIDEWAYS")]).is_err());
        assert!(q(&[("relation", "NEXT")]).is_err());
        let r = q(&[("size", "10"), ("next", "5"), ("relation", "next")]);
        assert_eq!(r.ok().map(|r| r.relation), Some(Relation::Next));
        assert!(q(&[("relation", "PREVIOUS"), ("next", "5")]).is_err());
        let r = q(&[("start", "9"), ("next", "5"), ("relation", "previous")]);
        assert_eq!(r.ok().map(|r| r.relation), Some(Relation::Previous));
    }

    fn request(start: Option<i64>, next: Option<i64>, relation: Relation) -> CursorRequest {
        CursorRequest {
            size: 3,
            start: start.map(|s| encode("l", s).to_string()),
            next: next.map(|n| encode("l", n).to_string()),
            relation,
        }
    }

    /// What the store would answer for `w`: keys 1..=10, newest first, `limit` of them.
    fn fetch(w: &Window, limit: usize) -> Vec<i64> {
        let keys =
            (1..=10).filter(|k| w.below.is_none_or(|b| *k < b) && w.above.is_none_or(|a| *k > a));
        if w.above.is_some() {
            let mut v: Vec<i64> = keys.take(limit).collect();
            v.reverse();
            v
        } else {
            keys.rev().take(limit).collect()
        }
    }

    fn page(req: &CursorRequest) -> Cut<i64> {
        let w = req.window("l").unwrap_or_else(|e| panic!("{e:?}"));
        w.cut(fetch(&w, 4), 3, |k| *k)
    }

    #[test]
    fn windows_walk_back_and_forth_over_the_same_pages() {
        let first = page(&request(None, None, Relation::SelfPage));
        assert_eq!(first.items, [10, 9, 8]);
        assert_eq!(
            (first.start, first.next, first.prev),
            (Some(10), Some(8), None)
        );
        let second = page(&request(Some(10), Some(8), Relation::Next));
        assert_eq!(second.items, [7, 6, 5]);
        assert_eq!((second.next, second.prev), (Some(5), Some(7)));
        assert_eq!(second.this, Some(8), "read again below 8");
        let last = page(&request(Some(10), Some(2), Relation::Next));
        assert_eq!(last.items, [1]);
        assert_eq!((last.next, last.prev), (None, Some(1)));
        // Back from the second page: the first again, and no page before it.
        let back = page(&request(Some(10), Some(7), Relation::Previous));
        assert_eq!(back.items, [10, 9, 8]);
        assert_eq!((back.next, back.prev, back.this), (Some(8), None, None));
        // Back from the last page: the three keys just above it, with more before them.
        let back = page(&request(Some(10), Some(1), Relation::Previous));
        assert_eq!(back.items, [4, 3, 2]);
        assert_eq!((back.next, back.prev), (Some(2), Some(4)));
        assert_eq!(back.this, Some(5), "read again below 5");
        // Keys newer than the traversal's start stay out of it, going back too.
        let back = page(&request(Some(9), Some(7), Relation::Previous));
        assert_eq!(back.items, [9, 8]);
        assert_eq!(back.prev, None);
        // The first page re-read by its self link has no page before it.
        let again = page(&request(Some(10), None, Relation::SelfPage));
        assert_eq!((again.items.len(), again.prev), (3, None));
    }
}
