//! Analytics exports (`POST /analytics/messages`, `POST /analytics/users`): a job writes one
//! CSV row per message or user, page by page as the file streams into storage (memory stays flat
//! whatever the history's size), then keeps the file as a hosted file of the application so
//! that the job's `file` link downloads it.

use std::collections::HashMap;

use bytes::Bytes;
use futures_util::stream;
use palaver_domain::job::JobKind;
use palaver_domain::time::format_millis;
use palaver_store::platform::{MessageRow, NewFile, EXPORT_FILE};
use palaver_store::JobRow;
use serde_json::{json, Value};

use super::files::{file_path, stored};
use super::{AppPrincipal, Platform};
use crate::error::{Result, ServiceError};

/// Rows read (and written) at a time.
const PAGE: u64 = 1_000;

/// What an export lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportTarget {
    Messages,
    Users,
}

impl ExportTarget {
    pub fn job_kind(self) -> JobKind {
        match self {
            ExportTarget::Messages => JobKind::MessageAnalyticsExport,
            ExportTarget::Users => JobKind::UserAnalyticsExport,
        }
    }

    fn file_name(self) -> &'static str {
        match self {
            ExportTarget::Messages => "messages.csv",
            ExportTarget::Users => "users.csv",
        }
    }

    fn header(self) -> &'static [&'static str] {
        match self {
            ExportTarget::Messages => &[
                "id",
                "channel_id",
                "channel_type",
                "channel_name",
                "thread_id",
                "parent_message_id",
                "nested_level",
                "sender_id",
                "sender_name",
                "type",
                "created_time",
                "last_edited_time",
                "body_length",
                "file_name",
                "file_size",
                "group_tag",
                "mentions_count",
                "reactions_count",
            ],
            ExportTarget::Users => &[
                "id",
                "name",
                "display_name",
                "type",
                "is_guest",
                "created_time",
                "presence_status",
                "online",
                "messages_sent",
            ],
        }
    }
}

fn csv_error(e: impl std::fmt::Display) -> ServiceError {
    tracing::error!(error = %e, "CSV not written");
    palaver_domain::DomainError::internal().into()
}

/// `rows` as CSV lines (after the header when `header` is given).
fn csv_lines(header: Option<&[&str]>, rows: &[Vec<String>]) -> Result<Bytes> {
    let mut w = csv::Writer::from_writer(Vec::new());
    if let Some(h) = header {
        w.write_record(h).map_err(csv_error)?;
    }
    for r in rows {
        w.write_record(r).map_err(csv_error)?;
    }
    Ok(Bytes::from(w.into_inner().map_err(csv_error)?))
}

fn opt(v: Option<impl ToString>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Where an export stands while it streams: the last id written, and whether it is done.
struct Cursor {
    after: i64,
    started: bool,
    done: bool,
}

impl Platform {
    /// `POST /analytics/...`: enqueues the export of `target`.
    pub async fn start_export(&self, p: &AppPrincipal, target: ExportTarget) -> Result<JobRow> {
        let mut tx = self.db.begin().await?;
        let job = self
            .jobs
            .enqueue(
                &mut tx,
                Some(p.application_id),
                target.job_kind(),
                json!({}),
                None,
            )
            .await?;
        tx.commit().await?;
        self.jobs.wake();
        Ok(job)
    }

    /// Runs export `job`: writes its CSV and keeps it as a hosted file; answers the job's
    /// result, with the path its `file` link is made from.
    pub async fn run_export(&self, job: &JobRow, target: ExportTarget) -> Result<Value> {
        let app = job
            .application_id
            .ok_or_else(palaver_domain::DomainError::internal)?;
        let name = target.file_name();
        let key = format!("exports/{app}/{}/{name}", super::random_token(24));
        let pages = stream::try_unfold(
            Cursor {
                after: 0,
                started: false,
                done: false,
            },
            move |mut c| async move {
                if c.done {
                    return Ok::<_, ServiceError>(None);
                }
                let (rows, last) = match target {
                    ExportTarget::Messages => self.message_rows(app, c.after).await?,
                    ExportTarget::Users => self.user_rows(app, c.after).await?,
                };
                let header = (!c.started).then(|| target.header());
                c.started = true;
                match last {
                    Some(id) => c.after = id,
                    None => c.done = true,
                }
                Ok(Some((csv_lines(header, &rows)?, c)))
            },
        );
        let size = self
            .file_store()
            .put_stream(&key, Box::pin(pages), u64::MAX)
            .await
            .map_err(stored)?;
        let file = self
            .keep_file(&NewFile {
                application_id: app,
                storage_key: key,
                purpose: EXPORT_FILE.into(),
                name: name.into(),
                content_type: "text/csv".into(),
                size: i64::try_from(size).unwrap_or(i64::MAX),
                user_id: None,
                channel_id: None,
                created: self.now(),
            })
            .await?;
        Ok(json!({
            "file_id": file.id,
            "file_path": file_path(&file),
            "size": size,
        }))
    }

    /// A page of message rows after message `after`, and the last id in it.
    async fn message_rows(&self, app: i64, after: i64) -> Result<(Vec<Vec<String>>, Option<i64>)> {
        let messages = self.messages.after_id(app, after, PAGE).await?;
        let ids: Vec<i64> = messages.iter().map(|m| m.id).collect();
        let reactions = self.reactions.counts(app, &ids).await?;
        let mut channel_ids: Vec<i64> = messages.iter().map(|m| m.channel_id).collect();
        channel_ids.sort_unstable();
        channel_ids.dedup();
        let channels: HashMap<i64, _> = self
            .channels
            .by_ids(app, &channel_ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let mut user_ids: Vec<i64> = messages.iter().filter_map(|m| m.user_id).collect();
        user_ids.sort_unstable();
        user_ids.dedup();
        let users: HashMap<i64, String> = self
            .users
            .by_ids(app, &user_ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect();
        let mut thread_ids: Vec<i64> = messages
            .iter()
            .filter(|m| m.nested_level > 0)
            .map(|m| m.thread_id)
            .collect();
        thread_ids.sort_unstable();
        thread_ids.dedup();
        let parents: HashMap<i64, i64> = self
            .threads
            .by_ids(app, &thread_ids)
            .await?
            .into_iter()
            .filter_map(|t| Some((t.id, t.parent_message_id?)))
            .collect();
        let row = |m: &MessageRow| {
            let channel = channels.get(&m.channel_id);
            let file = m.file.as_ref();
            vec![
                m.id.to_string(),
                m.channel_id.to_string(),
                opt(channel.map(|c| c.r#type.clone())),
                opt(channel.and_then(|c| c.name.clone())),
                m.thread_id.to_string(),
                opt(parents.get(&m.thread_id)),
                m.nested_level.to_string(),
                opt(m.user_id),
                opt(m.user_id.and_then(|u| users.get(&u))),
                m.r#type.clone(),
                format_millis(m.created),
                opt(m.last_edited.map(format_millis)),
                m.body
                    .as_deref()
                    .map_or(0, |b| b.chars().count())
                    .to_string(),
                opt(file.and_then(|f| f["name"].as_str())),
                opt(file.and_then(|f| f["size"].as_i64())),
                opt(m.group_tag.as_deref()),
                m.mentions.as_array().map_or(0, Vec::len).to_string(),
                reactions.get(&m.id).copied().unwrap_or(0).to_string(),
            ]
        };
        Ok((
            messages.iter().map(row).collect(),
            messages.last().map(|m| m.id),
        ))
    }

    /// A page of user rows after user `after`, and the last id in it.
    async fn user_rows(&self, app: i64, after: i64) -> Result<(Vec<Vec<String>>, Option<i64>)> {
        let users = self.users.after_id(app, after, PAGE).await?;
        let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
        let sent = self.messages.counts_by_sender(app, &ids).await?;
        let rows = users
            .iter()
            .map(|u| {
                vec![
                    u.id.to_string(),
                    u.name.clone(),
                    u.display_name.clone(),
                    u.r#type.clone(),
                    u.is_guest.to_string(),
                    format_millis(u.created),
                    u.presence_status.clone(),
                    u.online.to_string(),
                    sent.get(&u.id).copied().unwrap_or(0).to_string(),
                ]
            })
            .collect();
        Ok((rows, users.last().map(|u| u.id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_quote_what_needs_quoting() {
        let rows = vec![vec!["1".to_string(), "a, \"b\"\nc".to_string()]];
        let bytes = csv_lines(Some(&["id", "text"]), &rows).unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            "id,text\n1,\"a, \"\"b\"\"\nc\"\n"
        );
        assert_eq!(csv_lines(None, &[]).unwrap_or_default(), Bytes::new());
    }
}
