//! Palaver's background work: workers that claim jobs (rows of the jobs table) and run the
//! handler of their kind (imports, analytics exports, scheduled flakes, content channels' runs,
//! flake deliveries to chat and webhooks, chat functions and their runtimes), and the supervisor
//! that starts the server's long-running tasks and stops them gracefully.

mod channel_runs;
mod delivery;
mod exports;
mod function_jobs;
mod functions;
mod imports;
mod publish;
mod supervisor;
mod worker;

pub use functions::{FunctionHost, FunctionSettings};
pub use imports::read_import_batches;
pub use supervisor::{Stopping, Supervisor};
pub use worker::{Handler, JobFailure, Worker};
pub use worker::{JOBS_FAILED, JOBS_FINISHED};

use std::sync::Arc;

use palaver_service::Services;

/// The handler of every kind of job the server runs; chat functions run on `functions`.
pub fn handlers(services: &Services, functions: &FunctionHost) -> Vec<Arc<dyn Handler>> {
    use palaver_domain::platform::imports::ImportTarget;
    use palaver_service::platform::ExportTarget;
    let mut all: Vec<Arc<dyn Handler>> = Vec::new();
    for target in [
        ImportTarget::Users,
        ImportTarget::Channels,
        ImportTarget::ChannelMembers,
        ImportTarget::Messages,
    ] {
        all.push(Arc::new(imports::ImportHandler::new(
            services.clone(),
            target,
        )));
    }
    for target in [ExportTarget::Messages, ExportTarget::Users] {
        all.push(Arc::new(exports::ExportHandler::new(
            services.clone(),
            target,
        )));
    }
    all.push(Arc::new(exports::CleanupHandler::new(services.clone())));
    all.push(Arc::new(publish::PublishHandler::new(services.clone())));
    all.push(Arc::new(channel_runs::ChannelRunHandler::new(
        services.clone(),
    )));
    all.push(Arc::new(delivery::ChatPostHandler::new(services.clone())));
    all.push(Arc::new(delivery::WebhookHandler::new(services.clone())));
    all.push(Arc::new(function_jobs::RuntimeInstallHandler::new(
        functions.clone(),
    )));
    all.push(Arc::new(function_jobs::InvocationHandler::new(
        functions.clone(),
    )));
    all
}
