//! The `palaver` command: `serve` the APIs, or operate on the configured database
//! (`migrate`, `org create|list`, `account create`, `app ...`, `import ...`).

mod cli;
mod import;

/// mimalloc: markedly fewer cycles than the system allocator for the many small JSON values a
/// request allocates (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PALAVER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line, the whole cause chain.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
