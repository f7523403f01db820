//! Export and clean-up jobs: the platform writes the CSV, or deletes the hosted files that
//! deletions orphaned; a failure to reach the database or the storage is worth another attempt.

use futures_util::future::BoxFuture;
use palaver_domain::job::JobKind;
use palaver_service::jobs::{JobLease, JobRow};
use palaver_service::platform::ExportTarget;
use palaver_service::Services;
use serde_json::Value;

use crate::worker::{Handler, JobFailure};

pub struct ExportHandler {
    services: Services,
    target: ExportTarget,
}

impl ExportHandler {
    pub fn new(services: Services, target: ExportTarget) -> Self {
        Self { services, target }
    }
}

impl Handler for ExportHandler {
    fn kind(&self) -> JobKind {
        self.target.job_kind()
    }

    fn run<'a>(
        &'a self,
        job: &'a JobRow,
        _lease: &'a JobLease,
    ) -> BoxFuture<'a, Result<Value, JobFailure>> {
        Box::pin(async move {
            self.services
                .platform
                .run_export(job, self.target)
                .await
                .map_err(|e| JobFailure::Transient(e.into_domain().message))
        })
    }
}

/// Deletes the hosted files of deleted messages and users.
pub struct CleanupHandler {
    services: Services,
}

impl CleanupHandler {
    pub fn new(services: Services) -> Self {
        Self { services }
    }
}

impl Handler for CleanupHandler {
    fn kind(&self) -> JobKind {
        JobKind::FileCleanup
    }

    fn run<'a>(
        &'a self,
        job: &'a JobRow,
        _lease: &'a JobLease,
    ) -> BoxFuture<'a, Result<Value, JobFailure>> {
        Box::pin(async move {
            self.services
                .platform
                .run_file_cleanup(job)
                .await
                .map_err(|e| JobFailure::Transient(e.into_domain().message))
        })
    }
}
