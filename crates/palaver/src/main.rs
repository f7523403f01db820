//! The `palaver` command: `serve` the APIs, or operate on the configured database
//! (`migrate`, `org create|list`, `account create`, `app ...`, `import ...`).

mod cli;
mod file_limit;
mod import;

/// mimalloc: markedly fewer cycles than the system allocator for the many small JSON values a
/// request allocates (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    if let Err(e) = palaver::logging::init_from_env() {
        eprintln!("error: {e}");
        return std::process::ExitCode::FAILURE;
    }
    // Before anything opens files or sockets, and before the server sizes its connection cap.
    file_limit::raise();
    match cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line, the whole cause chain.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
