//! Bots: list, count, read, create, update, replace and delete (with their content).

use palaver_domain::filter::{Filter, Where};
use palaver_domain::validation::Validation;
use palaver_domain::{models, DomainError, ErrorCode};
use palaver_store::Scope;
use serde_json::{Map, Value};

use super::{input, rules, Content, Doc};
use crate::error::Result;
use crate::principal::Principal;

impl Content {
    pub async fn list_bots(&self, p: &Principal, filter: &Filter) -> Result<Vec<Doc>> {
        p.require_admin()?;
        let rows = self
            .docs
            .find_shared(&models::BOT, &Scope::org(&p.organisation_id), filter)
            .await?;
        self.render(&p.organisation_id, &models::BOT, &rows, filter)
            .await
    }

    pub async fn count_bots(&self, p: &Principal, w: &Where) -> Result<u64> {
        p.require_admin()?;
        Ok(self
            .docs
            .count(&models::BOT, &Scope::org(&p.organisation_id), w)
            .await?)
    }

    pub async fn get_bot(&self, p: &Principal, id: &str, filter: &Filter) -> Result<Doc> {
        p.require_admin()?;
        let row = self
            .docs
            .get(&models::BOT, &Scope::org(&p.organisation_id), id)
            .await?
            .ok_or_else(|| DomainError::unknown_id("bot", id))?;
        self.render_one(&p.organisation_id, &models::BOT, row, filter)
            .await
    }

    /// Fails with `could not find a model with id X` unless the bot is the caller's.
    pub(crate) async fn require_bot(&self, p: &Principal, bot_id: &str) -> Result<()> {
        p.require_admin()?;
        let found = self
            .docs
            .existing_ids(
                &models::BOT,
                &Scope::org(&p.organisation_id),
                &[bot_id.to_string()],
            )
            .await?;
        if found.is_empty() {
            return Err(DomainError::parent_not_found(bot_id).into());
        }
        Ok(())
    }

    pub async fn create_bot(&self, p: &Principal, body: &Value) -> Result<Doc> {
        p.require_admin()?;
        let mut v = Validation::new(models::BOT.name);
        let mut doc = input::writable(&models::BOT, input::object(body)?, &mut v)?;
        rules::bot(&doc, &mut v);
        v.finish()?;
        let id = self.stamp_new(&mut doc);
        self.link_application(p, &id, None, &mut doc).await?;
        let scope = Scope::org(&p.organisation_id);
        self.docs.insert(&models::BOT, &scope, &doc).await?;
        self.get_bot(p, &id, &Filter::default()).await
    }

    /// `PATCH /api/bots/{id}` (partial) and `PUT /api/bots/{id}` (`replace`: absent fields are
    /// cleared).
    pub async fn update_bot(
        &self,
        p: &Principal,
        id: &str,
        body: &Value,
        replace: bool,
    ) -> Result<Doc> {
        p.require_admin()?;
        let scope = Scope::org(&p.organisation_id);
        let Some(current) = self.docs.get(&models::BOT, &scope, id).await? else {
            return Err(if replace {
                DomainError::new(
                    ErrorCode::ReplaceTargetMissing,
                    format!("Could not replace. Object with id {id} does not exist!"),
                )
            } else {
                DomainError::parent_not_found(id)
            }
            .into());
        };
        let mut v = Validation::new(models::BOT.name);
        let mut changes = input::writable(&models::BOT, input::object(body)?, &mut v)?;
        if replace {
            for f in models::BOT.fields.iter().filter(|f| f.writable) {
                changes.entry(f.name).or_insert(Value::Null);
            }
        }
        let mut merged: Map<String, Value> = current.clone();
        merged.extend(changes.clone());
        rules::bot(&merged, &mut v);
        v.finish()?;
        self.link_application(p, id, Some(&current), &mut changes)
            .await?;
        self.touch(&mut changes);
        self.docs.update(&models::BOT, &scope, id, &changes).await?;
        self.get_bot(p, id, &Filter::default()).await
    }

    /// Deletes a bot and all its content; `{"count": 0}` when there was no such bot.
    pub async fn delete_bot(&self, p: &Principal, id: &str) -> Result<u64> {
        p.require_admin()?;
        let children = [
            &models::FLAKE,
            &models::TAG,
            &models::CATEGORY,
            &models::CHANNEL,
        ];
        let scope = Scope::org(&p.organisation_id);
        let deleted = self
            .docs
            .delete_with_children(&models::BOT, &scope, id, &children, "bot_id")
            .await?;
        Ok(u64::from(deleted))
    }
}
