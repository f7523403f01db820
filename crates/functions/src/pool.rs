//! The worker pool: one worker per application, a global cap with LRU eviction of idle
//! workers, an idle timeout, and replacement of dead or outdated workers.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::bridge::ApiBridge;
use crate::runtime::Runtimes;
use crate::worker::{Worker, WorkerSpec};
use crate::{resolve_program, Invocation, InvocationError, InvocationOutcome};

/// The bootstrap script, written next to the runtimes when the pool starts.
const BOOTSTRAP: &str = include_str!("bootstrap.js");
/// The Platform API method table the bootstrap builds `context` clients from; generated from the
/// official SDK by `scripts/gen-platform-methods.mjs`.
const PLATFORM_METHODS: &str = include_str!("platform_methods.json");
const METHODS_SLOT: &str = "/*__PLATFORM_METHODS__*/ { apis: {} }";

/// Whether handlers may open network connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NetworkPolicy {
    /// Handlers may call external services (ChatKitty's handlers are written to).
    #[default]
    Allow,
    /// Workers run in an empty network namespace (`unshare -rn`); `context` calls still work,
    /// they travel over stdio. If `unshare` cannot run, invocations fail rather than run open.
    Deny,
}

/// The pool's settings. `PoolSettings::new(work_dir)` gives the defaults.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// The `node` executable (a bare name is looked up on `PATH`).
    pub node_path: PathBuf,
    /// A folder owned by Palaver: the bootstrap and each application's writable `tmp/<app_id>/`.
    pub work_dir: PathBuf,
    /// V8 old-space cap per worker, in MiB.
    pub heap_mb: u32,
    /// Live workers at most; past it the least recently used idle worker is stopped.
    pub max_workers: usize,
    /// An idle worker is stopped after this long.
    pub idle_timeout: Duration,
    pub network: NetworkPolicy,
    /// The `unshare` executable, used when network is denied.
    pub unshare_path: PathBuf,
    /// Captured output per invocation, in bytes.
    pub output_limit: usize,
}

impl PoolSettings {
    pub fn new(work_dir: impl Into<PathBuf>) -> Self {
        Self {
            node_path: PathBuf::from("node"),
            work_dir: work_dir.into(),
            heap_mb: 128,
            max_workers: 4,
            idle_timeout: Duration::from_secs(300),
            network: NetworkPolicy::Allow,
            unshare_path: PathBuf::from("unshare"),
            output_limit: 64 * 1024,
        }
    }
}

/// Runs invocations on per-application `node` workers. Cheap to clone; clones share workers.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    settings: PoolSettings,
    bootstrap: PathBuf,
    tmp_root: PathBuf,
    runtimes: Runtimes,
    bridge: Arc<dyn ApiBridge>,
    workers: Mutex<HashMap<i64, Arc<Worker>>>,
    /// Signalled when a worker becomes idle, for invocations waiting for room under the cap.
    freed: Notify,
    next_id: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Marks a worker busy for one invocation; when the last one ends the worker becomes evictable,
/// and a retired worker stops.
struct Busy<'a> {
    worker: Arc<Worker>,
    pool: &'a Inner,
}

impl<'a> Busy<'a> {
    fn new(worker: Arc<Worker>, pool: &'a Inner) -> Self {
        worker.inflight.fetch_add(1, Ordering::SeqCst);
        *lock(&worker.last_used) = Instant::now();
        Self { worker, pool }
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        *lock(&self.worker.last_used) = Instant::now();
        let left = self.worker.inflight.fetch_sub(1, Ordering::SeqCst) - 1;
        if left == 0 && self.worker.retired.load(Ordering::SeqCst) {
            self.worker
                .kill(InvocationError::Crashed("the worker was replaced".into()));
        }
        self.pool.freed.notify_waiters();
    }
}

impl Pool {
    /// Writes the bootstrap into `settings.work_dir` and starts the idle reaper. Needs a tokio
    /// runtime.
    pub async fn new(
        settings: PoolSettings,
        runtimes: Runtimes,
        bridge: Arc<dyn ApiBridge>,
    ) -> std::io::Result<Self> {
        tokio::fs::create_dir_all(&settings.work_dir).await?;
        let work_dir = tokio::fs::canonicalize(&settings.work_dir).await?;
        let script = BOOTSTRAP.replacen(METHODS_SLOT, PLATFORM_METHODS.trim(), 1);
        let digest = Sha256::digest(script.as_bytes());
        let name = format!(
            "bootstrap-{:02x}{:02x}{:02x}{:02x}.js",
            digest[0], digest[1], digest[2], digest[3]
        );
        let bootstrap_dir = work_dir.join("bootstrap");
        tokio::fs::create_dir_all(&bootstrap_dir).await?;
        let bootstrap = bootstrap_dir.join(name);
        let temporary = bootstrap_dir.join(format!(".{:016x}.tmp", rand::random::<u64>()));
        tokio::fs::write(&temporary, script).await?;
        tokio::fs::rename(&temporary, &bootstrap).await?;
        let tmp_root = work_dir.join("tmp");
        tokio::fs::create_dir_all(&tmp_root).await?;
        let settings = PoolSettings {
            node_path: resolve_program(&settings.node_path),
            unshare_path: resolve_program(&settings.unshare_path),
            work_dir,
            ..settings
        };
        let inner = Arc::new(Inner {
            settings,
            bootstrap,
            tmp_root,
            runtimes,
            bridge,
            workers: Mutex::new(HashMap::new()),
            freed: Notify::new(),
            next_id: AtomicU64::new(1),
        });
        tokio::spawn(reap_idle(Arc::downgrade(&inner)));
        Ok(Self { inner })
    }

    pub fn settings(&self) -> &PoolSettings {
        &self.inner.settings
    }

    pub fn runtimes(&self) -> &Runtimes {
        &self.inner.runtimes
    }

    /// Runs one invocation. Never panics: every failure is an [`InvocationError`] in the outcome.
    pub async fn invoke(&self, invocation: Invocation) -> InvocationOutcome {
        let started = Instant::now();
        let deadline = started + invocation.timeout;
        let timeout_ms = u64::try_from(invocation.timeout.as_millis()).unwrap_or(u64::MAX);
        let inner = &*self.inner;
        let busy = match inner
            .worker_for(
                invocation.app_id,
                &invocation.environment,
                deadline,
                timeout_ms,
            )
            .await
        {
            Ok(busy) => busy,
            Err(error) => {
                return InvocationOutcome {
                    result: Err(error),
                    output: String::new(),
                    duration: started.elapsed(),
                }
            }
        };
        let mut context = match invocation.context {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        context.insert("applicationId".into(), invocation.app_id.into());
        context.insert("functionId".into(), invocation.function_id.into());
        context.insert("functionVersion".into(), invocation.version.into());
        let key = format!("{}:{}", invocation.function_id, invocation.version);
        let id = inner.next_id.fetch_add(1, Ordering::Relaxed);
        let (result, output) = busy
            .worker
            .invoke(
                id,
                &key,
                &invocation.script,
                &invocation.event,
                &Value::Object(context),
                deadline,
                timeout_ms,
            )
            .await;
        drop(busy);
        InvocationOutcome {
            result,
            output,
            duration: started.elapsed(),
        }
    }

    /// Starts the application's worker (running its initialization script) ahead of the first
    /// invocation, e.g. for an application with a blocking function.
    pub async fn warm(
        &self,
        app_id: i64,
        environment: &BTreeMap<String, String>,
        timeout: Duration,
    ) -> Result<(), InvocationError> {
        let deadline = Instant::now() + timeout;
        let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        let busy = self
            .inner
            .worker_for(app_id, environment, deadline, timeout_ms)
            .await?;
        busy.worker.ready(deadline, timeout_ms).await
    }

    /// Stops the application's worker (e.g. after its runtime changed); in-flight invocations
    /// finish first.
    pub fn retire(&self, app_id: i64) {
        if let Some(worker) = lock(&self.inner.workers).remove(&app_id) {
            retire(&worker);
        }
    }

    /// Live workers (for metrics and tests).
    pub fn live_workers(&self) -> usize {
        lock(&self.inner.workers)
            .values()
            .filter(|w| w.alive())
            .count()
    }

    /// Stops every worker; in-flight invocations fail.
    pub fn shutdown(&self) {
        let workers: Vec<_> = lock(&self.inner.workers).drain().map(|(_, w)| w).collect();
        for worker in workers {
            worker.kill(InvocationError::Crashed(
                "the server is shutting down".into(),
            ));
        }
    }
}

fn retire(worker: &Worker) {
    worker.retired.store(true, Ordering::SeqCst);
    if worker.inflight.load(Ordering::SeqCst) == 0 {
        worker.kill(InvocationError::Crashed("the worker was replaced".into()));
    }
}

impl Inner {
    fn spec(&self, app_id: i64) -> WorkerSpec {
        WorkerSpec {
            node: self.settings.node_path.clone(),
            unshare: (self.settings.network == NetworkPolicy::Deny)
                .then(|| self.settings.unshare_path.clone()),
            bootstrap: self.bootstrap.clone(),
            tmp_dir: self.tmp_root.join(app_id.to_string()),
            heap_mb: self.settings.heap_mb,
            output_limit: self.settings.output_limit,
        }
    }

    /// The application's worker, marked busy: the running one if it is alive and still matches
    /// the current runtime and environment, else a new one (room made under the cap first).
    async fn worker_for(
        &self,
        app_id: i64,
        environment: &BTreeMap<String, String>,
        deadline: Instant,
        timeout_ms: u64,
    ) -> Result<Busy<'_>, InvocationError> {
        let current = self.runtimes.current(app_id);
        {
            let workers = lock(&self.workers);
            if let Some(worker) = workers.get(&app_id) {
                if worker.alive()
                    && Some(worker.runtime_dir()) == current.as_ref()
                    && &worker.environment == environment
                {
                    return Ok(Busy::new(worker.clone(), self));
                }
            }
        }
        let lease = self
            .runtimes
            .lease_current(app_id)
            .await
            .map_err(|e| InvocationError::Runtime(e.to_string()))?;
        loop {
            let notified = self.freed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut workers = lock(&self.workers);
                workers.retain(|_, worker| worker.alive());
                if let Some(worker) = workers.get(&app_id) {
                    if worker.runtime_dir() == &lease.dir && &worker.environment == environment {
                        return Ok(Busy::new(worker.clone(), self));
                    }
                    if let Some(old) = workers.remove(&app_id) {
                        retire(&old);
                    }
                }
                if workers.len() >= self.settings.max_workers.max(1) {
                    let idle = workers
                        .iter()
                        .filter(|(_, w)| w.inflight.load(Ordering::SeqCst) == 0)
                        .min_by_key(|(_, w)| *lock(&w.last_used))
                        .map(|(id, _)| *id);
                    if let Some(evicted) = idle.and_then(|id| workers.remove(&id)) {
                        evicted.kill(InvocationError::Crashed("the worker was evicted".into()));
                    }
                }
                if workers.len() < self.settings.max_workers.max(1) {
                    let spec = self.spec(app_id);
                    let worker = Worker::spawn(
                        app_id,
                        environment.clone(),
                        &spec,
                        lease,
                        self.bridge.clone(),
                    )?;
                    workers.insert(app_id, worker.clone());
                    return Ok(Busy::new(worker, self));
                }
            }
            // Every worker is busy: wait for one to go idle (or die), up to the deadline.
            let wake = (Instant::now() + Duration::from_millis(100)).min(deadline);
            let _ = tokio::time::timeout_at(wake, notified).await;
            if Instant::now() >= deadline {
                return Err(InvocationError::TimedOut(timeout_ms));
            }
        }
    }
}

async fn reap_idle(pool: Weak<Inner>) {
    loop {
        let tick = match pool.upgrade() {
            Some(inner) => (inner.settings.idle_timeout / 4)
                .clamp(Duration::from_millis(50), Duration::from_secs(30)),
            None => return,
        };
        tokio::time::sleep(tick).await;
        let Some(inner) = pool.upgrade() else {
            return;
        };
        let idle_timeout = inner.settings.idle_timeout;
        let mut workers = lock(&inner.workers);
        let expired: Vec<i64> = workers
            .iter()
            .filter(|(_, w)| {
                w.inflight.load(Ordering::SeqCst) == 0
                    && lock(&w.last_used).elapsed() >= idle_timeout
            })
            .map(|(id, _)| *id)
            .collect();
        for app_id in expired {
            if let Some(worker) = workers.remove(&app_id) {
                worker.kill(InvocationError::Crashed("the worker was idle".into()));
            }
        }
    }
}
