//! Runtime folders: one versioned folder per installed runtime, `npm install` into a new folder,
//! an atomic swap of the application's `current` pointer, and removal of folders no worker uses.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{json, Map, Value};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use crate::output::OutputBuffer;
use crate::strip::{strip_types, SyntaxError};

/// The file in a runtime folder that holds its (type-stripped) initialization script.
pub(crate) const INIT_FILE: &str = "palaver-init.js";
/// The pointer file naming an application's current runtime folder; replaced by rename.
const CURRENT_FILE: &str = "current";

/// An npm dependency of a runtime: a package name and a version range or spec.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dependency {
    pub name: String,
    pub version: String,
}

/// Where runtimes live and how they are installed.
#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    /// Root of the runtime folders: `<base_dir>/<app_id>/<folder>/`.
    pub base_dir: PathBuf,
    /// The `npm` executable (a bare name is looked up on `PATH`).
    pub npm_path: PathBuf,
    /// How long one `npm install` may run before it is killed.
    pub install_timeout: Duration,
    /// How much of npm's output is kept.
    pub output_limit: usize,
    /// Whether dependencies may name local paths (`file:`, `link:`, absolute or relative paths).
    /// Off by default: on a shared server such a spec would copy a host folder into a runtime.
    pub allow_local_dependencies: bool,
}

impl RuntimeSettings {
    pub fn new(base_dir: impl Into<PathBuf>) -> Self {
        Self {
            base_dir: base_dir.into(),
            npm_path: PathBuf::from("npm"),
            install_timeout: Duration::from_secs(300),
            output_limit: 64 * 1024,
            allow_local_dependencies: false,
        }
    }
}

/// A successful install: npm's output (empty when there was nothing to install) and the folder
/// that is now the application's current runtime.
#[derive(Debug, Clone)]
pub struct InstallOutcome {
    pub output: String,
    pub runtime_dir: PathBuf,
}

/// Why an install did not replace the current runtime (the previous one stays in place).
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("the initialization script has a syntax error: {0}")]
    InitScript(SyntaxError),
    #[error("dependency {name:?} is invalid: {reason}")]
    InvalidDependency { name: String, reason: String },
    #[error("npm install failed")]
    Npm { output: String },
    #[error("npm not found at {0}")]
    NpmNotFound(PathBuf),
    #[error("runtime folder: {0}")]
    Io(#[from] std::io::Error),
}

impl InstallError {
    /// npm's output for a failed install, or the error itself for the other cases.
    pub fn output(&self) -> String {
        match self {
            Self::Npm { output } => output.clone(),
            other => other.to_string(),
        }
    }
}

/// The runtime folders of every application. Cheap to clone; clones share state, so the pool
/// and the install job see the same leases.
#[derive(Clone)]
pub struct Runtimes {
    inner: Arc<Inner>,
}

struct Inner {
    settings: RuntimeSettings,
    /// Folders in use by live workers, with how many workers use each.
    leases: Mutex<HashMap<PathBuf, usize>>,
    /// One install at a time per application.
    app_locks: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
}

/// A worker's claim on its runtime folder: the folder is not removed while the lease lives.
pub(crate) struct RuntimeLease {
    inner: Arc<Inner>,
    app_id: i64,
    pub(crate) dir: PathBuf,
}

impl Drop for RuntimeLease {
    fn drop(&mut self) {
        let last = {
            let mut leases = lock(&self.inner.leases);
            match leases.get_mut(&self.dir) {
                Some(count) if *count > 1 => {
                    *count -= 1;
                    false
                }
                _ => {
                    leases.remove(&self.dir);
                    true
                }
            }
        };
        if last {
            let inner = self.inner.clone();
            let app_id = self.app_id;
            // Removal can be slow (node_modules); keep it off the async threads.
            match tokio::runtime::Handle::try_current() {
                Ok(handle) => {
                    handle.spawn_blocking(move || inner.remove_stale(app_id));
                }
                Err(_) => inner.remove_stale(app_id),
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these maps leaves them consistent; keep going.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Runtimes {
    /// Opens (creating) the runtime root. Folders left over from an earlier process that are not
    /// an application's current runtime are removed: no worker can be using them yet.
    pub fn open(settings: RuntimeSettings) -> std::io::Result<Self> {
        std::fs::create_dir_all(&settings.base_dir)?;
        let base_dir = std::fs::canonicalize(&settings.base_dir)?;
        let inner = Arc::new(Inner {
            settings: RuntimeSettings {
                base_dir,
                ..settings
            },
            leases: Mutex::new(HashMap::new()),
            app_locks: Mutex::new(HashMap::new()),
        });
        for entry in std::fs::read_dir(&inner.settings.base_dir)?.flatten() {
            if let Some(app_id) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i64>().ok())
            {
                inner.remove_stale(app_id);
            }
        }
        Ok(Self { inner })
    }

    pub fn settings(&self) -> &RuntimeSettings {
        &self.inner.settings
    }

    /// Installs a runtime version for an application: writes `package.json` and the
    /// initialization script into a new folder, runs `npm install` there when there are
    /// dependencies, and only when that succeeds makes it the current runtime. Older folders
    /// that no live worker uses are removed.
    pub async fn install(
        &self,
        app_id: i64,
        version: &str,
        dependencies: &[Dependency],
        initialization_script: &str,
    ) -> Result<InstallOutcome, InstallError> {
        let init = strip_types(initialization_script).map_err(InstallError::InitScript)?;
        for dependency in dependencies {
            self.check_dependency(dependency)?;
        }
        let app_lock = self.app_lock(app_id);
        let _guard = app_lock.lock().await;
        let outcome = self
            .install_locked(app_id, version, dependencies, &init)
            .await?;
        let inner = self.inner.clone();
        // Still under the application's lock: no other install has a half-built folder here.
        tokio::task::spawn_blocking(move || inner.remove_stale_locked(app_id))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(outcome)
    }

    /// The application's current runtime folder, if one was installed.
    pub fn current(&self, app_id: i64) -> Option<PathBuf> {
        self.inner.current(app_id)
    }

    /// Leases the current runtime, installing an empty one first if the application has none.
    pub(crate) async fn lease_current(&self, app_id: i64) -> Result<RuntimeLease, InstallError> {
        loop {
            let dir = match self.current(app_id) {
                Some(dir) => dir,
                None => {
                    let app_lock = self.app_lock(app_id);
                    let _guard = app_lock.lock().await;
                    match self.current(app_id) {
                        Some(dir) => dir,
                        None => self.install_locked(app_id, "0", &[], "").await?.runtime_dir,
                    }
                }
            };
            *lock(&self.inner.leases).entry(dir.clone()).or_insert(0) += 1;
            let lease = RuntimeLease {
                inner: self.inner.clone(),
                app_id,
                dir,
            };
            // A swap between reading the pointer and taking the lease may have made this folder
            // stale (and up for removal); a folder still current once leased is safe.
            if self.current(app_id).as_ref() == Some(&lease.dir) {
                return Ok(lease);
            }
        }
    }

    fn app_lock(&self, app_id: i64) -> Arc<tokio::sync::Mutex<()>> {
        lock(&self.inner.app_locks)
            .entry(app_id)
            .or_default()
            .clone()
    }

    fn check_dependency(&self, dependency: &Dependency) -> Result<(), InstallError> {
        let invalid = |reason: &str| InstallError::InvalidDependency {
            name: dependency.name.clone(),
            reason: reason.to_owned(),
        };
        let name = dependency.name.as_str();
        let name_ok = !name.is_empty()
            && name.len() <= 214
            && !name.starts_with('.')
            && !name.starts_with('_')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~@/".contains(c))
            && name.matches('/').count() <= usize::from(name.starts_with('@'));
        if !name_ok {
            return Err(invalid("not an npm package name"));
        }
        let spec = dependency.version.trim();
        if spec.is_empty() || spec.chars().any(char::is_control) {
            return Err(invalid("the version is empty or has control characters"));
        }
        let local = ["file:", "link:", "git+file:", "/", ".", "~"]
            .iter()
            .any(|prefix| spec.starts_with(prefix));
        if local && !self.inner.settings.allow_local_dependencies {
            return Err(invalid(
                "local paths are not allowed as dependencies on this server",
            ));
        }
        Ok(())
    }

    async fn install_locked(
        &self,
        app_id: i64,
        version: &str,
        dependencies: &[Dependency],
        init: &str,
    ) -> Result<InstallOutcome, InstallError> {
        let app_dir = self.inner.app_dir(app_id);
        tokio::fs::create_dir_all(&app_dir).await?;
        // The version names the folder for people looking at it; only safe characters of it.
        let label: String = version
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .take(32)
            .collect();
        let dir = app_dir.join(format!("v{label}-{:016x}", rand::random::<u64>()));
        tokio::fs::create_dir(&dir).await?;
        match self.populate(app_id, &dir, dependencies, init).await {
            Ok(output) => {
                let pointer =
                    app_dir.join(format!("{CURRENT_FILE}.{:016x}", rand::random::<u64>()));
                let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                tokio::fs::write(&pointer, name).await?;
                // rename(2) replaces the pointer atomically: a reader sees the old or the new one.
                tokio::fs::rename(&pointer, app_dir.join(CURRENT_FILE)).await?;
                Ok(InstallOutcome {
                    output,
                    runtime_dir: dir,
                })
            }
            Err(error) => {
                let _ = tokio::fs::remove_dir_all(&dir).await;
                Err(error)
            }
        }
    }

    async fn populate(
        &self,
        app_id: i64,
        dir: &Path,
        dependencies: &[Dependency],
        init: &str,
    ) -> Result<String, InstallError> {
        let deps: Map<String, Value> = dependencies
            .iter()
            .map(|d| (d.name.clone(), Value::String(d.version.trim().to_owned())))
            .collect();
        let package = json!({
            "name": format!("palaver-runtime-{app_id}"),
            "version": "1.0.0",
            "private": true,
            "description": "Chat functions runtime",
            "license": "UNLICENSED",
            "dependencies": deps,
        });
        let text = serde_json::to_string_pretty(&package).map_err(std::io::Error::other)?;
        tokio::fs::write(dir.join("package.json"), text).await?;
        tokio::fs::write(dir.join(INIT_FILE), init).await?;
        if dependencies.is_empty() {
            return Ok(String::new());
        }
        self.run_npm(dir).await
    }

    async fn run_npm(&self, dir: &Path) -> Result<String, InstallError> {
        let settings = &self.inner.settings;
        let npm = crate::resolve_program(&settings.npm_path);
        let mut command = Command::new(&npm);
        command
            // `--install-links` copies local folders in instead of linking them: workers may read
            // only their runtime folder.
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--omit=dev",
                "--ignore-scripts",
            ])
            .arg("--install-links")
            .current_dir(dir)
            .env_clear()
            .envs(npm_environment())
            .env("npm_config_update_notifier", "false")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(InstallError::NpmNotFound(npm))
            }
            Err(e) => return Err(e.into()),
        };
        let output = Arc::new(Mutex::new(OutputBuffer::new(settings.output_limit)));
        let stdout = child
            .stdout
            .take()
            .map(|s| tokio::spawn(collect(s, output.clone())));
        let stderr = child
            .stderr
            .take()
            .map(|s| tokio::spawn(collect(s, output.clone())));
        let status = tokio::time::timeout(settings.install_timeout, child.wait()).await;
        if status.is_err() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
        for reader in [stdout, stderr].into_iter().flatten() {
            let _ = reader.await;
        }
        let mut text = lock(&output).take();
        match status {
            Ok(Ok(status)) if status.success() => Ok(text),
            Ok(Ok(status)) => {
                text.push_str(&format!("\nnpm install exited with {status}\n"));
                Err(InstallError::Npm { output: text })
            }
            Ok(Err(e)) => Err(e.into()),
            Err(_) => {
                let secs = settings.install_timeout.as_secs();
                text.push_str(&format!("\nnpm install timed out after {secs} s\n"));
                Err(InstallError::Npm { output: text })
            }
        }
    }
}

impl Inner {
    fn app_dir(&self, app_id: i64) -> PathBuf {
        self.settings.base_dir.join(app_id.to_string())
    }

    fn current(&self, app_id: i64) -> Option<PathBuf> {
        let app_dir = self.app_dir(app_id);
        let name = std::fs::read_to_string(app_dir.join(CURRENT_FILE)).ok()?;
        let name = name.trim();
        let dir = app_dir.join(name);
        (!name.is_empty() && !name.contains('/') && dir.is_dir()).then_some(dir)
    }

    /// Removes stale folders unless an install is running for the application (it cleans up
    /// when it finishes).
    fn remove_stale(&self, app_id: i64) {
        let app_lock = lock(&self.app_locks).entry(app_id).or_default().clone();
        let guard = app_lock.try_lock();
        if guard.is_ok() {
            self.remove_stale_locked(app_id);
        }
    }

    /// Removes the application's folders (and stray pointer temporaries) that are neither current
    /// nor leased by a live worker.
    fn remove_stale_locked(&self, app_id: i64) {
        let app_dir = self.app_dir(app_id);
        let current = self.current(app_id);
        let Ok(entries) = std::fs::read_dir(&app_dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name == CURRENT_FILE || Some(&path) == current.as_ref() {
                continue;
            }
            if name.starts_with("current.") {
                let _ = std::fs::remove_file(&path);
                continue;
            }
            if !name.starts_with('v') || lock(&self.leases).contains_key(&path) {
                continue;
            }
            if let Err(e) = std::fs::remove_dir_all(&path) {
                tracing::warn!(path = %path.display(), error = %e, "could not remove an old runtime folder");
            }
        }
    }
}

/// What npm gets from Palaver's environment: enough to find node, its cache and config, a proxy
/// and CA certificates; none of Palaver's own settings or secrets.
fn npm_environment() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(name, _)| {
            let lower = name.to_ascii_lowercase();
            matches!(
                lower.as_str(),
                "path"
                    | "home"
                    | "http_proxy"
                    | "https_proxy"
                    | "no_proxy"
                    | "ssl_cert_file"
                    | "ssl_cert_dir"
                    | "node_extra_ca_certs"
                    | "lang"
            ) || lower.starts_with("npm_config_")
        })
        .collect()
}

async fn collect(mut stream: impl AsyncRead + Unpin, output: Arc<Mutex<OutputBuffer>>) {
    let mut chunk = [0u8; 8192];
    while let Ok(n) = stream.read(&mut chunk).await {
        if n == 0 {
            break;
        }
        lock(&output).push(&String::from_utf8_lossy(&chunk[..n]));
    }
}
