//! Ids of content resources: 24 lowercase hex characters, a 4-byte seconds prefix then 8 random bytes,
//! so ids sort roughly by creation time like MongoDB ObjectIds.

use rand::RngCore;

/// Makes a new 24-char lowercase hex id whose first 8 characters are the current Unix time in seconds.
pub fn new_object_id() -> String {
    let secs = chrono::Utc::now().timestamp().clamp(0, u32::MAX as i64) as u32;
    let mut bytes = [0u8; 12];
    bytes[..4].copy_from_slice(&secs.to_be_bytes());
    rand::thread_rng().fill_bytes(&mut bytes[4..]);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
    fn rejects_other_shapes() {
        assert!(!is_object_id("abc"));
        assert!(!is_object_id("ZZZZZZZZZZZZZZZZZZZZZZZZ"));
        assert!(!is_object_id("0123456789ABCDEF01234567"));
    }
}
