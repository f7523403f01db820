//! Jobs (`ApplicationJobResource`) and the input elements a job could not handle, as JSON.

use palaver_domain::time::format_millis;
use palaver_service::jobs::{JobErrorRow, JobRow};
use serde_json::{json, Value};

use crate::links::links;
use crate::LinkBase;

/// A job: ChatKitty's `type`, `id`, `state`, `created_time`, `ended_time` and (for an export)
/// `file`, the download URL of what it wrote; and Palaver's `progress` and, for a failed job,
/// `error`, the reason in words.
pub fn job(ctx: &LinkBase, j: &JobRow) -> Value {
    let mut v = json!({
        "type": j.kind,
        "id": j.id,
        "state": j.state.as_str(),
        "created_time": format_millis(j.created),
        "progress": j.progress,
    });
    if let Some(t) = j.ended {
        v["ended_time"] = json!(format_millis(t));
    }
    if let Some(path) = j.result.as_ref().and_then(|r| r["file_path"].as_str()) {
        // Downloads are served at the root, whatever prefix the API was called under.
        v["file"] = json!(format!("{}{path}", ctx.origin));
    }
    if j.state == palaver_domain::job::JobState::Failed {
        if let Some(e) = &j.error {
            v["error"] = json!(e);
        }
    }
    let path = format!("/jobs/{}", j.id);
    v["_links"] = links(
        ctx,
        &[
            ("self", path.clone()),
            ("errors", format!("{path}/errors")),
            ("application", ctx.application_path().into()),
        ],
    );
    v
}

/// One element a job could not handle: its index in the input, its idempotency key, and why.
pub fn job_error(e: &JobErrorRow) -> Value {
    let mut v = json!({
        "position": e.position,
        "reason": e.reason,
    });
    if let Some(k) = &e.idempotency_key {
        v["idempotency_key"] = json!(k);
    }
    v
}
