//! `/api/bots/{id}/{flakes|tags|categories|channels}`: LoopBack's hasMany relation routes.

use axum::extract::{Path, State};
use axum::http::Method;
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::content::{count_body, ChildModel};
use palaver_service::Services;

use super::extract::{Body, Caller, FilterParam, WhereParam};
use super::{list as list_body, no_content, ok, LbError, Result};

/// The relation named in the path, or LoopBack's "no method" 404.
fn relation(method: &Method, bot_id: &str, rel: &str) -> std::result::Result<ChildModel, LbError> {
    ChildModel::from_segment(rel).ok_or_else(|| {
        DomainError::new(
            ErrorCode::RouteNotFound,
            format!("Shared class \"bot\" has no method handling {method} /{bot_id}/{rel}"),
        )
        .into()
    })
}

pub(super) async fn list(
    State(s): State<Services>,
    method: Method,
    Caller(p): Caller,
    Path((bot, rel)): Path<(String, String)>,
    filter: FilterParam,
) -> Result {
    let kind = relation(&method, &bot, &rel)?;
    let filter = filter.parse(kind.model())?;
    Ok(list_body(
        s.content.list_children(&p, &bot, kind, &filter).await?,
    ))
}

pub(super) async fn count(
    State(s): State<Services>,
    method: Method,
    Caller(p): Caller,
    Path((bot, rel)): Path<(String, String)>,
    w: WhereParam,
) -> Result {
    let kind = relation(&method, &bot, &rel)?;
    let w = w.parse(kind.model())?;
    Ok(ok(count_body(
        s.content.count_children(&p, &bot, kind, &w).await?,
    )))
}

pub(super) async fn create(
    State(s): State<Services>,
    method: Method,
    Caller(p): Caller,
    Path((bot, rel)): Path<(String, String)>,
    Body(body): Body,
) -> Result {
    let kind = relation(&method, &bot, &rel)?;
    Ok(ok(s.content.create_children(&p, &bot, kind, &body).await?))
}

pub(super) async fn delete_all(
    State(s): State<Services>,
    method: Method,
    Caller(p): Caller,
    Path((bot, rel)): Path<(String, String)>,
) -> Result {
    let kind = relation(&method, &bot, &rel)?;
    s.content.delete_children(&p, &bot, kind).await?;
    Ok(no_content())
}

pub(super) async fn get(
    State(s): State<Services>,
    method: Method,
    Caller(p): Caller,
    Path((bot, rel, fk)): Path<(String, String, String)>,
    filter: FilterParam,
) -> Result {
    let kind = relation(&method, &bot, &rel)?;
    let filter = filter.parse(kind.model())?;
    Ok(ok(s
        .content
        .get_child(&p, &bot, kind, &fk, &filter)
        .await?))
}

pub(super) async fn update(
    State(s): State<Services>,
    method: Method,
    Caller(p): Caller,
    Path((bot, rel, fk)): Path<(String, String, String)>,
    Body(body): Body,
) -> Result {
    let kind = relation(&method, &bot, &rel)?;
    Ok(ok(s
        .content
        .update_child(&p, &bot, kind, &fk, &body)
        .await?))
}

pub(super) async fn delete(
    State(s): State<Services>,
    method: Method,
    Caller(p): Caller,
    Path((bot, rel, fk)): Path<(String, String, String)>,
) -> Result {
    let kind = relation(&method, &bot, &rel)?;
    s.content.delete_child(&p, &bot, kind, &fk).await?;
    Ok(no_content())
}
