//! `/user-sessions` and `/chat-sessions`: the real-time sessions of the caller's application.

use axum::extract::State;
use palaver_service::platform::SESSION_SORTABLE;
use palaver_service::Services;
use palaver_views as views;

use super::context::Ctx;
use super::extract::{page_request, AppCaller, QueryPairs};
use super::{hal, respond, Result};

pub(super) async fn user_sessions(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    q: QueryPairs,
) -> Result {
    let page = page_request(&q, &SESSION_SORTABLE)?;
    let (rows, total) = s
        .platform
        .list_user_sessions(&p, q.get("state"), &page)
        .await?;
    let items: Vec<_> = rows
        .iter()
        .map(|(session, user)| views::sessions::user_session(&ctx, session, user))
        .collect();
    let page = hal::page(
        &ctx,
        "/user-sessions",
        "sessions",
        items,
        &page,
        total,
        &hal::carried(&q.0),
    );
    Ok(respond(&ctx, page))
}

pub(super) async fn chat_sessions(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    q: QueryPairs,
) -> Result {
    let page = page_request(&q, &SESSION_SORTABLE)?;
    let (rows, total) = s
        .platform
        .list_chat_sessions(&p, q.get("state"), &page)
        .await?;
    let items: Vec<_> = rows
        .iter()
        .map(|c| views::sessions::chat_session(&ctx, c))
        .collect();
    let page = hal::page(
        &ctx,
        "/chat-sessions",
        "sessions",
        items,
        &page,
        total,
        &hal::carried(&q.0),
    );
    Ok(respond(&ctx, page))
}
