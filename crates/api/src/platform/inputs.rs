//! Public entry points to the platform API's body parsers (the token endpoint's form, a FILE
//! message's multipart form), each running the code its route runs, so fuzz targets and property
//! tests reach them without a server or a file storage.

use axum::extract::multipart::Field;
use axum::extract::Request;
use axum::http::HeaderMap;
use palaver_domain::DomainError;
use palaver_service::platform::{FileMessageInput, UploadMeta};

use super::error::ApiError;
use super::{oauth, uploads};

/// The fields of a `POST /oauth/token` body, whatever its encoding (urlencoded, multipart or
/// JSON, as its `Content-Type` says).
pub async fn token_fields(req: Request) -> Result<Vec<(String, String)>, DomainError> {
    oauth::fields(req).await.map_err(|e| e.0)
}

/// The client id and secret of an `Authorization: Basic` header.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    oauth::basic(headers)
}

/// Whether a request's `Content-Type` makes it a multipart upload.
pub fn is_multipart(req: &Request) -> bool {
    uploads::is_multipart(req)
}

/// The `file` part of a message form, read whole instead of staged into the file storage.
#[derive(Debug, Clone, Default)]
pub struct FilePart {
    pub meta: UploadMeta,
    pub bytes: Vec<u8>,
}

/// What a FILE message's multipart form gives, read as its route reads it.
#[derive(Debug, Clone, Default)]
pub struct MessageForm {
    pub input: FileMessageInput,
    pub file: Option<FilePart>,
}

/// Reads a FILE message's multipart form as its route does (limits, parts, their encoding),
/// with the upload limit `max_upload`. `granted` is the user of a chat client's upload stream
/// (whose parts are JSON-encoded), `None` for the application's upload route.
pub async fn message_form(
    req: Request,
    max_upload: u64,
    granted: Option<i64>,
) -> Result<MessageForm, DomainError> {
    let sender = granted.map_or(uploads::Sender::Form, uploads::Sender::Granted);
    let mut form = uploads::form_within(req, max_upload)
        .await
        .map_err(|e| e.0)?;
    let mut sink = Whole(None);
    let parts = uploads::read_message_form(&mut form, &mut sink, sender)
        .await
        .map_err(|e| e.0)?;
    let input = uploads::message_input(parts, sender).map_err(|e| e.0)?;
    Ok(MessageForm {
        input,
        file: sink.0,
    })
}

/// Keeps the file part in memory.
struct Whole(Option<FilePart>);

impl uploads::FileSink for Whole {
    fn has_file(&self) -> bool {
        self.0.is_some()
    }

    async fn file(&mut self, meta: UploadMeta, mut field: Field<'_>) -> Result<(), ApiError> {
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(uploads::bad_form)? {
            bytes.extend_from_slice(&chunk);
        }
        self.0 = Some(FilePart { meta, bytes });
        Ok(())
    }
}
