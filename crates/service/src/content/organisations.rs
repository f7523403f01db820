//! `GET /api/organisations/{id}`: the caller's own organisation.

use palaver_domain::filter::Filter;
use palaver_domain::{models, DomainError};

use super::{Content, Doc};
use crate::error::Result;
use crate::principal::Principal;

impl Content {
    pub async fn get_organisation(&self, p: &Principal, id: &str, filter: &Filter) -> Result<Doc> {
        p.require_admin()?;
        let missing = || DomainError::unknown_id("organisation", id);
        let scope = self.own_org(p, id, missing)?;
        let row = self
            .docs
            .get(&models::ORGANISATION, &scope, id)
            .await?
            .ok_or_else(missing)?;
        self.render_one(&p.organisation_id, &models::ORGANISATION, row, filter)
            .await
    }

    /// Fails with `could not find a model with id X` unless `id` is the caller's organisation
    /// (used by the `/organisations/{id}/…` relation routes).
    pub(crate) fn require_own_org_parent(&self, p: &Principal, id: &str) -> Result<()> {
        p.require_admin()?;
        self.own_org(p, id, || DomainError::parent_not_found(id))?;
        Ok(())
    }
}
