//! The jobs that deliver published flakes: FLAKE_CHAT_POST (the bot's chat user posts the
//! flake into the subscribed channels) and WEBHOOK_DELIVERY (one signed POST to one endpoint,
//! retried with the worker's back-off while attempts remain). The content service decides
//! what each does; these map its outcomes to the job's.

use futures_util::future::BoxFuture;
use palaver_domain::job::JobKind;
use palaver_service::content::{ChatPostJob, WebhookJob, WebhookOutcome};
use palaver_service::jobs::{JobLease, JobRow};
use palaver_service::Services;
use serde_json::{json, Value};

use crate::worker::{Handler, JobFailure};

pub struct ChatPostHandler {
    services: Services,
}

impl ChatPostHandler {
    pub fn new(services: Services) -> Self {
        Self { services }
    }
}

impl Handler for ChatPostHandler {
    fn kind(&self) -> JobKind {
        JobKind::FlakeChatPost
    }

    fn run<'a>(
        &'a self,
        job: &'a JobRow,
        _lease: &'a JobLease,
    ) -> BoxFuture<'a, Result<Value, JobFailure>> {
        Box::pin(async move {
            let Ok(post) = serde_json::from_value::<ChatPostJob>(job.payload.clone()) else {
                return Err(JobFailure::Permanent(
                    "The job does not name a flake to post".into(),
                ));
            };
            // Channels posted to before a failure are not posted to again: each post is
            // claimed with its message.
            let messages = self
                .services
                .content
                .post_flake_to_chat(&post)
                .await
                .map_err(|e| JobFailure::Transient(e.into_domain().message))?;
            Ok(json!({"flake_id": post.flake_id, "messages": messages}))
        })
    }
}

pub struct WebhookHandler {
    services: Services,
}

impl WebhookHandler {
    pub fn new(services: Services) -> Self {
        Self { services }
    }
}

impl Handler for WebhookHandler {
    fn kind(&self) -> JobKind {
        JobKind::WebhookDelivery
    }

    fn run<'a>(
        &'a self,
        job: &'a JobRow,
        _lease: &'a JobLease,
    ) -> BoxFuture<'a, Result<Value, JobFailure>> {
        Box::pin(async move {
            let Ok(delivery) = serde_json::from_value::<WebhookJob>(job.payload.clone()) else {
                return Err(JobFailure::Permanent(
                    "The job does not name a webhook delivery".into(),
                ));
            };
            let last = job.attempts >= job.max_attempts;
            let outcome = self
                .services
                .content
                .deliver_webhook(&delivery, job.attempts, last)
                .await
                .map_err(|e| JobFailure::Transient(e.into_domain().message))?;
            match outcome {
                WebhookOutcome::Delivered(status) => {
                    Ok(json!({"delivery_id": delivery.delivery_id, "status": status}))
                }
                WebhookOutcome::Gone => {
                    Ok(json!({"delivery_id": delivery.delivery_id, "status": null}))
                }
                WebhookOutcome::Retry(reason) => Err(JobFailure::Transient(reason)),
                WebhookOutcome::Failed(reason) => Err(JobFailure::Permanent(reason)),
            }
        })
    }
}
