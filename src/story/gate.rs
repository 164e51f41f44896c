//! Where stories meet alerts (stage 1, after routing): the article is
//! assigned to a story in the shared index ([`StoryStore`]), every alert
//! is tagged with it ([`StoryRef`]), and each Telegram alert of a later
//! copy — a subscriber already alerted for the story by an earlier copy —
//! is dropped (`story.later_copies = "suppress"`, counted as
//! `newsalert_alerts_suppressed_total{reason="same_story"}`) or kept to be
//! shown with "+N sources" (`annotate`). Email alerts are only tagged.
//!
//! The index is asked under a short retry policy; if it stays unreachable
//! the alerts go out untagged (a possible repeat beats a lost alert).

use super::Shingles;
use super::store::{StoreError, StoryStore};
use crate::alert::{Alert, StoryRef};
use crate::nats::{Broker, NatsError};
use crate::observe::Metrics;
use crate::retry::{Failure, RetryPolicy, retry};
use crate::settings::{LaterCopies, StorySettings};
use crate::shutdown::Stopping;
use crate::subscriber::Channel;
use std::sync::Arc;
use std::time::Duration;

/// Tags alerts with their story and drops Telegram repeats.
pub struct StoryGate {
    pub store: StoryStore,
    pub later_copies: LaterCopies,
    pub metrics: Arc<Metrics>,
}

/// The article facts the gate needs.
pub struct StoryInput<'a> {
    pub article_id: &'a str,
    /// What counts as one source ([`super::source_of`]).
    pub source: String,
    pub shingles: &'a Shingles,
    /// Arrival time, Unix milliseconds.
    pub now_ms: i64,
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        initial: Duration::from_millis(100),
        max: Duration::from_millis(500),
        ..RetryPolicy::default()
    }
}

impl StoryGate {
    /// The gate `[story]` asks for (`None`: `story.enabled = false`), on
    /// its bucket (created if missing, entries kept `window_secs`).
    ///
    /// # Errors
    /// The bucket could not be created.
    pub async fn from_settings(
        s: &StorySettings,
        broker: &Broker,
        metrics: &Arc<Metrics>,
    ) -> Result<Option<Arc<StoryGate>>, NatsError> {
        if !s.enabled {
            return Ok(None);
        }
        let kv = broker.bucket(&s.bucket, s.window()).await?;
        Ok(Some(Arc::new(StoryGate {
            store: StoryStore::new(kv, s.params()),
            later_copies: s.later_copies,
            metrics: metrics.clone(),
        })))
    }

    /// `alerts` of one article, tagged, with Telegram repeats dropped.
    pub async fn apply(
        &self,
        input: StoryInput<'_>,
        mut alerts: Vec<Alert>,
        stopping: &Stopping,
    ) -> Vec<Alert> {
        let assigned = retry(&policy(), stopping, "story index", |_| async {
            self.store
                .assign(
                    input.article_id,
                    &input.source,
                    input.shingles,
                    input.now_ms,
                )
                .await
                .map_err(|e: StoreError| Failure::transient(e.to_string()))
        })
        .await;
        let assignment = match assigned {
            Ok(Some(a)) => a,
            Ok(None) => return alerts,
            Err(e) => {
                tracing::warn!(article_id = %input.article_id, error = %e, "story index unavailable; alerting without stories");
                return alerts;
            }
        };
        tracing::debug!(article_id = %input.article_id, story = %assignment.story, first = assignment.first, sources = assignment.sources, "story");
        let tag = StoryRef {
            id: assignment.story.clone(),
            sources: assignment.sources,
        };
        let mut kept = Vec::with_capacity(alerts.len());
        for mut alert in alerts.drain(..) {
            alert.story = Some(tag.clone());
            if alert.channel == Channel::Telegram && !self.first_copy_for(&alert, stopping).await {
                if self.later_copies == LaterCopies::Suppress {
                    tracing::info!(article_id = %alert.article_id, subscriber = %alert.subscriber, channel = %alert.channel, story = %tag.id, "later copy of a story; not sent");
                    self.metrics.alert_suppressed(alert.channel, "same_story");
                    continue;
                }
            } else if alert.channel == Channel::Telegram {
                // The subscriber's first alert for this story: no "+N".
                alert.story = Some(StoryRef {
                    sources: 1,
                    ..tag.clone()
                });
            }
            kept.push(alert);
        }
        kept
    }

    /// Whether `alert` is its subscriber's first of its story (or that
    /// alert again); true when the index cannot tell.
    async fn first_copy_for(&self, alert: &Alert, stopping: &Stopping) -> bool {
        let Some(story) = &alert.story else {
            return true;
        };
        let claimed = retry(&policy(), stopping, "story claim", |_| async {
            self.store
                .first_for(&story.id, &alert.subscriber, &alert.article_id)
                .await
                .map_err(|e| Failure::transient(e.to_string()))
        })
        .await;
        claimed.unwrap_or_else(|e| {
            tracing::warn!(article_id = %alert.article_id, error = %e, "story claim failed; sending");
            true
        })
    }
}
