//! `newsalert feeds`: poll the feeds in `feeds.toml` and publish their new
//! items to the article stream until SIGTERM / Ctrl-C.

use super::{load_settings, signals::shutdown_signal};
use crate::feeds::Feeds;
use std::path::Path;
use std::process::ExitCode;

/// Run the feed bridge on config directory `dir` until a shutdown signal.
///
/// # Errors
/// Invalid settings, a missing or invalid feed list, or NATS unreachable
/// within its timeout.
pub async fn feeds(dir: &Path) -> Result<ExitCode, String> {
    let settings = load_settings(dir)?;
    let feeds = Feeds::build(&settings).await.map_err(|e| e.to_string())?;
    feeds.run_until_stopped(shutdown_signal()).await;
    Ok(ExitCode::SUCCESS)
}
