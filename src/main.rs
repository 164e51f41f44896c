//! The `newsalert` binary: parse the command line and hand over to the
//! library (see `newsalert::cli`).

use clap::Parser;

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[allow(non_upper_case_globals)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static malloc_conf: &[u8] = newsalert::MALLOC_CONF;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = newsalert::cli::Cli::parse();
    newsalert::cli::init_logging(&cli.config);
    newsalert::cli::run(cli).await
}
