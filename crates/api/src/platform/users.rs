//! `/users`: chat users, their display pictures (external or uploaded) and secrets.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::platform::{NewUserInput, UserPatch, UsersQuery, USER_SORTABLE};
use palaver_service::Services;
use serde::Deserialize;
use serde_json::json;

use super::context::Ctx;
use super::extract::{id, page_request, AppCaller, PJson, QueryPairs};
use super::uploads::{self, JsonOrForm};
use super::{hal, respond, ApiError, Result};
use palaver_views as views;

#[derive(Deserialize)]
pub(super) struct UserPath {
    id: String,
}

#[derive(Deserialize)]
pub(super) struct SecretPath {
    id: String,
    name: String,
}

pub(super) async fn create(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    PJson(body): PJson,
) -> Result {
    let input = NewUserInput::from_body(&body)?;
    let user = s.platform.create_user(&p, input).await?;
    Ok(respond(&ctx, views::users::user(&ctx, &user)))
}

/// `HEAD /users?name=`: 200 when a user of that name exists, 404 when not; never a body.
pub(super) async fn exists(
    State(s): State<Services>,
    caller: std::result::Result<AppCaller, ApiError>,
    q: QueryPairs,
) -> Response {
    let AppCaller(p) = match caller {
        Ok(c) => c,
        Err(e) => {
            return (StatusCode::from_u16(e.0.code.status()).unwrap_or(StatusCode::UNAUTHORIZED))
                .into_response()
        }
    };
    let Some(name) = q.get("name").filter(|n| !n.is_empty()) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    match s.platform.user_exists(&p, name).await {
        Ok(true) => StatusCode::OK.into_response(),
        Ok(false) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

pub(super) async fn list(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    q: QueryPairs,
) -> Result {
    let page = page_request(&q, &USER_SORTABLE)?;
    let filter = UsersQuery {
        name: q.get("name").filter(|n| !n.is_empty()).map(str::to_string),
        properties: q.get("properties").map(str::to_string),
        unread: q.get("unread").map(str::to_string),
    };
    let (rows, total) = s.platform.list_users(&p, &filter, &page).await?;
    let items: Vec<_> = rows.iter().map(|u| views::users::user(&ctx, u)).collect();
    Ok(respond(
        &ctx,
        hal::page(
            &ctx,
            "/users",
            "users",
            items,
            &page,
            total,
            &hal::carried(&q.0),
        ),
    ))
}

pub(super) async fn get(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<UserPath>,
) -> Result {
    let user = s.platform.get_user(&p, id(&path.id, "user")?).await?;
    Ok(respond(&ctx, views::users::user(&ctx, &user)))
}

pub(super) async fn update(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<UserPath>,
    PJson(body): PJson,
) -> Result {
    let patch = UserPatch::from_body(&body)?;
    let user = s
        .platform
        .update_user(&p, id(&path.id, "user")?, &patch)
        .await?;
    Ok(respond(&ctx, views::users::user(&ctx, &user)))
}

pub(super) async fn delete(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<UserPath>,
) -> Result {
    let app = s.platform.delete_user(&p, id(&path.id, "user")?).await?;
    Ok(respond(&ctx, views::users::application(&ctx, &app)))
}

/// An external file `{url, name, content_type, size}` as JSON, or an upload hosted here
/// (multipart, part `file`).
pub(super) async fn display_picture(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<UserPath>,
    body: JsonOrForm,
) -> Result {
    let user = id(&path.id, "user")?;
    let user = match body {
        JsonOrForm::Json(body) => s.platform.set_display_picture(&p, user, &body).await?,
        JsonOrForm::Form(form) => uploads::display_picture(&s, &p, user, form).await?,
    };
    Ok(respond(&ctx, views::users::user(&ctx, &user)))
}

pub(super) async fn secret(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<SecretPath>,
) -> Result {
    let secret = s
        .platform
        .user_secret(&p, id(&path.id, "user")?, &path.name)
        .await?;
    Ok(respond(&ctx, json!({ "secret": secret })))
}

pub(super) async fn set_secret(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<SecretPath>,
    PJson(body): PJson,
) -> Result {
    if body.is_null() {
        return Err(DomainError::new(
            ErrorCode::InvalidParameter,
            "a body {\"secret\": …} is required",
        )
        .into());
    }
    let user = s
        .platform
        .set_user_secret(&p, id(&path.id, "user")?, &path.name, &body)
        .await?;
    Ok(respond(&ctx, views::users::user(&ctx, &user)))
}

pub(super) async fn delete_secret(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<SecretPath>,
) -> Result {
    let user = s
        .platform
        .delete_user_secret(&p, id(&path.id, "user")?, &path.name)
        .await?;
    Ok(respond(&ctx, views::users::user(&ctx, &user)))
}
