//! Ids of content resources: 24 lowercase hex characters laid out like a MongoDB ObjectId —
//! 4 bytes of Unix seconds, 5 random bytes fixed per process, a 3-byte counter — so ids made by
//! one process sort in creation order and ids of different processes do not collide.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use rand::Rng;

fn process_bytes() -> &'static [u8; 5] {
    static BYTES: OnceLock<[u8; 5]> = OnceLock::new();
    BYTES.get_or_init(|| rand::thread_rng().gen())
}

fn next_count() -> u32 {
    static COUNTER: OnceLock<AtomicU32> = OnceLock::new();
    let c = COUNTER.get_or_init(|| AtomicU32::new(rand::thread_rng().gen_range(0..1 << 23)));
    c.fetch_add(1, Ordering::Relaxed) & 0x00ff_ffff
}

/// Makes a new 24-char lowercase hex id whose first 8 characters are the current Unix time in seconds.
pub fn new_object_id() -> String {
    let secs = chrono::Utc::now().timestamp().clamp(0, u32::MAX as i64) as u32;
    let mut bytes = [0u8; 12];
    bytes[..4].copy_from_slice(&secs.to_be_bytes());
    bytes[4..9].copy_from_slice(process_bytes());
    bytes[9..].copy_from_slice(&next_count().to_be_bytes()[1..]);
    hex::encode(bytes)
}

/// True when `s` has the shape of an id made by [`new_object_id`].
pub fn is_object_id(s: &str) -> bool {
    s.len() == 24
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_24_hex_and_distinct() {
        let a = new_object_id();
        let b = new_object_id();
        assert!(is_object_id(&a), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn id_prefix_is_the_creation_second() {
        let before = chrono::Utc::now().timestamp();
        let id = new_object_id();
        let secs = i64::from_str_radix(&id[..8], 16).unwrap();
        assert!((secs - before).abs() <= 1);
    }

    #[test]
    fn ids_of_one_process_sort_in_creation_order() {
        let ids: Vec<String> = (0..1000).map(|_| new_object_id()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        // The counter may wrap once in 2^24 ids; 1000 consecutive ids cross it at most once.
        let out_of_place = ids.iter().zip(&sorted).filter(|(a, b)| a != b).count();
        assert!(
            out_of_place == 0 || ids[0] > ids[999],
            "{out_of_place} ids out of order"
        );
    }

    #[test]
    fn rejects_other_shapes() {
        assert!(!is_object_id("abc"));
        assert!(!is_object_id("ZZZZZZZZZZZZZZZZZZZZZZZZ"));
        assert!(!is_object_id("0123456789ABCDEF01234567"));
    }
}
