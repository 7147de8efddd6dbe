use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

// glibc's malloc was about a quarter of the server's CPU under API load (perf, see
// BENCHMARKS.md): JSON documents and query rows are many small, short-lived allocations.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("GATEHOUSE_LOG")
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    gatehouse::cli::run(gatehouse::cli::Cli::parse()).await
}
