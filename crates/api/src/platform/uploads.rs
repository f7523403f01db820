//! Bodies of the routes that take a JSON resource or a `multipart/form-data` upload (a display
//! picture, a FILE message), and the reading of those forms: the `file` part is streamed into
//! the file storage as it arrives, never held whole; the other parts are short texts.

use axum::body::Body;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::platform::{
    FileMessageInput, MessageTarget, MessageView, StagedFile, UploadMeta,
};
use palaver_service::{AppPrincipal, Services};
use serde_json::{json, Value};

use super::error::ApiError;
use super::extract::{unreadable_body, PJson};
use crate::limits::JsonLimit;

/// A JSON body's largest size when no configured one is at hand (axum's default).
const JSON_LIMIT: usize = 2 * 1024 * 1024;

/// What a form may hold besides its file, in bytes: its other parts (at most [`MAX_PARTS`] of
/// [`MAX_TEXT_PART`]) and their headers. The body is cut off past the upload limit plus this, so
/// a file over the limit always meets the upload limit (413) first.
const FORM_SLACK: u64 = 4 * 1024 * 1024;

/// Longest part other than the file (`groupTag`, `properties`, `username`, or one skipped).
const MAX_TEXT_PART: usize = 64 * 1024;

/// Most parts a form may have.
const MAX_PARTS: usize = 16;

/// A body that is a JSON resource or a multipart upload.
pub(super) enum JsonOrForm {
    Json(Value),
    Form(Multipart),
}

pub(super) fn bad_form(e: MultipartError) -> ApiError {
    if e.status().as_u16() == 413 {
        DomainError::new(
            ErrorCode::PayloadTooLarge,
            format!("The multipart body is too large: {}", e.body_text()),
        )
        .into()
    } else {
        DomainError::bad_request(format!(
            "The multipart body could not be read: {}",
            e.body_text()
        ))
        .into()
    }
}

/// Whether a request says its body is a `multipart/form-data` form.
pub(super) fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.trim()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// The multipart form of a request that [`is_multipart`], its body cut off past the upload
/// limit (plus the form's other parts): the route lifts axum's limit, this one holds as the
/// body streams.
pub(super) async fn form(req: Request, s: &Services) -> Result<Multipart, ApiError> {
    form_within(req, s.platform.max_upload_bytes()).await
}

/// [`form`] with the upload limit given.
pub(super) async fn form_within(req: Request, max_upload: u64) -> Result<Multipart, ApiError> {
    let limit = max_upload.saturating_add(FORM_SLACK);
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let req = req.map(|b| Body::new(http_body_util::Limited::new(b, limit)));
    Multipart::from_request(req, &()).await.map_err(|e| {
        ApiError::from(DomainError::bad_request(format!(
            "The multipart body could not be read: {}",
            e.body_text()
        )))
    })
}

impl FromRequest<Services> for JsonOrForm {
    type Rejection = ApiError;

    async fn from_request(req: Request, s: &Services) -> Result<Self, ApiError> {
        if is_multipart(&req) {
            return Ok(JsonOrForm::Form(form(req, s).await?));
        }
        // The route lifts axum's limit for its uploads; a JSON body keeps the configured one.
        let limit = req
            .extensions()
            .get::<JsonLimit>()
            .map_or(JSON_LIMIT, |l| l.0);
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
            let status = if std::error::Error::source(&e)
                .is_some_and(|c| c.is::<http_body_util::LengthLimitError>())
            {
                axum::http::StatusCode::PAYLOAD_TOO_LARGE
            } else {
                axum::http::StatusCode::BAD_REQUEST
            };
            unreadable_body(status, &e.to_string())
        })?;
        let PJson(v) =
            PJson::from_request(Request::from_parts(parts, Body::from(bytes)), s).await?;
        Ok(JsonOrForm::Json(v))
    }
}

/// A short part's bytes, whole ([`MAX_TEXT_PART`] at most).
async fn short_part(field: &mut Field<'_>) -> Result<Vec<u8>, ApiError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
        if buf.len() + chunk.len() > MAX_TEXT_PART {
            let name = field.name().unwrap_or_default();
            return Err(DomainError::bad_request(format!(
                "The part \"{name}\" is longer than {MAX_TEXT_PART} bytes"
            ))
            .into());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// A short text part, whole.
async fn text(mut field: Field<'_>) -> Result<String, ApiError> {
    let bytes = short_part(&mut field).await?;
    String::from_utf8(bytes).map_err(|_| {
        let name = field.name().unwrap_or_default();
        DomainError::bad_request(format!("The part \"{name}\" is not UTF-8 text")).into()
    })
}

/// Reads past a part the route does not use (as JSON bodies' unknown fields are ignored),
/// holding it to the size of a text part.
async fn skip(mut field: Field<'_>) -> Result<(), ApiError> {
    short_part(&mut field).await.map(drop)
}

fn meta(field: &Field<'_>) -> UploadMeta {
    UploadMeta {
        name: field.file_name().map(str::to_string),
        content_type: field.content_type().map(str::to_string),
    }
}

fn no_file_part() -> ApiError {
    DomainError::bad_request("The multipart body has no \"file\" part").into()
}

fn too_many_parts() -> ApiError {
    DomainError::bad_request(format!("A multipart body has at most {MAX_PARTS} parts")).into()
}

/// A sender named by a `username` part (a name) or a `user` part (a JSON user reference, or a
/// name).
fn sender_ref(part: &str, value: String) -> Value {
    match (part, serde_json::from_str::<Value>(&value)) {
        ("user", Ok(v @ Value::Object(_))) => v,
        _ => json!({ "username": value }),
    }
}

/// Who sends the FILE message of a form, and how its other parts are written.
#[derive(Debug, Clone, Copy)]
pub(super) enum Sender {
    /// The application's upload: the form's `username` or `user` part names the sender (the
    /// system when there is none); parts are plain text.
    Form,
    /// A chat client's upload stream: the user its write grant names, whatever the form says.
    /// The client JSON-encodes every part but the file (`groupTag` comes as `"tag"`).
    Granted(i64),
}

/// A `groupTag` part as `sender` writes it.
fn group_tag(sender: Sender, text: String) -> String {
    match sender {
        Sender::Form => text,
        Sender::Granted(_) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::String(tag)) => tag,
            _ => text,
        },
    }
}

/// What a FILE message's form gives besides its file: parts as they came.
#[derive(Default)]
pub(super) struct MessageParts {
    group_tag: Option<String>,
    properties: Option<String>,
    user: Option<Value>,
}

/// Where a message form's `file` part goes as it streams.
pub(super) trait FileSink {
    /// Whether a file part has come already.
    fn has_file(&self) -> bool;
    /// Takes the file part, reading it to its end.
    async fn file(&mut self, meta: UploadMeta, field: Field<'_>) -> Result<(), ApiError>;
}

/// The route's sink: the file is staged into the file storage.
struct Staging<'a> {
    s: &'a Services,
    p: &'a AppPrincipal,
    target: MessageTarget,
    staged: &'a mut Option<StagedFile>,
}

impl FileSink for Staging<'_> {
    fn has_file(&self) -> bool {
        self.staged.is_some()
    }

    async fn file(&mut self, meta: UploadMeta, field: Field<'_>) -> Result<(), ApiError> {
        let file = self
            .s
            .platform
            .stage_message_file(self.p, self.target, meta, field)
            .await?;
        *self.staged = Some(file);
        Ok(())
    }
}

/// Reads the form, handing its `file` part to `sink` as it streams.
pub(super) async fn read_message_form(
    form: &mut Multipart,
    sink: &mut impl FileSink,
    sender: Sender,
) -> Result<MessageParts, ApiError> {
    let mut parts = MessageParts::default();
    let mut count = 0;
    while let Some(field) = form.next_field().await.map_err(bad_form)? {
        count += 1;
        if count > MAX_PARTS {
            return Err(too_many_parts());
        }
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                if sink.has_file() {
                    return Err(DomainError::bad_request("A message has one \"file\" part").into());
                }
                let meta = meta(&field);
                sink.file(meta, field).await?;
            }
            "groupTag" | "group_tag" => {
                parts.group_tag = Some(group_tag(sender, text(field).await?));
            }
            "properties" => parts.properties = Some(text(field).await?),
            "username" | "user" if matches!(sender, Sender::Form) => {
                parts.user = Some(sender_ref(&name, text(field).await?));
            }
            _ => skip(field).await?,
        }
    }
    Ok(parts)
}

/// Sends the FILE message of a multipart form (`file`, and optionally `groupTag`, `properties`
/// as JSON, `username`) to `target`. Whatever fails after the file was stored deletes it.
pub(super) async fn send_file_message(
    s: &Services,
    p: &AppPrincipal,
    target: MessageTarget,
    form: Multipart,
) -> Result<MessageView, ApiError> {
    send_file_form(s, p, target, form, Sender::Form).await
}

/// As [`send_file_message`], sent as `sender` says.
pub(super) async fn send_file_form(
    s: &Services,
    p: &AppPrincipal,
    target: MessageTarget,
    mut form: Multipart,
    sender: Sender,
) -> Result<MessageView, ApiError> {
    let mut staged = None;
    let mut sink = Staging {
        s,
        p,
        target,
        staged: &mut staged,
    };
    let read = read_message_form(&mut form, &mut sink, sender).await;
    let input = read.and_then(|parts| message_input(parts, sender));
    match (input, staged) {
        (Ok(input), Some(file)) => Ok(s.platform.send_file_message(p, file, input).await?),
        (Ok(_), None) => Err(no_file_part()),
        (Err(e), file) => {
            if let Some(file) = file {
                if let Err(gone) = s.platform.discard_file(file).await {
                    tracing::warn!(error = ?gone.into_domain(), "a refused upload was not deleted");
                }
            }
            Err(e)
        }
    }
}

/// The FILE message a form's parts other than its file describe.
pub(super) fn message_input(
    parts: MessageParts,
    sender: Sender,
) -> Result<FileMessageInput, ApiError> {
    let properties = match parts.properties.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(serde_json::from_str::<Value>(text).map_err(|e| {
            ApiError::from(DomainError::new(
                ErrorCode::MalformedBody,
                format!("The \"properties\" part is not valid JSON: {e}"),
            ))
        })?),
    };
    let user = match sender {
        Sender::Form => parts.user,
        Sender::Granted(id) => Some(json!({ "id": id })),
    };
    Ok(FileMessageInput {
        group_tag: parts.group_tag,
        properties,
        user,
    })
}

/// Makes the `file` part of a form user `id`'s display picture; other parts are skipped.
pub(super) async fn display_picture(
    s: &Services,
    p: &AppPrincipal,
    id: i64,
    mut form: Multipart,
) -> Result<palaver_service::platform::ChatUserRow, ApiError> {
    let mut count = 0;
    while let Some(field) = form.next_field().await.map_err(bad_form)? {
        count += 1;
        if count > MAX_PARTS {
            return Err(too_many_parts());
        }
        if field.name() == Some("file") {
            let meta = meta(&field);
            return Ok(s
                .platform
                .upload_display_picture(p, id, meta, field)
                .await?);
        }
        skip(field).await?;
    }
    Err(no_file_part())
}
