//! Hosted files of the caller's application: uploads streamed into the file storage (display
//! pictures, FILE messages in channels and threads), their downloads after authorisation (the
//! application's bearer token, or a chat client's signed, time-limited read grant), and the
//! deletion of files whose message or user is gone.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use futures_util::Stream;
use hmac::{Hmac, Mac};
use palaver_domain::platform::event::{Event, UserRef};
use palaver_domain::{DomainError, ErrorCode};
use palaver_files::{FileError, FileStore, Opened, StoredAs};
use palaver_store::platform::{
    ChatUserChanges, ChatUserRow, ChatUsers, FileRow, Files, NewFile, DISPLAY_PICTURE, MESSAGE_FILE,
};
use serde_json::{json, Value};
use sha2::Sha256;

use super::channel_input::invalid;
use super::message_input::NewMessageInput;
use super::messages::MessageView;
use super::{random_token, AppPrincipal, Platform};
use crate::error::{Result, ServiceError};

/// Longest file name kept, in characters.
const MAX_NAME_CHARS: usize = 255;

/// How long a presigned storage URL that a grant redirects to is valid.
const REDIRECT_TTL: Duration = Duration::from_secs(300);

/// How long a message file may stay without its message before it counts as a send that
/// stopped half way (a send takes well under a second).
const UNATTACHED_GRACE_MILLIS: i64 = 3_600_000;

/// Rows a deletion pass reads at a time.
const SWEEP_BATCH: u64 = 100;

/// What a file grant lets its holder do. Each kind has its own tag and is signed under its own
/// context, so that neither passes for the other, even with its tag rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GrantKind {
    /// Download the application's files: `v1.{app}.{user}.{expires}`.
    Read,
    /// Upload as one user while its session lasts: `w1.{app}.{user}.{session}.{expires}`.
    Write,
}

impl GrantKind {
    fn tag(self) -> &'static str {
        match self {
            GrantKind::Read => "v1",
            GrantKind::Write => "w1",
        }
    }

    /// What the signature covers before the grant's fields.
    fn context(self) -> &'static str {
        match self {
            GrantKind::Read => "palaver-file-read",
            GrantKind::Write => "palaver-file-write",
        }
    }

    /// How many numbers the grant carries (the application first, the expiry last).
    fn numbers(self) -> usize {
        match self {
            GrantKind::Read => 3,
            GrantKind::Write => 4,
        }
    }

    fn name(self) -> &'static str {
        match self {
            GrantKind::Read => "file grant",
            GrantKind::Write => "file write grant",
        }
    }
}

/// What a genuine, unexpired write grant names: whose upload it is.
#[derive(Debug, Clone)]
pub struct WriteGrant {
    /// The application, acting as itself.
    pub principal: AppPrincipal,
    /// The user the upload is made as.
    pub user: i64,
}

/// The file storage and what the platform keeps about its files.
#[derive(Clone)]
pub(crate) struct Hosted {
    store: FileStore,
    rows: Files,
    /// Each application's grant key, once read: keys never change.
    keys: Arc<Mutex<HashMap<i64, Arc<[u8]>>>>,
}

impl fmt::Debug for Hosted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The keys are secrets.
        f.debug_struct("Hosted")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Hosted {
    pub(crate) fn new(store: FileStore, db: palaver_store::Db) -> Self {
        Self {
            store,
            rows: Files::new(db),
            keys: Arc::default(),
        }
    }

    /// Deletes `f`'s object, then its row (an object left by a failed row delete is deleted
    /// again on the next pass; deleting a missing object succeeds).
    async fn forget(&self, f: &FileRow) -> Result<()> {
        self.store.delete(&f.storage_key).await.map_err(stored)?;
        self.rows.delete(f.application_id, f.id).await?;
        Ok(())
    }
}

/// What an upload says of itself: the part's file name and content type, when it gives them.
#[derive(Debug, Clone, Default)]
pub struct UploadMeta {
    pub name: Option<String>,
    pub content_type: Option<String>,
}

/// Where a FILE message goes: a channel (its MAIN thread) or a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageTarget {
    Channel(i64),
    Thread(i64),
}

/// What a multipart FILE message gives besides its file.
#[derive(Debug, Clone, Default)]
pub struct FileMessageInput {
    pub group_tag: Option<String>,
    /// The `properties` part, parsed (it must be a JSON object).
    pub properties: Option<Value>,
    /// The sender: a user reference (`{"username": …}`); the system when absent.
    pub user: Option<Value>,
}

/// How a download is authorised: the application's bearer token, or a read grant.
#[derive(Debug, Clone, Copy)]
pub enum FileAccess<'a> {
    App(&'a AppPrincipal),
    Grant(&'a str),
}

/// A message file stored and recorded whose message is not sent yet: send it with
/// [`Platform::send_file_message`] or give it up with [`Platform::discard_file`]. Dropped
/// otherwise (a request cancelled half way), its object and row are deleted in the background.
pub struct StagedFile {
    row: FileRow,
    target: MessageTarget,
    /// Set until the file is sent or discarded.
    cleanup: Option<Hosted>,
}

impl fmt::Debug for StagedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StagedFile")
            .field("row", &self.row)
            .field("target", &self.target)
            .finish()
    }
}

impl StagedFile {
    pub fn row(&self) -> &FileRow {
        &self.row
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if let Some(hosted) = self.cleanup.take() {
            let row = self.row.clone();
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    if let Err(e) = hosted.forget(&row).await {
                        tracing::warn!(file = row.id, error = ?e, "an abandoned upload was not deleted");
                    }
                });
            }
        }
    }
}

/// A storage failure for the caller: NotFound, 413, 400 for a broken upload, or (logged here,
/// with its cause) a bare internal error.
pub(crate) fn stored(e: FileError) -> ServiceError {
    match e {
        FileError::NotFound => DomainError::new(ErrorCode::NotFound, "The file is gone").into(),
        FileError::TooLarge { limit } => DomainError::new(
            ErrorCode::PayloadTooLarge,
            format!("The file is larger than the {limit} bytes an upload may have"),
        )
        .into(),
        FileError::Body(m) => DomainError::bad_request(format!("The upload failed: {m}")).into(),
        FileError::Storage(cause) => {
            tracing::error!(%cause, "file storage failure");
            DomainError::internal().into()
        }
    }
}

fn no_file(id: i64) -> DomainError {
    DomainError::new(ErrorCode::NotFound, format!("No file with id {id}"))
}

fn bad_grant(kind: GrantKind, why: &str) -> DomainError {
    DomainError::new(
        ErrorCode::AccessDenied,
        format!("The {} {why}", kind.name()),
    )
}

/// A file name fit to keep and show: its last path segment, without control characters, at
/// most [`MAX_NAME_CHARS`]; `file` when nothing is left.
fn clean_name(given: Option<&str>) -> String {
    let last = given
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let name: String = last
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let name = name.trim();
    if name.is_empty() || name == "." || name == ".." {
        "file".into()
    } else {
        name.to_string()
    }
}

/// The part's content type when it is a plausible `type/subtype`, else one guessed from `name`.
fn content_type(given: Option<&str>, name: &str) -> String {
    match given.map(str::trim) {
        Some(t)
            if t.len() <= 255
                && t.split(';').next().is_some_and(|m| {
                    let mut halves = m.trim().split('/');
                    matches!((halves.next(), halves.next(), halves.next()),
                        (Some(a), Some(b), None) if !a.is_empty() && !b.is_empty())
                })
                && !t.chars().any(char::is_control) =>
        {
            t.to_string()
        }
        _ => palaver_files::content_type_for(name),
    }
}

/// `name` percent-encoded for a URL path segment (everything but RFC 3986's unreserved).
fn encode_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where file `f` is downloaded, as a path on the server (`/files/{id}/{name}`): faces add
/// their origin. No query string, since chat clients append `?grant=…`.
pub fn file_path(f: &FileRow) -> String {
    format!("/files/{}/{}", f.id, encode_segment(&f.name))
}

/// `Content-Disposition` of a download of a file named `name`: shown inline, saved under its
/// name (an ASCII fallback for old clients, the exact name in RFC 5987 form).
pub fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "inline; filename=\"{ascii}\"; filename*=UTF-8''{}",
        encode_segment(name)
    )
}

type HmacSha256 = Hmac<Sha256>;

fn signature(key: &[u8], kind: GrantKind, fields: &str) -> Result<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(key).map_err(|e| {
        tracing::error!(error = %e, "file grant key refused");
        ServiceError::from(DomainError::internal())
    })?;
    mac.update(kind.context().as_bytes());
    mac.update(b".");
    mac.update(fields.as_bytes());
    Ok(mac)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The parts of a grant of `kind`, `{tag}.{numbers…}.{signature}`: what is signed (all but the
/// signature), its numbers (the application first, the expiry in epoch seconds last) and its
/// signature.
fn grant_fields(grant: &str, kind: GrantKind) -> Option<(&str, Vec<i64>, Vec<u8>)> {
    let (signed, sig) = grant.rsplit_once('.')?;
    let mut parts = signed.split('.');
    if parts.next()? != kind.tag() {
        return None;
    }
    let numbers = parts
        .map(|n| n.parse::<i64>().ok())
        .collect::<Option<Vec<_>>>()?;
    if numbers.len() != kind.numbers() {
        return None;
    }
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sig)
        .ok()?;
    Some((signed, numbers, sig))
}

impl Platform {
    /// Records a file already written to the storage (an export) as a hosted file of its
    /// application.
    pub(crate) async fn keep_file(&self, f: &NewFile) -> Result<FileRow> {
        Ok(self.hosted.rows.insert(f).await?)
    }

    /// Where hosted files are stored.
    pub fn file_store(&self) -> &FileStore {
        &self.hosted.store
    }

    /// The largest upload accepted, in bytes.
    pub fn max_upload_bytes(&self) -> u64 {
        self.config.max_upload_bytes
    }

    /// Streams `body` into the storage under a new key of `p`'s application; answers the key,
    /// cleaned name, content type and size.
    async fn store_upload<S, E>(
        &self,
        p: &AppPrincipal,
        meta: &UploadMeta,
        body: S,
    ) -> Result<(String, String, String, u64)>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send + Unpin,
        E: fmt::Display,
    {
        let name = clean_name(meta.name.as_deref());
        let content_type = content_type(meta.content_type.as_deref(), &name);
        let key = format!("{}/{}", p.application_id, random_token(32));
        let as_ = StoredAs {
            content_type: Some(content_type.clone()),
            content_disposition: Some(content_disposition(&name)),
        };
        let size = self
            .hosted
            .store
            .put_stream_as(&key, body, self.config.max_upload_bytes, &as_)
            .await
            .map_err(stored)?;
        Ok((key, name, content_type, size))
    }

    /// Records an object just stored; deletes it again when the row cannot be written.
    async fn record(&self, new: NewFile) -> Result<FileRow> {
        match self.hosted.rows.insert(&new).await {
            Ok(row) => Ok(row),
            Err(e) => {
                if let Err(gone) = self.hosted.store.delete(&new.storage_key).await {
                    tracing::warn!(error = %gone, "an unrecorded upload was not deleted");
                }
                Err(e.into())
            }
        }
    }

    /// Makes `body` user `id`'s display picture, hosted here; answers the user. Its previous
    /// hosted pictures are deleted.
    pub async fn upload_display_picture<S, E>(
        &self,
        p: &AppPrincipal,
        id: i64,
        meta: UploadMeta,
        body: S,
    ) -> Result<ChatUserRow>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send + Unpin,
        E: fmt::Display,
    {
        // A user that does not exist gets nothing stored.
        self.get_user(p, id).await?;
        let (storage_key, name, content_type, size) = self.store_upload(p, &meta, body).await?;
        let row = self
            .record(NewFile {
                application_id: p.application_id,
                storage_key,
                purpose: DISPLAY_PICTURE.into(),
                name,
                content_type,
                size: i64::try_from(size).unwrap_or(i64::MAX),
                user_id: Some(id),
                channel_id: None,
                created: self.now(),
            })
            .await?;
        match self.point_display_picture(p, id, file_path(&row)).await {
            Ok(user) => {
                self.forget_display_pictures(p, id, Some(row.id)).await;
                Ok(user)
            }
            Err(e) => {
                self.hosted.forget(&row).await?;
                Err(e)
            }
        }
    }

    /// Points user `id`'s picture at `url`, with its event; answers the user.
    pub(crate) async fn point_display_picture(
        &self,
        p: &AppPrincipal,
        id: i64,
        url: String,
    ) -> Result<ChatUserRow> {
        let user = self.get_user(p, id).await?;
        let changes = ChatUserChanges {
            display_picture_url: Some(url),
            ..ChatUserChanges::default()
        };
        let mut tx = self.db.begin().await?;
        if !ChatUsers::update(&mut tx, p.application_id, id, &changes).await? {
            return Err(
                DomainError::new(ErrorCode::NotFound, format!("No user with id {id}")).into(),
            );
        }
        let updated = UserRef {
            id: user.id,
            name: user.name.clone(),
        };
        self.commit(tx, p, Event::DisplayPictureUpdated(updated))
            .await?;
        self.get_user(p, id).await
    }

    /// Deletes user `id`'s hosted display pictures but `keep`. Failures are logged, not
    /// answered: the new picture is in place, and a later pass deletes what is left.
    pub(crate) async fn forget_display_pictures(
        &self,
        p: &AppPrincipal,
        id: i64,
        keep: Option<i64>,
    ) {
        let old = match self
            .hosted
            .rows
            .display_pictures(p.application_id, id)
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "previous display pictures not listed");
                return;
            }
        };
        for f in old.iter().filter(|f| Some(f.id) != keep) {
            if let Err(e) = self.hosted.forget(f).await {
                tracing::warn!(file = f.id, error = ?e, "a previous display picture was not deleted");
            }
        }
    }

    /// Streams `body` into the storage for a FILE message to `target`, which must exist; the
    /// message is sent by [`Platform::send_file_message`].
    pub async fn stage_message_file<S, E>(
        &self,
        p: &AppPrincipal,
        target: MessageTarget,
        meta: UploadMeta,
        body: S,
    ) -> Result<StagedFile>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send + Unpin,
        E: fmt::Display,
    {
        let channel = match target {
            MessageTarget::Channel(id) => self.channel_row(p, id).await?.id,
            MessageTarget::Thread(id) => self.get_thread(p, id).await?.channel_id,
        };
        let (storage_key, name, content_type, size) = self.store_upload(p, &meta, body).await?;
        let row = self
            .record(NewFile {
                application_id: p.application_id,
                storage_key,
                purpose: MESSAGE_FILE.into(),
                name,
                content_type,
                size: i64::try_from(size).unwrap_or(i64::MAX),
                user_id: None,
                channel_id: Some(channel),
                created: self.now(),
            })
            .await?;
        Ok(StagedFile {
            row,
            target,
            cleanup: Some(self.hosted.clone()),
        })
    }

    /// Deletes a staged file that will not be sent.
    pub async fn discard_file(&self, mut staged: StagedFile) -> Result<()> {
        staged.cleanup = None;
        self.hosted.forget(&staged.row).await
    }

    /// Sends the FILE message of `staged` (a SYSTEM_FILE one without a sender); its file is
    /// `{type: HOSTED, url, name, content_type, size}`. When the send is refused, the file is
    /// deleted.
    pub async fn send_file_message(
        &self,
        p: &AppPrincipal,
        mut staged: StagedFile,
        input: FileMessageInput,
    ) -> Result<MessageView> {
        let sent = self.send_staged(p, &staged, input).await;
        staged.cleanup = None;
        match sent {
            Ok(view) => {
                let (file, message) = (staged.row.id, view.message.id);
                if !self
                    .hosted
                    .rows
                    .attach(p.application_id, file, message)
                    .await?
                {
                    tracing::warn!(file, message, "a sent file was already attached");
                }
                Ok(view)
            }
            Err(e) => {
                self.hosted.forget(&staged.row).await?;
                Err(e)
            }
        }
    }

    async fn send_staged(
        &self,
        p: &AppPrincipal,
        staged: &StagedFile,
        input: FileMessageInput,
    ) -> Result<MessageView> {
        let properties = match input.properties {
            None | Some(Value::Null) => json!({}),
            Some(v @ Value::Object(_)) => v,
            Some(_) => return Err(invalid("properties must be a JSON object").into()),
        };
        let f = &staged.row;
        let message = NewMessageInput {
            r#type: "FILE".into(),
            body: None,
            file: Some(json!({
                "type": "HOSTED",
                "url": file_path(f),
                "name": f.name,
                "content_type": f.content_type,
                "size": f.size,
            })),
            group_tag: input.group_tag,
            properties,
            user: input.user,
        };
        match staged.target {
            MessageTarget::Channel(id) => self.send_channel_message(p, id, message).await,
            MessageTarget::Thread(id) => self.send_thread_message(p, id, message).await,
        }
    }

    /// The file `id` that `access` may read: one of its application whose message or user still
    /// exists. NotFound otherwise (another application's file, too); a bad grant is refused.
    pub async fn readable_file(&self, access: FileAccess<'_>, id: i64) -> Result<FileRow> {
        let app = match access {
            FileAccess::App(p) => p.application_id,
            FileAccess::Grant(g) => self.verify_read_grant(g).await?,
        };
        self.hosted
            .rows
            .live(app, id)
            .await?
            .ok_or_else(|| no_file(id).into())
    }

    /// File `f`'s size and bytes (of `range`, end exclusive, when given: non-empty and inside
    /// the file).
    pub async fn open_file(&self, f: &FileRow, range: Option<Range<u64>>) -> Result<Opened> {
        self.hosted
            .store
            .open(&f.storage_key, range)
            .await
            .map_err(stored)
    }

    /// Where a chat client can fetch `f` straight from the storage (a presigned S3 URL, valid
    /// for a few minutes); None for local storage.
    pub async fn file_redirect(&self, f: &FileRow) -> Result<Option<String>> {
        self.hosted
            .store
            .presigned_get(&f.storage_key, REDIRECT_TTL)
            .await
            .map_err(stored)
    }

    fn cached_grant_key(&self, app: i64) -> Option<Arc<[u8]>> {
        self.hosted
            .keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&app)
            .cloned()
    }

    fn cache_grant_key(&self, app: i64, secret: String) -> Arc<[u8]> {
        let key: Arc<[u8]> = Arc::from(secret.into_bytes());
        self.hosted
            .keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(app, key.clone());
        key
    }

    /// `app`'s grant key, made and kept on first use.
    async fn grant_key(&self, app: i64) -> Result<Arc<[u8]>> {
        if let Some(k) = self.cached_grant_key(app) {
            return Ok(k);
        }
        let secret = self
            .hosted
            .rows
            .grant_key(app, &random_token(43), self.now())
            .await?;
        Ok(self.cache_grant_key(app, secret))
    }

    /// `app`'s grant key if it has one (none is made).
    async fn known_grant_key(&self, app: i64) -> Result<Option<Arc<[u8]>>> {
        if let Some(k) = self.cached_grant_key(app) {
            return Ok(Some(k));
        }
        Ok(self
            .hosted
            .rows
            .get_grant_key(app)
            .await?
            .map(|s| self.cache_grant_key(app, s)))
    }

    /// A grant of `kind` for `p`'s application carrying `ids`, valid for
    /// [`PlatformConfig::file_grant_ttl`](super::PlatformConfig).
    async fn sign_grant(&self, kind: GrantKind, p: &AppPrincipal, ids: &[i64]) -> Result<String> {
        let ttl = i64::try_from(self.config.file_grant_ttl.as_secs()).unwrap_or(i64::MAX);
        let expires = (self.now() / 1000).saturating_add(ttl);
        let mut fields = format!("{}.{}", kind.tag(), p.application_id);
        for id in ids {
            fields.push_str(&format!(".{id}"));
        }
        fields.push_str(&format!(".{expires}"));
        let key = self.grant_key(p.application_id).await?;
        let sig = signature(&key, kind, &fields)?.finalize().into_bytes();
        Ok(format!("{fields}.{}", b64(&sig)))
    }

    /// The numbers of a genuine, unexpired grant of `kind` (the application first).
    async fn verify_grant(&self, kind: GrantKind, grant: &str) -> Result<Vec<i64>> {
        let (fields, numbers, sig) =
            grant_fields(grant.trim(), kind).ok_or_else(|| bad_grant(kind, "is malformed"))?;
        let (Some(&app), Some(&expires)) = (numbers.first(), numbers.last()) else {
            return Err(bad_grant(kind, "is malformed").into());
        };
        // A key is made only for grants: a grant naming an application without one is forged,
        // and must not make one.
        let key = self
            .known_grant_key(app)
            .await?
            .ok_or_else(|| bad_grant(kind, "is not valid"))?;
        signature(&key, kind, fields)?
            .verify_slice(&sig)
            .map_err(|_| bad_grant(kind, "is not valid"))?;
        if expires.saturating_mul(1000) <= self.now() {
            return Err(bad_grant(kind, "has expired").into());
        }
        Ok(numbers)
    }

    /// A read grant for user `user` of `p`'s application: it lets whoever holds it download the
    /// application's files for [`PlatformConfig::file_grant_ttl`](super::PlatformConfig).
    pub async fn file_read_grant(&self, p: &AppPrincipal, user: i64) -> Result<String> {
        self.sign_grant(GrantKind::Read, p, &[user]).await
    }

    /// The application a read grant was made for, when it is genuine and unexpired.
    pub async fn verify_read_grant(&self, grant: &str) -> Result<i64> {
        let numbers = self.verify_grant(GrantKind::Read, grant).await?;
        Ok(numbers.first().copied().unwrap_or_default())
    }

    /// A write grant for user `user` of `p`'s application, holding user session `session`: it
    /// lets whoever holds it upload as that user (display pictures, FILE messages where the user
    /// may write) while that session is active, for at most
    /// [`PlatformConfig::file_grant_ttl`](super::PlatformConfig). A real-time client keeps it for
    /// its whole connection, so the session, not a short clock, is what ends it.
    pub async fn file_write_grant(
        &self,
        p: &AppPrincipal,
        user: i64,
        session: i64,
    ) -> Result<String> {
        self.sign_grant(GrantKind::Write, p, &[user, session]).await
    }

    /// Whose upload a write grant allows, when it is genuine, unexpired, its application still
    /// exists and the user session it was made for is still active.
    pub async fn verify_write_grant(&self, grant: &str) -> Result<WriteGrant> {
        let kind = GrantKind::Write;
        let numbers = self.verify_grant(kind, grant).await?;
        let [app, user, session, _expires] = numbers[..] else {
            return Err(bad_grant(kind, "is malformed").into());
        };
        let application = self
            .apps
            .get(app)
            .await?
            .ok_or_else(|| bad_grant(kind, "is not valid"))?;
        let live = self
            .sessions
            .user_sessions(app, &[session])
            .await?
            .iter()
            .any(|s| s.user_id == user && s.state == "ACTIVE");
        if !live {
            return Err(bad_grant(kind, "has ended with its session").into());
        }
        Ok(WriteGrant {
            principal: AppPrincipal {
                application_id: app,
                organisation_id: application.organisation_id,
            },
            user,
        })
    }

    /// Deletes the objects and rows of `application_id`'s hosted files that nothing uses any
    /// more: those of deleted messages (with their replies) and deleted users (with their
    /// messages), and message files whose send stopped half way over an hour ago. Answers how
    /// many files went. Call it after deleting messages or users.
    pub async fn delete_hosted_files(&self, application_id: i64) -> Result<u64> {
        let rows = &self.hosted.rows;
        let mut deleted = 0;
        loop {
            let orphans = rows.orphans(application_id, SWEEP_BATCH).await?;
            for f in &orphans {
                self.hosted.forget(f).await?;
                deleted += 1;
            }
            if (orphans.len() as u64) < SWEEP_BATCH {
                break;
            }
        }
        let before = self.now().saturating_sub(UNATTACHED_GRACE_MILLIS);
        loop {
            let stale = rows.unattached(application_id, before, SWEEP_BATCH).await?;
            for f in &stale {
                // A send whose message was written but whose file was not attached to it (the
                // process stopped between the two) is repaired, not deleted.
                let sent = match f.channel_id {
                    Some(c) => {
                        rows.message_with_file_url(application_id, c, &file_path(f))
                            .await?
                    }
                    None => None,
                };
                match sent {
                    Some(m) => {
                        rows.attach(application_id, f.id, m).await?;
                    }
                    None => {
                        self.hosted.forget(f).await?;
                        deleted += 1;
                    }
                }
            }
            if (stale.len() as u64) < SWEEP_BATCH {
                break;
            }
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name(Some("C:\\Users\\me\\photo.png")), "photo.png");
        assert_eq!(clean_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean_name(Some("  a\u{0}b.txt ")), "ab.txt");
        assert_eq!(clean_name(Some("..")), "file");
        assert_eq!(clean_name(None), "file");
        assert_eq!(clean_name(Some(&"x".repeat(300))).chars().count(), 255);
    }

    #[test]
    fn content_types_come_from_the_part_else_the_name() {
        assert_eq!(content_type(Some("image/png"), "a.bin"), "image/png");
        assert_eq!(
            content_type(Some("text/plain; charset=utf-8"), "a"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(content_type(None, "a.png"), "image/png");
        assert_eq!(content_type(Some("nonsense"), "a.pdf"), "application/pdf");
        assert_eq!(content_type(Some(""), "blob"), "application/octet-stream");
    }

    #[test]
    fn urls_and_dispositions_encode_names() {
        assert_eq!(encode_segment("a b/ç.png"), "a%20b%2F%C3%A7.png");
        assert_eq!(
            content_disposition("rés\"umé.pdf"),
            "inline; filename=\"r_s_um_.pdf\"; filename*=UTF-8''r%C3%A9s%22um%C3%A9.pdf"
        );
    }

    #[test]
    fn grants_parse_only_in_their_shape() {
        let sig = b64(b"0123456789abcdef0123456789abcdef");
        let g = format!("v1.7.3.1700000000.{sig}");
        let (fields, numbers, raw) =
            grant_fields(&g, GrantKind::Read).unwrap_or_else(|| panic!("{g}"));
        assert_eq!(
            (fields, numbers),
            ("v1.7.3.1700000000", vec![7, 3, 1_700_000_000])
        );
        assert_eq!(raw.len(), 32);
        for bad in [
            "",
            "v1.7.3.1700000000",
            "v2.7.3.1700000000.abc",
            "v1.x.3.1700000000.abc",
            "v1.7.3.1700000000.extra.abc",
            "v1.7.3.1700000000.***",
        ] {
            assert!(grant_fields(bad, GrantKind::Read).is_none(), "{bad}");
        }
    }

    #[test]
    fn read_and_write_grants_do_not_parse_as_each_other() {
        let sig = b64(b"0123456789abcdef0123456789abcdef");
        let write = format!("w1.7.3.9.1700000000.{sig}");
        let read = format!("v1.7.3.1700000000.{sig}");
        let (_, numbers, _) =
            grant_fields(&write, GrantKind::Write).unwrap_or_else(|| panic!("{write}"));
        assert_eq!(numbers, vec![7, 3, 9, 1_700_000_000]);
        assert!(grant_fields(&write, GrantKind::Read).is_none());
        assert!(grant_fields(&read, GrantKind::Write).is_none());
        // A read grant's fields under the write tag still lack the session.
        let retagged = format!("w1.7.3.1700000000.{sig}");
        assert!(grant_fields(&retagged, GrantKind::Write).is_none());
    }

    #[test]
    fn the_kinds_sign_differently() {
        let key = b"k".repeat(32);
        let fields = "x1.7.3.9.1700000000";
        let mac = |kind| {
            signature(&key, kind, fields)
                .map(|m| m.finalize().into_bytes().to_vec())
                .unwrap_or_default()
        };
        assert_ne!(mac(GrantKind::Read), mac(GrantKind::Write));
    }
}
