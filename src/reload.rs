//! Hot reload of the rules file: on SIGHUP, and when the file changes
//! (polled), the new file is parsed and compiled off the hot path, then
//! swapped in atomically. A broken file keeps the old rules running and
//! logs every error; in-flight events finish on the rules they started with.

use crate::regions::Gazetteer;
use crate::rulebook::RuleBook;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// The current rule book; readers clone the `Arc` and keep it for the
/// whole event.
pub type SharedRuleBook = Arc<watch::Sender<Arc<RuleBook>>>;

pub fn shared(book: RuleBook) -> SharedRuleBook {
    Arc::new(watch::Sender::new(Arc::new(book)))
}

/// How often the rules file's modification time is checked.
const POLL: Duration = Duration::from_secs(2);

fn modified(path: &Path) -> Option<(SystemTime, u64)> {
    std::fs::metadata(path)
        .ok()
        .and_then(|m| Some((m.modified().ok()?, m.len())))
}

/// Load and compile `path`, and swap it in if valid. Returns whether it
/// was swapped.
pub async fn reload(path: &Path, gazetteer: &Arc<Gazetteer>, shared: &SharedRuleBook) -> bool {
    let (p, g) = (path.to_path_buf(), gazetteer.clone());
    let loaded = tokio::task::spawn_blocking(move || RuleBook::load(&p, &g)).await;
    match loaded {
        Ok(Ok(book)) => {
            for w in &book.warnings {
                tracing::warn!("{w}");
            }
            tracing::info!(
                rules = book.rules.len(),
                subscribers = book.subscribers.len(),
                "rules reloaded"
            );
            shared.send_replace(Arc::new(book));
            true
        }
        Ok(Err(diagnostics)) => {
            for d in &diagnostics {
                tracing::error!("{d}");
            }
            tracing::error!(
                errors = diagnostics.len(),
                "rules file rejected; keeping the previous rules"
            );
            false
        }
        Err(e) => {
            tracing::error!(error = %e, "rules reload task failed; keeping the previous rules");
            false
        }
    }
}

/// Reload on SIGHUP, and on file changes when `poll` is true. Runs until
/// aborted.
pub async fn watch(path: PathBuf, poll: bool, gazetteer: Arc<Gazetteer>, shared: SharedRuleBook) {
    let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP");
            None
        }
    };
    let mut last = modified(&path);
    let mut tick = tokio::time::interval(POLL);
    loop {
        let by_signal = tokio::select! {
            Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => true,
            _ = tick.tick() => false,
        };
        let now = modified(&path);
        if by_signal || (poll && now != last) {
            last = now;
            reload(&path, &gazetteer, &shared).await;
        }
    }
}
