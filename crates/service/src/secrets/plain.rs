//! Values stored before sealing existed (no `v1:` prefix) are sealed once, at start, after the
//! migrations: SQL cannot do it, not having the key. Each value is replaced only if its row
//! still holds it, so running this again, or on two instances at once, is harmless; reads
//! accept sealed values only.

use palaver_store::{Db, PlainSecrets, SecretColumn, StoreError};

use super::{place, Sealer, SEALED_PREFIX};

/// Rows read at a time.
const BATCH: u64 = 500;

/// Seals every stored secret that is not sealed yet; answers how many were sealed.
pub async fn seal_plain(db: &Db, sealer: &Sealer) -> Result<u64, StoreError> {
    let plain = PlainSecrets::new(db.clone());
    let mut sealed = 0;
    for column in SecretColumn::ALL {
        loop {
            let batch = plain.list(column, SEALED_PREFIX, BATCH).await?;
            let mut progress = false;
            for value in &batch {
                let text = sealer
                    .seal_text(&value.text, &place(&value.row))
                    .map_err(|e| StoreError::Decode(format!("{column:?}: {e}")))?;
                if plain.replace(value, &text).await? {
                    sealed += 1;
                    progress = true;
                }
            }
            // A batch none of whose values could be replaced was written over meanwhile (by
            // an instance that seals what it writes): what is left is not ours to seal now.
            if batch.len() < BATCH as usize || !progress {
                break;
            }
        }
    }
    if sealed > 0 {
        tracing::info!(sealed, "sealed secrets stored in plain text");
    }
    Ok(sealed)
}
