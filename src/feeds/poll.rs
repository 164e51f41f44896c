//! One feed's loop: poll, publish what is new, wait the feed's interval
//! (±10 % jitter), again, until shutdown. A poll that fails (HTTP error,
//! timeout, redirect loop, too large, not a feed, NATS unreachable) is
//! logged and retried under the [retry policy](crate::retry) with growing
//! backoff (`feeds.retry_initial_ms` … `retry_max_ms`, never before a
//! `Retry-After`); the other feeds' loops are unaffected.
//!
//! A poll publishes each item not yet in the [`Seen`] bucket with
//! `Nats-Msg-Id` = its id, then records it; the feed's new `ETag` /
//! `Last-Modified` are stored only once every item is published, so a
//! crash mid-poll is followed by a full fetch, never by a 304 hiding
//! unpublished items. A crash between a publish and its record republishes
//! the item, and JetStream drops it as a duplicate.

use super::fetch::{Fetched, Fetcher};
use super::item;
use super::list::FeedSpec;
use super::seen::Seen;
use crate::nats::Broker;
use crate::retry::{Failure, RetryError, RetryPolicy, retry};
use crate::shutdown::{Stopping, sleep_unless_stopping};
use std::sync::Arc;
use std::time::Duration;

/// What every feed's loop shares.
pub struct Poller {
    pub fetcher: Fetcher,
    pub seen: Seen,
    pub broker: Broker,
    /// Where items are published.
    pub subject: String,
    /// `pipeline.max_event_bytes`: larger bodies are cut short.
    pub max_event_bytes: usize,
    /// Backoff for a failing feed (no attempt limit).
    pub policy: RetryPolicy,
    /// For feeds without an `interval`.
    pub default_interval: Duration,
}

/// What one poll did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Polled {
    /// The server answered 304.
    pub not_modified: bool,
    /// Items published now.
    pub published: usize,
    /// Items published before.
    pub seen: usize,
    /// Items that cannot be articles (logged).
    pub rejected: usize,
}

/// `interval` varied by up to ±10 %.
pub fn jittered(interval: Duration) -> Duration {
    interval.mul_f64(0.9 + fastrand::f64() * 0.2)
}

impl Poller {
    /// Poll `spec` every interval until `stopping` fires.
    pub async fn run(self: Arc<Self>, spec: FeedSpec, stopping: Stopping) {
        let interval = spec.interval.unwrap_or(self.default_interval);
        let what = format!("feed {}", spec.url);
        loop {
            let polled = retry(&self.policy, &stopping, &what, |_| self.poll(&spec)).await;
            match polled {
                Ok(p) => tracing::info!(
                    feed = %spec.url,
                    published = p.published,
                    seen = p.seen,
                    rejected = p.rejected,
                    not_modified = p.not_modified,
                    "feed polled"
                ),
                Err(RetryError::Stopped) => return,
                Err(e) => tracing::error!(feed = %spec.url, error = %e, "feed poll failed"),
            }
            if !sleep_unless_stopping(jittered(interval), &stopping).await {
                return;
            }
        }
    }

    /// Fetch `spec` once and publish its new items.
    ///
    /// # Errors
    /// Every failure, transient: the feed or NATS may recover.
    pub async fn poll(&self, spec: &FeedSpec) -> Result<Polled, Failure<String>> {
        let last = self.seen.validators(&spec.url).await;
        let fetched =
            self.fetcher
                .fetch(&spec.url, &last)
                .await
                .map_err(|e| Failure::Transient {
                    retry_after: e.retry_after(),
                    error: e.to_string(),
                })?;
        let (bytes, validators) = match fetched {
            Fetched::NotModified => {
                return Ok(Polled {
                    not_modified: true,
                    ..Polled::default()
                });
            }
            Fetched::Body { bytes, validators } => (bytes, validators),
        };
        let feed = item::parse(&bytes, &spec.url).map_err(Failure::transient)?;
        let mut polled = Polled::default();
        for event in item::events(&feed, spec, self.max_event_bytes) {
            let event = match event {
                Ok(e) => e,
                Err(reason) => {
                    tracing::warn!(feed = %spec.url, %reason, "feed item skipped");
                    polled.rejected += 1;
                    continue;
                }
            };
            if self
                .seen
                .contains(&event.id)
                .await
                .map_err(Failure::transient)?
            {
                polled.seen += 1;
                continue;
            }
            self.broker
                .publish(self.subject.clone(), &event.id, None, event.payload.into())
                .await
                .map_err(|e| Failure::transient(e.to_string()))?;
            self.seen
                .insert(&event.id)
                .await
                .map_err(Failure::transient)?;
            tracing::debug!(feed = %spec.url, article_id = %event.id, "feed item published");
            polled.published += 1;
        }
        if validators != last
            && let Err(e) = self.seen.set_validators(&spec.url, &validators).await
        {
            tracing::warn!(feed = %spec.url, error = %e, "could not store ETag / Last-Modified");
        }
        Ok(polled)
    }
}
