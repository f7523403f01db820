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
    Next,
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
                        _ => {
                            return Err(invalid(format!(
                                "relation must be SELF or NEXT, not \"{v}\""
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
        Ok(req)
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
    }
}
