//! Scheduled publishing of flakes. A write that leaves a flake `schedule` with a `publish_at`
//! (and changed either) enqueues one FLAKE_PUBLISH job due at `publish_at`, in the write's own
//! transaction. The job names the time it was scheduled for and publishes the flake only if it is
//! still `schedule` for that same time, in one conditional update: a reschedule, a cancel or a
//! delete leaves older jobs nothing to do (they end quietly), and of two workers or instances
//! running jobs for the same schedule exactly one publishes, raising the flake's delivery
//! events (chat, webhooks) in the same transaction.

use palaver_domain::delivery::FlakeEvent;
use palaver_domain::job::JobKind;
use palaver_domain::time::{format_millis, parse_date};
use palaver_domain::{models, DomainError};
use palaver_store::{Scope, Tx};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::Content;
use crate::error::Result;

/// The status a flake waits in for its `publish_at`, and the one it then takes.
const SCHEDULED: &str = "schedule";
const PUBLISHED: &str = "publish";

/// A FLAKE_PUBLISH job's payload: which flake, and the `publish_at` (epoch ms) it was scheduled
/// for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishJob {
    pub organisation_id: String,
    pub bot_id: String,
    pub flake_id: String,
    pub publish_at: i64,
}

impl PublishJob {
    /// The job a flake's write calls for: `doc` is the flake as written (with its id); `None`
    /// unless it is `schedule` with a `publish_at`.
    pub(crate) fn for_flake(
        organisation_id: &str,
        bot_id: &str,
        doc: &Map<String, Value>,
    ) -> Option<PublishJob> {
        if doc.get("status").and_then(Value::as_str) != Some(SCHEDULED) {
            return None;
        }
        let publish_at = doc
            .get("publish_at")
            .and_then(Value::as_str)
            .and_then(parse_date)?;
        Some(PublishJob {
            organisation_id: organisation_id.to_string(),
            bot_id: bot_id.to_string(),
            flake_id: doc.get("id").and_then(Value::as_str)?.to_string(),
            publish_at,
        })
    }

    /// Reads a job's payload; `None` when it is not one.
    pub fn from_payload(payload: &Value) -> Option<PublishJob> {
        serde_json::from_value(payload.clone()).ok()
    }
}

impl Content {
    /// Enqueues `job` inside `tx`, due at its `publish_at` (a past one is due at once). Call
    /// [`Content::wake_workers`] after `tx` commits.
    pub(crate) async fn enqueue_publish(&self, tx: &mut Tx, job: &PublishJob) -> Result<()> {
        let payload = serde_json::to_value(job).map_err(|e| {
            tracing::error!(error = %e, "publish job not serialisable");
            DomainError::internal()
        })?;
        self.jobs
            .enqueue(
                tx,
                None,
                JobKind::FlakePublish,
                payload,
                Some(job.publish_at),
            )
            .await?;
        Ok(())
    }

    /// Tells this instance's idle workers that a job is waiting (one due now starts at once).
    pub(crate) fn wake_workers(&self) {
        self.jobs.wake();
    }

    /// Runs a FLAKE_PUBLISH job: the flake becomes `publish`, `modified` now, if it is still
    /// `schedule` for the job's `publish_at`. True when this call published it; false when it
    /// was rescheduled, cancelled, deleted or already published (by another job or instance).
    pub async fn publish_scheduled(&self, job: &PublishJob) -> Result<bool> {
        let scope = Scope::child(&job.organisation_id, "bot_id", &job.bot_id);
        let mut expect = Map::new();
        expect.insert("status".into(), json!(SCHEDULED));
        expect.insert("publish_at".into(), json!(job.publish_at));
        let mut changes = Map::new();
        changes.insert("status".into(), json!(PUBLISHED));
        changes.insert("modified".into(), json!(format_millis(self.now())));
        // The flake as published, for its chat posts and webhooks; the conditional update
        // below decides whether it is.
        let Some(mut flake) = self.docs.get(&models::FLAKE, &scope, &job.flake_id).await? else {
            return Ok(false);
        };
        flake.extend(changes.clone());
        let mut write = self.docs.begin_write().await?;
        let published = write
            .update_if(&models::FLAKE, &scope, &job.flake_id, &expect, &changes)
            .await?;
        let mut delivering = 0;
        if published {
            delivering = self
                .enqueue_flake_events(
                    write.tx(),
                    &job.organisation_id,
                    &job.bot_id,
                    &flake,
                    FlakeEvent::Published,
                )
                .await?;
        }
        write.commit().await?;
        if delivering > 0 {
            self.wake_workers();
        }
        Ok(published)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_scheduled_flake_with_a_time_gets_a_job() {
        let doc = |v: Value| v.as_object().cloned().unwrap_or_default();
        let scheduled = doc(
            json!({"id": "f1", "status": "schedule", "publish_at": "2030-01-01T00:00:00.000Z"}),
        );
        let job = PublishJob::for_flake("o", "b", &scheduled);
        assert_eq!(
            job,
            Some(PublishJob {
                organisation_id: "o".into(),
                bot_id: "b".into(),
                flake_id: "f1".into(),
                publish_at: 1_893_456_000_000,
            })
        );
        let round = job.and_then(|j| serde_json::to_value(j).ok());
        assert_eq!(
            round.as_ref().and_then(PublishJob::from_payload),
            PublishJob::for_flake("o", "b", &scheduled)
        );
        for other in [
            json!({"id": "f1", "status": "draft", "publish_at": "2030-01-01T00:00:00.000Z"}),
            json!({"id": "f1", "status": "schedule", "publish_at": null}),
            json!({"id": "f1", "status": "schedule"}),
        ] {
            assert_eq!(PublishJob::for_flake("o", "b", &doc(other)), None);
        }
        assert_eq!(PublishJob::from_payload(&json!({"flake_id": 1})), None);
    }
}
