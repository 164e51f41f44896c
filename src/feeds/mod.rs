//! `newsalert feeds`: a bridge from RSS 2.0, Atom and JSON Feed to the
//! article stream, run as a process of its own (same binary, same
//! settings). It polls the feeds listed in `feeds.toml` and publishes each
//! new item as an article event on `feeds.subject`, where `newsalert run`
//! picks it up like any producer's.
//!
//! ```text
//!  feeds.toml ─▶ poll (per feed: interval ± jitter, backoff on failure)
//!                 │ fetch: conditional GET, gzip, timeout, size limit, one request per host at a time
//!                 ▼
//!               parse (feed-rs) ─▶ items → article events (stable id) ─▶ ARTICLES (Nats-Msg-Id = id)
//!                                                    │ seen?                │
//!                                                    └── KV feeds.seen_bucket ◀┘ record
//! ```
//!
//! Files: [`list`] (the feed list, validated with `file:line:col`
//! diagnostics, also by `newsalert check`), [`item`] (pure: document →
//! events and their ids), [`fetch`] and [`hosts`] (HTTP and politeness),
//! [`seen`] (the key-value bucket), [`poll`] (one feed's loop). [`Feeds`]
//! wires them; the command and the tests use it.

pub mod fetch;
pub mod hosts;
pub mod item;
pub mod list;
pub mod poll;
pub mod seen;
#[cfg(test)]
mod tests;

pub use list::{FeedList, FeedSpec};

use crate::nats::{Broker, NatsError};
use crate::regions::Gazetteer;
use crate::retry::RetryPolicy;
use crate::rulebook::Diagnostic;
use crate::settings::{Settings, SettingsError};
use crate::shutdown::Stopping;
use poll::Poller;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Why `newsalert feeds` could not start.
#[derive(Debug, thiserror::Error)]
pub enum FeedsError {
    #[error("{}", crate::location::join_lines(.0))]
    Settings(Vec<SettingsError>),
    #[error("{}", crate::location::join_lines(.0))]
    List(Vec<Diagnostic>),
    #[error("{0} lists no [[feed]]; nothing to poll")]
    Empty(String),
    #[error(transparent)]
    Nats(#[from] NatsError),
    #[error("{0}")]
    Http(String),
}

/// The feed bridge, ready to run.
pub struct Feeds {
    poller: Poller,
    list: FeedList,
}

impl Feeds {
    /// Validate the settings and the feed list, connect to NATS (waiting
    /// for it, as `run` does) and open the seen-items bucket.
    ///
    /// # Errors
    /// See [`FeedsError`]; a missing `feeds.toml` is a [`FeedsError::List`]
    /// naming the path.
    pub async fn build(settings: &Settings) -> Result<Feeds, FeedsError> {
        let problems = settings.validate();
        if !problems.is_empty() {
            return Err(FeedsError::Settings(problems));
        }
        let path = settings.feeds_path();
        let list = FeedList::load(&path, &Gazetteer::builtin()).map_err(FeedsError::List)?;
        if list.feeds.is_empty() {
            return Err(FeedsError::Empty(path.display().to_string()));
        }
        for w in &list.warnings {
            tracing::warn!("{w}");
        }
        let f = &settings.feeds;
        let fetcher = fetch::Fetcher::new(f).map_err(FeedsError::Http)?;
        let broker = Broker::connect(&settings.nats, &crate::observe::Health::default()).await?;
        let retention = Duration::from_secs(f.seen_retention_days * 86_400);
        let bucket = broker.bucket(&f.seen_bucket, retention).await?;
        let initial = Duration::from_millis(f.retry_initial_ms.max(1));
        Ok(Feeds {
            poller: Poller {
                fetcher,
                seen: seen::Seen::new(bucket),
                broker,
                subject: f.subject.clone(),
                max_event_bytes: settings.pipeline.max_event_bytes,
                policy: RetryPolicy::forever(
                    initial,
                    Duration::from_millis(f.retry_max_ms).max(initial),
                ),
                default_interval: Duration::from_secs(f.default_interval_secs.max(1)),
            },
            list,
        })
    }

    /// The feeds to poll.
    pub fn list(&self) -> &FeedList {
        &self.list
    }

    /// Poll every feed until `shutdown` resolves; a poll in progress gets
    /// the retry policy's grace period to finish.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let stopping = Stopping::new();
        let poller = Arc::new(self.poller);
        tracing::info!(feeds = self.list.feeds.len(), "polling feeds");
        let tasks: Vec<_> = self
            .list
            .feeds
            .into_iter()
            .map(|spec| tokio::spawn(poller.clone().run(spec, stopping.clone())))
            .collect();
        shutdown.await;
        stopping.cancel();
        for task in tasks {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "feed task failed");
            }
        }
        tracing::info!("stopped");
    }
}
