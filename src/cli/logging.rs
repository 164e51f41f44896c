//! Logging for every command: `tracing` to stderr (stdout carries alerts
//! and `match` output), filter and format from `[log]`, `RUST_LOG`
//! overriding the filter.

use crate::settings::Settings;
use std::path::Path;

/// Set up logging to stderr from the settings in `dir` (defaults if they
/// do not load: the command itself then reports why).
pub fn init_logging(dir: &Path) {
    let (filter, json) = Settings::load(dir)
        .map(|s| (s.log.filter, s.log.format == "json"))
        .unwrap_or_else(|_| ("info".into(), false));
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
