//! LoopBack's stock routes beyond plain CRUD: `findOne`, `exists`, the belongsTo gets
//! (`/bots/{id}/organisation`, `/flakes/{id}/bot`) and an organisation's relation routes by
//! foreign key (`/organisations/{id}/{users|bots}/{fk}`), with the same tenancy as the rest.

use palaver_domain::filter::{Filter, Scalar, Test, Where};
use palaver_domain::{models, DomainError, Model};
use palaver_store::Scope;
use serde_json::Value;

use super::{Content, Doc};
use crate::error::Result;
use crate::principal::{Principal, Role};

/// The models with `findOne` and `exists` routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopModel {
    Users,
    Organisations,
    Bots,
}

impl TopModel {
    pub fn model(self) -> &'static Model {
        match self {
            Self::Users => &models::USER,
            Self::Organisations => &models::ORGANISATION,
            Self::Bots => &models::BOT,
        }
    }
}

/// An organisation's hasMany relations served by foreign key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgRelation {
    Users,
    Bots,
}

impl OrgRelation {
    fn model(self) -> &'static Model {
        match self {
            Self::Users => &models::USER,
            Self::Bots => &models::BOT,
        }
    }
}

/// `where id = <id>`.
fn id_is(model: &'static Model, id: &str) -> Result<Where> {
    let field = model.any_field("id").ok_or_else(DomainError::internal)?;
    Ok(Where::Test {
        field,
        test: Test::Eq(Scalar::Text(id.to_string())),
    })
}

impl Content {
    /// `GET /api/{model}/findOne`: the first row the filter finds among those the caller may
    /// read, or LoopBack's 404 (`Unknown "bot" id "undefined".`, the id it never had).
    pub async fn find_one(&self, p: &Principal, top: TopModel, filter: &Filter) -> Result<Doc> {
        let model = top.model();
        let mut filter = filter.clone();
        filter.limit = Some(1);
        let scope = Scope::org(&p.organisation_id);
        match top {
            TopModel::Users if p.role == Role::Customer => {
                // A bot user reads only its own account, and no relation of it.
                if !filter.include.is_empty() {
                    return Err(DomainError::authorization_required().into());
                }
                let own = std::mem::replace(&mut filter.r#where, Where::All);
                filter.r#where = id_is(model, &p.account_id)?.and(own);
            }
            TopModel::Organisations => {
                p.require_admin()?;
                let own = std::mem::replace(&mut filter.r#where, Where::All);
                filter.r#where = id_is(model, &p.organisation_id)?.and(own);
            }
            _ => p.require_admin()?,
        }
        let rows = self.docs.find(model, &scope, &filter).await?;
        let mut docs = self
            .render(&p.organisation_id, model, &rows, &filter)
            .await?;
        if docs.is_empty() {
            return Err(DomainError::unknown_id(model.name, "undefined").into());
        }
        Ok(docs.swap_remove(0))
    }

    /// `GET /api/{model}/{id}/exists` and `HEAD /api/{model}/{id}`: whether the caller could
    /// read that row. Who may not ask at all is refused as on a read.
    pub async fn exists(&self, p: &Principal, top: TopModel, id: &str) -> Result<bool> {
        let scope = Scope::org(&p.organisation_id);
        match top {
            TopModel::Users => {
                if p.role == Role::Customer && p.account_id != id {
                    return Err(DomainError::authorization_required().into());
                }
            }
            TopModel::Organisations => {
                p.require_admin()?;
                if id != p.organisation_id {
                    return Ok(false);
                }
            }
            TopModel::Bots => p.require_admin()?,
        }
        let found = self
            .docs
            .existing_ids(top.model(), &scope, &[id.to_string()])
            .await?;
        Ok(!found.is_empty())
    }

    /// `GET /api/bots/{id}/organisation`: the bot's organisation (belongsTo).
    pub async fn bot_organisation(&self, p: &Principal, bot_id: &str) -> Result<Doc> {
        self.require_bot(p, bot_id).await?;
        let organisation_id = p.organisation_id.clone();
        self.get_organisation(p, &organisation_id, &Filter::default())
            .await
    }

    /// `GET /api/flakes/{id}/bot`: the flake's bot (belongsTo); a flake the caller cannot see
    /// is missing, in LoopBack's words for a missing parent.
    pub async fn flake_bot(&self, p: &Principal, flake_id: &str) -> Result<Doc> {
        p.require_admin()?;
        let flake = self
            .docs
            .get(&models::FLAKE, &Scope::org(&p.organisation_id), flake_id)
            .await?
            .ok_or_else(|| DomainError::parent_not_found(flake_id))?;
        let bot_id = flake
            .get("bot_id")
            .and_then(Value::as_str)
            .ok_or_else(DomainError::internal)?;
        self.get_bot(p, bot_id, &Filter::default()).await
    }

    /// Fails with `No instance with id X found for user` unless `fk` is one of the
    /// organisation's `rel` rows (after the organisation itself is checked).
    async fn require_org_child(
        &self,
        p: &Principal,
        org_id: &str,
        rel: OrgRelation,
        fk: &str,
    ) -> Result<()> {
        self.require_own_org_parent(p, org_id)?;
        let model = rel.model();
        let found = self
            .docs
            .existing_ids(model, &Scope::org(&p.organisation_id), &[fk.to_string()])
            .await?;
        if found.is_empty() {
            return Err(DomainError::child_not_found(fk, model.name).into());
        }
        Ok(())
    }

    /// `GET /api/organisations/{id}/{users|bots}/{fk}`.
    pub async fn get_org_child(
        &self,
        p: &Principal,
        org_id: &str,
        rel: OrgRelation,
        fk: &str,
        filter: &Filter,
    ) -> Result<Doc> {
        self.require_org_child(p, org_id, rel, fk).await?;
        match rel {
            OrgRelation::Users => self.get_user(p, fk, filter).await,
            OrgRelation::Bots => self.get_bot(p, fk, filter).await,
        }
    }

    /// `PUT /api/organisations/{id}/{users|bots}/{fk}`: a partial update, as LoopBack's
    /// relation routes do (`updateAttributes`).
    pub async fn update_org_child(
        &self,
        p: &Principal,
        org_id: &str,
        rel: OrgRelation,
        fk: &str,
        body: &Value,
    ) -> Result<Doc> {
        self.require_org_child(p, org_id, rel, fk).await?;
        match rel {
            OrgRelation::Users => self.update_user(p, fk, body).await,
            OrgRelation::Bots => self.update_bot(p, fk, body, false).await,
        }
    }

    /// `DELETE /api/organisations/{id}/{users|bots}/{fk}` (a bot goes with its content).
    pub async fn delete_org_child(
        &self,
        p: &Principal,
        org_id: &str,
        rel: OrgRelation,
        fk: &str,
    ) -> Result<()> {
        self.require_org_child(p, org_id, rel, fk).await?;
        let deleted = match rel {
            OrgRelation::Users => self.delete_user(p, fk).await?,
            OrgRelation::Bots => self.delete_bot(p, fk).await?,
        };
        if deleted == 0 {
            return Err(DomainError::child_not_found(fk, rel.model().name).into());
        }
        Ok(())
    }
}
