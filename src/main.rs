//! The `newsalert` binary: parse the command line and hand over to the
//! library (see `newsalert::cli`).

use clap::Parser;
use std::process::ExitCode;

newsalert::use_binary_allocator!();

#[tokio::main]
async fn main() -> ExitCode {
    let cli = newsalert::cli::Cli::parse();
    newsalert::cli::init_logging(&cli.config);
    newsalert::cli::run(cli).await
}
