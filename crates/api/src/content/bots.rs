//! `/api/bots`: bot CRUD.

use axum::extract::{Path, State};
use palaver_domain::models;
use palaver_service::content::count_body;
use palaver_service::Services;

use super::extract::{Body, Caller, FilterParam, WhereParam};
use super::{list as list_body, ok, Result};

pub(super) async fn list(
    State(s): State<Services>,
    Caller(p): Caller,
    filter: FilterParam,
) -> Result {
    let filter = filter.parse(&models::BOT)?;
    Ok(list_body(s.content.list_bots(&p, &filter).await?))
}

pub(super) async fn count(State(s): State<Services>, Caller(p): Caller, w: WhereParam) -> Result {
    let w = w.parse(&models::BOT)?;
    Ok(ok(count_body(s.content.count_bots(&p, &w).await?)))
}

pub(super) async fn create(
    State(s): State<Services>,
    Caller(p): Caller,
    Body(body): Body,
) -> Result {
    Ok(ok(s.content.create_bot(&p, &body).await?))
}

pub(super) async fn get(
    State(s): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
    filter: FilterParam,
) -> Result {
    let filter = filter.parse(&models::BOT)?;
    Ok(ok(s.content.get_bot(&p, &id, &filter).await?))
}

pub(super) async fn patch(
    State(s): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result {
    Ok(ok(s.content.update_bot(&p, &id, &body, false).await?))
}

pub(super) async fn replace(
    State(s): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result {
    Ok(ok(s.content.update_bot(&p, &id, &body, true).await?))
}

pub(super) async fn delete(
    State(s): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result {
    Ok(ok(count_body(s.content.delete_bot(&p, &id).await?)))
}
