//! Logging for every command: `tracing` to stderr (stdout carries alerts
//! and `match` output), filter and format from `[log]`, `RUST_LOG`
//! overriding the filter. `log.format = "text"` (default) is one
//! human-readable line per event; `"json"` is one JSON object per line
//! with the event's fields at the top level next to `timestamp`, `level`
//! and `message`. The stable fields are `article_id`, `rule`, `subscriber`,
//! `channel` and `target` (where an alert goes: `telegram:<chat id>` or
//! `email:***@<domain>`, never a full address); in JSON `target` is that
//! field only, not tracing's module path.

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
        builder.json().flatten_event(true).with_target(false).init();
    } else {
        builder.init();
    }
}
