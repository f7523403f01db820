//! The cipher of secrets at rest: AES-256-GCM with a random 96-bit nonce per value, kept as
//! text (`v1:` + base64 of nonce ‖ ciphertext ‖ tag) so that the columns stay text. The
//! associated data names the value's place (its table and row), so a sealed value copied into
//! another row, or another column, no longer opens.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::Sha256;

/// What every sealed value starts with; the version names the format and the cipher.
pub const SEALED_PREFIX: &str = "v1:";

/// The length of a key, in bytes.
pub const KEY_BYTES: usize = 32;

const NONCE_BYTES: usize = 12;

/// What the check value is an HMAC of: fixed, so that one key always gives one check value.
const CHECK_LABEL: &[u8] = b"palaver secrets key check v1";

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Why a value did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the value is not a sealed value of a known version")]
    Format,
    /// Another key sealed it, it was sealed for another place, or it was changed since.
    #[error("the value does not open with this key for this place")]
    Open,
}

/// Seals and opens values under one key.
#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
    /// HMAC-SHA256 of [`CHECK_LABEL`] under the key, hex: tells keys apart without showing one.
    check: String,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key never shows; its check value says which one it is.
        f.debug_struct("Sealer")
            .field("check", &self.check)
            .finish()
    }
}

impl Sealer {
    pub fn new(key: [u8; KEY_BYTES]) -> Self {
        let check = match <Hmac<Sha256> as Mac>::new_from_slice(&key) {
            Ok(mut mac) => {
                mac.update(CHECK_LABEL);
                hex::encode(mac.finalize().into_bytes())
            }
            // HMAC takes keys of any length: this does not happen.
            Err(_) => String::new(),
        };
        Self {
            cipher: Aes256Gcm::new(&key.into()),
            check,
        }
    }

    /// A sealer under a new random key (tests; a key that is kept comes from `key`).
    pub fn random() -> Self {
        Self::new(random_key())
    }

    /// The key's check value: the same for the same key, and says nothing of it.
    pub fn check_value(&self) -> &str {
        &self.check
    }

    /// `plain`, sealed for `place`.
    pub fn seal(&self, plain: &[u8], place: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_BYTES];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: place.as_bytes(),
                },
            )
            // Only inputs past GCM's 64 GiB limit fail.
            .map_err(|_| SealError::Format)?;
        let mut bytes = Vec::with_capacity(NONCE_BYTES + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        Ok(format!("{SEALED_PREFIX}{}", B64.encode(bytes)))
    }

    /// A text, sealed for `place`.
    pub fn seal_text(&self, plain: &str, place: &str) -> Result<String, SealError> {
        self.seal(plain.as_bytes(), place)
    }

    /// What `sealed` holds, if this key sealed it for `place` and it is unchanged.
    pub fn open(&self, sealed: &str, place: &str) -> Result<Vec<u8>, SealError> {
        let body = sealed
            .strip_prefix(SEALED_PREFIX)
            .ok_or(SealError::Format)?;
        let bytes = B64.decode(body).map_err(|_| SealError::Format)?;
        if bytes.len() < NONCE_BYTES {
            return Err(SealError::Format);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: place.as_bytes(),
                },
            )
            .map_err(|_| SealError::Open)
    }

    /// As [`Sealer::open`], for a sealed text.
    pub fn open_text(&self, sealed: &str, place: &str) -> Result<String, SealError> {
        String::from_utf8(self.open(sealed, place)?).map_err(|_| SealError::Format)
    }
}

/// True when `stored` is in the sealed format (whether or not it opens).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

/// 32 bytes from the operating system's random source.
pub fn random_key() -> [u8; KEY_BYTES] {
    let mut key = [0u8; KEY_BYTES];
    OsRng.fill_bytes(&mut key);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_for_its_place() {
        let s = Sealer::new([7; KEY_BYTES]);
        let sealed = s.seal_text("hunter2", "users:1:2:pw").unwrap();
        assert!(sealed.starts_with(SEALED_PREFIX), "{sealed}");
        assert!(!sealed.contains("hunter2"));
        assert!(is_sealed(&sealed));
        assert_eq!(s.open_text(&sealed, "users:1:2:pw").unwrap(), "hunter2");
        // Empty values seal too (a tag alone).
        let empty = s.seal(b"", "p").unwrap();
        assert_eq!(s.open(&empty, "p").unwrap(), b"");
    }

    #[test]
    fn another_key_does_not_open_it() {
        let sealed = Sealer::new([7; KEY_BYTES]).seal_text("x", "p").unwrap();
        assert_eq!(
            Sealer::new([8; KEY_BYTES]).open(&sealed, "p"),
            Err(SealError::Open)
        );
    }

    #[test]
    fn a_tampered_value_does_not_open() {
        let s = Sealer::new([7; KEY_BYTES]);
        let sealed = s.seal_text("a secret value", "p").unwrap();
        let mut bytes = B64.decode(&sealed[SEALED_PREFIX.len()..]).unwrap();
        // A flipped bit in the nonce, the ciphertext and the tag, each in turn.
        for at in [0, NONCE_BYTES + 1, bytes.len() - 1] {
            bytes[at] ^= 1;
            let tampered = format!("{SEALED_PREFIX}{}", B64.encode(&bytes));
            assert_eq!(s.open(&tampered, "p"), Err(SealError::Open), "byte {at}");
            bytes[at] ^= 1;
        }
        let cut = format!("{SEALED_PREFIX}{}", B64.encode(&bytes[..bytes.len() - 1]));
        assert_eq!(s.open(&cut, "p"), Err(SealError::Open));
    }

    #[test]
    fn a_value_moved_to_another_place_does_not_open() {
        let s = Sealer::new([7; KEY_BYTES]);
        let sealed = s.seal_text("x", "chat_user_secrets:1:2:a").unwrap();
        assert_eq!(
            s.open(&sealed, "chat_user_secrets:1:3:a"),
            Err(SealError::Open)
        );
        assert_eq!(s.open(&sealed, "webhooks:1:2:a"), Err(SealError::Open));
    }

    #[test]
    fn every_seal_has_a_nonce_of_its_own() {
        let s = Sealer::new([7; KEY_BYTES]);
        let a = s.seal_text("same", "p").unwrap();
        let b = s.seal_text("same", "p").unwrap();
        assert_ne!(a, b);
        let nonce =
            |v: &str| B64.decode(&v[SEALED_PREFIX.len()..]).unwrap()[..NONCE_BYTES].to_vec();
        assert_ne!(nonce(&a), nonce(&b));
    }

    #[test]
    fn what_is_not_sealed_is_refused_as_such() {
        let s = Sealer::new([7; KEY_BYTES]);
        for v in [
            "plain",
            "\"json\"",
            "v1:not base64!",
            "v1:AAAA",
            "v2:AAAAAAAAAAAAAAAAAAAA",
        ] {
            assert_eq!(s.open(v, "p"), Err(SealError::Format), "{v}");
        }
        assert!(!is_sealed("{\"A\":\"b\"}"));
    }

    #[test]
    fn the_check_value_tells_keys_apart() {
        let a = Sealer::new([7; KEY_BYTES]);
        assert_eq!(a.check_value(), Sealer::new([7; KEY_BYTES]).check_value());
        assert_ne!(a.check_value(), Sealer::new([8; KEY_BYTES]).check_value());
        assert_eq!(a.check_value().len(), 64);
        assert!(!format!("{a:?}").contains("cipher"));
    }
}
