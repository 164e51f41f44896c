//! The release task: every `digest.release_poll_ms`, on the injected
//! clock, turn the held alerts of each ended period into ONE prepared
//! message, exactly once across restarts and instances:
//!
//! 1. list the held subjects (`<alerts_subject>.pending.>`) and read each
//!    one's first message: its [`HELD_AT`] gives its period (the digest
//!    period, the quiet-hours window, the clock hour); nothing happens
//!    until that period has ended;
//! 2. **claim** it with a create-only put of `claim.<kind>.<subscriber>.<period
//!    start>` in the pending bucket, recording the cutoff: everything held
//!    before the start of the *current* period, so after downtime one
//!    catch-up message covers every missed period. Only the winner goes
//!    on; a claim left by an instance that died is taken over after
//!    `digest.claim_stale_secs` (compare-and-set, same cutoff);
//! 3. read the held alerts up to the cutoff, render them, publish the
//!    prepared message to `<alerts_subject>.prepared.email` (Telegram:
//!    the chat's partition, [`crate::deliver::prepared`]) with
//!    `Nats-Msg-Id` = claim key + last sequence included (a re-publish
//!    after a crash is dropped by JetStream, and the sent log keyed the
//!    same way stops a second send), then purge the subject up to that
//!    sequence and mark the claim done.
//!
//! An empty period has no held subject, so it sends nothing.

use super::{HELD_AT, Kind, subscriber_token};
use crate::alert::{Alert, Target};
use crate::clock::SharedClock;
use crate::deliver::prepared::{self, Prepared};
use crate::digest::render::DigestRenderer;
use crate::nats::Broker;
use crate::quiet::summary;
use crate::reload::SharedRuleBook;
use crate::schedule::{self, Period};
use crate::shutdown::Stopping;
use crate::subscriber::{Channel, DigestSchedule, Subscriber};
use async_nats::jetstream::{kv, stream};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// What a claim records.
#[derive(Debug, Serialize, Deserialize)]
struct Claim {
    /// Alerts held before this (Unix ms) belong to the claimed message.
    cutoff_ms: i64,
    /// When it was claimed or taken over (Unix ms, injected clock).
    at_ms: i64,
    /// The message is published and its alerts purged.
    done: bool,
}

/// Releases held alerts.
pub struct Release {
    pub broker: Broker,
    pub stream: String,
    pub alerts_subject: String,
    /// `telegram.partitions`: where a Telegram prepared message goes.
    pub partitions: u32,
    pub rules: SharedRuleBook,
    /// The pending bucket.
    pub claims: kv::Store,
    pub clock: SharedClock,
    pub poll: Duration,
    pub stale: Duration,
    pub digests: Arc<DigestRenderer>,
    pub summary_max_items: usize,
    /// Held subjects of unknown subscribers already warned about.
    pub orphans: std::sync::Mutex<std::collections::HashSet<String>>,
}

type Failed = String;

fn err(what: &str, e: impl std::fmt::Display) -> Failed {
    format!("{what}: {e}")
}

impl Release {
    /// Release until `stopping`.
    pub async fn run(self, stopping: Stopping) {
        loop {
            if let Err(e) = self.tick().await {
                tracing::warn!(error = %e, "releasing held alerts failed; will try again");
            }
            tokio::select! {
                () = stopping.cancelled() => return,
                () = tokio::time::sleep(self.poll) => {}
            }
        }
    }

    /// One pass over every held subject.
    ///
    /// # Errors
    /// The stream could not be listed; a failing subject is logged and
    /// the others go on.
    pub async fn tick(&self) -> Result<(), Failed> {
        let book = self.rules.borrow().clone();
        let by_token: HashMap<String, &Subscriber> = book
            .subscribers
            .iter()
            .map(|s| (subscriber_token(&s.id), s))
            .collect();
        let stream =
            (self.broker.js.get_stream(&self.stream).await).map_err(|e| err("alerts stream", e))?;
        let prefix = format!("{}.pending.", self.alerts_subject);
        let subjects: Vec<(String, usize)> = stream
            .info_with_subjects(format!("{prefix}>"))
            .await
            .map_err(|e| err("held subjects", e))?
            .try_collect()
            .await
            .map_err(|e| err("held subjects", e))?;
        for (subject, _) in subjects {
            let Some((kind, token)) = subject
                .strip_prefix(&prefix)
                .and_then(|r| r.split_once('.'))
            else {
                continue;
            };
            let Some(kind) = Kind::ALL.into_iter().find(|k| k.as_str() == kind) else {
                continue;
            };
            let Some(sub) = by_token.get(token) else {
                let mut orphans = self.orphans.lock().unwrap_or_else(|p| p.into_inner());
                if orphans.insert(subject.clone()) {
                    tracing::warn!(%subject, "held alerts of a subscriber no longer in the rules; kept until the subscriber is back");
                }
                continue;
            };
            if let Err(e) = self.release(&stream, &subject, kind, sub).await {
                tracing::warn!(subscriber = %sub.id, kind = kind.as_str(), error = %e, "release failed; will try again");
            }
        }
        Ok(())
    }

    /// The period a message held at `at` belongs to, and the cutoff at
    /// `now` (`None`: not ended yet).
    fn due(
        kind: Kind,
        sub: &Subscriber,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<(Period, DateTime<Utc>)> {
        let tz = sub.timezone;
        let at_once = Period { start: at, end: at };
        let (period, current) = match kind {
            Kind::Digest => match sub.digest {
                DigestSchedule::Off => (at_once, None),
                s => (
                    schedule::period_of(s, tz, at)?,
                    schedule::period_of(s, tz, now),
                ),
            },
            Kind::Quiet => {
                let window = |t| {
                    sub.quiet_hours
                        .and_then(|q| schedule::quiet_window(q, tz, t))
                };
                (window(at).unwrap_or(at_once), window(now))
            }
            Kind::Overflow => (schedule::hour_of(tz, at), Some(schedule::hour_of(tz, now))),
        };
        if now < period.end {
            return None;
        }
        let cutoff = current.map_or(now, |p| p.start.max(period.end));
        Some((period, cutoff))
    }

    async fn release(
        &self,
        stream: &stream::Stream,
        subject: &str,
        kind: Kind,
        sub: &Subscriber,
    ) -> Result<(), Failed> {
        let first = match stream.get_first_raw_message_by_subject(subject, 1).await {
            Ok(m) => m,
            Err(e) if e.kind() == stream::RawMessageErrorKind::NoMessageFound => return Ok(()),
            Err(e) => return Err(err("first held alert", e)),
        };
        let now = self.clock.now();
        let Some((period, cutoff)) = Self::due(kind, sub, held_at(&first), now) else {
            return Ok(());
        };
        let key = format!(
            "claim.{}.{}.{}",
            kind.as_str(),
            subscriber_token(&sub.id),
            period.start.timestamp_millis()
        );
        let Some(cutoff) = self.claim(&key, cutoff, now).await? else {
            return Ok(());
        };
        // The held alerts up to the cutoff, oldest first.
        let mut items: Vec<Alert> = Vec::new();
        let mut last_seq = 0;
        let mut seq = first.sequence;
        loop {
            let msg = match stream.get_first_raw_message_by_subject(subject, seq).await {
                Ok(m) => m,
                Err(e) if e.kind() == stream::RawMessageErrorKind::NoMessageFound => break,
                Err(e) => return Err(err("held alert", e)),
            };
            if held_at(&msg).timestamp_millis() >= cutoff {
                break;
            }
            match serde_json::from_slice::<Alert>(&msg.payload) {
                Ok(a) => items.push(a),
                Err(e) => {
                    tracing::error!(subscriber = %sub.id, seq = msg.sequence, error = %e, "undecodable held alert; left out")
                }
            }
            last_seq = msg.sequence;
            seq = msg.sequence + 1;
        }
        if !items.is_empty() {
            let id = format!("{key}.{last_seq}");
            let prepared = self.prepare(kind, sub, &items, period, &id)?;
            let payload = serde_json::to_vec(&prepared).map_err(|e| err("prepared message", e))?;
            let to = prepared::subject_for(&self.alerts_subject, &prepared, self.partitions);
            let headers = Some(prepared::headers());
            (self.broker.publish(to, &id, headers, payload.into()).await)
                .map_err(|e| err("publish prepared message", e))?;
            tracing::info!(subscriber = %sub.id, kind = kind.as_str(), items = items.len(), key = %id, "held alerts released");
        }
        if last_seq > 0 {
            (stream.purge().filter(subject).sequence(last_seq + 1).await)
                .map_err(|e| err("purge released alerts", e))?;
        }
        let done = Claim {
            cutoff_ms: cutoff,
            at_ms: now.timestamp_millis(),
            done: true,
        };
        let done = serde_json::to_vec(&done).unwrap_or_default();
        (self.claims.put(&key, done.into()).await).map_err(|e| err("claim bucket", e))?;
        Ok(())
    }

    /// Claim `key` with `cutoff`: the cutoff to use if this instance won,
    /// `None` if another holds it.
    async fn claim(
        &self,
        key: &str,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, Failed> {
        let mine = |cutoff_ms| {
            let c = Claim {
                cutoff_ms,
                at_ms: now.timestamp_millis(),
                done: false,
            };
            bytes::Bytes::from(serde_json::to_vec(&c).unwrap_or_default())
        };
        match self
            .claims
            .create(key, mine(cutoff.timestamp_millis()))
            .await
        {
            Ok(_) => return Ok(Some(cutoff.timestamp_millis())),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {}
            Err(e) => return Err(err("claim", e)),
        }
        let Some(entry) = self.claims.entry(key).await.map_err(|e| err("claim", e))? else {
            return Ok(None);
        };
        let Ok(old) = serde_json::from_slice::<Claim>(&entry.value) else {
            return Ok(None);
        };
        let stale = now.timestamp_millis() - old.at_ms >= self.stale.as_millis() as i64;
        // Done: alerts held late for that period; stale: its holder died.
        if !(old.done || stale) {
            return Ok(None);
        }
        match self
            .claims
            .update(key, mine(old.cutoff_ms), entry.revision)
            .await
        {
            Ok(_) => Ok(Some(old.cutoff_ms)),
            Err(_) => Ok(None),
        }
    }

    fn prepare(
        &self,
        kind: Kind,
        sub: &Subscriber,
        items: &[Alert],
        period: Period,
        key: &str,
    ) -> Result<Prepared, Failed> {
        let target = |channel| {
            match channel {
                Channel::Email => sub.email.as_ref().map(|a| Target::Email(a.to_string())),
                Channel::Telegram => sub.telegram_chat_id.map(Target::TelegramChat),
            }
            .unwrap_or_else(|| items[0].target.clone())
        };
        let (channel, subject, text, html) = match kind {
            Kind::Digest => {
                let target = target(Channel::Email);
                let Target::Email(address) = &target else {
                    unreachable!()
                };
                let mail = self.digests.render(sub, address, items, period)?;
                (Channel::Email, mail.subject, mail.text, Some(mail.html))
            }
            Kind::Quiet => (
                Channel::Telegram,
                String::new(),
                summary::quiet(items, period, sub.timezone, self.summary_max_items),
                None,
            ),
            Kind::Overflow => (
                Channel::Telegram,
                String::new(),
                summary::overflow(items, self.summary_max_items),
                None,
            ),
        };
        Ok(Prepared {
            key: key.to_string(),
            kind: kind.as_str().to_string(),
            subscriber: sub.id.clone(),
            channel,
            target: target(channel),
            subject,
            text,
            html,
            items: items.len(),
        })
    }
}

/// When a held message was held ([`HELD_AT`]; else when it was stored).
fn held_at(msg: &async_nats::jetstream::message::StreamMessage) -> DateTime<Utc> {
    msg.headers
        .get(HELD_AT)
        .and_then(|v| v.as_str().parse::<i64>().ok())
        .and_then(DateTime::from_timestamp_millis)
        .unwrap_or_else(|| {
            DateTime::from_timestamp(msg.time.unix_timestamp(), 0).unwrap_or_default()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subscriber::QuietHours;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn when_held_alerts_are_due_and_what_they_cover() {
        let sub = |digest, quiet: Option<&str>| Subscriber {
            id: "desk".into(),
            telegram_chat_id: Some(1),
            email: None,
            digest,
            timezone: chrono_tz::UTC,
            quiet_hours: quiet.map(|q| QuietHours::parse(q).unwrap()),
            max_telegram_per_hour: Some(2),
        };
        let daily = sub(
            DigestSchedule::Daily { hour: 8, minute: 0 },
            Some("22:00-07:00"),
        );
        // (kind, subscriber, held at, now, want (period start, cutoff))
        let table = [
            (
                Kind::Digest,
                &daily,
                "2026-12-07T09:00:00Z",
                "2026-12-08T07:59:59Z",
                None,
            ),
            (
                Kind::Digest,
                &daily,
                "2026-12-07T09:00:00Z",
                "2026-12-08T08:00:00Z",
                Some(("2026-12-07T08:00:00Z", "2026-12-08T08:00:00Z")),
            ),
            // Five days down: one catch-up, covering up to today's period.
            (
                Kind::Digest,
                &daily,
                "2026-12-07T09:00:00Z",
                "2026-12-12T09:30:00Z",
                Some(("2026-12-07T08:00:00Z", "2026-12-12T08:00:00Z")),
            ),
            (
                Kind::Quiet,
                &daily,
                "2026-12-07T23:00:00Z",
                "2026-12-08T06:59:00Z",
                None,
            ),
            (
                Kind::Quiet,
                &daily,
                "2026-12-07T23:00:00Z",
                "2026-12-08T07:00:00Z",
                Some(("2026-12-07T22:00:00Z", "2026-12-08T07:00:00Z")),
            ),
            // Released late, inside the next night: that night's alerts wait.
            (
                Kind::Quiet,
                &daily,
                "2026-12-07T23:00:00Z",
                "2026-12-08T23:00:00Z",
                Some(("2026-12-07T22:00:00Z", "2026-12-08T22:00:00Z")),
            ),
            (
                Kind::Overflow,
                &daily,
                "2026-12-07T10:10:00Z",
                "2026-12-07T10:59:00Z",
                None,
            ),
            (
                Kind::Overflow,
                &daily,
                "2026-12-07T10:10:00Z",
                "2026-12-07T11:00:00Z",
                Some(("2026-12-07T10:00:00Z", "2026-12-07T11:00:00Z")),
            ),
        ];
        for (i, (kind, s, at, now, want)) in table.into_iter().enumerate() {
            let got = Release::due(kind, s, t(at), t(now)).map(|(p, c)| (p.start, c));
            assert_eq!(got, want.map(|(a, b)| (t(a), t(b))), "case {i}");
        }
        // Schedule or quiet hours removed since: released at once.
        let off = sub(DigestSchedule::Off, None);
        let got = Release::due(
            Kind::Digest,
            &off,
            t("2026-12-07T09:00:00Z"),
            t("2026-12-07T09:00:01Z"),
        );
        assert_eq!(got.map(|(_, c)| c), Some(t("2026-12-07T09:00:01Z")));
        assert!(
            Release::due(
                Kind::Quiet,
                &off,
                t("2026-12-07T23:00:00Z"),
                t("2026-12-07T23:00:01Z")
            )
            .is_some()
        );
    }
}
