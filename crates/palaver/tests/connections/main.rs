//! How the server takes connections: a header-read timeout for slow request heads, an idle
//! timeout for kept-alive connections (never for WebSockets or requests in flight), caps on open
//! connections and on requests in flight answered with 503, a drained shutdown, and a file
//! limit raised at start.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod app;
mod listener;
mod process;
mod raw;
