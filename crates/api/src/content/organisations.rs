//! `/api/organisations/{id}` and its `users` and `bots` relations.

use axum::extract::{Path, State};
use palaver_domain::models;
use palaver_service::content::count_body;
use palaver_service::Services;

use super::extract::{Body, Caller, FilterParam, WhereParam};
use super::{list, ok, Result};

pub(super) async fn get(
    State(s): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
    filter: FilterParam,
) -> Result {
    let filter = filter.parse(&models::ORGANISATION)?;
    Ok(ok(s.content.get_organisation(&p, &id, &filter).await?))
}

pub(super) async fn users(
    State(s): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
    filter: FilterParam,
) -> Result {
    let filter = filter.parse(&models::USER)?;
    Ok(list(s.content.list_org_users(&p, &id, &filter).await?))
}

pub(super) async fn count_users(
    State(s): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
    w: WhereParam,
) -> Result {
    let w = w.parse(&models::USER)?;
    Ok(ok(count_body(
        s.content.count_org_users(&p, &id, &w).await?,
    )))
}

pub(super) async fn create_user(
    State(s): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result {
    Ok(ok(s.content.create_org_user(&p, &id, &body).await?))
}

pub(super) async fn bots(
    State(s): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
    filter: FilterParam,
) -> Result {
    let filter = filter.parse(&models::BOT)?;
    Ok(list(s.content.list_org_bots(&p, &id, &filter).await?))
}

pub(super) async fn count_bots(
    State(s): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
    w: WhereParam,
) -> Result {
    let w = w.parse(&models::BOT)?;
    Ok(ok(count_body(s.content.count_org_bots(&p, &id, &w).await?)))
}

pub(super) async fn create_bot(
    State(s): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result {
    Ok(ok(s.content.create_org_bot(&p, &id, &body).await?))
}
