//! Every HTTP request's tracing span (request id, method, route template), the `X-Request-Id`
//! it answers with, and its Prometheus series: a count and a latency histogram by face, method,
//! route template and status.
//!
//! One layer rather than tower-http's `request-id` and `trace` layers: those keep any
//! incoming id as it comes (no bound on its length or characters), and the trace layer's
//! failure hook would log every 5xx a second time, after the line that logged its cause.

mod series;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, OriginalUri, Request};
use axum::http::Response;
use axum::http::{HeaderName, HeaderValue, Method};
use tracing::Instrument;

pub use series::install;

/// The header a request id comes in and goes out in.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request id taken from a caller; a longer one is replaced by one of ours.
const MAX_ID_LEN: usize = 128;

/// The target of every request's span (named `request`; its fields `request_id`, `method` and
/// `route`, all strings).
pub const SPAN_TARGET: &str = "palaver_api::observe";

/// The route label of every request no route matched: raw paths would make a series per path.
pub const UNMATCHED: &str = "unmatched";

/// The series of HTTP requests.
pub const REQUESTS: &str = "palaver_http_requests_total";
pub const DURATION: &str = "palaver_http_request_duration_seconds";

/// The layer that runs every request inside its span, records it, and answers with its request
/// id. A tower layer rather than `axum::middleware::from_fn`, which boxes the routes' future and
/// clones the routes' service on every request: here the routes' own future is wrapped as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestLayer;

impl<S> tower::Layer<S> for RequestLayer {
    type Service = RequestService<S>;

    fn layer(&self, inner: S) -> RequestService<S> {
        RequestService { inner }
    }
}

/// The service of [`RequestLayer`] around the routes.
#[derive(Debug, Clone)]
pub struct RequestService<S> {
    inner: S,
}

impl<S, B> tower::Service<Request> for RequestService<S>
where
    S: tower::Service<Request, Response = Response<B>>,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = Observed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let started = Instant::now();
        let id = request_id(req.headers().get(&REQUEST_ID));
        let route = route_of(&req);
        let method = method_label(req.method());
        let face = face_of(
            req.extensions()
                .get::<OriginalUri>()
                .map_or(req.uri().path(), |o| o.0.path()),
        );
        // At ERROR level so that its fields are on every line the filter lets through, however
        // quiet it is set: an error line always carries its request id.
        // Its fields are strings, which the server's log subscriber writes without the
        // formatting machinery (`palaver::logging`).
        let span = tracing::error_span!(
            target: SPAN_TARGET,
            "request",
            request_id = id.to_str().unwrap_or_default(),
            method,
            route = route.as_ref().map_or(UNMATCHED, MatchedPath::as_str)
        );
        Observed {
            inner: self.inner.call(req).instrument(span),
            started,
            id: Some(id),
            face,
            method,
            route,
        }
    }
}

pin_project_lite::pin_project! {
    /// A request's answer on its way: recorded, and given its request id, when it is ready.
    pub struct Observed<F> {
        #[pin]
        inner: tracing::instrument::Instrumented<F>,
        started: Instant,
        id: Option<HeaderValue>,
        face: &'static str,
        method: &'static str,
        route: Option<MatchedPath>,
    }
}

impl<F, B, E> Future for Observed<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut res = match this.inner.poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Ready(Ok(res)) => res,
        };
        let route = this.route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
        let status = res.status().as_u16();
        series::record(
            this.face,
            this.method,
            route,
            status,
            this.started.elapsed().as_secs_f64(),
        );
        if let Some(id) = this.id.take() {
            res.headers_mut().insert(REQUEST_ID, id);
        }
        Poll::Ready(Ok(res))
    }
}

/// The caller's request id when it is sane (1 to [`MAX_ID_LEN`] visible ASCII characters),
/// else a new one: 32 hex digits. Made as the header value it goes back in: a caller's is the
/// same bytes shared, a new one is written once.
pub fn request_id(given: Option<&HeaderValue>) -> HeaderValue {
    if let Some(v) = given {
        let b = v.as_bytes();
        if !b.is_empty() && b.len() <= MAX_ID_LEN && b.iter().all(u8::is_ascii_graphic) {
            return v.clone();
        }
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let n = rand::random::<u128>();
    let mut digits = [0u8; 32];
    for (i, d) in digits.iter_mut().enumerate() {
        *d = HEX[((n >> ((31 - i) * 4)) & 0xf) as usize];
    }
    // Hex digits are always a valid header value: the fallback is never taken.
    HeaderValue::from_bytes(&digits).unwrap_or_else(|_| HeaderValue::from_static("0"))
}

/// The route template that matched (`/v1/users/{id}`), never the raw path; `None` for no route.
/// A nested router's fallback matches as a private catch-all: that is no route either.
fn route_of(req: &Request) -> Option<MatchedPath> {
    req.extensions()
        .get::<MatchedPath>()
        .filter(|p| !p.as_str().contains("__private__"))
        .cloned()
}

/// The standard methods by name; any other (a client may send anything) as one label.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Which face a path belongs to: the content API under `/api`, the server's own pages
/// (health, metrics, docs, avatars, the real-time gateway), else the platform API.
pub fn face_of(path: &str) -> &'static str {
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if under("/api") {
        "content"
    } else if ["/health", "/metrics", "/docs", "/avatars", "/rtm"]
        .into_iter()
        .any(under)
    {
        "other"
    } else {
        "platform"
    }
}

#[cfg(test)]
mod tests {
    use super::series::status_class;
    use super::*;

    #[test]
    fn a_sane_request_id_is_kept_and_any_other_replaced() {
        let keep = HeaderValue::from_static("abc-123_XYZ.~");
        assert_eq!(request_id(Some(&keep)), "abc-123_XYZ.~");
        assert_eq!(request_id(Some(&keep)).as_bytes(), keep.as_bytes());
        let long = HeaderValue::from_str(&"a".repeat(MAX_ID_LEN + 1)).unwrap();
        let spaced = HeaderValue::from_static("has space");
        let empty = HeaderValue::from_static("");
        let binary = HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap();
        for bad in [
            None,
            Some(&long),
            Some(&spaced),
            Some(&empty),
            Some(&binary),
        ] {
            let id = request_id(bad);
            let id = id.to_str().unwrap();
            assert_eq!(id.len(), 32, "{id}");
            assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        }
        assert_ne!(request_id(None), request_id(None));
        let longest = HeaderValue::from_str(&"b".repeat(MAX_ID_LEN)).unwrap();
        assert_eq!(request_id(Some(&longest)).len(), MAX_ID_LEN);
    }

    #[test]
    fn paths_fall_into_their_face() {
        assert_eq!(face_of("/api/users/login"), "content");
        assert_eq!(face_of("/api"), "content");
        assert_eq!(face_of("/apis"), "platform");
        assert_eq!(face_of("/v1/users"), "platform");
        assert_eq!(face_of("/oauth/token"), "platform");
        assert_eq!(face_of("/metrics"), "other");
        assert_eq!(face_of("/health"), "other");
        assert_eq!(face_of("/rtm/websocket"), "other");
        assert_eq!(face_of("/healthz"), "platform");
    }

    #[test]
    fn odd_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        let odd = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&odd), "OTHER");
        assert_eq!(status_class(204), "2xx");
        assert_eq!(status_class(503), "5xx");
    }
}
