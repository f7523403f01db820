//! `/application` and `/application/settings`.

use axum::extract::State;
use palaver_service::platform::SettingsInput;
use palaver_service::Services;

use super::context::Ctx;
use super::extract::{AppCaller, PJson};
use super::{resources, respond, Result};

pub(super) async fn get(State(s): State<Services>, AppCaller(p): AppCaller, ctx: Ctx) -> Result {
    let app = s.platform.application(&p).await?;
    Ok(respond(&ctx, resources::application(&ctx, &app)))
}

pub(super) async fn settings(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
) -> Result {
    let app = s.platform.application(&p).await?;
    Ok(respond(&ctx, resources::settings(&ctx, &app)))
}

pub(super) async fn update_settings(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    PJson(body): PJson,
) -> Result {
    let input = SettingsInput::from_body(&body)?;
    let app = s.platform.update_settings(&p, &input).await?;
    Ok(respond(&ctx, resources::settings(&ctx, &app)))
}
