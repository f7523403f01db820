//! LoopBack's stock routes beyond plain CRUD: `findOne`, `exists` (GET and HEAD), the belongsTo
//! gets, `PUT /users/{id}` (replace) and an organisation's relation routes by foreign key.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use palaver_service::content::{OrgRelation, TopModel};
use palaver_service::Services;
use serde_json::json;

use super::extract::{Body, Caller, FilterParam};
use super::{no_content, ok, Result};

pub(super) async fn find_one(s: Services, p: Caller, filter: FilterParam, top: TopModel) -> Result {
    let filter = filter.parse(top.model())?;
    Ok(ok(s.content.find_one(&p.0, top, &filter).await?))
}

pub(super) async fn exists(s: Services, p: Caller, id: String, top: TopModel) -> Result {
    let found = s.content.exists(&p.0, top, &id).await?;
    Ok(ok(json!({ "exists": found })))
}

/// `HEAD /api/{model}/{id}`: 200 or 404, with no body either way.
pub(super) async fn head(s: Services, p: Caller, id: String, top: TopModel) -> Result {
    let status = if s.content.exists(&p.0, top, &id).await? {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    Ok(status.into_response())
}

pub(super) async fn bot_organisation(
    State(s): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result {
    Ok(ok(s.content.bot_organisation(&p, &id).await?))
}

pub(super) async fn flake_bot(
    State(s): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result {
    Ok(ok(s.content.flake_bot(&p, &id).await?))
}

pub(super) async fn replace_user(
    State(s): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result {
    Ok(ok(s.content.replace_user(&p, &id, &body).await?))
}

pub(super) async fn get_org_child(
    s: Services,
    p: Caller,
    (org, fk): (String, String),
    filter: FilterParam,
    rel: OrgRelation,
) -> Result {
    let model = match rel {
        OrgRelation::Users => TopModel::Users.model(),
        OrgRelation::Bots => TopModel::Bots.model(),
    };
    let filter = filter.parse(model)?;
    Ok(ok(s
        .content
        .get_org_child(&p.0, &org, rel, &fk, &filter)
        .await?))
}

pub(super) async fn update_org_child(
    s: Services,
    p: Caller,
    (org, fk): (String, String),
    body: Body,
    rel: OrgRelation,
) -> Result {
    Ok(ok(s
        .content
        .update_org_child(&p.0, &org, rel, &fk, &body.0)
        .await?))
}

pub(super) async fn delete_org_child(
    s: Services,
    p: Caller,
    (org, fk): (String, String),
    rel: OrgRelation,
) -> Result {
    s.content.delete_org_child(&p.0, &org, rel, &fk).await?;
    Ok(no_content())
}
