//! Who read what and who is told: `/messages/{id}/read-receipts`, unread counts,
//! `/application/message-read-receipt-summaries`, `/channels/{id}/reported-messages` and
//! `/users/{id}/notifications`.

use axum::extract::{Path, State};
use palaver_service::platform::{RECEIPT_SORTABLE, SUMMARY_SORTABLE};
use palaver_service::Services;
use serde_json::json;

use super::context::Ctx;
use super::extract::{id, page_request, AppCaller, QueryPairs};
use super::messages::{cursor_request, IdPath};
use super::{hal, respond, Result};
use palaver_views as views;

/// Reported messages come in a fixed order.
const UNSORTABLE: [&str; 0] = [];

pub(super) async fn receipts(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
    q: QueryPairs,
) -> Result {
    let page = page_request(&q, &RECEIPT_SORTABLE)?;
    let message = id(&path.id, "message")?;
    let (rows, total) = s.platform.read_receipts(&p, message, &page).await?;
    let items: Vec<_> = rows
        .iter()
        .map(|r| views::messages::receipt(&ctx, message, r))
        .collect();
    let at = format!("/messages/{message}/read-receipts");
    Ok(respond(
        &ctx,
        hal::page(
            &ctx,
            &at,
            "receipts",
            items,
            &page,
            total,
            &hal::carried(&q.0),
        ),
    ))
}

pub(super) async fn unread_count(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
) -> Result {
    let n = s.platform.unread_count(&p, id(&path.id, "user")?).await?;
    Ok(respond(&ctx, json!({ "count": n })))
}

pub(super) async fn summaries(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    q: QueryPairs,
) -> Result {
    let page = page_request(&q, &SUMMARY_SORTABLE)?;
    let (rows, total) = s.platform.read_summaries(&p, &page).await?;
    let items: Vec<_> = rows
        .iter()
        .map(|(c, u, n)| views::messages::summary(c, u, *n, &ctx))
        .collect();
    Ok(respond(
        &ctx,
        hal::page(
            &ctx,
            "/application/message-read-receipt-summaries",
            "summaries",
            items,
            &page,
            total,
            &hal::carried(&q.0),
        ),
    ))
}

pub(super) async fn reported(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
    q: QueryPairs,
) -> Result {
    let page = page_request(&q, &UNSORTABLE)?;
    let channel = id(&path.id, "channel")?;
    let (rows, total) = s.platform.reported_messages(&p, channel, &page).await?;
    let items: Vec<_> = rows
        .iter()
        .map(|m| views::messages::message(&ctx, m))
        .collect();
    let at = format!("/channels/{channel}/reported-messages");
    Ok(respond(
        &ctx,
        hal::page(
            &ctx,
            &at,
            "messages",
            items,
            &page,
            total,
            &hal::carried(&q.0),
        ),
    ))
}

pub(super) async fn notifications(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
    q: QueryPairs,
) -> Result {
    let req = cursor_request(&q)?;
    let user = id(&path.id, "user")?;
    let page = s.platform.user_notifications(&p, user, &req).await?;
    let items: Vec<_> = page
        .items
        .iter()
        .map(|n| views::messages::NotificationJson(&ctx, n))
        .collect();
    let at = format!("/users/{user}/notifications");
    Ok(respond(
        &ctx,
        hal::cursor_page(
            &ctx,
            &at,
            "notifications",
            items,
            &hal::CursorLinks::from(&page),
            &q.0,
        ),
    ))
}
