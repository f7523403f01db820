//! The CHANNEL_RUN job: runs an active content channel on its schedule (the content service
//! enqueues the next run first, and does nothing for a job a later schedule replaced). Errors
//! of single sources are in the run record, not failures of the job; a database that cannot
//! be reached is worth another attempt, a payload that names no channel is not.

use futures_util::future::BoxFuture;
use palaver_domain::job::JobKind;
use palaver_service::content::ChannelRunJob;
use palaver_service::jobs::{JobLease, JobRow};
use palaver_service::Services;
use serde_json::{json, Value};

use crate::worker::{Handler, JobFailure};

pub struct ChannelRunHandler {
    services: Services,
}

impl ChannelRunHandler {
    pub fn new(services: Services) -> Self {
        Self { services }
    }
}

impl Handler for ChannelRunHandler {
    fn kind(&self) -> JobKind {
        JobKind::ChannelRun
    }

    fn run<'a>(
        &'a self,
        job: &'a JobRow,
        _lease: &'a JobLease,
    ) -> BoxFuture<'a, Result<Value, JobFailure>> {
        Box::pin(async move {
            let Some(run) = ChannelRunJob::from_payload(&job.payload) else {
                return Err(JobFailure::Permanent(
                    "The job does not name a channel to run".into(),
                ));
            };
            let done = self
                .services
                .content
                .run_scheduled_channel(job.id, &run)
                .await
                .map_err(|e| JobFailure::Transient(e.into_domain().message))?;
            let run_id = done
                .as_ref()
                .and_then(|r| r.get("id"))
                .cloned()
                .unwrap_or(Value::Null);
            Ok(json!({"channel_id": run.channel_id, "run_id": run_id}))
        })
    }
}
