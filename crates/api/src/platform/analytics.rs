//! `POST /analytics/messages` and `POST /analytics/users`: start a CSV export of the caller's
//! messages or users; answered `202` with the job, whose `file` links to the CSV once it has
//! finished.

use axum::extract::State;
use axum::http::StatusCode;
use palaver_service::platform::ExportTarget;
use palaver_service::{AppPrincipal, Services};
use palaver_views as views;

use super::context::Ctx;
use super::extract::AppCaller;
use super::{respond, Result};

async fn export(s: &Services, p: &AppPrincipal, ctx: &Ctx, target: ExportTarget) -> Result {
    let job = s.platform.start_export(p, target).await?;
    let mut r = respond(ctx, views::jobs::job(ctx, &job));
    *r.status_mut() = StatusCode::ACCEPTED;
    Ok(r)
}

pub(super) async fn messages(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
) -> Result {
    export(&s, &p, &ctx, ExportTarget::Messages).await
}

pub(super) async fn users(State(s): State<Services>, AppCaller(p): AppCaller, ctx: Ctx) -> Result {
    export(&s, &p, &ctx, ExportTarget::Users).await
}
