//! Secrets kept at rest: users' secrets, webhook endpoints' secrets and runtimes' environment
//! variables are sealed (AES-256-GCM, see `cipher`) under the instance's key (see `key`), each
//! bound to its place, the row that holds it; values stored before sealing existed are sealed
//! once at start (see `plain`). The store only ever sees the sealed text, the API only the
//! opened value.

mod cipher;
mod key;
mod plain;

pub use cipher::{is_sealed, random_key, SealError, Sealer, KEY_BYTES, SEALED_PREFIX};
pub use key::{open, KeyError, SecretsConfig, KEY_CHECK_SETTING};
pub use plain::seal_plain;

use palaver_store::SecretRow;

/// The place of a value: its column and the row's identity. Every part before the last has no
/// `:` of its own (numbers, hex ids), so no two places read the same.
pub(crate) fn place(row: &SecretRow) -> String {
    match row {
        SecretRow::UserSecret {
            application_id,
            user_id,
            name,
        } => format!("chat_user_secrets.secret:{application_id}:{user_id}:{name}"),
        SecretRow::Webhook {
            organisation_id,
            bot_id,
            id,
        } => format!("webhooks.secret:{organisation_id}:{bot_id}:{id}"),
        SecretRow::RuntimeEnvironment { application_id } => {
            format!("runtimes.environment_variables:{application_id}")
        }
    }
}

/// Why a stored secret could not be opened, logged once with where it is; the caller answers
/// a bare server error.
pub(crate) fn unopened(row: &SecretRow, e: SealError) -> palaver_domain::DomainError {
    tracing::error!(place = %place(row), error = %e, "a stored secret does not open");
    palaver_domain::DomainError::internal()
}
