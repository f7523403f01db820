//! The supervisor of the server's long-running tasks (job workers, the notifier, outbox
//! pruning, the real-time hub): one place starts them, and one call stops them all, giving each
//! a grace period to finish what it is doing before it is aborted.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What a supervised task watches to learn that the server is stopping.
#[derive(Debug, Clone)]
pub struct Stopping(watch::Receiver<bool>);

impl Stopping {
    /// Resolves once the server is stopping (at once if it already is).
    pub async fn wait(&mut self) {
        // An error means the supervisor is gone: that is a stop too.
        let _ = self.0.wait_for(|stopping| *stopping).await;
    }

    pub fn is_stopping(&self) -> bool {
        *self.0.borrow()
    }
}

/// Tasks started together and stopped together.
#[derive(Debug)]
pub struct Supervisor {
    stop: watch::Sender<bool>,
    tasks: Vec<(&'static str, JoinHandle<()>)>,
}

impl Default for Supervisor {
    fn default() -> Self {
        Self::new()
    }
}

impl Supervisor {
    pub fn new() -> Self {
        Self {
            stop: watch::channel(false).0,
            tasks: Vec::new(),
        }
    }

    /// Starts a task that finishes by itself once told to stop (a job worker ending its job).
    pub fn spawn<F, Fut>(&mut self, name: &'static str, task: F)
    where
        F: FnOnce(Stopping) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let stopping = Stopping(self.stop.subscribe());
        self.tasks.push((name, tokio::spawn(task(stopping))));
    }

    /// Starts a task that runs until the server stops, and is simply dropped then: one whose
    /// work is safe to cut anywhere (each step commits on its own).
    pub fn spawn_until_stopped<Fut>(&mut self, name: &'static str, task: Fut)
    where
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.spawn(name, |mut stopping| async move {
            tokio::select! {
                _ = task => {}
                _ = stopping.wait() => {}
            }
        });
    }

    /// Tells every task to stop, waits up to `grace` for them all, then aborts the rest.
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + grace;
        for (name, mut task) in self.tasks {
            match tokio::time::timeout_at(deadline, &mut task).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) if e.is_panic() => tracing::error!(task = name, "task panicked"),
                Ok(Err(_)) => {}
                Err(_) => {
                    tracing::warn!(task = name, "task did not stop in time; aborted");
                    task.abort();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn shutdown_lets_tasks_finish_and_aborts_those_that_do_not() {
        let finished = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicBool::new(false));
        let mut s = Supervisor::new();
        let done = finished.clone();
        s.spawn("polite", |mut stopping| async move {
            stopping.wait().await;
            done.store(true, Ordering::SeqCst);
        });
        struct Flag(Arc<AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let flag = Flag(dropped.clone());
        s.spawn_until_stopped("loop", async move {
            let _flag = flag;
            std::future::pending::<()>().await;
        });
        s.spawn("stubborn", |_| std::future::pending::<()>());
        s.shutdown(Duration::from_millis(200)).await;
        assert!(finished.load(Ordering::SeqCst));
        assert!(dropped.load(Ordering::SeqCst));
    }
}
