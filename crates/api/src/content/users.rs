//! `/api/users`: login, logout and accounts.

use axum::extract::{Path, State};
use palaver_domain::models;
use palaver_service::content::count_body;
use palaver_service::Services;
use serde_json::{json, Value};

use super::extract::{Body, Caller, FilterParam, MaybeCaller};
use super::{no_content, ok, Result};
use crate::qs;

pub(super) async fn login(
    State(s): State<Services>,
    uri: axum::http::Uri,
    Body(body): Body,
) -> Result {
    let out = s.auth.login(&body).await?;
    let mut res = json!({
        "id": out.token,
        "ttl": out.ttl,
        "created": out.created,
        "userId": out.user.get("id").cloned().unwrap_or(Value::Null),
        "userDetail": out.user,
    });
    // `?include=user` (any case, may repeat) also returns the account under `user`.
    let query = qs::parse(uri.query().unwrap_or_default());
    let include = |v: &Value| match v {
        Value::String(s) => s.eq_ignore_ascii_case("user"),
        Value::Array(a) => a
            .iter()
            .any(|x| x.as_str().is_some_and(|s| s.eq_ignore_ascii_case("user"))),
        _ => false,
    };
    if query.get("include").is_some_and(include) {
        res["user"] = res["userDetail"].clone();
    }
    Ok(ok(res))
}

pub(super) async fn logout(State(s): State<Services>, MaybeCaller(p): MaybeCaller) -> Result {
    s.auth.logout(p.as_ref()).await?;
    Ok(no_content())
}

pub(super) async fn create(
    State(s): State<Services>,
    Caller(p): Caller,
    Body(body): Body,
) -> Result {
    Ok(ok(s.content.create_user(&p, &body).await?))
}

pub(super) async fn get(
    State(s): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
    filter: FilterParam,
) -> Result {
    let filter = filter.parse(&models::USER)?;
    Ok(ok(s.content.get_user(&p, &id, &filter).await?))
}

pub(super) async fn update(
    State(s): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result {
    Ok(ok(s.content.update_user(&p, &id, &body).await?))
}

pub(super) async fn delete(
    State(s): State<Services>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result {
    Ok(ok(count_body(s.content.delete_user(&p, &id).await?)))
}
