//! `/channels/{id}/messages`, `/messages` and `/messages/{id}`: send, history as cursor pages,
//! get, edit, delete one or all.

use axum::extract::{Path, State};
use axum::response::Response;
use palaver_domain::platform::cursor::CursorRequest;
use palaver_service::platform::{
    CursorPage, MessageFilter, MessagePatch, MessageTarget, MessageView, NewMessageInput,
};
use palaver_service::Services;
use serde::Deserialize;

use super::context::Ctx;
use super::error::ApiError;
use super::extract::{flag, id, AppCaller, PJson, QueryPairs};
use super::uploads::{self, JsonOrForm};
use super::{hal, respond, Result};
use palaver_views as views;

#[derive(Deserialize)]
pub(super) struct IdPath {
    pub(super) id: String,
}

pub(super) fn cursor_request(q: &QueryPairs) -> std::result::Result<CursorRequest, ApiError> {
    Ok(CursorRequest::from_query(&q.0)?)
}

fn filter(q: &QueryPairs) -> MessageFilter {
    let some = |k: &str| q.get(k).filter(|v| !v.is_empty()).map(str::to_string);
    MessageFilter {
        username: some("username"),
        query: some("query"),
        ..MessageFilter::default()
    }
}

/// A cursor page of messages at `path`.
pub(super) fn page_of(
    ctx: &Ctx,
    path: &str,
    page: &CursorPage<MessageView>,
    q: &QueryPairs,
) -> Response {
    let items: Vec<_> = page
        .items
        .iter()
        .map(|m| views::messages::message(ctx, m))
        .collect();
    respond(
        ctx,
        hal::cursor_page(
            ctx,
            path,
            "messages",
            items,
            &hal::CursorLinks::from(page),
            &q.0,
        ),
    )
}

/// A message as JSON, or a FILE message as a multipart upload.
pub(super) async fn send_to_channel(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
    body: JsonOrForm,
) -> Result {
    let channel = id(&path.id, "channel")?;
    let m = match body {
        JsonOrForm::Json(body) => {
            let input = NewMessageInput::from_body(&body)?;
            s.platform.send_channel_message(&p, channel, input).await?
        }
        JsonOrForm::Form(form) => {
            uploads::send_file_message(&s, &p, MessageTarget::Channel(channel), form).await?
        }
    };
    Ok(respond(&ctx, views::messages::message(&ctx, &m)))
}

pub(super) async fn channel_history(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
    q: QueryPairs,
) -> Result {
    let req = cursor_request(&q)?;
    let channel = id(&path.id, "channel")?;
    let page = s
        .platform
        .channel_messages(&p, channel, &filter(&q), &req)
        .await?;
    Ok(page_of(
        &ctx,
        &format!("/channels/{channel}/messages"),
        &page,
        &q,
    ))
}

pub(super) async fn list(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    q: QueryPairs,
) -> Result {
    let req = cursor_request(&q)?;
    let page = s.platform.list_messages(&p, &filter(&q), &req).await?;
    Ok(page_of(&ctx, "/messages", &page, &q))
}

pub(super) async fn delete_all(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
) -> Result {
    let app = s.platform.delete_all_messages(&p).await?;
    Ok(respond(&ctx, views::users::application(&ctx, &app)))
}

pub(super) async fn get(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
) -> Result {
    let m = s.platform.get_message(&p, id(&path.id, "message")?).await?;
    Ok(respond(&ctx, views::messages::message(&ctx, &m)))
}

pub(super) async fn update(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
    PJson(body): PJson,
) -> Result {
    let patch = MessagePatch::from_body(&body)?;
    let m = s
        .platform
        .update_message(&p, id(&path.id, "message")?, &patch)
        .await?;
    Ok(respond(&ctx, views::messages::message(&ctx, &m)))
}

pub(super) async fn delete(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
) -> Result {
    let t = s
        .platform
        .delete_message(&p, id(&path.id, "message")?)
        .await?;
    Ok(respond(&ctx, views::messages::thread(&ctx, &t)))
}

pub(super) async fn user_messages(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
    q: QueryPairs,
) -> Result {
    let req = cursor_request(&q)?;
    let user = id(&path.id, "user")?;
    let unread = flag(&q, "unread")?.unwrap_or(false);
    let page = s.platform.user_messages(&p, user, unread, &req).await?;
    Ok(page_of(&ctx, &format!("/users/{user}/messages"), &page, &q))
}
