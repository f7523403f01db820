//! The service hyper calls for each request of one connection: the caller's address in the
//! request (as axum's `ConnectInfo`), a slot under the cap on requests in flight or else a 503,
//! and the connection marked busy from the request's head to the end of its answer.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::{Request, Response};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tower::ServiceExt;

use super::activity::Activity;
use super::throttle::Throttled;

/// The seconds a shed request's client is told to wait before it retries.
const RETRY_AFTER_SECONDS: u64 = 1;

/// What the services of every connection share.
pub struct Shared {
    pub router: Router,
    /// One permit per request in flight.
    pub slots: Arc<Semaphore>,
    pub max_concurrent_requests: usize,
    /// Shed requests, for the log.
    pub shed: Throttled,
}

/// One connection's service.
#[derive(Clone)]
pub struct ConnService {
    shared: Arc<Shared>,
    peer: SocketAddr,
    activity: Arc<Activity>,
}

impl ConnService {
    pub fn new(shared: Arc<Shared>, peer: SocketAddr, activity: Arc<Activity>) -> Self {
        ConnService {
            shared,
            peer,
            activity,
        }
    }
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let in_flight = InFlight::start(self.activity.clone());
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(ConnectInfo(self.peer));
        // The slot is taken now and given back once the router has answered: a WebSocket's
        // upgrade is answered at once, and the socket it keeps holds no slot.
        let slot = self.shared.slots.clone().try_acquire_owned();
        let shared = self.shared.clone();
        Box::pin(async move {
            let res = match slot {
                Ok(slot) => {
                    let res = match shared.router.clone().oneshot(req).await {
                        Ok(res) => res,
                        Err(never) => match never {},
                    };
                    drop(slot);
                    res
                }
                Err(_) => {
                    if let Some(count) = shared.shed.note(Instant::now()) {
                        tracing::warn!(
                            count,
                            max_concurrent_requests = shared.max_concurrent_requests,
                            "requests shed with 503: as many in flight as the server takes"
                        );
                    }
                    palaver_api::overloaded(req.uri().path(), RETRY_AFTER_SECONDS)
                }
            };
            Ok(res.map(|body| TrackedBody {
                body,
                _in_flight: in_flight,
            }))
        })
    }
}

/// A request of the connection, from its head until its answer is sent whole or abandoned.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: Arc<Activity>) -> Self {
        activity.request_started();
        InFlight(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_ended(Instant::now());
    }
}

/// An answer's body, keeping its request in flight until hyper has taken all of it.
pub struct TrackedBody {
    body: Body,
    _in_flight: InFlight,
}

impl HttpBody for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
