//! `/channels` and `/users/{id}/channels`: create, list with filters, get, merge-patch, delete.

use axum::extract::{Path, State};
use palaver_domain::platform::paging::PageRequest;
use palaver_service::platform::{
    ChannelPatch, ChannelView, ChannelsQuery, NewChannelInput, CHANNEL_SORTABLE,
};
use palaver_service::Services;
use serde::Deserialize;

use super::context::Ctx;
use super::extract::{id, page_request, AppCaller, PJson, QueryPairs};
use super::{hal, respond, Result};
use palaver_views as views;

#[derive(Deserialize)]
pub(super) struct ChannelPath {
    id: String,
}

pub(super) async fn create(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    PJson(body): PJson,
) -> Result {
    let input = NewChannelInput::from_body(&body)?;
    let c = s.platform.create_channel(&p, input).await?;
    Ok(respond(&ctx, views::channels::channel(&ctx, &c)))
}

fn page_of(
    ctx: &Ctx,
    path: &str,
    rows: &[ChannelView],
    page: &PageRequest,
    total: u64,
    q: &QueryPairs,
) -> axum::response::Response {
    let items: Vec<_> = rows
        .iter()
        .map(|c| views::channels::channel(ctx, c))
        .collect();
    respond(
        ctx,
        hal::page(
            ctx,
            path,
            "channels",
            items,
            page,
            total,
            &hal::carried(&q.0),
        ),
    )
}

/// Either naming of a query parameter (`start_time` or `startTime`).
fn param(q: &QueryPairs, snake: &str, camel: &str) -> Option<String> {
    q.get(snake).or_else(|| q.get(camel)).map(str::to_string)
}

pub(super) async fn list(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    q: QueryPairs,
) -> Result {
    let page = page_request(&q, &CHANNEL_SORTABLE)?;
    let filter = ChannelsQuery {
        r#type: q.get("type").map(str::to_string),
        members: q
            .0
            .iter()
            .filter(|(k, _)| k == "members")
            .map(|(_, v)| v.clone())
            .collect(),
        start_time: param(&q, "start_time", "startTime"),
        end_time: param(&q, "end_time", "endTime"),
        properties: q.get("properties").map(str::to_string),
    };
    let (rows, total) = s.platform.list_channels(&p, &filter, &page).await?;
    Ok(page_of(&ctx, "/channels", &rows, &page, total, &q))
}

pub(super) async fn user_channels(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<ChannelPath>,
    q: QueryPairs,
) -> Result {
    let page = page_request(&q, &CHANNEL_SORTABLE)?;
    let user = id(&path.id, "user")?;
    let (rows, total) = s.platform.user_channels(&p, user, &page).await?;
    let at = format!("/users/{user}/channels");
    Ok(page_of(&ctx, &at, &rows, &page, total, &q))
}

pub(super) async fn get(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<ChannelPath>,
) -> Result {
    let c = s.platform.get_channel(&p, id(&path.id, "channel")?).await?;
    Ok(respond(&ctx, views::channels::channel(&ctx, &c)))
}

pub(super) async fn update(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<ChannelPath>,
    PJson(body): PJson,
) -> Result {
    let patch = ChannelPatch::from_body(&body)?;
    let c = s
        .platform
        .update_channel(&p, id(&path.id, "channel")?, &patch)
        .await?;
    Ok(respond(&ctx, views::channels::channel(&ctx, &c)))
}

pub(super) async fn delete(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<ChannelPath>,
) -> Result {
    let app = s
        .platform
        .delete_channel(&p, id(&path.id, "channel")?)
        .await?;
    Ok(respond(&ctx, views::users::application(&ctx, &app)))
}
