//! `/threads/{id}` and its messages: a channel's MAIN thread or a message's reply thread.

use axum::extract::{Path, State};
use palaver_service::platform::{MessageTarget, NewMessageInput};
use palaver_service::Services;

use super::context::Ctx;
use super::extract::{id, AppCaller, PJson, QueryPairs};
use super::messages::{cursor_request, page_of, IdPath};
use super::uploads::{self, JsonOrForm};
use super::{respond, Result};
use palaver_views as views;

pub(super) async fn get(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
) -> Result {
    let t = s.platform.get_thread(&p, id(&path.id, "thread")?).await?;
    Ok(respond(&ctx, views::messages::thread(&ctx, &t)))
}

pub(super) async fn messages(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
    q: QueryPairs,
) -> Result {
    let req = cursor_request(&q)?;
    let thread = id(&path.id, "thread")?;
    let page = s.platform.thread_messages(&p, thread, &req).await?;
    Ok(page_of(
        &ctx,
        &format!("/threads/{thread}/messages"),
        &page,
        &q,
    ))
}

/// A message as JSON, or a FILE message as a multipart upload.
pub(super) async fn send(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
    body: JsonOrForm,
) -> Result {
    let thread = id(&path.id, "thread")?;
    let m = match body {
        JsonOrForm::Json(body) => {
            let input = NewMessageInput::from_body(&body)?;
            s.platform.send_thread_message(&p, thread, input).await?
        }
        JsonOrForm::Form(form) => {
            uploads::send_file_message(&s, &p, MessageTarget::Thread(thread), form).await?
        }
    };
    Ok(respond(&ctx, views::messages::message(&ctx, &m)))
}

/// `POST /threads/{id}/keystrokes` `{keys, user}` → `{keys, username}`.
pub(super) async fn keystrokes(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
    PJson(body): PJson,
) -> Result {
    let thread = id(&path.id, "thread")?;
    let (keys, username) = s.platform.send_thread_keystrokes(&p, thread, &body).await?;
    Ok(respond(
        &ctx,
        serde_json::json!({ "keys": keys, "username": username }),
    ))
}
