//! Accounts (`/api/users`, `/api/organisations/{id}/users`): read, create, update, delete, with
//! the role rules: admins manage their organisation, bot users see and edit only themselves.

use palaver_domain::filter::{Filter, Where};
use palaver_domain::validation::Validation;
use palaver_domain::{models, DomainError, ErrorCode};
use palaver_store::Scope;
use serde_json::{Map, Value};

use super::{input, rules, Content, Doc};
use crate::error::Result;
use crate::password;
use crate::principal::{Principal, Role};

/// Fields only an administrator may change on an account.
const ADMIN_ONLY_FIELDS: &[&str] = &["role", "bot_id", "bot_name"];

impl Content {
    pub async fn get_user(&self, p: &Principal, id: &str, filter: &Filter) -> Result<Doc> {
        if p.role == Role::Customer && p.account_id != id {
            return Err(DomainError::authorization_required().into());
        }
        // Relations lead to the rest of the organisation, which a bot user may not read.
        if p.role == Role::Customer && !filter.include.is_empty() {
            return Err(DomainError::authorization_required().into());
        }
        let row = self
            .docs
            .get(&models::USER, &Scope::org(&p.organisation_id), id)
            .await?
            .ok_or_else(|| DomainError::unknown_id("user", id))?;
        self.render_one(&p.organisation_id, &models::USER, row, filter)
            .await
    }

    pub async fn list_org_users(
        &self,
        p: &Principal,
        org_id: &str,
        filter: &Filter,
    ) -> Result<Vec<Doc>> {
        self.require_own_org_parent(p, org_id)?;
        let rows = self
            .docs
            .find(&models::USER, &Scope::org(&p.organisation_id), filter)
            .await?;
        self.render(&p.organisation_id, &models::USER, &rows, filter)
            .await
    }

    pub async fn count_org_users(&self, p: &Principal, org_id: &str, w: &Where) -> Result<u64> {
        self.require_own_org_parent(p, org_id)?;
        Ok(self
            .docs
            .count(&models::USER, &Scope::org(&p.organisation_id), w)
            .await?)
    }

    pub async fn list_org_bots(
        &self,
        p: &Principal,
        org_id: &str,
        filter: &Filter,
    ) -> Result<Vec<Doc>> {
        self.require_own_org_parent(p, org_id)?;
        self.list_bots(p, filter).await
    }

    pub async fn count_org_bots(&self, p: &Principal, org_id: &str, w: &Where) -> Result<u64> {
        self.require_own_org_parent(p, org_id)?;
        self.count_bots(p, w).await
    }

    pub async fn create_org_bot(&self, p: &Principal, org_id: &str, body: &Value) -> Result<Doc> {
        self.require_own_org_parent(p, org_id)?;
        self.create_bot(p, body).await
    }

    pub async fn create_org_user(&self, p: &Principal, org_id: &str, body: &Value) -> Result<Doc> {
        self.require_own_org_parent(p, org_id)?;
        self.create_user(p, body).await
    }

    /// Creates an account in the caller's organisation. Only a superadmin may create another.
    pub async fn create_user(&self, p: &Principal, body: &Value) -> Result<Doc> {
        self.create_account(p, body, false).await
    }

    /// Creates an account; `verified` marks its email as verified (operator-made accounts).
    pub(crate) async fn create_account(
        &self,
        p: &Principal,
        body: &Value,
        verified: bool,
    ) -> Result<Doc> {
        p.require_admin()?;
        let body = input::object(body)?;
        let mut v = Validation::new(models::USER.name);
        let mut doc = input::writable(&models::USER, body, &mut v)?;
        if doc.get("role").and_then(Value::as_str) == Some("superadmin")
            && p.role != Role::Superadmin
        {
            return Err(DomainError::authorization_required().into());
        }
        rules::user(&doc, &mut v);
        v.require(&doc, "password");
        self.check_account_refs(p, &doc, None, &mut v).await?;
        v.finish()?;
        let hash = password::hash(password::check(&doc["password"])?, self.bcrypt_cost).await?;
        doc.insert("password".into(), Value::String(hash));
        doc.insert("emailVerified".into(), Value::Bool(verified));
        let id = self.stamp_new(&mut doc);
        self.docs
            .insert(&models::USER, &Scope::org(&p.organisation_id), &doc)
            .await?;
        self.get_user(p, &id, &Filter::default()).await
    }

    /// `PATCH /api/users/{id}`: a partial update. A new password is hashed, and a new password
    /// or email ends the account's other sessions.
    pub async fn update_user(&self, p: &Principal, id: &str, body: &Value) -> Result<Doc> {
        self.write_user(p, id, body, false).await
    }

    /// `PUT /api/users/{id}`: LoopBack's `replaceById`. The account is replaced whole: writable
    /// properties absent from the body are cleared, and the password is required as on create.
    pub async fn replace_user(&self, p: &Principal, id: &str, body: &Value) -> Result<Doc> {
        self.write_user(p, id, body, true).await
    }

    async fn write_user(
        &self,
        p: &Principal,
        id: &str,
        body: &Value,
        replace: bool,
    ) -> Result<Doc> {
        let is_self = p.account_id == id;
        if p.role == Role::Customer && !is_self {
            return Err(DomainError::authorization_required().into());
        }
        let scope = Scope::org(&p.organisation_id);
        let current = self
            .docs
            .get(&models::USER, &scope, id)
            .await?
            .ok_or_else(|| {
                if replace {
                    DomainError::new(
                        ErrorCode::ReplaceTargetMissing,
                        format!("Could not replace. Object with id {id} does not exist!"),
                    )
                } else {
                    DomainError::parent_not_found(id)
                }
            })?;
        let body = input::object(body)?;
        let mut v = Validation::new(models::USER.name);
        let mut changes = input::writable(&models::USER, body, &mut v)?;
        if replace {
            v.require(&changes, "password");
            for f in models::USER.fields.iter().filter(|f| f.writable) {
                changes.entry(f.name).or_insert(Value::Null);
            }
        }
        let changes_field = |k: &str| changes.get(k).is_some_and(|x| current.get(k) != Some(x));
        if p.role == Role::Customer && ADMIN_ONLY_FIELDS.iter().any(|k| changes_field(k)) {
            return Err(DomainError::authorization_required().into());
        }
        // Only a superadmin may change a superadmin account (its password, email, anything) or
        // make one; otherwise an owner could take over the organisation's owning account.
        let target_is_superadmin =
            current.get("role").and_then(Value::as_str) == Some("superadmin");
        let makes_superadmin = changes_field("role")
            && changes.get("role").and_then(Value::as_str) == Some("superadmin");
        if (target_is_superadmin || makes_superadmin) && p.role != Role::Superadmin {
            return Err(DomainError::authorization_required().into());
        }
        let mut merged: Map<String, Value> = current.clone();
        merged.extend(changes.clone());
        rules::user(&merged, &mut v);
        self.check_account_refs(p, &merged, Some(id), &mut v)
            .await?;
        v.finish()?;
        let new_password = match changes.get("password") {
            Some(pw) => Some(password::hash(password::check(pw)?, self.bcrypt_cost).await?),
            None => None,
        };
        let ends_sessions = new_password.is_some() || changes_field("email");
        if let Some(hash) = new_password {
            changes.insert("password".into(), Value::String(hash));
        }
        self.touch(&mut changes);
        self.docs
            .update(&models::USER, &scope, id, &changes)
            .await?;
        if ends_sessions {
            let keep = is_self.then_some(p.token_digest.as_str());
            self.tokens
                .delete_for_account(&p.organisation_id, id, keep)
                .await?;
        }
        self.get_user(p, id, &Filter::default()).await
    }

    /// `DELETE /api/users/{id}`: the count of deleted accounts (0 for a miss, as LoopBack).
    pub async fn delete_user(&self, p: &Principal, id: &str) -> Result<u64> {
        p.require_admin()?;
        let scope = Scope::org(&p.organisation_id);
        let Some(target) = self.docs.get(&models::USER, &scope, id).await? else {
            // Another organisation's id answers as a missing one, and touches nothing.
            return Ok(0);
        };
        if target.get("role").and_then(Value::as_str) == Some("superadmin")
            && p.role != Role::Superadmin
        {
            return Err(DomainError::authorization_required().into());
        }
        self.tokens
            .delete_for_account(&p.organisation_id, id, None)
            .await?;
        Ok(u64::from(
            self.docs.delete(&models::USER, &scope, id).await?,
        ))
    }

    /// Email and username unique per organisation; a bot user's bot must exist.
    async fn check_account_refs(
        &self,
        p: &Principal,
        doc: &Map<String, Value>,
        own_id: Option<&str>,
        v: &mut Validation,
    ) -> Result<()> {
        let scope = Scope::org(&p.organisation_id);
        for (field, message) in [
            ("email", "Email already exists"),
            ("username", "User already exists"),
        ] {
            let Some(value) = doc.get(field).and_then(Value::as_str) else {
                continue;
            };
            if self
                .taken(&models::USER, &scope, field, value, own_id)
                .await?
            {
                v.fail(field, "uniqueness", message, doc.get(field));
            }
        }
        if let Some(bot_id) = doc.get("bot_id").and_then(Value::as_str) {
            let found = self
                .docs
                .existing_ids(&models::BOT, &scope, &[bot_id.to_string()])
                .await?;
            if found.is_empty() {
                v.fail(
                    "bot_id",
                    "exists",
                    "refers to an unknown bot",
                    doc.get("bot_id"),
                );
            }
        }
        Ok(())
    }
}
