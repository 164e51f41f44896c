//! Hot reload of the rules file: on SIGHUP, and when the file changes
//! (polled), the new file is parsed and compiled off the hot path, then
//! swapped in atomically. A broken file keeps the old rules running and
//! logs every error; in-flight events finish on the rules they started with.

use crate::observe::Metrics;
use crate::regions::Gazetteer;
use crate::rulebook::{RuleBook, RuleCache};
use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The current rule book; readers clone the `Arc` and keep it for the
/// whole event.
pub type SharedRuleBook = Arc<watch::Sender<Arc<RuleBook>>>;

pub fn shared(book: RuleBook) -> SharedRuleBook {
    Arc::new(watch::Sender::new(Arc::new(book)))
}

/// What the rules file looked like: a hash of its content (`None` if it
/// cannot be read). Content, not modification time, so that an edit
/// within the file system's timestamp granularity is still seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp(Option<u64>);

impl FileStamp {
    /// Stamp the file at `path` now.
    pub fn of(path: &Path) -> FileStamp {
        FileStamp(std::fs::read(path).ok().map(|bytes| {
            let mut h = DefaultHasher::new();
            bytes.hash(&mut h);
            h.finish()
        }))
    }
}

/// Load and compile `path`, and swap it in if valid. Returns whether it
/// was swapped.
pub async fn reload(
    path: &Path,
    gazetteer: &Arc<Gazetteer>,
    shared: &SharedRuleBook,
    cache: Option<&RuleCache>,
) -> bool {
    let (p, g, c) = (path.to_path_buf(), gazetteer.clone(), cache.cloned());
    let loaded =
        tokio::task::spawn_blocking(move || RuleBook::load_cached(&p, &g, c.as_ref())).await;
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

/// What [`watch`] reloads, and when.
pub struct WatchOptions {
    pub path: PathBuf,
    /// Check the file for changes this often; `None`: only on SIGHUP.
    pub poll: Option<Duration>,
    /// The file as it was when the current rules were loaded; a change
    /// made since is picked up at the first check.
    pub loaded: FileStamp,
    /// Where reloads and their outcome are counted.
    pub metrics: Arc<Metrics>,
    /// Where compiled rule books are cached, if anywhere.
    pub cache: Option<RuleCache>,
}

/// Reload on SIGHUP, and on file changes when polling. The SIGHUP handler
/// is installed before this returns (so a SIGHUP sent once the caller
/// has started never kills the process); the future runs until dropped
/// or aborted. Must be called inside a tokio runtime.
pub fn watch(
    options: WatchOptions,
    gazetteer: Arc<Gazetteer>,
    shared: SharedRuleBook,
) -> impl Future<Output = ()> + Send + 'static {
    let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP");
            None
        }
    };
    let WatchOptions {
        path,
        poll,
        loaded: mut last,
        metrics,
        cache,
    } = options;
    async move {
        let mut tick = poll.map(tokio::time::interval);
        loop {
            let by_signal = tokio::select! {
                Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => true,
                _ = async { match tick.as_mut() { Some(t) => t.tick().await, None => std::future::pending().await } } => false,
            };
            let now = FileStamp::of(&path);
            if by_signal || now != last {
                if by_signal {
                    tracing::info!(path = %path.display(), "SIGHUP: reloading the rules");
                }
                last = now;
                let swapped = reload(&path, &gazetteer, &shared, cache.as_ref()).await;
                metrics.rules_reloaded(swapped.then(|| shared.borrow().rules.len()));
            }
        }
    }
}

/// Time: the watcher's tests run on a paused clock (`start_paused`): its
/// poll interval and the tests' deadlines are virtual, auto-advanced when
/// every task waits, and never while the blocking rules load runs. The
/// file system is real but needs no waiting: a write is done when it
/// returns. The swap tests involve no time at all.
#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "[[subscriber]]\nid = \"s\"\ntelegram_chat_id = 1\n\n[[rule]]\nid = \"old\"\nquery = 'baku'\nnotify = [\"s\"]\n";

    fn rule_ids(book: &RuleBook) -> Vec<&str> {
        book.rules.iter().map(|r| r.id.as_str()).collect()
    }

    #[tokio::test]
    async fn valid_file_is_swapped_in_and_readers_keep_their_book() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rules.toml");
        std::fs::write(&path, OLD).unwrap();
        let gazetteer = Arc::new(Gazetteer::builtin());
        let shared = shared(RuleBook::load(&path, &gazetteer).unwrap());
        let in_flight = shared.borrow().clone();

        std::fs::write(&path, OLD.replace("\"old\"", "\"new\"")).unwrap();
        assert!(reload(&path, &gazetteer, &shared, None).await);
        assert_eq!(rule_ids(&shared.borrow()), ["new"]);
        // An event that started before the swap still sees the old rules.
        assert_eq!(rule_ids(&in_flight), ["old"]);
    }

    #[tokio::test]
    async fn broken_or_missing_file_keeps_the_old_rules() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rules.toml");
        std::fs::write(&path, OLD).unwrap();
        let gazetteer = Arc::new(Gazetteer::builtin());
        let shared = shared(RuleBook::load(&path, &gazetteer).unwrap());
        let mut seen = shared.subscribe();
        seen.mark_unchanged();

        std::fs::write(&path, OLD.replace("'baku'", "'(baku'")).unwrap();
        assert!(!reload(&path, &gazetteer, &shared, None).await);
        std::fs::remove_file(&path).unwrap();
        assert!(!reload(&path, &gazetteer, &shared, None).await);
        assert!(!seen.has_changed().unwrap());
        assert_eq!(rule_ids(&shared.borrow()), ["old"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_change_made_before_the_watcher_starts_is_picked_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rules.toml");
        std::fs::write(&path, OLD).unwrap();
        let gazetteer = Arc::new(Gazetteer::builtin());
        let loaded = FileStamp::of(&path);
        let shared = shared(RuleBook::load(&path, &gazetteer).unwrap());
        // Same length, same second: only the content tells them apart.
        std::fs::write(&path, OLD.replace("\"old\"", "\"new\"")).unwrap();
        let mut changed = shared.subscribe();
        let options = WatchOptions {
            path: path.clone(),
            poll: Some(Duration::from_millis(10)),
            loaded,
            metrics: Arc::default(),
            cache: None,
        };
        let started = tokio::time::Instant::now();
        let task = tokio::spawn(watch(options, gazetteer, shared.clone()));
        tokio::time::timeout(Duration::from_secs(10), changed.changed())
            .await
            .expect("reloaded within 10 s")
            .unwrap();
        // At the first check: an interval's first tick is immediate.
        assert_eq!(started.elapsed(), Duration::ZERO);
        task.abort();
        assert_eq!(rule_ids(&shared.borrow()), ["new"]);
    }

    #[tokio::test(start_paused = true)]
    async fn polling_reloads_a_changed_file_once_and_an_unchanged_one_never() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rules.toml");
        std::fs::write(&path, OLD).unwrap();
        let gazetteer = Arc::new(Gazetteer::builtin());
        let shared = shared(RuleBook::load(&path, &gazetteer).unwrap());
        let mut changed = shared.subscribe();
        changed.mark_unchanged();
        let metrics = Arc::new(Metrics::new());
        let options = WatchOptions {
            path: path.clone(),
            poll: Some(Duration::from_secs(2)),
            loaded: FileStamp::of(&path),
            metrics: metrics.clone(),
            cache: None,
        };
        let task = tokio::spawn(watch(options, gazetteer, shared.clone()));

        // A minute of polls (30) of an unchanged file: no reload.
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(!changed.has_changed().unwrap());

        // An edit is picked up at the next poll, within one interval.
        std::fs::write(&path, OLD.replace("\"old\"", "\"new\"")).unwrap();
        let edited = tokio::time::Instant::now();
        changed.changed().await.unwrap();
        assert!(
            edited.elapsed() <= Duration::from_secs(2),
            "{:?}",
            edited.elapsed()
        );
        assert_eq!(rule_ids(&shared.borrow()), ["new"]);

        // ... and only once: a minute more of polls swaps nothing.
        changed.mark_unchanged();
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(!changed.has_changed().unwrap());
        task.abort();
        // One reload, counted.
        let text = metrics.encode();
        assert!(
            text.contains("newsalert_rule_reloads_total{outcome=\"ok\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("newsalert_rule_reloads_total{outcome=\"rejected\"} 0\n"),
            "{text}"
        );
    }
}
