//! One `node` worker process: sandboxed spawn, the stdio line protocol, Platform API calls
//! answered through the bridge, and the worker's death turned into invocation errors.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::bridge::{ApiBridge, ApiRequest};
use crate::output::OutputBuffer;
use crate::runtime::{RuntimeLease, INIT_FILE};
use crate::InvocationError;

/// Protocol lines longer than this are cut (and treated as stray output).
const MAX_LINE: usize = 32 * 1024 * 1024;
/// How much of stderr is kept to explain a worker's death.
const STDERR_TAIL: usize = 4096;

/// How to start a worker; the same for every worker of a pool except the environment.
pub(crate) struct WorkerSpec {
    pub node: PathBuf,
    /// `Some` when network is denied: the worker runs under `unshare -rn`.
    pub unshare: Option<PathBuf>,
    pub bootstrap: PathBuf,
    pub tmp_dir: PathBuf,
    pub heap_mb: u32,
    pub output_limit: usize,
}

#[derive(Clone)]
enum State {
    Starting,
    Ready,
    Dead(InvocationError),
}

struct Reply {
    ok: bool,
    result: Value,
    error: String,
    output: String,
}

struct Shared {
    pending: Mutex<HashMap<u64, oneshot::Sender<Result<Reply, InvocationError>>>>,
    state: watch::Sender<State>,
    /// Output not attributable to one invocation (raw stdout/stderr, init output); it goes to
    /// the next invocation that finishes.
    stray: Mutex<OutputBuffer>,
    stderr_tail: Mutex<String>,
    kill_reason: Mutex<Option<InvocationError>>,
}

pub(crate) struct Worker {
    pub environment: BTreeMap<String, String>,
    pub inflight: AtomicUsize,
    pub last_used: Mutex<Instant>,
    /// Replaced (runtime or environment changed): stopped once its last invocation ends.
    pub retired: AtomicBool,
    stdin: mpsc::UnboundedSender<String>,
    kill: mpsc::UnboundedSender<()>,
    shared: Arc<Shared>,
    output_limit: usize,
    lease: RuntimeLease,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Environment variables a handler's runtime may not set: they would change how node or the
/// dynamic loader starts (e.g. `NODE_OPTIONS=--allow-child-process`, `LD_PRELOAD`).
fn env_allowed(name: &str, value: &str) -> bool {
    let reserved = (name.starts_with("NODE_") && name != "NODE_ENV")
        || name.starts_with("LD_")
        || name.starts_with("DYLD_");
    !reserved && !name.is_empty() && !name.contains(['=', '\0']) && !value.contains('\0')
}

impl Worker {
    pub(crate) fn runtime_dir(&self) -> &PathBuf {
        &self.lease.dir
    }

    pub(crate) fn alive(&self) -> bool {
        !matches!(*self.shared.state.borrow(), State::Dead(_))
            && lock(&self.shared.kill_reason).is_none()
    }

    /// Stops the worker; every invocation still in flight fails with `reason`.
    pub(crate) fn kill(&self, reason: InvocationError) {
        lock(&self.shared.kill_reason).get_or_insert(reason);
        let _ = self.kill.send(());
    }

    pub(crate) fn spawn(
        app_id: i64,
        environment: BTreeMap<String, String>,
        spec: &WorkerSpec,
        lease: RuntimeLease,
        bridge: Arc<dyn ApiBridge>,
    ) -> Result<Arc<Self>, InvocationError> {
        if !spec.node.is_file() {
            return Err(InvocationError::NodeNotFound(
                spec.node.display().to_string(),
            ));
        }
        let runtime_dir = lease.dir.clone();
        let init_script = std::fs::read_to_string(runtime_dir.join(INIT_FILE)).unwrap_or_default();
        std::fs::create_dir_all(&spec.tmp_dir)
            .map_err(|e| InvocationError::Runtime(format!("temporary folder: {e}")))?;

        let mut command = match &spec.unshare {
            Some(unshare) => {
                let mut command = Command::new(unshare);
                command.arg("-rn").arg(&spec.node);
                command
            }
            None => Command::new(&spec.node),
        };
        let read = |path: &PathBuf| format!("--allow-fs-read={}", path.display());
        command
            .arg(format!("--max-old-space-size={}", spec.heap_mb))
            .arg("--disable-warning=ExperimentalWarning")
            .arg("--experimental-permission")
            .arg(read(&runtime_dir))
            .arg(read(&spec.bootstrap))
            .arg(read(&spec.tmp_dir))
            .arg(format!("--allow-fs-write={}", spec.tmp_dir.display()))
            .arg(&spec.bootstrap)
            .current_dir(&runtime_dir)
            .env_clear()
            .envs(
                environment
                    .iter()
                    .filter(|(name, value)| env_allowed(name, value)),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .map_err(|e| match (&spec.unshare, e.kind()) {
                (Some(unshare), std::io::ErrorKind::NotFound) => {
                    InvocationError::SandboxUnavailable(format!(
                        "`unshare` was not found at {}",
                        unshare.display()
                    ))
                }
                (None, std::io::ErrorKind::NotFound) => {
                    InvocationError::NodeNotFound(spec.node.display().to_string())
                }
                _ => InvocationError::Crashed(format!("could not start the worker: {e}")),
            })?;

        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(InvocationError::Crashed("the worker has no stdio".into()));
        };
        let nonce = format!("\u{1}palaver:{:032x}:", rand::random::<u128>());
        let (state, _) = watch::channel(State::Starting);
        let shared = Arc::new(Shared {
            pending: Mutex::new(HashMap::new()),
            state,
            stray: Mutex::new(OutputBuffer::new(spec.output_limit)),
            stderr_tail: Mutex::new(String::new()),
            kill_reason: Mutex::new(None),
        });
        let (stdin_tx, stdin_rx) = mpsc::unbounded_channel::<String>();
        let (kill_tx, kill_rx) = mpsc::unbounded_channel::<()>();
        let hello = json!({
            "nonce": nonce,
            "runtimeDir": runtime_dir,
            "outputLimit": spec.output_limit,
            "initScript": init_script,
            "applicationId": app_id,
        });
        let _ = stdin_tx.send(hello.to_string());
        tokio::spawn(write_stdin(stdin, stdin_rx));
        let stdout_task = tokio::spawn(read_stdout(
            stdout,
            nonce,
            shared.clone(),
            app_id,
            bridge,
            stdin_tx.downgrade(),
            kill_tx.downgrade(),
        ));
        let stderr_task = tokio::spawn(read_stderr(stderr, shared.clone()));
        tokio::spawn(watch_exit(
            child,
            kill_rx,
            shared.clone(),
            [stdout_task, stderr_task],
            spec.unshare.is_some(),
        ));
        Ok(Arc::new(Self {
            environment,
            inflight: AtomicUsize::new(0),
            last_used: Mutex::new(Instant::now()),
            retired: AtomicBool::new(false),
            stdin: stdin_tx,
            kill: kill_tx,
            shared,
            output_limit: spec.output_limit,
            lease,
        }))
    }

    /// Waits until the initialization script has run (or the worker died).
    pub(crate) async fn ready(
        &self,
        deadline: Instant,
        timeout_ms: u64,
    ) -> Result<(), InvocationError> {
        let mut state = self.shared.state.subscribe();
        loop {
            match &*state.borrow_and_update() {
                State::Ready => return Ok(()),
                State::Dead(reason) => return Err(reason.clone()),
                State::Starting => {}
            }
            match tokio::time::timeout_at(deadline, state.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Err(InvocationError::Crashed("the worker stopped".into())),
                Err(_) => {
                    self.kill(InvocationError::TimedOut(timeout_ms));
                    return Err(InvocationError::TimedOut(timeout_ms));
                }
            }
        }
    }

    /// Runs one invocation on this worker; returns its result and captured output.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn invoke(
        &self,
        id: u64,
        key: &str,
        script: &str,
        event: &Value,
        context: &Value,
        deadline: Instant,
        timeout_ms: u64,
    ) -> (Result<Value, InvocationError>, String) {
        if let Err(error) = self.ready(deadline, timeout_ms).await {
            return (Err(error), self.take_stray());
        }
        let (tx, rx) = oneshot::channel();
        lock(&self.shared.pending).insert(id, tx);
        // The exit watcher marks the worker dead before failing what is pending: a registration
        // it may have missed sees the dead state here.
        if let State::Dead(reason) = &*self.shared.state.borrow() {
            lock(&self.shared.pending).remove(&id);
            return (Err(reason.clone()), self.take_stray());
        }
        let line = json!({
            "type": "invoke",
            "id": id,
            "key": key,
            "script": script,
            "event": event,
            "context": context,
        });
        let _ = self.stdin.send(line.to_string());
        let result = match tokio::time::timeout_at(deadline, rx).await {
            Ok(Ok(Ok(reply))) => {
                let mut output = OutputBuffer::new(self.output_limit);
                output.push(&self.take_stray());
                output.push(&reply.output);
                let result = if reply.ok {
                    Ok(reply.result)
                } else {
                    Err(InvocationError::Failed(reply.error))
                };
                return (result, output.take());
            }
            Ok(Ok(Err(reason))) => Err(reason),
            Ok(Err(_)) => Err(InvocationError::Crashed("the worker stopped".into())),
            Err(_) => {
                lock(&self.shared.pending).remove(&id);
                self.kill(InvocationError::TimedOut(timeout_ms));
                Err(InvocationError::TimedOut(timeout_ms))
            }
        };
        (result, self.take_stray())
    }

    fn take_stray(&self) -> String {
        lock(&self.shared.stray).take()
    }
}

async fn write_stdin(
    mut stdin: tokio::process::ChildStdin,
    mut lines: mpsc::UnboundedReceiver<String>,
) {
    while let Some(line) = lines.recv().await {
        let written = async {
            stdin.write_all(line.as_bytes()).await?;
            stdin.write_all(b"\n").await?;
            stdin.flush().await
        };
        if written.await.is_err() {
            break;
        }
    }
}

/// Messages the bootstrap sends, after the nonce.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum FromWorker {
    Ready {
        #[serde(default)]
        output: String,
    },
    InitFailed {
        error: String,
        #[serde(default)]
        output: String,
    },
    Result {
        id: u64,
        ok: bool,
        #[serde(default)]
        result: Value,
        #[serde(default)]
        error: String,
        #[serde(default)]
        output: String,
    },
    Api {
        call: u64,
        method: String,
        path: String,
        #[serde(default)]
        query: Vec<(String, String)>,
        #[serde(default)]
        body: Option<Value>,
    },
}

/// Reads lines of at most [`MAX_LINE`] bytes (longer ones are cut), calling `each` per line.
async fn for_each_line(stream: impl AsyncRead + Unpin, mut each: impl FnMut(&[u8])) {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    let mut cut = false;
    loop {
        let buffer = match reader.fill_buf().await {
            Ok([]) | Err(_) => break,
            Ok(buffer) => buffer,
        };
        let (chunk, newline) = match buffer.iter().position(|&b| b == b'\n') {
            Some(at) => (&buffer[..at], true),
            None => (buffer, false),
        };
        if !cut {
            let room = MAX_LINE.saturating_sub(line.len());
            line.extend_from_slice(&chunk[..chunk.len().min(room)]);
            cut = chunk.len() > room;
        }
        let consumed = chunk.len() + usize::from(newline);
        reader.consume(consumed);
        if newline {
            each(&line);
            line.clear();
            cut = false;
        }
    }
    if !line.is_empty() {
        each(&line);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

async fn read_stdout(
    stdout: tokio::process::ChildStdout,
    nonce: String,
    shared: Arc<Shared>,
    app_id: i64,
    bridge: Arc<dyn ApiBridge>,
    // Weak, so that dropping the worker closes stdin and stops the process.
    stdin: mpsc::WeakUnboundedSender<String>,
    kill: mpsc::WeakUnboundedSender<()>,
) {
    let stray = |text: &[u8]| {
        let mut stray = lock(&shared.stray);
        stray.push(&String::from_utf8_lossy(text));
        stray.push("\n");
    };
    for_each_line(stdout, |line| {
        // Only the bootstrap knows the nonce; a line without it is the handler's output, and a
        // handler's unterminated write may stand before a frame on the same line.
        let Some(at) = find(line, nonce.as_bytes()) else {
            stray(line);
            return;
        };
        if at > 0 {
            stray(&line[..at]);
        }
        let message = match serde_json::from_slice::<FromWorker>(&line[at + nonce.len()..]) {
            Ok(message) => message,
            Err(e) => {
                tracing::warn!(app_id, error = %e, "unreadable chat functions worker frame");
                return;
            }
        };
        match message {
            FromWorker::Ready { output } => {
                lock(&shared.stray).push(&output);
                shared.state.send_replace(State::Ready);
            }
            FromWorker::InitFailed { error, output } => {
                lock(&shared.stray).push(&output);
                let reason = InvocationError::InitFailed(error);
                lock(&shared.kill_reason).get_or_insert(reason.clone());
                shared.state.send_replace(State::Dead(reason));
                if let Some(kill) = kill.upgrade() {
                    let _ = kill.send(());
                }
            }
            FromWorker::Result {
                id,
                ok,
                result,
                error,
                output,
            } => {
                if let Some(tx) = lock(&shared.pending).remove(&id) {
                    let _ = tx.send(Ok(Reply {
                        ok,
                        result,
                        error,
                        output,
                    }));
                }
            }
            FromWorker::Api {
                call,
                method,
                path,
                query,
                body,
            } => {
                let bridge = bridge.clone();
                let Some(stdin) = stdin.upgrade() else {
                    return;
                };
                let request = ApiRequest {
                    method,
                    path,
                    query,
                    body,
                };
                tokio::spawn(async move {
                    let response = bridge.call(app_id, request).await;
                    let answer = json!({
                        "type": "api_result",
                        "call": call,
                        "status": response.status,
                        "headers": response.headers,
                        "body": response.body,
                    });
                    let _ = stdin.send(answer.to_string());
                });
            }
        }
    })
    .await;
}

async fn read_stderr(stderr: tokio::process::ChildStderr, shared: Arc<Shared>) {
    for_each_line(stderr, |line| {
        let text = String::from_utf8_lossy(line);
        {
            let mut stray = lock(&shared.stray);
            stray.push(&text);
            stray.push("\n");
        }
        let mut tail = lock(&shared.stderr_tail);
        tail.push_str(&text);
        tail.push('\n');
        if tail.len() > STDERR_TAIL {
            let mut cut = tail.len() - STDERR_TAIL;
            while !tail.is_char_boundary(cut) {
                cut += 1;
            }
            tail.drain(..cut);
        }
    })
    .await;
}

async fn watch_exit(
    mut child: Child,
    mut kill: mpsc::UnboundedReceiver<()>,
    shared: Arc<Shared>,
    readers: [tokio::task::JoinHandle<()>; 2],
    sandboxed: bool,
) {
    let status = tokio::select! {
        status = child.wait() => status,
        _ = kill.recv() => {
            // A closed channel means the worker was dropped: stop the process as well.
            let _ = child.start_kill();
            child.wait().await
        }
    };
    for reader in readers {
        // The pipes close with the process; the wait only bounds a stuck reader.
        let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
    }
    let reason = lock(&shared.kill_reason).clone();
    let reason = reason.unwrap_or_else(|| {
        let tail = lock(&shared.stderr_tail).clone();
        classify_exit(status.ok(), &tail, sandboxed)
    });
    shared.state.send_replace(State::Dead(reason.clone()));
    let pending: Vec<_> = lock(&shared.pending).drain().collect();
    for (_, tx) in pending {
        let _ = tx.send(Err(reason.clone()));
    }
}

/// Why a worker exited by itself: a V8 heap abort, a failed sandbox, or anything else.
fn classify_exit(
    status: Option<ExitStatus>,
    stderr_tail: &str,
    sandboxed: bool,
) -> InvocationError {
    use std::os::unix::process::ExitStatusExt;
    const SIGABRT: i32 = 6;
    let signal = status.and_then(|s| s.signal());
    if stderr_tail.contains("heap out of memory")
        || stderr_tail.contains("Reached heap limit")
        || signal == Some(SIGABRT)
    {
        return InvocationError::MemoryLimit;
    }
    let last = stderr_tail
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if sandboxed && last.starts_with("unshare:") {
        return InvocationError::SandboxUnavailable(format!("`unshare` failed: {last}"));
    }
    let how = match status {
        Some(status) => status.to_string(),
        None => "an unknown status".to_owned(),
    };
    if last.is_empty() {
        InvocationError::Crashed(format!("the worker exited with {how}"))
    } else {
        InvocationError::Crashed(format!("the worker exited with {how}: {last}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_variables_are_dropped() {
        assert!(env_allowed("API_KEY", "x"));
        assert!(env_allowed("NODE_ENV", "production"));
        assert!(!env_allowed("NODE_OPTIONS", "--allow-child-process"));
        assert!(!env_allowed("LD_PRELOAD", "/tmp/x.so"));
        assert!(!env_allowed("A=B", "x"));
    }

    #[test]
    fn heap_aborts_are_memory_errors() {
        let tail =
            "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory";
        assert_eq!(
            classify_exit(None, tail, false),
            InvocationError::MemoryLimit
        );
        let crashed = classify_exit(None, "boom\n", false);
        assert!(crashed.to_string().contains("boom"), "{crashed}");
    }

    #[tokio::test]
    async fn long_lines_are_cut() {
        let data = format!("{}\nshort\n", "x".repeat(MAX_LINE + 10));
        let mut lines = Vec::new();
        for_each_line(data.as_bytes(), |line| lines.push(line.len())).await;
        assert_eq!(lines, vec![MAX_LINE, 5]);
    }
}
