//! Hosted files' bytes: one [`FileStore`] over a local folder or S3-compatible object storage
//! (through `object_store`), written as streams under a size limit and read whole or by range.
//! What a file is (its name, owner, content type) is the store crate's business, not this one's.

use std::fmt;
use std::ops::Range;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{BoxStream, Stream, StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{
    Attribute, Attributes, GetOptions, GetRange, ObjectStore, PutMultipartOptions, PutOptions,
    PutPayload, WriteMultipart,
};

/// Uploads up to this size are sent in one request; larger ones go in parts of this size
/// (S3's smallest part but the last is 5 MiB).
const PART_SIZE: usize = 5 * 1024 * 1024;

/// Parts of one upload in flight at once: with [`PART_SIZE`], what an upload holds in memory.
const PARTS_IN_FLIGHT: usize = 2;

/// Where hosted files go, as configured.
#[derive(Clone)]
pub struct FilesConfig {
    /// `./data/files` (a folder, relative to the working directory), `file:///abs/dir`, or
    /// `s3://bucket/prefix`.
    pub url: String,
    /// S3: the endpoint of an S3-compatible service (MinIO, moto, R2…); AWS's when absent.
    pub s3_endpoint: Option<String>,
    /// S3: the region (AWS_REGION, else `us-east-1`, when absent).
    pub s3_region: Option<String>,
    /// S3: the access key id (AWS_ACCESS_KEY_ID, or the instance's role, when absent).
    pub s3_access_key_id: Option<String>,
    /// S3: the secret access key (AWS_SECRET_ACCESS_KEY when absent).
    pub s3_secret_access_key: Option<String>,
    /// S3: allow an `http://` endpoint (a local test server).
    pub s3_allow_http: bool,
}

impl Default for FilesConfig {
    fn default() -> Self {
        Self {
            url: "./data/files".into(),
            s3_endpoint: None,
            s3_region: None,
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_allow_http: false,
        }
    }
}

impl fmt::Debug for FilesConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilesConfig")
            .field("url", &self.url)
            .field("s3_endpoint", &self.s3_endpoint)
            .field("s3_region", &self.s3_region)
            .field("s3_access_key_id", &self.s3_access_key_id)
            .field(
                "s3_secret_access_key",
                &self.s3_secret_access_key.as_ref().map(|_| "<set>"),
            )
            .field("s3_allow_http", &self.s3_allow_http)
            .finish()
    }
}

/// What can go wrong with a hosted file's bytes.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("no such file")]
    NotFound,
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// The storage failed or refused; the text is the cause, for the log.
    #[error("file storage failed: {0}")]
    Storage(String),
    /// The uploaded stream failed (the client went away, a malformed body).
    #[error("the upload could not be read: {0}")]
    Body(String),
}

impl From<object_store::Error> for FileError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => FileError::NotFound,
            e => FileError::Storage(e.to_string()),
        }
    }
}

/// Which storage a [`FileStore`] writes to.
#[derive(Clone)]
enum Kind {
    Local(PathBuf),
    /// The S3 client again, as the signer of presigned URLs.
    S3 {
        bucket: String,
        signer: Arc<AmazonS3>,
    },
}

/// A hosted files' storage: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct FileStore {
    store: Arc<dyn ObjectStore>,
    /// Prepended to every key (`s3://bucket/prefix`); empty for a local folder.
    prefix: String,
    kind: Kind,
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The S3 client holds credentials: only where the files go is shown.
        match &self.kind {
            Kind::Local(dir) => f.debug_struct("FileStore").field("local", dir).finish(),
            Kind::S3 { bucket, .. } => f
                .debug_struct("FileStore")
                .field("s3_bucket", bucket)
                .field("prefix", &self.prefix)
                .finish(),
        }
    }
}

/// How a stored object is described to whoever fetches it straight from the storage (a
/// presigned URL): S3 keeps these with the object; a local folder has nowhere to keep them.
#[derive(Debug, Clone, Default)]
pub struct StoredAs {
    pub content_type: Option<String>,
    pub content_disposition: Option<String>,
}

/// An object being read: its whole size and its bytes (or those of the range asked for).
pub struct Opened {
    /// The whole object's size, whatever range was asked for.
    pub size: u64,
    pub stream: BoxStream<'static, Result<Bytes, FileError>>,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened").field("size", &self.size).finish()
    }
}

/// The content type a file named `name` most likely has; `application/octet-stream` when the
/// name says nothing.
pub fn content_type_for(name: &str) -> String {
    mime_guess::from_path(name)
        .first_raw()
        .unwrap_or("application/octet-stream")
        .to_string()
}

/// Adds `chunk` to the `size` written so far; TooLarge past `limit`.
fn counted(size: &mut u64, chunk: &Bytes, limit: u64) -> Result<(), FileError> {
    *size = size.saturating_add(chunk.len() as u64);
    if *size > limit {
        Err(FileError::TooLarge { limit })
    } else {
        Ok(())
    }
}

/// A multipart upload that is aborted, on a task of its own, if dropped unfinished (an error
/// or a cancelled request), so that no parts are left behind in the storage.
struct Unfinished(Option<WriteMultipart>);

impl Unfinished {
    fn writer(&mut self) -> Result<&mut WriteMultipart, FileError> {
        self.0
            .as_mut()
            .ok_or_else(|| FileError::Storage("the upload was already ended".into()))
    }

    async fn abort(&mut self) {
        if let Some(w) = self.0.take() {
            if let Err(e) = w.abort().await {
                tracing::warn!(error = %e, "an unfinished upload could not be aborted");
            }
        }
    }
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        if let Some(w) = self.0.take() {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    if let Err(e) = w.abort().await {
                        tracing::warn!(error = %e, "a dropped upload could not be aborted");
                    }
                });
            }
        }
    }
}

impl FileStore {
    /// The storage `c` names.
    pub fn from_config(c: &FilesConfig) -> Result<FileStore, FileError> {
        let url = c.url.trim();
        if let Some(rest) = url.strip_prefix("s3://") {
            return Self::s3(rest, c);
        }
        if let Some(dir) = url.strip_prefix("file://") {
            if !dir.starts_with('/') {
                return Err(FileError::Storage(format!(
                    "a file:// URL names an absolute folder (file:///srv/files), not {url}"
                )));
            }
            return Self::local(FsPath::new(dir));
        }
        if url.contains("://") {
            return Err(FileError::Storage(format!(
                "files_url must be a folder, file:///dir or s3://bucket/prefix, not {url}"
            )));
        }
        if url.is_empty() {
            return Err(FileError::Storage("files_url is empty".into()));
        }
        Self::local(FsPath::new(url))
    }

    /// Files in folder `dir`, created if missing.
    pub fn local(dir: &FsPath) -> Result<FileStore, FileError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            FileError::Storage(format!("cannot create folder {}: {e}", dir.display()))
        })?;
        // Empty folders left by deletes are removed, so the tree holds only live files.
        let fs = LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true);
        Ok(FileStore {
            store: Arc::new(fs),
            prefix: String::new(),
            kind: Kind::Local(dir.to_path_buf()),
        })
    }

    /// `rest` is `bucket` or `bucket/prefix` (of `s3://bucket/prefix`).
    fn s3(rest: &str, c: &FilesConfig) -> Result<FileStore, FileError> {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(FileError::Storage(format!(
                "an S3 URL names a bucket: s3://bucket/prefix, not s3://{rest}"
            )));
        }
        // AWS_* variables fill in what the configuration leaves out.
        let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(v) = &c.s3_endpoint {
            b = b.with_endpoint(v);
        }
        if let Some(v) = &c.s3_region {
            b = b.with_region(v);
        }
        if let Some(v) = &c.s3_access_key_id {
            b = b.with_access_key_id(v);
        }
        if let Some(v) = &c.s3_secret_access_key {
            b = b.with_secret_access_key(v);
        }
        if c.s3_allow_http {
            b = b.with_allow_http(true);
        }
        let s3 = Arc::new(b.build()?);
        Ok(FileStore {
            store: s3.clone(),
            prefix: prefix.trim_matches('/').to_string(),
            kind: Kind::S3 {
                bucket: bucket.to_string(),
                signer: s3,
            },
        })
    }

    /// True for S3 storage, where clients can be sent to presigned URLs.
    pub fn is_s3(&self) -> bool {
        matches!(self.kind, Kind::S3 { .. })
    }

    /// Where `key` lives in the storage. Keys are `/`-separated names without empty, `.` or
    /// `..` segments: none can reach outside the store's folder or prefix.
    fn path(&self, key: &str) -> Result<Path, FileError> {
        if key
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
        {
            return Err(FileError::Storage(format!("bad file key {key:?}")));
        }
        let full = if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        };
        Path::parse(&full).map_err(|e| FileError::Storage(format!("bad file key {key:?}: {e}")))
    }

    /// S3 keeps a content type and disposition with the object; a local folder cannot.
    fn attributes(&self, as_: &StoredAs) -> Attributes {
        let mut a = Attributes::new();
        if self.is_s3() {
            if let Some(t) = &as_.content_type {
                a.insert(Attribute::ContentType, t.clone().into());
            }
            if let Some(d) = &as_.content_disposition {
                a.insert(Attribute::ContentDisposition, d.clone().into());
            }
        }
        a
    }

    /// Streams `body` to `key` without holding it whole in memory; fails with TooLarge (and
    /// leaves nothing behind) past `limit` bytes; answers the size written.
    pub async fn put_stream<S, E>(&self, key: &str, body: S, limit: u64) -> Result<u64, FileError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
        E: fmt::Display,
    {
        self.put_stream_as(key, body, limit, &StoredAs::default())
            .await
    }

    /// [`FileStore::put_stream`], the object described as `as_` where the storage keeps that.
    pub async fn put_stream_as<S, E>(
        &self,
        key: &str,
        mut body: S,
        limit: u64,
        as_: &StoredAs,
    ) -> Result<u64, FileError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
        E: fmt::Display,
    {
        let path = self.path(key)?;
        let mut size: u64 = 0;
        // A small file is sent in one request, once it is known to be small.
        let mut head: Vec<Bytes> = Vec::new();
        let mut buffered = 0usize;
        while buffered < PART_SIZE {
            match body.next().await {
                None => {
                    let opts = PutOptions {
                        attributes: self.attributes(as_),
                        ..PutOptions::default()
                    };
                    self.store
                        .put_opts(&path, PutPayload::from_iter(head), opts)
                        .await?;
                    return Ok(size);
                }
                Some(Err(e)) => return Err(FileError::Body(e.to_string())),
                Some(Ok(chunk)) => {
                    counted(&mut size, &chunk, limit)?;
                    buffered += chunk.len();
                    head.push(chunk);
                }
            }
        }
        // A large one goes in parts, a few at a time.
        let opts = PutMultipartOptions {
            attributes: self.attributes(as_),
            ..PutMultipartOptions::default()
        };
        let upload = self.store.put_multipart_opts(&path, opts).await?;
        let mut w = Unfinished(Some(WriteMultipart::new_with_chunk_size(upload, PART_SIZE)));
        for chunk in head {
            w.writer()?.put(chunk);
        }
        loop {
            let next = match body.next().await {
                None => break,
                Some(Err(e)) => Err(FileError::Body(e.to_string())),
                Some(Ok(chunk)) => counted(&mut size, &chunk, limit).map(|()| chunk),
            };
            let written = match next {
                Ok(chunk) => match w.writer()?.wait_for_capacity(PARTS_IN_FLIGHT).await {
                    Ok(()) => w.writer().map(|w| w.put(chunk)),
                    Err(e) => Err(e.into()),
                },
                Err(e) => Err(e),
            };
            if let Err(e) = written {
                w.abort().await;
                return Err(e);
            }
        }
        let finished = match w.0.take() {
            Some(writer) => writer.finish().await,
            None => return Err(FileError::Storage("the upload was already ended".into())),
        };
        // A failed completion leaves the parts to the storage's own cleanup (S3 lifecycle
        // rules); the upload can no longer be aborted through this writer.
        finished?;
        Ok(size)
    }

    /// Writes `bytes` to `key` in one request.
    pub async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), FileError> {
        self.store.put(&self.path(key)?, bytes.into()).await?;
        Ok(())
    }

    /// The object's size and a stream of its bytes (of `range` when given, end exclusive).
    /// A range must be non-empty and start inside the object; one past its end is cut short.
    pub async fn open(&self, key: &str, range: Option<Range<u64>>) -> Result<Opened, FileError> {
        let opts = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let got = self.store.get_opts(&self.path(key)?, opts).await?;
        Ok(Opened {
            size: got.meta.size,
            stream: got.into_stream().map_err(FileError::from).boxed(),
        })
    }

    /// Deletes `key`; deleting a missing key is Ok.
    pub async fn delete(&self, key: &str) -> Result<(), FileError> {
        match self.store.delete(&self.path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// True when `key` holds an object.
    pub async fn exists(&self, key: &str) -> Result<bool, FileError> {
        match self.store.head(&self.path(key)?).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The keys of every object under `under` (a key prefix of whole segments; "" for all).
    pub async fn keys(&self, under: &str) -> Result<Vec<String>, FileError> {
        let base = match (self.prefix.is_empty(), under.trim_matches('/')) {
            (true, "") => None,
            (false, "") => Some(Path::parse(&self.prefix)),
            (true, u) => Some(Path::parse(u)),
            (false, u) => Some(Path::parse(format!("{}/{u}", self.prefix))),
        }
        .transpose()
        .map_err(|e| FileError::Storage(format!("bad key prefix {under:?}: {e}")))?;
        let metas: Vec<_> = self.store.list(base.as_ref()).try_collect().await?;
        let strip = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let mut keys: Vec<String> = metas
            .into_iter()
            .map(|m| {
                let k = m.location.to_string();
                k.strip_prefix(&strip).map(str::to_string).unwrap_or(k)
            })
            .collect();
        keys.sort_unstable();
        Ok(keys)
    }

    /// For S3, a presigned GET URL valid for `ttl`; None for the local store.
    pub async fn presigned_get(
        &self,
        key: &str,
        ttl: Duration,
    ) -> Result<Option<String>, FileError> {
        match &self.kind {
            Kind::Local(_) => Ok(None),
            Kind::S3 { signer, .. } => {
                let url = signer
                    .signed_url(reqwest::Method::GET, &self.path(key)?, ttl)
                    .await?;
                Ok(Some(url.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn chunks(data: &[u8], size: usize) -> Vec<Result<Bytes, String>> {
        data.chunks(size)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect()
    }

    async fn read(store: &FileStore, key: &str, range: Option<Range<u64>>) -> (u64, Vec<u8>) {
        let opened = store.open(key, range).await.unwrap();
        let parts: Vec<Bytes> = opened.stream.try_collect().await.unwrap();
        (opened.size, parts.concat())
    }

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[tokio::test]
    async fn small_and_large_files_stream_in_and_out() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::local(&dir.path().join("files")).unwrap();
        let small = data(1000);
        let n = store
            .put_stream(
                "1/small",
                futures_util::stream::iter(chunks(&small, 100)),
                10_000,
            )
            .await
            .unwrap();
        assert_eq!(n, 1000);
        assert_eq!(read(&store, "1/small", None).await, (1000, small.clone()));
        // Past one part: the multipart path.
        let large = data(PART_SIZE * 2 + 12_345);
        let n = store
            .put_stream(
                "1/large",
                futures_util::stream::iter(chunks(&large, 64 * 1024)),
                u64::MAX,
            )
            .await
            .unwrap();
        assert_eq!(n, large.len() as u64);
        assert_eq!(read(&store, "1/large", None).await.1, large);
        assert_eq!(store.keys("").await.unwrap(), ["1/large", "1/small"]);
        assert_eq!(store.keys("1").await.unwrap().len(), 2);
        assert!(store.keys("2").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn ranges_read_part_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::local(dir.path()).unwrap();
        store
            .put_bytes("a/b", Bytes::from_static(b"0123456789"))
            .await
            .unwrap();
        assert_eq!(read(&store, "a/b", Some(2..5)).await, (10, b"234".to_vec()));
        assert_eq!(read(&store, "a/b", Some(9..10)).await, (10, b"9".to_vec()));
        // An end past the object is cut short.
        assert_eq!(
            read(&store, "a/b", Some(8..100)).await,
            (10, b"89".to_vec())
        );
        assert!(matches!(
            store.open("a/missing", None).await,
            Err(FileError::NotFound)
        ));
    }

    #[tokio::test]
    async fn deletes_are_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::local(dir.path()).unwrap();
        store
            .put_bytes("x/y", Bytes::from_static(b"hi"))
            .await
            .unwrap();
        assert!(store.exists("x/y").await.unwrap());
        store.delete("x/y").await.unwrap();
        assert!(!store.exists("x/y").await.unwrap());
        store.delete("x/y").await.unwrap();
        assert!(matches!(
            store.open("x/y", None).await,
            Err(FileError::NotFound)
        ));
        // The emptied folder went with the file.
        assert!(!dir.path().join("x").exists());
    }

    #[tokio::test]
    async fn the_limit_refuses_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::local(dir.path()).unwrap();
        let exact = data(500);
        assert_eq!(
            store
                .put_stream(
                    "k/exact",
                    futures_util::stream::iter(chunks(&exact, 64)),
                    500
                )
                .await
                .unwrap(),
            500
        );
        let over = store
            .put_stream(
                "k/over",
                futures_util::stream::iter(chunks(&data(501), 64)),
                500,
            )
            .await;
        assert!(
            matches!(over, Err(FileError::TooLarge { limit: 500 })),
            "{over:?}"
        );
        // Past the limit in the multipart phase too.
        let big = data(PART_SIZE + 300_000);
        let limit = (PART_SIZE + 100_000) as u64;
        let over = store
            .put_stream(
                "k/big",
                futures_util::stream::iter(chunks(&big, 64 * 1024)),
                limit,
            )
            .await;
        assert!(matches!(over, Err(FileError::TooLarge { .. })), "{over:?}");
        // Let the aborted upload's staging file go.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(store.keys("").await.unwrap(), ["k/exact"]);
        let leftovers: Vec<_> = walk(dir.path());
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    }

    #[tokio::test]
    async fn a_failing_body_stores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::local(dir.path()).unwrap();
        let mut items = chunks(&data(PART_SIZE + 10), 1024 * 1024);
        items.push(Err("connection reset".to_string()));
        let r = store
            .put_stream("k/broken", futures_util::stream::iter(items), u64::MAX)
            .await;
        assert!(
            matches!(&r, Err(FileError::Body(m)) if m.contains("reset")),
            "{r:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(store.keys("").await.unwrap().is_empty());
        assert!(walk(dir.path()).is_empty());
    }

    #[test]
    fn keys_cannot_leave_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::local(dir.path()).unwrap();
        for bad in ["", "../x", "a//b", "/abs", "a/./b"] {
            assert!(store.path(bad).is_err(), "{bad}");
        }
        assert!(store.path("1/abc").is_ok());
    }

    #[test]
    fn configuration_urls() {
        let dir = tempfile::tempdir().unwrap();
        let local = FilesConfig {
            url: dir.path().join("f").display().to_string(),
            ..FilesConfig::default()
        };
        assert!(!FileStore::from_config(&local).unwrap().is_s3());
        let file_url = FilesConfig {
            url: format!("file://{}", dir.path().join("g").display()),
            ..FilesConfig::default()
        };
        assert!(FileStore::from_config(&file_url).is_ok());
        assert!(dir.path().join("g").is_dir());
        let s3 = FilesConfig {
            url: "s3://bucket/some/prefix".into(),
            s3_endpoint: Some("http://127.0.0.1:9".into()),
            s3_region: Some("us-east-1".into()),
            s3_access_key_id: Some("id".into()),
            s3_secret_access_key: Some("very-secret".into()),
            s3_allow_http: true,
        };
        let store = FileStore::from_config(&s3).unwrap();
        assert!(store.is_s3());
        assert_eq!(store.prefix, "some/prefix");
        assert!(!format!("{store:?}{s3:?}").contains("very-secret"));
        for bad in ["s3://", "ftp://x/y", "file://relative", ""] {
            let c = FilesConfig {
                url: bad.into(),
                ..FilesConfig::default()
            };
            assert!(FileStore::from_config(&c).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn presigned_urls_are_for_s3_only() {
        let dir = tempfile::tempdir().unwrap();
        let local = FileStore::local(dir.path()).unwrap();
        assert_eq!(
            local
                .presigned_get("a/b", Duration::from_secs(60))
                .await
                .unwrap(),
            None
        );
        let s3 = FileStore::from_config(&FilesConfig {
            url: "s3://bucket/p".into(),
            s3_endpoint: Some("http://127.0.0.1:9".into()),
            s3_region: Some("us-east-1".into()),
            s3_access_key_id: Some("id".into()),
            s3_secret_access_key: Some("secret".into()),
            s3_allow_http: true,
        })
        .unwrap();
        let url = s3
            .presigned_get("a/b", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        assert!(url.starts_with("http://127.0.0.1:9/bucket/p/a/b?"), "{url}");
        assert!(url.contains("X-Amz-Signature="), "{url}");
    }

    #[test]
    fn content_types_are_guessed_from_names() {
        assert_eq!(content_type_for("a.png"), "image/png");
        assert_eq!(content_type_for("notes.TXT"), "text/plain");
        assert_eq!(content_type_for("blob"), "application/octet-stream");
    }

    /// Every file under `dir`, recursively.
    fn walk(dir: &FsPath) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }
}
