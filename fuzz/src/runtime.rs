//! One current-thread runtime per fuzzing process, to drive async extractors over bodies that
//! are already in memory.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};

/// Runs `future` to its end on the process's runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| match Builder::new_current_thread().build() {
            Ok(runtime) => runtime,
            Err(e) => panic!("no runtime for the fuzz target: {e}"),
        })
        .block_on(future)
}
