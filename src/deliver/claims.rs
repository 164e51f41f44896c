//! Article claims: which alerts can skip the sent-log read.
//!
//! Before publishing an article's alerts, ingest claims the article: a
//! create-only key `article.<digest of its id>` in the sent log. Only the
//! first claim of an article succeeds, so the alerts published after it
//! are the first ever published with their keys: ingest marks them
//! [`FIRST_PUBLISH`](crate::consume::first::FIRST_PUBLISH), and their
//! first delivery sends without reading the sent log
//! ([`crate::consume::first`]). No alert is published before its article's
//! claim is settled (created, or already there).
//!
//! Two guards keep "first claim" meaning "first publish":
//! - **Claims are complete.** Releases before claims published alerts
//!   without one. The marker key `article-claims.since` records when claims
//!   began (0 if the sent log was empty then); a claim counts only once the
//!   sent log's retention has passed since, when no unclaimed alert can
//!   still be in it. The marker is written again every hour so that it
//!   outlives the retention while any instance runs.
//! - **Publish soon after the claim.** A second publish of an alert key
//!   within the alerts stream's duplicate window is dropped by JetStream;
//!   the mark is set only within half of that window (at most 30 s) after
//!   the claim, so a later copy of the alert can never be kept beside it.

use crate::retry::{Failure, RetryError, retry};
use crate::shutdown::{AbortOnDrop, Stopping};
use async_nats::jetstream::kv;
use std::time::{Duration, Instant};

use super::ledger::{digest, ledger_policy};

/// The marker: when claims began, in Unix milliseconds.
const MARKER: &str = "article-claims.since";
/// How often the marker is written again.
const REFRESH: Duration = Duration::from_secs(3600);

/// Claims of articles in the sent log.
pub struct ArticleClaims {
    sent: kv::Store,
    /// Claims count from this Unix millisecond on (`i64::MAX`: never).
    trusted_from_ms: i64,
    /// The mark is set only this soon after the claim.
    publish_within: Duration,
    _refresh: AbortOnDrop,
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// When claims count, given the marker and the sent log's retention
/// (zero: kept forever).
fn trusted_from(since_ms: i64, retention: Duration) -> i64 {
    match (since_ms, retention.is_zero()) {
        (0, _) => 0,
        (_, true) => i64::MAX,
        (since, false) => {
            since.saturating_add(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX))
        }
    }
}

/// Read the marker, or write it (0 when the sent log is empty).
async fn marker(sent: &kv::Store) -> Result<i64, String> {
    let parse = |v: &[u8]| {
        std::str::from_utf8(v)
            .ok()
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or_else(|| "unreadable claims marker".to_string())
    };
    if let Some(v) = sent.get(MARKER).await.map_err(|e| e.to_string())? {
        return parse(&v);
    }
    let empty = sent
        .stream
        .clone()
        .info()
        .await
        .map_err(|e| e.to_string())?
        .state
        .messages
        == 0;
    let since = if empty { 0 } else { now_ms() };
    match sent.create(MARKER, since.to_string().into()).await {
        Ok(_) => Ok(since),
        Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {
            let v = sent.get(MARKER).await.map_err(|e| e.to_string())?;
            parse(&v.unwrap_or_default())
        }
        Err(e) => Err(e.to_string()),
    }
}

impl ArticleClaims {
    /// Claims on the sent log `sent` (kept `retention`), for alerts
    /// published to a stream deduplicating within `duplicate_window`.
    /// Must be called inside a tokio runtime (it keeps the marker alive).
    pub async fn start(sent: kv::Store, retention: Duration, duplicate_window: Duration) -> Self {
        let since = marker(&sent).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "article claims unavailable; every alert takes the sent-log read");
            i64::MAX
        });
        let trusted_from_ms = match since {
            i64::MAX => i64::MAX,
            since => trusted_from(since, retention),
        };
        let store = sent.clone();
        let refresh = tokio::spawn(async move {
            loop {
                tokio::time::sleep(REFRESH).await;
                if since != i64::MAX
                    && let Err(e) = store.put(MARKER, since.to_string().into()).await
                {
                    tracing::debug!(error = %e, "could not refresh the claims marker");
                }
            }
        });
        ArticleClaims {
            sent,
            trusted_from_ms,
            publish_within: (duplicate_window / 2).min(Duration::from_secs(30)),
            _refresh: AbortOnDrop(refresh),
        }
    }

    /// Claim `article_id`: `Some(when)` if this is its first claim and
    /// claims count, `None` if not. Retried for a while on failure.
    ///
    /// # Errors
    /// The claim could not be settled: publish none of the article's
    /// alerts now (a later claim could succeed after they were sent).
    pub async fn claim(
        &self,
        article_id: &str,
        stopping: &Stopping,
    ) -> Result<Option<Instant>, String> {
        let key = format!("article.{}", digest(article_id));
        let at = Instant::now();
        let created = retry(&ledger_policy(), stopping, "article claim", |_| async {
            match self.sent.create(&key, article_id.to_string().into()).await {
                Ok(_) => Ok(true),
                Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(Failure::transient(e)),
            }
        })
        .await;
        match created {
            Ok(created) => Ok((created && now_ms() >= self.trusted_from_ms).then_some(at)),
            Err(RetryError::Stopped) => Err("stopping".into()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Whether alerts of an article claimed at `claimed` may still be
    /// marked as first publishes.
    pub fn still_first(&self, claimed: Instant) -> bool {
        claimed.elapsed() < self.publish_within
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_count_once_the_retention_has_passed_since_they_began() {
        let day = Duration::from_secs(86_400);
        assert_eq!(trusted_from(0, day), 0);
        assert_eq!(trusted_from(0, Duration::ZERO), 0);
        assert_eq!(trusted_from(1_000, day), 1_000 + 86_400_000);
        assert_eq!(trusted_from(1_000, Duration::ZERO), i64::MAX);
        assert_eq!(trusted_from(i64::MAX - 1, day), i64::MAX);
    }
}
