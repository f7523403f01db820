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
        found.map_err(|m| DomainError::new(ErrorCode::NotFound, format!("{what}: {m}")).into())
    }
}
