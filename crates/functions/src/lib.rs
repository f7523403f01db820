//! Chat functions engine: runs ChatKitty-style JavaScript handlers in sandboxed `node` workers.
//!
//! - [`strip_types`] turns TypeScript-flavoured handler source into JavaScript (or a
//!   [`SyntaxError`] with line and column), so a bad version can be refused when it is created.
//! - [`Runtimes`] owns the runtime folders: `npm install` into a new versioned folder, an atomic
//!   swap of the application's current runtime, removal of folders no worker uses.
//! - [`Pool`] keeps one long-lived `node` worker per application (never shared between
//!   applications), with a deadline per invocation, a heap cap, no child processes, writes only
//!   to the application's temporary folder, a clean environment and, optionally, no network.
//! - Handlers reach the Platform API through `context.getUserApi()` and its siblings, whose calls
//!   come back to the host through [`ApiBridge`] with the worker's application id.
//!
//! Global state of a handler (module variables, timers) persists across invocations of a warm
//! worker, as in other function platforms; a worker is replaced when it dies, times out, idles,
//! or its runtime or environment changes.

mod bridge;
mod output;
mod pool;
mod runtime;
mod strip;
mod worker;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

pub use bridge::{ApiBridge, ApiRequest, ApiResponse, BridgeFuture};
pub use pool::{NetworkPolicy, Pool, PoolSettings};
pub use runtime::{Dependency, InstallError, InstallOutcome, RuntimeSettings, Runtimes};
pub use strip::{strip_types, SyntaxError};

/// One call of a handler.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub app_id: i64,
    pub function_id: i64,
    /// The function version's number; with `function_id` it keys the worker's compiled cache.
    pub version: i64,
    /// The handler source, already passed through [`strip_types`].
    pub script: String,
    /// The trigger's event, the handler's first argument.
    pub event: Value,
    /// Extra fields for the handler's `context` (e.g. the function's name, the trigger type);
    /// `applicationId` is always set by the pool.
    pub context: Value,
    /// The runtime's environment variables: the worker's whole `process.env`.
    pub environment: BTreeMap<String, String>,
    /// The deadline, from the call until the handler settles.
    pub timeout: Duration,
}

impl Invocation {
    /// An invocation with an empty context and environment and a 10 s deadline.
    pub fn new(
        app_id: i64,
        function_id: i64,
        version: i64,
        script: impl Into<String>,
        event: Value,
    ) -> Self {
        Self {
            app_id,
            function_id,
            version,
            script: script.into(),
            event,
            context: Value::Null,
            environment: BTreeMap::new(),
            timeout: Duration::from_secs(10),
        }
    }
}

/// What an invocation produced: the handler's result (or why there is none), its captured
/// output (console, stray stdout/stderr; bounded) and how long it took.
#[derive(Debug, Clone)]
pub struct InvocationOutcome {
    pub result: Result<Value, InvocationError>,
    pub output: String,
    pub duration: Duration,
}

/// Why an invocation failed. The `Display` text is what an invocation row records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvocationError {
    /// The handler threw or rejected; the text is the error's message, without its stack.
    #[error("{0}")]
    Failed(String),
    #[error("timed out after {0} ms")]
    TimedOut(u64),
    #[error("memory limit exceeded")]
    MemoryLimit,
    #[error("Node.js not found at {0}")]
    NodeNotFound(String),
    #[error("initialization script failed: {0}")]
    InitFailed(String),
    /// Network is denied by the settings but the sandbox that denies it cannot run.
    #[error("network access is denied for chat functions, but {0}")]
    SandboxUnavailable(String),
    /// The runtime folder could not be prepared.
    #[error("runtime unavailable: {0}")]
    Runtime(String),
    /// The worker exited or could not start for another reason.
    #[error("{0}")]
    Crashed(String),
}

/// A bare program name resolved against `PATH`, so it still runs with a cleared environment
/// (and under `unshare`, which looks programs up in the child's empty `PATH`).
pub(crate) fn resolve_program(program: &Path) -> PathBuf {
    if program.components().count() != 1 {
        return program.to_path_buf();
    }
    std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(program))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| program.to_path_buf())
}
