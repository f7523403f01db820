//! Import jobs: read the stored JSON array element by element (a blocking thread parses the
//! file as it streams from storage, so memory stays flat whatever its size), and hand the
//! elements to the platform in batches. A run that follows a dead worker's skips the elements
//! its last checkpoint accounted for.

use std::io::{BufReader, Read};

use futures_util::future::BoxFuture;
use futures_util::TryStreamExt;
use palaver_domain::job::{JobKind, JobProgress};
use palaver_domain::platform::imports::ImportTarget;
use palaver_service::jobs::{JobLease, JobRow};
use palaver_service::platform::{import_job_kind, FileError};
use palaver_service::{ServiceError, Services};
use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_util::io::{StreamReader, SyncIoBridge};

use crate::worker::{Handler, JobFailure};

/// Elements per transaction: large enough that commits are a small share of the work, small
/// enough that a batch holds SQLite's write lock only briefly.
fn batch_size(target: ImportTarget) -> usize {
    match target {
        ImportTarget::Messages => 1_000,
        ImportTarget::Users | ImportTarget::ChannelMembers => 500,
        // Each channel is several statements (its row, its members).
        ImportTarget::Channels => 200,
    }
}

/// The reader's buffer: the parser reads the file through it a byte at a time.
const READ_BUFFER: usize = 64 * 1024;

pub struct ImportHandler {
    services: Services,
    target: ImportTarget,
}

impl ImportHandler {
    pub fn new(services: Services, target: ImportTarget) -> Self {
        Self { services, target }
    }
}

/// What the parser sends: a batch of elements, or why the file cannot be read further.
type Parsed = Result<Vec<Value>, String>;

impl Handler for ImportHandler {
    fn kind(&self) -> JobKind {
        import_job_kind(self.target)
    }

    fn run<'a>(
        &'a self,
        job: &'a JobRow,
        lease: &'a JobLease,
    ) -> BoxFuture<'a, Result<Value, JobFailure>> {
        Box::pin(self.import(job, lease))
    }
}

impl ImportHandler {
    async fn import(&self, job: &JobRow, lease: &JobLease) -> Result<Value, JobFailure> {
        let platform = &self.services.platform;
        let key = job.payload["file_key"]
            .as_str()
            .ok_or_else(|| JobFailure::Permanent("The job names no uploaded file".into()))?;
        let opened = platform
            .file_store()
            .open(key, None)
            .await
            .map_err(|e| match e {
                FileError::NotFound => {
                    JobFailure::Permanent("The uploaded file is no longer stored".into())
                }
                e => JobFailure::Transient(e.to_string()),
            })?;
        let bytes = opened
            .stream
            .map_err(|e| std::io::Error::other(e.to_string()));
        let reader = SyncIoBridge::new(StreamReader::new(bytes));
        let skip = job.progress.processed;
        let size = batch_size(self.target);
        let (tx, mut rx) = mpsc::channel::<Parsed>(2);
        let parser = tokio::task::spawn_blocking(move || {
            parse_array(
                BufReader::with_capacity(READ_BUFFER, reader),
                skip,
                size,
                &tx,
            )
        });
        let mut progress = job.progress;
        let failure = if self.target == ImportTarget::Messages {
            self.import_messages(job, lease, &mut rx, &mut progress)
                .await?
        } else {
            self.import_batches(job, lease, &mut rx, &mut progress)
                .await?
        };
        // Dropping the receiver stops a parser still reading.
        drop(rx);
        let _ = parser.await;
        if let Some(reason) = failure {
            return Err(JobFailure::Permanent(format!(
                "The file is not a JSON array of elements: {reason} (the {} elements before \
                 were imported)",
                progress.processed
            )));
        }
        // The upload has served its purpose; the report stays in the job.
        if let Err(e) = platform.file_store().delete(key).await {
            tracing::warn!(error = %e, "imported file not deleted");
        }
        Ok(json!({ "progress": progress }))
    }
}

impl ImportHandler {
    /// Imports the parser's batches one after the other; answers why the file could not be
    /// read to its end, if it could not.
    async fn import_batches(
        &self,
        job: &JobRow,
        lease: &JobLease,
        rx: &mut mpsc::Receiver<Parsed>,
        progress: &mut JobProgress,
    ) -> Result<Option<String>, JobFailure> {
        while let Some(parsed) = rx.recv().await {
            let elements = match parsed {
                Ok(e) => e,
                Err(reason) => return Ok(Some(reason)),
            };
            let first = progress.processed;
            let done = self
                .services
                .platform
                .import_batch(job, lease, self.target, first, elements, *progress)
                .await;
            *progress = written(done)?;
        }
        Ok(None)
    }

    /// As [`ImportHandler::import_batches`] for messages, reading each batch into rows while
    /// the one before is written: the writer (on SQLite, one thread) waits on neither.
    async fn import_messages(
        &self,
        job: &JobRow,
        lease: &JobLease,
        rx: &mut mpsc::Receiver<Parsed>,
        progress: &mut JobProgress,
    ) -> Result<Option<String>, JobFailure> {
        let platform = &self.services.platform;
        let mut next = match rx.recv().await {
            None => return Ok(None),
            Some(Err(reason)) => return Ok(Some(reason)),
            Some(Ok(elements)) => platform
                .prepare_messages(job, progress.processed, elements)
                .await
                .map_err(failed)?,
        };
        loop {
            let following = progress.processed + next.len();
            let write = platform.import_messages(job, lease, next, *progress);
            let read = async {
                match rx.recv().await {
                    None => Ok(None),
                    Some(Err(reason)) => Err(reason),
                    Some(Ok(elements)) => Ok(Some(
                        platform.prepare_messages(job, following, elements).await,
                    )),
                }
            };
            let (done, read) = tokio::join!(write, read);
            *progress = written(done)?;
            match read {
                Ok(None) => return Ok(None),
                Err(reason) => return Ok(Some(reason)),
                Ok(Some(prepared)) => next = prepared.map_err(failed)?,
            }
        }
    }
}

/// The progress after a batch, or why the job stops: its lease ran out, or the batch failed.
fn written(done: Result<Option<JobProgress>, ServiceError>) -> Result<JobProgress, JobFailure> {
    match done {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(JobFailure::Transient(
            "The job's lease ran out; it goes on from its last checkpoint".into(),
        )),
        Err(e) => Err(failed(e)),
    }
}

/// A failed batch: retried later when the server failed, for good when the data did.
fn failed(e: ServiceError) -> JobFailure {
    let e = e.into_domain();
    if e.code.status() >= 500 {
        JobFailure::Transient(e.message)
    } else {
        JobFailure::Permanent(e.message)
    }
}

/// Reads a JSON array from `reader`, skipping its first `skip` elements and sending the rest in
/// batches of `size`. Stops quietly when the receiver is gone.
fn parse_array(reader: impl Read, skip: u64, size: usize, tx: &mpsc::Sender<Parsed>) {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let seed = Batches { skip, size, tx };
    let outcome = serde::Deserializer::deserialize_seq(&mut de, seed).and_then(|()| de.end());
    if let Err(e) = outcome {
        if !e.to_string().contains(STOPPED) {
            let _ = tx.blocking_send(Err(e.to_string()));
        }
    }
}

/// What the import reader makes of a file held in memory: the batches of `size` elements it
/// hands the job after skipping `skip`, then the reason it stopped, if the file is no JSON array.
/// The job's own reader, for fuzz targets and tests.
pub fn read_import_batches(file: &[u8], skip: u64, size: usize) -> Vec<Result<Vec<Value>, String>> {
    // Room for every message the reader can send (a batch holds at least one element of at
    // least one byte, then one error), so it never waits for a reader that is not there.
    let (tx, mut rx) = mpsc::channel(file.len() + 2);
    parse_array(file, skip, size, &tx);
    drop(tx);
    let mut out = Vec::new();
    while let Ok(parsed) = rx.try_recv() {
        out.push(parsed);
    }
    out
}

/// Why the parser stopped early on purpose: nobody reads its batches any more.
const STOPPED: &str = "import stopped";

struct Batches<'a> {
    skip: u64,
    size: usize,
    tx: &'a mpsc::Sender<Parsed>,
}

impl<'de> DeserializeSeed<'de> for Batches<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Batches<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        use serde::de::Error;
        let mut index = 0u64;
        let mut batch = Vec::with_capacity(self.size);
        loop {
            let element = match seq.next_element::<Value>() {
                Ok(Some(element)) => element,
                Ok(None) => break,
                Err(e) => {
                    // What parsed before the fault is imported; then the job fails, saying where.
                    if !batch.is_empty() && self.tx.blocking_send(Ok(batch)).is_err() {
                        return Err(A::Error::custom(STOPPED));
                    }
                    return Err(e);
                }
            };
            index += 1;
            if index <= self.skip {
                continue;
            }
            batch.push(element);
            if batch.len() == self.size {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(self.size));
                if self.tx.blocking_send(Ok(full)).is_err() {
                    return Err(A::Error::custom(STOPPED));
                }
            }
        }
        if !batch.is_empty() && self.tx.blocking_send(Ok(batch)).is_err() {
            return Err(A::Error::custom(STOPPED));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batches(text: &str, skip: u64, size: usize) -> Vec<Parsed> {
        let (tx, mut rx) = mpsc::channel(100);
        parse_array(text.as_bytes(), skip, size, &tx);
        drop(tx);
        let mut out = Vec::new();
        while let Ok(b) = rx.try_recv() {
            out.push(b);
        }
        out
    }

    #[test]
    fn an_array_comes_in_batches_after_the_skipped_elements() {
        let got = batches(r#" [1, {"a": 2}, "x", [3], null] "#, 1, 2);
        assert_eq!(
            got,
            vec![
                Ok(vec![json!({"a": 2}), json!("x")]),
                Ok(vec![json!([3]), Value::Null])
            ]
        );
        assert_eq!(batches("[]", 0, 5), vec![]);
    }

    #[test]
    fn a_broken_file_sends_what_came_before_and_then_why() {
        let got = batches(r#"[{"a": 1}, {"b": 2}, {"c" 3}]"#, 0, 5);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0], Ok(vec![json!({"a": 1}), json!({"b": 2})]));
        let reason = got[1].clone().unwrap_err();
        assert!(reason.contains("expected `:`"), "{reason}");
        let not_array = batches(r#"{"name": "x"}"#, 0, 10);
        assert_eq!(not_array.len(), 1);
        assert!(not_array[0]
            .clone()
            .unwrap_err()
            .contains("expected a JSON array"));
        let trailing = batches("[1] [2]", 0, 10);
        assert_eq!(trailing[0], Ok(vec![json!(1)]));
        assert!(trailing[1].clone().unwrap_err().contains("trailing"));
    }
}
