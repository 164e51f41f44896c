//! Stage 2, alerts → people: one durable consumer per channel on the alerts
//! stream. Per alert: skip it if the sent log has it; dead-letter it if its
//! target is disabled; otherwise send with the retry policy, record it as
//! sent, then ack. Alerts to one target are sent one at a time in stream
//! order (Telegram shows them in the order the articles arrived): a lock
//! per [`Target`].
//!
//! Key-value cost per send: one sent-log read and one write; disabled
//! targets and chat migrations come from the [`Ledger`]'s in-memory view.
//!
//! Outcomes: sent → ack; permanent failure → dead letter + ack; target
//! unreachable (bot blocked, chat gone) → target disabled + dead letter +
//! ack; transient failure after the in-place attempts → nak with backoff,
//! until `max_age`, then dead letter.

use super::ledger::Ledger;
use super::retry::{SendOutcome, send_with_retry};
use super::{DeliveryError, Notifier};
use crate::alert::{Alert, Target};
use crate::consume::{Handler, Outcome};
use crate::dlq::DeadLetter;
use crate::nats::Broker;
use crate::retry::RetryPolicy;
use crate::shutdown::Stopping;
use async_nats::jetstream;
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Delivers the alerts of one channel.
pub struct AlertHandler {
    notifier: Arc<dyn Notifier>,
    ledger: Ledger,
    broker: Broker,
    retry: RetryPolicy,
    max_age: Duration,
    /// One FIFO lock per target: keeps per-target order.
    locks: Mutex<HashMap<Target, Arc<tokio::sync::Mutex<()>>>>,
}

impl AlertHandler {
    pub fn new(
        notifier: Arc<dyn Notifier>,
        ledger: Ledger,
        broker: Broker,
        retry: RetryPolicy,
        max_age: Duration,
    ) -> Self {
        AlertHandler {
            notifier,
            ledger,
            broker,
            retry,
            max_age,
            locks: Mutex::new(HashMap::new()),
        }
    }

    fn lock_for(&self, target: &Target) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        // Forget locks nobody holds or waits on, so the map stays small.
        if locks.len() > 10_000 {
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks.entry(target.clone()).or_default().clone()
    }

    async fn dead_letter(
        &self,
        msg: &jetstream::Message,
        kind: &'static str,
        reason: &str,
    ) -> Outcome {
        let letter = DeadLetter {
            kind,
            reason,
            category: "alerts",
            element: None,
        };
        crate::dlq::dead_letter(&self.broker, msg, letter).await
    }

    async fn process(&self, msg: &jetstream::Message, stopping: &Stopping) -> Outcome {
        let alert: Alert = match serde_json::from_slice(&msg.payload) {
            Ok(a) => a,
            Err(e) => {
                return self
                    .dead_letter(msg, "bad_alert", &format!("undecodable alert: {e}"))
                    .await;
            }
        };
        let key = alert.key();
        let lock = self.lock_for(&alert.target);
        let _turn = tokio::select! {
            guard = lock.lock_owned() => guard,
            () = stopping.cancelled() => return Outcome::Release,
        };
        if self.ledger.was_sent(&key).await {
            tracing::info!(alert = %key, "already sent; skipping the redelivery");
            return Outcome::Ack;
        }
        if let Some(why) = self.ledger.disabled(&alert.target).await {
            tracing::warn!(alert = %key, subscriber = %alert.subscriber, "target disabled; dead-lettering");
            return self.dead_letter(msg, "target_disabled", &why).await;
        }
        match send_with_retry(self.notifier.as_ref(), &alert, self.retry, stopping).await {
            SendOutcome::Sent => {
                self.ledger.record_sent(&key, stopping).await;
                tracing::info!(article_id = %alert.article_id, subscriber = %alert.subscriber, channel = %alert.channel, "alert sent");
                Outcome::Ack
            }
            SendOutcome::Stopped => Outcome::Release,
            SendOutcome::Failed(DeliveryError::Unreachable { reason }) => {
                tracing::error!(subscriber = %alert.subscriber, channel = %alert.channel, %reason, "target unreachable; disabling it");
                self.ledger.disable(&alert.target, &reason).await;
                self.dead_letter(msg, "target_unreachable", &reason).await
            }
            SendOutcome::Failed(e) => {
                tracing::error!(alert = %key, error = %e, "alert failed permanently; dead-lettering");
                self.dead_letter(msg, "permanent", &e.to_string()).await
            }
            SendOutcome::GaveUp(e) => {
                let age = msg
                    .info()
                    .ok()
                    .map(|i| (time::OffsetDateTime::now_utc() - i.published).unsigned_abs())
                    .unwrap_or_default();
                if age >= self.max_age {
                    tracing::error!(alert = %key, error = %e, age_secs = age.as_secs(), "alert still failing at its maximum age; dead-lettering");
                    return self.dead_letter(msg, "expired", &e.to_string()).await;
                }
                let later = Outcome::retry_later_after(&self.retry, msg, self.retry.max_attempts);
                tracing::warn!(alert = %key, error = %e, ?later, "alert failing; handing it back for later");
                later
            }
        }
    }
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
