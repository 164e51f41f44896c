//! The stage that sends [`Prepared`] messages: one durable consumer on
//! `<alerts_subject>.prepared.>` for both channels. Per message: skip it if
//! the sent log has its key or its address unsubscribed; otherwise send
//! under the retry policy, record it as sent, then ack; failures are
//! dead-lettered or handed back like single alerts.

use super::Prepared;
use crate::alert::Target;
use crate::consume::{Handler, Outcome};
use crate::deliver::ledger::Ledger;
use crate::deliver::retry::{SendOutcome, send_prepared_with_retry};
use crate::deliver::worker::{dead_letter_alert, stored_age};
use crate::deliver::{DeliveryError, Notifiers};
use crate::nats::Broker;
use crate::observe::Metrics;
use crate::retry::RetryPolicy;
use crate::shutdown::Stopping;
use async_nats::jetstream;
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

/// Sends prepared messages: one consumer for both channels.
pub struct PreparedHandler {
    pub notifiers: Notifiers,
    pub ledger: Ledger,
    pub broker: Broker,
    pub retry: RetryPolicy,
    pub max_age: Duration,
    pub metrics: Arc<Metrics>,
    /// Addresses that unsubscribed get no email ([`crate::unsubscribe`]).
    pub unsubscribed: Option<crate::unsubscribe::Unsubscribed>,
}

impl PreparedHandler {
    async fn dead_letter(
        &self,
        msg: &jetstream::Message,
        kind: &'static str,
        reason: &str,
    ) -> Outcome {
        dead_letter_alert(&self.broker, msg, kind, reason, None).await
    }

    async fn process(&self, msg: &jetstream::Message, stopping: &Stopping) -> Outcome {
        let p: Prepared = match serde_json::from_slice(&msg.payload) {
            Ok(p) => p,
            Err(e) => {
                let reason = format!("undecodable prepared message: {e}");
                return self.dead_letter(msg, "bad_alert", &reason).await;
            }
        };
        let sent_key = format!("prepared/{}", p.key);
        let Ok(was_sent) = self.ledger.was_sent(&sent_key, stopping).await else {
            return Outcome::Release;
        };
        if was_sent {
            tracing::info!(key = %p.key, subscriber = %p.subscriber, channel = %p.channel, "already sent; skipping the redelivery");
            self.metrics.alert_suppressed(p.channel, "duplicate");
            return Outcome::Ack;
        }
        if let (Some(u), Target::Email(address)) = (&self.unsubscribed, &p.target)
            && u.contains(address)
        {
            tracing::info!(key = %p.key, subscriber = %p.subscriber, target = %p.target, "address unsubscribed; skipping");
            self.metrics.alert_suppressed(p.channel, "unsubscribed");
            return Outcome::Ack;
        }
        if let Some(why) = self.ledger.disabled(&p.target).await {
            return self.dead_letter(msg, "target_disabled", &why).await;
        }
        let notifier = self.notifiers.for_channel(p.channel);
        let sent =
            send_prepared_with_retry(notifier.as_ref(), &p, self.retry, stopping, &self.metrics);
        match sent.await {
            SendOutcome::Sent => {
                self.metrics.alert_sent(p.channel, None);
                self.ledger.record_sent(&sent_key).await;
                tracing::info!(key = %p.key, kind = %p.kind, subscriber = %p.subscriber, channel = %p.channel, target = %p.target, items = p.items, "prepared message sent");
                Outcome::Ack
            }
            SendOutcome::Stopped => Outcome::Release,
            SendOutcome::Failed(DeliveryError::Unreachable { reason }) => {
                self.ledger.disable(&p.target, &reason).await;
                self.dead_letter(msg, "target_unreachable", &reason).await
            }
            SendOutcome::Failed(e) => self.dead_letter(msg, "permanent", &e.to_string()).await,
            SendOutcome::GaveUp(e) => {
                if stored_age(msg) >= self.max_age {
                    return self.dead_letter(msg, "expired", &e.to_string()).await;
                }
                self.metrics.alert_retried(p.channel);
                tracing::warn!(key = %p.key, subscriber = %p.subscriber, channel = %p.channel, error = %e, "prepared message failing; handing it back for later");
                Outcome::retry_later_after(&self.retry, msg, self.retry.max_attempts)
            }
        }
    }
}

impl Handler for PreparedHandler {
    fn handle<'a>(
        &'a self,
        msg: &'a jetstream::Message,
        stopping: &'a Stopping,
    ) -> BoxFuture<'a, Outcome> {
        Box::pin(self.process(msg, stopping))
    }
}
