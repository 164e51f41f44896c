//! `newsalert run`: build the service from the settings and run it until
//! SIGTERM / Ctrl-C.

use super::{load_settings, signals::shutdown_signal};
use crate::app::App;
use std::path::Path;
use std::process::ExitCode;

/// Run the service on config directory `dir` until a shutdown signal.
///
/// # Errors
/// Invalid settings or rules, or NATS unreachable within its timeout.
pub async fn run(dir: &Path) -> Result<ExitCode, String> {
    let settings = load_settings(dir)?;
    let app = App::build(settings).await.map_err(|e| e.to_string())?;
    app.run_until_stopped(shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}
