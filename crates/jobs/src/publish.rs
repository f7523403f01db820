//! The FLAKE_PUBLISH job: publishes a scheduled flake when its `publish_at` comes (the content
//! service decides whether it still should). A database that cannot be reached is worth
//! another attempt; a payload that names no flake is not.

use futures_util::future::BoxFuture;
use palaver_domain::job::JobKind;
use palaver_service::content::PublishJob;
use palaver_service::jobs::{JobLease, JobRow};
use palaver_service::Services;
use serde_json::{json, Value};

use crate::worker::{Handler, JobFailure};

pub struct PublishHandler {
    services: Services,
}

impl PublishHandler {
    pub fn new(services: Services) -> Self {
        Self { services }
    }
}

impl Handler for PublishHandler {
    fn kind(&self) -> JobKind {
        JobKind::FlakePublish
    }

    fn run<'a>(
        &'a self,
        job: &'a JobRow,
        _lease: &'a JobLease,
    ) -> BoxFuture<'a, Result<Value, JobFailure>> {
        Box::pin(async move {
            let Some(publish) = PublishJob::from_payload(&job.payload) else {
                return Err(JobFailure::Permanent(
                    "The job does not name a flake to publish".into(),
                ));
            };
            let published = self
                .services
                .content
                .publish_scheduled(&publish)
                .await
                .map_err(|e| JobFailure::Transient(e.into_domain().message))?;
            if published {
                tracing::info!(flake = %publish.flake_id, "scheduled flake published");
            }
            // A flake rescheduled, set to another status or deleted since is not an error: the
            // job had nothing left to do.
            Ok(json!({"flake_id": publish.flake_id, "published": published}))
        })
    }
}
