//! The real-time clients' upload streams, the HTTP side of the StompX resources' `_streams`
//! (`@chatkitty/core` uploads over HTTP, not STOMP): a `multipart/form-data` POST authorised by
//! the session's write grant in a `Grant` header, read and size-limited like the platform's
//! uploads, answered with the created resource as the gateway writes it (camelCase, with its
//! `_relays`/`_actions`), and errors as the gateway writes them (`{error, message, timestamp}`).

use axum::extract::{DefaultBodyLimit, Extension, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderName, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use palaver_domain::time::{format_millis, now_millis};
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::platform::{ChatUserRow, MessageTarget, MessageView, WriteGrant};
use palaver_service::{ServiceError, Services};
use palaver_views::streams::{CHANNEL_MESSAGES, DISPLAY_PICTURE, MESSAGE_REPLIES, THREAD_MESSAGES};
use palaver_views::LinkBase;
use serde_json::{json, Value};
use tower_http::cors::{Any, CorsLayer};

use super::error::ApiError;
use super::uploads::{self, Sender};

/// How the created resources are written: as the real-time gateway writes them. This crate does
/// not know the gateway, so the server hands its renderers in.
#[derive(Debug, Clone, Copy)]
pub struct StreamViews {
    pub message: fn(&LinkBase, &MessageView) -> Value,
    pub current_user: fn(&LinkBase, &ChatUserRow) -> Value,
}

/// The stream routes (see [`palaver_views::streams`]).
pub(crate) fn routes(views: StreamViews) -> Router<Services> {
    // Browser clients upload from their own origin. The grant travels in a header, never in a
    // cookie, so any origin may ask; none gets credentials.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::POST])
        .allow_headers([header::CONTENT_TYPE, HeaderName::from_static("grant")]);
    Router::new()
        .route(DISPLAY_PICTURE, post(display_picture))
        .route(CHANNEL_MESSAGES, post(channel_message))
        .route(THREAD_MESSAGES, post(thread_message))
        .route(MESSAGE_REPLIES, post(reply))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(Extension(views))
        // Uploads stream past axum's body limit, under the configured upload limit.
        .layer(DefaultBodyLimit::disable())
        .layer(cors)
}

/// An error answered on a stream, in the gateway's shape.
#[derive(Debug)]
pub(crate) struct StreamError(DomainError);

impl From<DomainError> for StreamError {
    fn from(e: DomainError) -> Self {
        StreamError(e)
    }
}

impl From<ServiceError> for StreamError {
    fn from(e: ServiceError) -> Self {
        StreamError(e.into_domain())
    }
}

impl From<ApiError> for StreamError {
    fn from(e: ApiError) -> Self {
        StreamError(e.0)
    }
}

impl IntoResponse for StreamError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status =
            StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // A failure of the server says only that (its cause is logged where it happened).
        let (kind, message) = if status.is_server_error() {
            ("InternalServerError", "The server failed".to_string())
        } else {
            (e.code.platform_name(), e.message)
        };
        let body = json!({
            "error": kind,
            "message": message,
            "timestamp": format_millis(now_millis()),
        });
        (status, Json(body)).into_response()
    }
}

async fn method_not_allowed(method: Method, uri: Uri) -> StreamError {
    DomainError::new(
        ErrorCode::MethodNotAllowed,
        format!(
            "{method} is not supported on {}: upload with POST",
            uri.path()
        ),
    )
    .into()
}

/// Who uploads: the application and user a genuine write grant names, and where the client
/// reached this server (for the links of what it gets back).
struct Uploader {
    grant: WriteGrant,
    base: LinkBase,
}

impl FromRequestParts<Services> for Uploader {
    type Rejection = StreamError;

    async fn from_request_parts(parts: &mut Parts, s: &Services) -> Result<Self, StreamError> {
        let grant = parts
            .headers
            .get("grant")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .ok_or_else(|| {
                DomainError::new(
                    ErrorCode::AccessDenied,
                    "An upload needs the session's write grant in the Grant header",
                )
            })?;
        let grant = s.platform.verify_write_grant(grant).await?;
        let origin =
            super::context::origin(&parts.headers, s.platform.config().public_url.as_deref());
        Ok(Uploader {
            grant,
            base: LinkBase::root(&origin),
        })
    }
}

/// Refuses a body that is not a form before anything else is read.
fn multipart_only(req: &Request) -> Result<(), StreamError> {
    if uploads::is_multipart(req) {
        Ok(())
    } else {
        Err(DomainError::bad_request(
            "An upload is a multipart/form-data body with a \"file\" part",
        )
        .into())
    }
}

fn id(raw: &str, what: &str) -> Result<i64, StreamError> {
    Ok(super::extract::id(raw, what)?)
}

type Created = Result<Json<Value>, StreamError>;

/// Where a streamed FILE message goes.
#[derive(Debug, Clone, Copy)]
enum Dest {
    Channel(i64),
    Thread {
        id: i64,
        channel: i64,
    },
    /// The replies to message `id`.
    Replies {
        id: i64,
        channel: i64,
    },
}

/// Sends the form's file as a FILE message from the uploader to `dest`, once it is known that
/// the uploader may write to its channel, so that nothing is stored for whoever may not.
async fn send(s: &Services, views: StreamViews, up: Uploader, dest: Dest, req: Request) -> Created {
    multipart_only(&req)?;
    let WriteGrant { principal: p, user } = &up.grant;
    let channel = match dest {
        Dest::Channel(id) => id,
        Dest::Thread { channel, .. } | Dest::Replies { channel, .. } => channel,
    };
    // The same rule as the gateway's `message` action: a member not blocked there.
    s.platform.writable_channel(p, channel, *user).await?;
    let target = match dest {
        Dest::Channel(id) => MessageTarget::Channel(id),
        Dest::Thread { id, .. } => MessageTarget::Thread(id),
        // The message's reply thread, made on its first reply (as the gateway's `reply` action
        // does).
        Dest::Replies { id, .. } => MessageTarget::Thread(s.platform.reply_thread(p, id).await?.id),
    };
    let form = uploads::form(req, s).await?;
    let m = uploads::send_file_form(s, p, target, form, Sender::Granted(*user)).await?;
    Ok(Json((views.message)(&up.base, &m)))
}

async fn channel_message(
    State(s): State<Services>,
    Extension(views): Extension<StreamViews>,
    Path(raw): Path<String>,
    up: Uploader,
    req: Request,
) -> Created {
    let dest = Dest::Channel(id(&raw, "channel")?);
    send(&s, views, up, dest, req).await
}

async fn thread_message(
    State(s): State<Services>,
    Extension(views): Extension<StreamViews>,
    Path(raw): Path<String>,
    up: Uploader,
    req: Request,
) -> Created {
    let id = id(&raw, "thread")?;
    let t = s.platform.get_thread(&up.grant.principal, id).await?;
    let dest = Dest::Thread {
        id,
        channel: t.channel_id,
    };
    send(&s, views, up, dest, req).await
}

async fn reply(
    State(s): State<Services>,
    Extension(views): Extension<StreamViews>,
    Path(raw): Path<String>,
    up: Uploader,
    req: Request,
) -> Created {
    let id = id(&raw, "message")?;
    let m = s.platform.get_message(&up.grant.principal, id).await?;
    let dest = Dest::Replies {
        id,
        channel: m.message.channel_id,
    };
    send(&s, views, up, dest, req).await
}

async fn display_picture(
    State(s): State<Services>,
    Extension(views): Extension<StreamViews>,
    up: Uploader,
    req: Request,
) -> Created {
    multipart_only(&req)?;
    let WriteGrant { principal: p, user } = &up.grant;
    let form = uploads::form(req, &s).await?;
    let u = uploads::display_picture(&s, p, *user, form).await?;
    Ok(Json((views.current_user)(&up.base, &u)))
}
