//! `/jobs`: the caller's background jobs (imports and exports), their state and progress, and
//! the input elements each could not handle.

use axum::extract::{Path, State};
use palaver_service::platform::JOB_SORTABLE;
use palaver_service::Services;
use palaver_views as views;

use super::context::Ctx;
use super::extract::{flag, id, page_request, AppCaller, QueryPairs};
use super::messages::IdPath;
use super::{hal, respond, Result};

pub(super) async fn list(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    q: QueryPairs,
) -> Result {
    let page = page_request(&q, &JOB_SORTABLE)?;
    let running = flag(&q, "running")?;
    let (rows, total) = s.platform.list_jobs(&p, running, &page).await?;
    let items: Vec<_> = rows.iter().map(|j| views::jobs::job(&ctx, j)).collect();
    let page = hal::page(
        &ctx,
        "/jobs",
        "jobs",
        items,
        &page,
        total,
        &hal::carried(&q.0),
    );
    Ok(respond(&ctx, page))
}

pub(super) async fn get(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
) -> Result {
    let job = s.platform.job(&p, id(&path.id, "job")?).await?;
    Ok(respond(&ctx, views::jobs::job(&ctx, &job)))
}

pub(super) async fn errors(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
    q: QueryPairs,
) -> Result {
    let page = page_request(&q, &["position"])?;
    let id = id(&path.id, "job")?;
    let (rows, total) = s.platform.job_errors(&p, id, &page).await?;
    let items: Vec<_> = rows.iter().map(views::jobs::job_error).collect();
    let path = format!("/jobs/{id}/errors");
    let page = hal::page(
        &ctx,
        &path,
        "errors",
        items,
        &page,
        total,
        &hal::carried(&q.0),
    );
    Ok(respond(&ctx, page))
}
