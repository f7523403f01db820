//! User references in request bodies: `{"id": 42}` or `{"username": "alice"}`.

use palaver_domain::{DomainError, ErrorCode};
use palaver_store::platform::ChatUserRow;
use serde_json::Value;

use super::{AppPrincipal, Platform};
use crate::error::Result;

fn bad_ref(what: &str) -> DomainError {
    DomainError::new(
        ErrorCode::InvalidParameter,
        format!(
            "{what} must be a user reference: {{\"id\": <number>}} or {{\"username\": \"<name>\"}}"
        ),
    )
}

/// The name a `{"username": …}` reference gives (None for an id reference or a malformed one,
/// which [`Platform::resolve_user`] looks up or refuses).
pub(crate) fn username_of(r: &Value) -> Option<&str> {
    let obj = r.as_object()?;
    if obj.get("id").is_some_and(|id| !id.is_null()) {
        return None;
    }
    obj.get("username")?.as_str()
}

/// NotFound for a reference to a user that does not exist; `what` names the field.
pub(crate) fn no_user(what: &str, m: String) -> DomainError {
    DomainError::new(ErrorCode::NotFound, format!("{what}: {m}"))
}

impl Platform {
    /// The caller's user that `r` names; `what` names the field in messages.
    pub(crate) async fn resolve_user(
        &self,
        p: &AppPrincipal,
        r: &Value,
        what: &str,
    ) -> Result<ChatUserRow> {
        let obj = r.as_object().ok_or_else(|| bad_ref(what))?;
        let found = match (obj.get("id"), obj.get("username")) {
            (Some(id), _) if !id.is_null() => {
                let id = id.as_i64().ok_or_else(|| bad_ref(what))?;
                self.users
                    .get(p.application_id, id)
                    .await?
                    .ok_or_else(|| format!("No user with id {id}"))
            }
            (_, Some(Value::String(name))) => self
                .users
                .by_name(p.application_id, name)
                .await?
                .ok_or_else(|| format!("No user named \"{name}\"")),
            _ => return Err(bad_ref(what).into()),
        };
        found.map_err(|m| no_user(what, m).into())
    }
}
