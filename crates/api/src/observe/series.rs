//! The HTTP request series' handles, made once per face, route, method and status and reused:
//! building a metric's key (its four labels, the route copied) and finding it in the recorder's
//! registry cost more than the request's own bookkeeping, on every request.
//!
//! Handles are taken only after [`install`]: the recorder is process-global and installed once,
//! and a handle taken from no recorder records nothing, forever. Before it, requests are not
//! recorded (there is nothing to record into).

use std::collections::HashMap;
use std::sync::{OnceLock, PoisonError, RwLock};

use metrics::{Counter, Histogram};

use super::{DURATION, REQUESTS};

/// The handles of one face, method and status of a route.
struct Series {
    face: &'static str,
    method: &'static str,
    status: u16,
    requests: Counter,
    duration: Histogram,
}

/// Route template → its series (a few: methods × statuses seen).
type ByRoute = HashMap<Box<str>, Vec<Series>, foldhash::fast::RandomState>;

static SERIES: OnceLock<RwLock<ByRoute>> = OnceLock::new();

/// Starts recording requests, into the recorder installed now.
pub fn install() {
    SERIES.get_or_init(|| RwLock::new(ByRoute::default()));
}

/// Counts one answered request and records how long it took.
pub(super) fn record(
    face: &'static str,
    method: &'static str,
    route: &str,
    status: u16,
    secs: f64,
) {
    let Some(series) = SERIES.get() else {
        return;
    };
    let found = |s: &&Series| s.face == face && s.method == method && s.status == status;
    {
        let by_route = series.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = by_route.get(route).and_then(|v| v.iter().find(found)) {
            s.requests.increment(1);
            s.duration.record(secs);
            return;
        }
    }
    let mut by_route = series.write().unwrap_or_else(PoisonError::into_inner);
    let list = by_route.entry(route.into()).or_default();
    let at = list.iter().position(|s| found(&s)).unwrap_or_else(|| {
        list.push(Series {
            face,
            method,
            status,
            requests: metrics::counter!(REQUESTS, "face" => face, "method" => method,
                "route" => route.to_string(), "status" => status.to_string()),
            duration: metrics::histogram!(DURATION, "face" => face, "method" => method,
                "route" => route.to_string(), "status_class" => status_class(status)),
        });
        list.len() - 1
    });
    let s = &list[at];
    s.requests.increment(1);
    s.duration.record(secs);
}

pub(super) fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}
