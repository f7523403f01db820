//! Deleting a message or a user leaves its hosted files without an owner: the deletion enqueues,
//! in its own transaction, a job that deletes them from the storage, so that the request does not
//! wait for the storage and a storage outage only delays the clean-up.

use palaver_domain::job::JobKind;
use palaver_store::{JobRow, Tx};
use serde_json::{json, Value};

use super::Platform;
use crate::error::Result;

impl Platform {
    /// Enqueues, inside the deletion's `tx`, the clean-up of `app`'s orphaned hosted files.
    /// Call [`crate::jobs::JobQueue::wake`] after `tx` commits.
    pub(crate) async fn enqueue_file_cleanup(&self, tx: &mut Tx, app: i64) -> Result<()> {
        self.jobs
            .enqueue(tx, Some(app), JobKind::FileCleanup, json!({}), None)
            .await?;
        Ok(())
    }

    /// Runs clean-up `job`: deletes its application's hosted files that nothing uses any more.
    pub async fn run_file_cleanup(&self, job: &JobRow) -> Result<Value> {
        let app = job
            .application_id
            .ok_or_else(palaver_domain::DomainError::internal)?;
        let deleted = self.delete_hosted_files(app).await?;
        Ok(json!({ "deleted": deleted }))
    }
}
