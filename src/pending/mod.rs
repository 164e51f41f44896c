//! Held alerts: between routing and the alerts stream, [`Holds::place`]
//! decides where each alert goes. Most go to the instant subject
//! (`<alerts_subject>.<channel>`); these are held instead, durably, in the
//! alerts stream under `<alerts_subject>.pending.<kind>.<subscriber hash>`:
//!
//! - `digest`: an email alert of a subscriber with a `digest` schedule;
//! - `quiet`: a Telegram alert inside the subscriber's `quiet_hours`;
//! - `overflow`: a Telegram alert beyond `max_telegram_per_hour` in the
//!   current clock hour (counted in the pending bucket, shared by all
//!   instances).
//!
//! Each held message is the full alert JSON with header
//! [`HELD_AT`] (the injected clock's time, Unix ms), which decides its
//! period. [`release`] turns the held alerts of each ended period into one
//! prepared message ([`crate::deliver::prepared`]) exactly once.

pub mod release;

use crate::alert::{self, Alert};
use crate::clock::SharedClock;
use crate::deliver::ledger::digest;
use crate::deliver::partition::subject_for;
use crate::retry::{Failure, RetryPolicy, retry};
use crate::rulebook::RuleBook;
use crate::schedule;
use crate::shutdown::Stopping;
use crate::subscriber::{Channel, DigestSchedule, Subscriber};
use async_nats::HeaderMap;
use async_nats::jetstream::kv;
use chrono::{DateTime, Utc};

/// Header on a held alert: when it was held (Unix ms, injected clock).
pub const HELD_AT: &str = "Newsalert-Held-At";

/// Why an alert is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Digest,
    Quiet,
    Overflow,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Digest, Kind::Quiet, Kind::Overflow];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Digest => "digest",
            Kind::Quiet => "quiet",
            Kind::Overflow => "overflow",
        }
    }
}

/// A subscriber id as one subject token: its SHA-256, shortened.
pub fn subscriber_token(id: &str) -> String {
    digest(id)[..24].to_string()
}

/// Where `kind` alerts of `subscriber` are held.
pub fn held_subject(prefix: &str, kind: Kind, subscriber: &str) -> String {
    format!(
        "{prefix}.pending.{}.{}",
        kind.as_str(),
        subscriber_token(subscriber)
    )
}

/// Whether an alert on `channel` for `sub` at `now` is held, ignoring the
/// per-hour cap (which needs the shared count).
pub fn hold_kind(sub: &Subscriber, channel: Channel, now: DateTime<Utc>) -> Option<Kind> {
    match channel {
        Channel::Email => (sub.digest != DigestSchedule::Off).then_some(Kind::Digest),
        Channel::Telegram => sub
            .quiet_hours
            .and_then(|q| schedule::quiet_window(q, sub.timezone, now))
            .map(|_| Kind::Quiet),
    }
}

/// Decides, per alert, between the instant subject and a held one.
pub struct Holds {
    pub alerts_subject: String,
    /// Telegram alerts sent at once go to their chat's partition
    /// ([`crate::deliver::partition`]).
    pub telegram_partitions: u32,
    /// The pending bucket: per-hour Telegram counts live here.
    pub counts: kv::Store,
    pub clock: SharedClock,
}

impl Holds {
    /// The subject and headers to publish `alert` with; `published` is
    /// when its article entered NATS.
    pub async fn place(
        &self,
        book: &RuleBook,
        alert: &Alert,
        published: Option<time::OffsetDateTime>,
        stopping: &Stopping,
    ) -> (String, Option<HeaderMap>) {
        let instant = || {
            (
                subject_for(&self.alerts_subject, alert, self.telegram_partitions),
                published.map(alert::published_header),
            )
        };
        let Some(sub) = book.subscribers.iter().find(|s| s.id == alert.subscriber) else {
            return instant();
        };
        let now = self.clock.now();
        let mut kind = hold_kind(sub, alert.channel, now);
        if let (None, Channel::Telegram, Some(cap)) =
            (kind, alert.channel, sub.max_telegram_per_hour)
        {
            match self.count(&sub.id, sub.timezone, now, stopping).await {
                Ok(n) if n > u64::from(cap) => kind = Some(Kind::Overflow),
                Ok(_) => {}
                // Sending at once beats losing or stalling the alert.
                Err(e) => {
                    tracing::warn!(subscriber = %sub.id, error = %e, "per-hour count failed; sending at once")
                }
            }
        }
        let Some(kind) = kind else { return instant() };
        let mut headers = published.map(alert::published_header).unwrap_or_default();
        headers.insert(HELD_AT, now.timestamp_millis().to_string().as_str());
        tracing::debug!(article_id = %alert.article_id, subscriber = %sub.id, kind = kind.as_str(), "alert held");
        (
            held_subject(&self.alerts_subject, kind, &sub.id),
            Some(headers),
        )
    }

    /// Count one more Telegram alert for `subscriber` in the local clock
    /// hour (in `tz`) of `now`; the new count. Compare-and-set, so instances never lose one.
    async fn count(
        &self,
        subscriber: &str,
        tz: chrono_tz::Tz,
        now: DateTime<Utc>,
        stopping: &Stopping,
    ) -> Result<u64, String> {
        let hour = schedule::hour_of(tz, now).start.timestamp();
        let key = format!("count.{}.{hour}", subscriber_token(subscriber));
        let policy = RetryPolicy {
            max_attempts: 10,
            initial: std::time::Duration::from_millis(5),
            max: std::time::Duration::from_millis(100),
            ..RetryPolicy::default()
        };
        let attempt = |_| {
            let key = key.clone();
            async move {
                let transient = |e: String| Failure::Transient {
                    error: e,
                    retry_after: None,
                };
                let entry = self
                    .counts
                    .entry(key.clone())
                    .await
                    .map_err(|e| transient(e.to_string()))?;
                match entry.filter(|e| !e.value.is_empty()) {
                    None => {
                        self.counts
                            .create(&key, "1".into())
                            .await
                            .map_err(|e| transient(e.to_string()))?;
                        Ok(1)
                    }
                    Some(e) => {
                        let n: u64 = String::from_utf8_lossy(&e.value).parse().unwrap_or(0) + 1;
                        self.counts
                            .update(&key, n.to_string().into(), e.revision)
                            .await
                            .map_err(|e| transient(e.to_string()))?;
                        Ok(n)
                    }
                }
            }
        };
        retry(&policy, stopping, "per-hour telegram count", attempt)
            .await
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subscriber::QuietHours;

    fn sub(digest: DigestSchedule, quiet: Option<&str>) -> Subscriber {
        Subscriber {
            id: "desk".into(),
            telegram_chat_id: Some(1),
            email: Some("desk@example.org".parse().unwrap()),
            digest,
            timezone: chrono_tz::Europe::Berlin,
            quiet_hours: quiet.map(|q| QuietHours::parse(q).unwrap()),
            max_telegram_per_hour: None,
        }
    }

    #[test]
    fn what_is_held() {
        let night = "2026-12-07T23:00:00Z".parse().unwrap(); // 00:00 in Berlin
        let day = "2026-12-07T11:00:00Z".parse().unwrap();
        let daily = DigestSchedule::Daily { hour: 8, minute: 0 };
        let table = [
            (sub(DigestSchedule::Off, None), Channel::Email, day, None),
            (sub(daily, None), Channel::Email, day, Some(Kind::Digest)),
            (sub(daily, None), Channel::Telegram, night, None),
            (
                sub(daily, Some("22:00-07:00")),
                Channel::Telegram,
                night,
                Some(Kind::Quiet),
            ),
            (
                sub(daily, Some("22:00-07:00")),
                Channel::Telegram,
                day,
                None,
            ),
            (
                sub(DigestSchedule::Off, Some("22:00-07:00")),
                Channel::Email,
                night,
                None,
            ),
        ];
        for (i, (s, channel, now, want)) in table.into_iter().enumerate() {
            assert_eq!(hold_kind(&s, channel, now), want, "case {i}");
        }
        assert_eq!(
            held_subject("newsalert.alerts", Kind::Digest, "desk"),
            format!("newsalert.alerts.pending.digest.{}", &digest("desk")[..24])
        );
    }
}
