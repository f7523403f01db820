//! `palaver import users|channels|members|messages --app ID FILE`: the operator's import. The
//! file is stored and enqueued exactly as `POST /imports/...` does, then this process runs the
//! job itself, showing its progress, and prints the counts and the elements that failed.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use palaver::App;
use palaver_domain::job::JobState;
use palaver_domain::platform::imports::ImportTarget;
use palaver_domain::platform::paging::PageRequest;
use palaver_service::jobs::JobRow;
use palaver_service::AppPrincipal;
use serde_json::json;

/// How often the progress shown is refreshed from the job's row.
const REFRESH: Duration = Duration::from_millis(250);
/// Failed elements listed at the end (all of them are in `GET /jobs/{id}/errors`).
const ERRORS_SHOWN: u64 = 20;

fn fail(e: palaver_service::ServiceError) -> anyhow::Error {
    anyhow::anyhow!(e.into_domain().message)
}

pub async fn run(
    app: &App,
    target: ImportTarget,
    application: i64,
    channel: Option<i64>,
    file: &Path,
    json_out: bool,
) -> anyhow::Result<()> {
    let platform = &app.services.platform;
    let row = platform
        .list_applications(None)
        .await
        .map_err(fail)?
        .into_iter()
        .find(|a| a.id == application)
        .with_context(|| format!("no application with id {application}"))?;
    let p = AppPrincipal {
        application_id: row.id,
        organisation_id: row.organisation_id,
    };
    anyhow::ensure!(
        (target == ImportTarget::ChannelMembers) == channel.is_some(),
        "--channel names the channel of a members import, and only of one"
    );
    let opened = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("cannot open {}", file.display()))?;
    let body = tokio_util::io::ReaderStream::new(opened);
    let job = platform
        .start_import(&p, target, channel, body)
        .await
        .map_err(fail)?;
    let bar = if json_out {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} {pos} elements ({per_sec}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(100));
    let worker = palaver::app::job_worker(&app.services, &app.functions, 0);
    let ended = loop {
        let run = worker.run_id(job.id);
        tokio::pin!(run);
        let state = loop {
            tokio::select! {
                state = &mut run => break state,
                _ = tokio::time::sleep(REFRESH) => show(&bar, &current(app, job.id).await?),
            }
        };
        let now = current(app, job.id).await?;
        show(&bar, &now);
        match state {
            Some(JobState::Finished | JobState::Failed) => break now,
            // Held by a worker of a running server, or waiting for a retry: look again soon.
            _ if now.state.is_ended() => break now,
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    };
    bar.finish_and_clear();
    let page = PageRequest {
        page: 0,
        size: ERRORS_SHOWN,
        sort: Vec::new(),
    };
    let (errors, failed) = platform.job_errors(&p, job.id, &page).await.map_err(fail)?;
    let progress = ended.progress;
    if json_out {
        let errors: Vec<_> = errors
            .iter()
            .map(|e| json!({"position": e.position, "idempotency_key": e.idempotency_key, "reason": e.reason}))
            .collect();
        println!(
            "{}",
            json!({"job": ended.id, "state": ended.state.as_str(), "progress": progress,
                   "error": ended.error, "errors": errors})
        );
    } else {
        println!(
            "job {}: {} — {} elements: {} created, {} skipped, {} failed",
            ended.id,
            ended.state.as_str(),
            progress.processed,
            progress.created,
            progress.skipped,
            progress.failed
        );
        for e in &errors {
            let key = e
                .idempotency_key
                .as_deref()
                .map_or(String::new(), |k| format!(" ({k})"));
            println!("  element {}{key}: {}", e.position, e.reason);
        }
        if failed > ERRORS_SHOWN {
            println!(
                "  … {} more in GET /jobs/{}/errors",
                failed - ERRORS_SHOWN,
                ended.id
            );
        }
    }
    match (ended.state, &ended.error) {
        (JobState::Failed, Some(reason)) => anyhow::bail!("the import failed: {reason}"),
        (JobState::Failed, None) => anyhow::bail!("the import failed"),
        _ => Ok(()),
    }
}

async fn current(app: &App, id: i64) -> anyhow::Result<JobRow> {
    app.services
        .platform
        .jobs()
        .by_id(id)
        .await
        .map_err(fail)?
        .context("the import's job is gone")
}

fn show(bar: &ProgressBar, job: &JobRow) {
    let p = job.progress;
    bar.set_position(p.processed);
    bar.set_message(format!(
        "{} created · {} skipped · {} failed",
        p.created, p.skipped, p.failed
    ));
}
