//! An application's jobs as the platform API shows them (`GET /jobs`, `GET /jobs/{id}` and
//! the elements a job could not handle): only the kinds an application starts, never the
//! server's own housekeeping.

use palaver_domain::job::JobKind;
use palaver_domain::platform::paging::PageRequest;
use palaver_domain::{DomainError, ErrorCode};
use palaver_store::{JobErrorRow, JobRow};

use super::{AppPrincipal, Platform};
use crate::error::Result;

/// Properties job pages may be sorted by.
pub const JOB_SORTABLE: [&str; 2] = ["id", "created_time"];

fn missing(id: i64) -> DomainError {
    DomainError::new(ErrorCode::NotFound, format!("No job with id {id}"))
}

impl Platform {
    /// `GET /jobs`: a page of the application's jobs, newest first unless sorted ascending;
    /// `running` keeps only jobs not yet ended (true) or only ended ones (false).
    pub async fn list_jobs(
        &self,
        p: &AppPrincipal,
        running: Option<bool>,
        page: &PageRequest,
    ) -> Result<(Vec<JobRow>, u64)> {
        let ascending = page.sort.first().is_some_and(|s| !s.descending);
        Ok(self
            .jobs
            .store()
            .page(
                p.application_id,
                &JobKind::public_names(),
                running,
                ascending,
                page.offset(),
                page.size,
            )
            .await?)
    }

    /// `GET /jobs/{id}`.
    pub async fn job(&self, p: &AppPrincipal, id: i64) -> Result<JobRow> {
        self.jobs
            .store()
            .get(p.application_id, id)
            .await?
            .filter(|j| JobKind::parse(&j.kind).is_some_and(JobKind::is_public))
            .ok_or_else(|| missing(id).into())
    }

    /// `GET /jobs/{id}/errors`: the elements job `id` could not handle, in input order.
    pub async fn job_errors(
        &self,
        p: &AppPrincipal,
        id: i64,
        page: &PageRequest,
    ) -> Result<(Vec<JobErrorRow>, u64)> {
        self.job(p, id).await?;
        Ok(self
            .jobs
            .store()
            .errors(p.application_id, id, page.offset(), page.size)
            .await?)
    }
}
