//! The Palaver server as a library: configuration, and [`App`], which builds every part over one
//! database and serves it. The binary (`main.rs`) and the test harness both start it from here.

pub mod app;
pub mod config;
pub mod functions;
pub mod listener;
pub mod logging;
pub mod telemetry;

pub use app::App;
pub use config::Config;
pub use listener::ServeLimits;
