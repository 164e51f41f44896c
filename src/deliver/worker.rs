//! Stage 2, alerts → people: one durable consumer per channel on the alerts
//! stream. Per alert: skip it if the sent log has it; dead-letter it if its
//! target is disabled; otherwise send with the retry policy, record it as
//! sent, then ack. Alerts to one target are sent one at a time in stream
//! order (Telegram shows them in the order the articles arrived): a lock
//! per [`Target`].
//!
//! A message is one alert, or an email batch of an article's mails
//! ([`batch`]): its alerts are delivered at once, each as above, with the
//! article's delivery record ([`Settled`]) in place of the sent log, at
//! most `delivery.email_concurrency` between the start of a send and its
//! record; the batch is acked when every alert is settled, handed back if
//! one was stopped, else retried after the longest delay one asked for
//! (the record then skips those already sent). A failing alert is
//! dead-lettered alone, as a single alert that `dlq replay` delivers.
//!
//! Key-value cost per send: one sent-log read and one write (a batch: one
//! read, and a few group-committed writes, for all its mails); disabled
//! targets and chat migrations come from the [`Ledger`]'s in-memory view.
//!
//! Log lines about an alert carry the stable fields `article_id`, `rule`
//! (the matched rule ids, comma-separated), `subscriber`, `channel` and
//! `target` (a chat id, or only a mail domain); metrics count each
//! outcome per channel.
//!
//! A Telegram chat that sent `/pause` or `/stop` ([`ChatPrefs`]) gets
//! nothing: its alerts are skipped (acked, logged, counted as suppressed
//! with reason `chat_paused` / `chat_stopped`), not held. An address that
//! unsubscribed ([`crate::unsubscribe`]) likewise (`unsubscribed`).
//!
//! Outcomes: sent → ack; permanent failure → dead letter + ack; target
//! unreachable (bot blocked, chat gone) → target disabled + dead letter +
//! ack; transient failure after the in-place attempts → nak with backoff,
//! until `max_age`, then dead letter.

use super::batch;
use super::ledger::Ledger;
use super::memo::{Memo, combine};
use super::retry::{SendOutcome, send_with_retry};
use super::settled::Settled;
use super::{DeliveryError, Notifier};
use crate::alert::{self, Alert, Target};
use crate::bot::prefs::{ChatPrefs, Delivery};
use crate::consume::{Handler, Outcome};
use crate::dlq::DeadLetter;
use crate::nats::Broker;
use crate::observe::{HOP, Metrics};
use crate::retry::RetryPolicy;
use crate::shutdown::Stopping;
use crate::stats::RuleStats;
use crate::subscriber::Channel;
use crate::unsubscribe::Unsubscribed;
use async_nats::jetstream;
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Batch mails sent at once unless [`AlertHandler::with_batch_sends`] says.
const DEFAULT_SENDING: usize = 16;

/// Delivers the alerts of one channel.
pub struct AlertHandler {
    notifier: Arc<dyn Notifier>,
    ledger: Ledger,
    broker: Broker,
    retry: RetryPolicy,
    max_age: Duration,
    metrics: Arc<Metrics>,
    /// What chats asked for (`/pause`, `/stop`); Telegram only.
    chats: Option<ChatPrefs>,
    /// Addresses that unsubscribed; email only.
    unsubscribed: Option<Unsubscribed>,
    /// Per-rule counters (see [`crate::stats`]).
    stats: RuleStats,
    /// One FIFO lock per target: keeps per-target order.
    locks: Mutex<HashMap<Target, Arc<tokio::sync::Mutex<()>>>>,
    /// Batch mails between the start of their send and their record.
    sending: tokio::sync::Semaphore,
}

impl AlertHandler {
    pub fn new(
        notifier: Arc<dyn Notifier>,
        ledger: Ledger,
        broker: Broker,
        retry: RetryPolicy,
        max_age: Duration,
        metrics: Arc<Metrics>,
    ) -> Self {
        AlertHandler {
            notifier,
            ledger,
            broker,
            retry,
            max_age,
            metrics,
            chats: None,
            unsubscribed: None,
            stats: RuleStats::disabled(),
            locks: Mutex::new(HashMap::new()),
            sending: tokio::sync::Semaphore::new(DEFAULT_SENDING),
        }
    }

    /// Skip alerts to chats that are paused or stopped.
    pub fn with_chat_prefs(mut self, chats: ChatPrefs) -> Self {
        self.chats = Some(chats);
        self
    }

    /// Skip alerts to addresses that unsubscribed.
    pub fn with_unsubscribed(mut self, unsubscribed: Unsubscribed) -> Self {
        self.unsubscribed = Some(unsubscribed);
        self
    }

    /// Send at most `n` mails of batches at once (`delivery.email_concurrency`).
    pub fn with_batch_sends(mut self, n: usize) -> Self {
        self.sending = tokio::sync::Semaphore::new(n.max(1));
        self
    }

    /// Count each alert's outcome per rule.
    pub fn with_rule_stats(mut self, stats: RuleStats) -> Self {
        self.stats = stats;
        self
    }

    fn lock_for(&self, target: &Target) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        // Forget locks nobody holds or waits on, so the map stays small.
        if locks.len() > 10_000 {
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks.entry(target.clone()).or_default().clone()
    }

    /// Dead-letter `msg` (of `channel`, when known); counted as failed,
    /// or as suppressed for a disabled target, once stored.
    async fn dead_letter(
        &self,
        msg: &jetstream::Message,
        channel: Option<Channel>,
        kind: &'static str,
        reason: &str,
    ) -> Outcome {
        self.dead_letter_as(msg, channel, kind, reason, None).await
    }

    /// As [`Self::dead_letter`], for `alert` remembered in `memo`: a batch
    /// element alone, and recorded as settled once stored.
    async fn give_up(
        &self,
        msg: &jetstream::Message,
        alert: &Alert,
        memo: &Memo<'_>,
        kind: &'static str,
        reason: &str,
    ) -> Outcome {
        let element = match memo {
            Memo::Batch(_, index, bytes) => Some((*index, *bytes)),
            Memo::Sent(_) => None,
        };
        let channel = Some(alert.channel);
        let outcome = self
            .dead_letter_as(msg, channel, kind, reason, element)
            .await;
        if let (Outcome::Ack, Memo::Batch(record, ..)) = (outcome, memo) {
            record.settle(&alert.subscriber).await;
        }
        outcome
    }

    /// Dead-letter `msg`, or only `element` of it.
    async fn dead_letter_as(
        &self,
        msg: &jetstream::Message,
        channel: Option<Channel>,
        kind: &'static str,
        reason: &str,
        element: Option<(usize, &[u8])>,
    ) -> Outcome {
        let outcome = dead_letter_alert(&self.broker, msg, kind, reason, element).await;
        if outcome == Outcome::Ack {
            let channel = channel.map_or_else(|| "unknown".to_string(), |c| c.to_string());
            if kind == "target_disabled" {
                self.metrics.alert_suppressed(channel, kind);
            } else {
                self.metrics.alert_failed(channel, kind);
            }
        }
        outcome
    }

    async fn process(&self, msg: &jetstream::Message, stopping: &Stopping) -> Outcome {
        if batch::is_batch(msg.headers.as_ref(), &msg.payload) {
            return self.process_batch(msg, stopping).await;
        }
        let alert: Alert = match serde_json::from_slice(&msg.payload) {
            Ok(a) => a,
            Err(e) => {
                let reason = format!("undecodable alert: {e}");
                return self.dead_letter(msg, None, "bad_alert", &reason).await;
            }
        };
        let key = alert.key();
        self.deliver(msg, &alert, Memo::Sent(&key), stopping).await
    }

    /// Every alert of a batch ([`super::batch`]) at once; the batch is
    /// acked once each is settled, else retried (the record skips the
    /// settled ones then).
    async fn process_batch(&self, msg: &jetstream::Message, stopping: &Stopping) -> Outcome {
        let elements = match batch::decode(&msg.payload) {
            Ok(e) => e,
            Err(reason) => return self.dead_letter(msg, None, "bad_alert", &reason).await,
        };
        let mut records: HashMap<&str, Settled> = HashMap::new();
        for alert in elements.iter().filter_map(|(a, _)| a.as_ref().ok()) {
            if !records.contains_key(alert.article_id.as_str()) {
                let key = batch::record_key(&alert.article_id);
                let Ok(record) = Settled::load(self.ledger.sent_bucket(), &key, stopping).await
                else {
                    return Outcome::Release;
                };
                records.insert(&alert.article_id, record);
            }
        }
        let each = elements.iter().enumerate().map(|(i, (alert, bytes))| {
            let records = &records;
            async move {
                match alert {
                    Ok(a) => {
                        let memo = Memo::Batch(&records[a.article_id.as_str()], i, bytes);
                        self.deliver(msg, a, memo, stopping).await
                    }
                    Err(reason) => {
                        let element = Some((i, &bytes[..]));
                        self.dead_letter_as(msg, None, "bad_alert", reason, element)
                            .await
                    }
                }
            }
        });
        combine(futures::future::join_all(each).await)
    }

    /// Deliver `alert` of `msg`, remembered in `memo`.
    async fn deliver(
        &self,
        msg: &jetstream::Message,
        alert: &Alert,
        memo: Memo<'_>,
        stopping: &Stopping,
    ) -> Outcome {
        let hop = |name| tracing::debug!(target: HOP, article_id = %alert.article_id, subscriber = %alert.subscriber, channel = %alert.channel, "{name}");
        hop("alert received");
        let lock = self.lock_for(&alert.target);
        let _turn = tokio::select! {
            guard = lock.lock_owned() => guard,
            () = stopping.cancelled() => return Outcome::Release,
        };
        // The stable fields of every line about this alert.
        let a = alert;
        let rules = alert.rules.join(",");
        let Ok(was_sent) = memo.was_sent(&self.ledger, &a.subscriber, stopping).await else {
            return Outcome::Release;
        };
        if was_sent {
            tracing::info!(article_id = %a.article_id, rule = %rules, subscriber = %a.subscriber, channel = %a.channel, target = %a.target, "already sent; skipping the redelivery");
            self.metrics.alert_suppressed(a.channel, "duplicate");
            self.stats.suppressed(&a.rules, "duplicate");
            return Outcome::Ack;
        }
        if let (Some(u), Target::Email(address)) = (&self.unsubscribed, &alert.target)
            && u.contains(address)
        {
            tracing::info!(article_id = %a.article_id, rule = %rules, subscriber = %a.subscriber, channel = %a.channel, target = %a.target, "address unsubscribed; skipping");
            self.metrics.alert_suppressed(a.channel, "unsubscribed");
            return Outcome::Ack;
        }
        if let Some(why) = self.ledger.disabled(&alert.target).await {
            tracing::warn!(article_id = %a.article_id, rule = %rules, subscriber = %a.subscriber, channel = %a.channel, target = %a.target, "target disabled; dead-lettering");
            self.stats.suppressed(&a.rules, "target_disabled");
            return self.give_up(msg, a, &memo, "target_disabled", &why).await;
        }
        if let (Some(chats), Target::TelegramChat(chat)) = (&self.chats, &alert.target) {
            let now_ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
            let reason = match chats.delivery(*chat, now_ms).await {
                Delivery::Send => None,
                Delivery::Paused => Some("chat_paused"),
                Delivery::Stopped => Some("chat_stopped"),
            };
            if let Some(reason) = reason {
                tracing::info!(article_id = %a.article_id, rule = %rules, subscriber = %a.subscriber, channel = %a.channel, target = %a.target, reason, "chat asked for no alerts; skipping");
                self.metrics.alert_suppressed(a.channel, reason);
                self.stats.suppressed(&a.rules, reason);
                return Outcome::Ack;
            }
        }
        // A batch's mails, sent at once, count against `email_concurrency`
        // from the send until the record: it bounds what a crash can
        // leave sent and unrecorded. The semaphore is never closed.
        let _sending = match memo {
            Memo::Batch(..) => Some(self.sending.acquire().await),
            Memo::Sent(_) => None,
        };
        hop("alert sending");
        let sent = send_with_retry(
            self.notifier.as_ref(),
            alert,
            self.retry,
            stopping,
            &self.metrics,
        );
        match sent.await {
            SendOutcome::Sent => {
                hop("alert sent");
                let latency = alert::since_published(msg.headers.as_ref());
                self.metrics.alert_sent(a.channel, latency);
                self.stats.alerted(&a.rules);
                memo.record(&self.ledger, &a.subscriber).await;
                hop("alert recorded");
                tracing::info!(article_id = %a.article_id, rule = %rules, subscriber = %a.subscriber, channel = %a.channel, target = %a.target, latency_ms = latency.map(|l| l.as_millis() as u64), "alert sent");
                Outcome::Ack
            }
            SendOutcome::Stopped => Outcome::Release,
            SendOutcome::Failed(DeliveryError::Unreachable { reason }) => {
                tracing::error!(article_id = %a.article_id, subscriber = %a.subscriber, channel = %a.channel, target = %a.target, %reason, "target unreachable; disabling it");
                self.ledger.disable(&alert.target, &reason).await;
                self.stats.failed(&a.rules);
                self.give_up(msg, a, &memo, "target_unreachable", &reason)
                    .await
            }
            SendOutcome::Failed(e) => {
                tracing::error!(article_id = %a.article_id, subscriber = %a.subscriber, channel = %a.channel, target = %a.target, error = %e, "alert failed permanently; dead-lettering");
                self.stats.failed(&a.rules);
                self.give_up(msg, a, &memo, "permanent", &e.to_string())
                    .await
            }
            SendOutcome::GaveUp(e) => {
                let age = stored_age(msg);
                if age >= self.max_age {
                    tracing::error!(article_id = %a.article_id, subscriber = %a.subscriber, channel = %a.channel, target = %a.target, error = %e, age_secs = age.as_secs(), "alert still failing at its maximum age; dead-lettering");
                    self.stats.failed(&a.rules);
                    return self.give_up(msg, a, &memo, "expired", &e.to_string()).await;
                }
                let later = Outcome::retry_later_after(&self.retry, msg, self.retry.max_attempts);
                self.metrics.alert_retried(a.channel);
                tracing::warn!(article_id = %a.article_id, subscriber = %a.subscriber, channel = %a.channel, target = %a.target, error = %e, ?later, "alert failing; handing it back for later");
                later
            }
        }
    }
}

/// Dead-letter an alert message (category `alerts`), or only `element`
/// of a batch.
pub async fn dead_letter_alert(
    broker: &Broker,
    msg: &jetstream::Message,
    kind: &str,
    reason: &str,
    element: Option<(usize, &[u8])>,
) -> Outcome {
    let letter = DeadLetter {
        kind,
        reason,
        category: "alerts",
        element,
    };
    crate::dlq::dead_letter(broker, msg, letter).await
}

/// How long ago `msg` was stored in its stream (zero if unknown).
pub fn stored_age(msg: &jetstream::Message) -> Duration {
    msg.info()
        .ok()
        .map(|i| (time::OffsetDateTime::now_utc() - i.published).unsigned_abs())
        .unwrap_or_default()
}

impl Handler for AlertHandler {
    fn handle<'a>(
        &'a self,
        msg: &'a jetstream::Message,
        stopping: &'a Stopping,
    ) -> BoxFuture<'a, Outcome> {
        Box::pin(self.process(msg, stopping))
    }
}
