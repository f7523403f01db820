//! Palaver's accept loop: connections served over HTTP/1.1, with upgrades for the real-time
//! gateway's WebSockets, under [`ServeLimits`] (a header-read and an idle timeout, caps on open
//! connections and on requests in flight), and drained at shutdown.

mod activity;
mod io;
mod limits;
mod service;
mod throttle;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use activity::{Activity, Expiry};
use io::TrackedIo;
pub use limits::{connections_for_file_limit, ServeLimits};
use service::{ConnService, Shared};
use throttle::Throttled;

/// The pause after an accept error that is not one connection's (the process is out of file
/// descriptors, say), which would otherwise come straight back.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The answer to a connection past the cap, written without reading anything from it.
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\n\
    content-length: 0\r\nconnection: close\r\n\r\n";

/// Serves `router` on `listener` under `limits` until `shutdown` completes; then stops
/// accepting, closes idle connections, and gives requests in flight up to the drain timeout
/// before closing theirs too. WebSocket connections, upgraded, are no longer the loop's: their
/// owner ends them.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()>,
) {
    tracing::info!(
        header_read_timeout = ?limits.header_read_timeout,
        idle_timeout = ?limits.idle_timeout,
        max_connections = limits.max_connections,
        max_concurrent_requests = limits.max_concurrent_requests,
        "serving HTTP"
    );
    let places = Arc::new(Semaphore::new(permits(limits.max_connections)));
    let shared = Arc::new(Shared {
        router,
        slots: Arc::new(Semaphore::new(permits(limits.max_concurrent_requests))),
        max_concurrent_requests: limits.max_concurrent_requests,
        shed: Throttled::default(),
    });
    let limits = Arc::new(limits);
    let stop = CancellationToken::new();
    let mut connections = JoinSet::new();
    let refused = Throttled::default();
    let accept_errors = Throttled::default();
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            Some(ended) = connections.join_next() => {
                if ended.as_ref().is_err_and(|e| e.is_panic()) {
                    tracing::error!("a connection's task panicked");
                }
                continue;
            }
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => match places.clone().try_acquire_owned() {
                Ok(place) => {
                    let (shared, limits, stop) = (shared.clone(), limits.clone(), stop.clone());
                    connections.spawn(connection(stream, peer, place, shared, limits, stop));
                }
                Err(_) => {
                    // Best effort, without waiting: the point is to let go of the socket.
                    let _ = stream.try_write(REFUSAL);
                    if let Some(count) = refused.note(Instant::now()) {
                        tracing::warn!(
                            count,
                            max_connections = limits.max_connections,
                            "connections refused with 503: as many open as the server takes"
                        );
                    }
                }
            },
            // One connection's failure (reset before it was accepted): nothing to wait for.
            Err(e) if is_connection_error(&e) => {}
            Err(e) => {
                if let Some(count) = accept_errors.note(Instant::now()) {
                    tracing::error!(count, "cannot accept connections: {e}");
                }
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
    drop(listener);
    stop.cancel();
    let drained = tokio::time::timeout(limits.drain_timeout, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "requests still in flight after the drain timeout: their connections are closed"
        );
        connections.shutdown().await;
    }
}

/// A cap as semaphore permits: at least one, and no more than a semaphore holds.
fn permits(cap: usize) -> usize {
    cap.clamp(1, Semaphore::MAX_PERMITS)
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// Serves one connection until it ends, its time runs out, or (once `stop` is cancelled) its
/// request in flight is answered.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    place: OwnedSemaphorePermit,
    shared: Arc<Shared>,
    limits: Arc<ServeLimits>,
    stop: CancellationToken,
) {
    let activity = Arc::new(Activity::new(Instant::now()));
    let io = TokioIo::new(TrackedIo::new(stream, place, activity.clone()));
    let service = ConnService::new(shared, peer, activity.clone());
    let mut builder = http1::Builder::new();
    // The watchdog below keeps the time of request heads: hyper's own timer would also run
    // while a kept-alive connection waits, which is the idle timeout's job.
    builder.header_read_timeout(None);
    let mut conn = pin!(builder.serve_connection(io, service).with_upgrades());
    let mut draining = false;
    loop {
        let deadline = activity.deadline(&limits);
        tokio::select! {
            served = conn.as_mut() => {
                if let Err(e) = served {
                    tracing::debug!(%peer, "connection ended: {e}");
                }
                return;
            }
            () = activity.changed() => {}
            () = stop.cancelled(), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
            () = until(deadline) => {
                // Dropping the connection closes it: nothing is in flight on it.
                if let Some((at, why)) = activity.deadline(&limits) {
                    if at <= Instant::now() {
                        tracing::debug!(%peer, "closing connection: {why}");
                        return;
                    }
                }
            }
        }
    }
}

/// Completes at the deadline; never, without one.
async fn until(deadline: Option<(Instant, Expiry)>) {
    match deadline {
        Some((at, _)) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
