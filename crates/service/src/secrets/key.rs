//! Where the secrets key comes from, and the check that it is the database's: the configured
//! key (base64 of 32 bytes), else the key file, made with a new random key on the first start.
//! The database keeps the key's check value from the first start on, so an instance given
//! another key stops at once with a clear message instead of failing to open secrets later.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use palaver_store::{Db, ServerSettings, StoreError};

use super::cipher::{random_key, Sealer, KEY_BYTES};

/// The name of the server setting holding the key's check value.
pub const KEY_CHECK_SETTING: &str = "secrets_key_check";

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Where the secrets key comes from.
#[derive(Clone)]
pub struct SecretsConfig {
    /// The key, base64 of 32 bytes; when absent, the key file's.
    pub key: Option<String>,
    /// The file holding the key (base64, one line) when none is configured: read when it
    /// exists, else made (mode 0600) with a new random key on the first start.
    pub key_file: PathBuf,
}

/// The key file's name, beside the data.
const KEY_FILE_NAME: &str = "secrets.key";

impl Default for SecretsConfig {
    /// No key configured; the key file `./data/secrets.key`.
    fn default() -> Self {
        Self {
            key: None,
            key_file: Path::new("./data").join(KEY_FILE_NAME),
        }
    }
}

impl SecretsConfig {
    /// No key configured; the key file beside the data: in the folder of a SQLite database
    /// file (`sqlite://data/palaver.db`, the default, gives `data/secrets.key`), else
    /// `./data/secrets.key`.
    pub fn beside(database_url: &str) -> Self {
        let file = database_url
            .strip_prefix("sqlite://")
            .or_else(|| database_url.strip_prefix("sqlite:"))
            .map(|rest| rest.split('?').next().unwrap_or_default())
            .filter(|path| !path.is_empty() && !path.starts_with(':'));
        match file.and_then(|f| Path::new(f).parent()) {
            Some(dir) => Self {
                key: None,
                key_file: dir.join(KEY_FILE_NAME),
            },
            None => Self::default(),
        }
    }
}

impl std::fmt::Debug for SecretsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretsConfig")
            .field("key", &self.key.as_ref().map(|_| "<set>"))
            .field("key_file", &self.key_file)
            .finish()
    }
}

/// Why the secrets key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("secrets_key is not the base64 of 32 bytes")]
    BadConfigured,
    #[error("the secrets key file {0} does not hold the base64 of 32 bytes")]
    BadFile(PathBuf),
    #[error("cannot read or write the secrets key file {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "this database's secrets are sealed with a key that is not here: no secrets_key is set \
         and the key file {0} is missing; restore that file (or set secrets_key to the key)"
    )]
    Missing(PathBuf),
    #[error(
        "the secrets key is not the one this database's secrets are sealed with (its check value \
         differs): give this instance the key the others on this database have, or restore the \
         original key file"
    )]
    Mismatch,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn decode(text: &str) -> Option<[u8; KEY_BYTES]> {
    B64.decode(text.trim()).ok()?.try_into().ok()
}

/// The configured or stored key, checked against the database's check value (which the first
/// start sets).
pub async fn open(db: &Db, config: &SecretsConfig) -> Result<Sealer, KeyError> {
    let settings = ServerSettings::new(db.clone());
    let expected = settings.get(KEY_CHECK_SETTING).await?;
    let key = match &config.key {
        Some(text) => decode(text).ok_or(KeyError::BadConfigured)?,
        None => {
            let path = config.key_file.clone();
            // Making a key for a database whose secrets another key sealed would only put a
            // wrong key file where the right one is to be restored.
            let may_make = expected.is_none();
            tokio::task::spawn_blocking(move || key_from_file(&path, may_make))
                .await
                .map_err(|e| KeyError::File {
                    path: config.key_file.clone(),
                    source: std::io::Error::other(e),
                })??
        }
    };
    let sealer = Sealer::new(key);
    let check = match expected {
        Some(check) => check,
        None => {
            settings
                .set_once(KEY_CHECK_SETTING, sealer.check_value())
                .await?
        }
    };
    // Not secret-dependent timing worth hiding: both values are public digests.
    if check != sealer.check_value() {
        return Err(KeyError::Mismatch);
    }
    Ok(sealer)
}

/// The key in `path`; when there is no such file and `may_make`, a new one written there.
fn key_from_file(path: &Path, may_make: bool) -> Result<[u8; KEY_BYTES], KeyError> {
    let io = |source| KeyError::File {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => return decode(&text).ok_or_else(|| KeyError::BadFile(path.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    if !may_make {
        return Err(KeyError::Missing(path.to_path_buf()));
    }
    let key = random_key();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    // Written whole to a file of its own, then linked into place: a process starting beside
    // this one finds either no key file or a complete one, and of two making one at once the
    // second link fails and that one reads the first's.
    let mut temp = path.as_os_str().to_owned();
    temp.push(format!(".new-{:016x}", rand::random::<u64>()));
    let temp = PathBuf::from(temp);
    let written = (|| {
        let mut file = private_file(&temp)?;
        file.write_all(format!("{}\n", B64.encode(key)).as_bytes())?;
        file.sync_all()?;
        std::fs::hard_link(&temp, path)
    })();
    let _ = std::fs::remove_file(&temp);
    match written {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => key_from_file(path, false),
        Err(e) => Err(io(e)),
    }
}

/// A new file only its owner may read (on Unix; elsewhere the folder's rights apply).
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_file_is_made_private_and_then_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("secrets.key");
        let made = key_from_file(&path, true).unwrap();
        assert_eq!(key_from_file(&path, true).unwrap(), made);
        assert_eq!(key_from_file(&path, false).unwrap(), made);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Nothing is left beside it.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["secrets.key"]);
    }

    #[test]
    fn a_key_file_is_not_made_when_the_database_expects_another_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.key");
        assert!(matches!(
            key_from_file(&path, false),
            Err(KeyError::Missing(_))
        ));
        assert!(!path.exists());
    }

    #[test]
    fn a_key_file_of_something_else_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.key");
        std::fs::write(&path, "c2hvcnQ=\n").unwrap();
        assert!(matches!(
            key_from_file(&path, true),
            Err(KeyError::BadFile(_))
        ));
    }

    #[test]
    fn the_key_file_is_beside_a_sqlite_database() {
        let file = |url: &str| SecretsConfig::beside(url).key_file;
        assert_eq!(
            file("sqlite://data/palaver.db"),
            Path::new("data/secrets.key")
        );
        assert_eq!(
            file("sqlite:///var/lib/palaver/p.db?mode=rwc"),
            Path::new("/var/lib/palaver/secrets.key")
        );
        assert_eq!(file("sqlite://p.db"), Path::new("secrets.key"));
        for elsewhere in ["sqlite::memory:", "postgres://u@h/db", "postgresql://h/db"] {
            assert_eq!(
                file(elsewhere),
                Path::new("./data/secrets.key"),
                "{elsewhere}"
            );
        }
    }

    #[test]
    fn configured_keys_are_base64_of_32_bytes() {
        assert_eq!(decode(&B64.encode([1u8; 32])), Some([1u8; 32]));
        assert_eq!(
            decode(&format!(" {}\n", B64.encode([1u8; 32]))),
            Some([1u8; 32])
        );
        assert_eq!(decode(&B64.encode([1u8; 31])), None);
        assert_eq!(decode("not base64"), None);
    }

    #[test]
    fn the_configured_key_never_shows() {
        let c = SecretsConfig {
            key: Some(B64.encode([9u8; 32])),
            ..SecretsConfig::default()
        };
        assert!(!format!("{c:?}").contains(&B64.encode([9u8; 32])));
    }
}
