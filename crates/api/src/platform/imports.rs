//! `POST /imports/users`, `/imports/channels`, `/imports/channels/{id}/members` and
//! `/imports/messages`: a `multipart/form-data` body whose `file` part is a JSON array of
//! elements (any part content type, any file name, as a browser `Blob` sends it) is stored as it
//! streams in, and answered `202` with the job that imports it.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use palaver_domain::platform::imports::ImportTarget;
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::{AppPrincipal, Services};
use palaver_views as views;

use super::context::Ctx;
use super::error::ApiError;
use super::extract::{id, AppCaller};
use super::messages::IdPath;
use super::{respond, Result};

/// What an import form may hold besides its file: other parts and the parts' headers.
const FORM_SLACK: u64 = 64 * 1024;
/// Parts looked at before the `file` part must have come.
const MAX_PARTS: usize = 16;

/// The import form of a request, its body limited to the largest import file.
pub(super) struct ImportForm(Multipart);

impl FromRequest<Services> for ImportForm {
    type Rejection = ApiError;

    async fn from_request(req: Request, s: &Services) -> std::result::Result<Self, ApiError> {
        let multipart = super::uploads::is_multipart(&req);
        if !multipart {
            return Err(DomainError::bad_request(
                "An import is a multipart/form-data body with a \"file\" part holding a JSON array",
            )
            .into());
        }
        let limit = s.platform.max_import_bytes().saturating_add(FORM_SLACK);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let req = req.map(|b| Body::new(http_body_util::Limited::new(b, limit)));
        Multipart::from_request(req, s)
            .await
            .map(ImportForm)
            .map_err(|e| {
                DomainError::bad_request(format!(
                    "The multipart body could not be read: {}",
                    e.body_text()
                ))
                .into()
            })
    }
}

/// Streams the form's `file` part into an import of `target`; answers 202 with its job.
async fn import(
    s: &Services,
    p: &AppPrincipal,
    ctx: &Ctx,
    target: ImportTarget,
    channel: Option<i64>,
    ImportForm(mut form): ImportForm,
) -> Result {
    let mut parts = 0;
    loop {
        let field = form.next_field().await.map_err(|e| {
            let code = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ErrorCode::PayloadTooLarge
            } else {
                ErrorCode::BadRequest
            };
            ApiError::from(DomainError::new(
                code,
                format!("The multipart body could not be read: {}", e.body_text()),
            ))
        })?;
        let Some(field) = field else {
            return Err(DomainError::bad_request("The multipart body has no \"file\" part").into());
        };
        parts += 1;
        if parts > MAX_PARTS {
            return Err(DomainError::bad_request(format!(
                "The \"file\" part must come within the first {MAX_PARTS} parts"
            ))
            .into());
        }
        if field.name() == Some("file") {
            let job = s.platform.start_import(p, target, channel, field).await?;
            let mut r: Response = respond(ctx, views::jobs::job(ctx, &job));
            *r.status_mut() = StatusCode::ACCEPTED;
            return Ok(r);
        }
    }
}

pub(super) async fn users(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    form: ImportForm,
) -> Result {
    import(&s, &p, &ctx, ImportTarget::Users, None, form).await
}

pub(super) async fn channels(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    form: ImportForm,
) -> Result {
    import(&s, &p, &ctx, ImportTarget::Channels, None, form).await
}

pub(super) async fn members(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
    form: ImportForm,
) -> Result {
    let channel = id(&path.id, "channel")?;
    import(
        &s,
        &p,
        &ctx,
        ImportTarget::ChannelMembers,
        Some(channel),
        form,
    )
    .await
}

pub(super) async fn messages(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    form: ImportForm,
) -> Result {
    import(&s, &p, &ctx, ImportTarget::Messages, None, form).await
}
