//! `/application` and `/application/settings`.

use axum::extract::State;
use palaver_service::platform::SettingsInput;
use palaver_service::Services;

use super::context::Ctx;
use super::extract::{AppCaller, PJson};
use super::{respond, Result};
use palaver_views as views;

pub(super) async fn get(State(s): State<Services>, AppCaller(p): AppCaller, ctx: Ctx) -> Result {
    let app = s.platform.application(&p).await?;
    Ok(respond(&ctx, views::users::application(&ctx, &app)))
}

pub(super) async fn settings(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
) -> Result {
    let app = s.platform.application(&p).await?;
    Ok(respond(&ctx, views::users::settings(&ctx, &app)))
}

pub(super) async fn update_settings(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    PJson(body): PJson,
) -> Result {
    let input = SettingsInput::from_body(&body)?;
    let app = s.platform.update_settings(&p, &input).await?;
    Ok(respond(&ctx, views::users::settings(&ctx, &app)))
}
