//! Handlers for the partitioned Telegram alerts ([`crate::deliver::partitions`]):
//!
//! - [`InOrder`] keeps each chat's alerts in stream order. Alerts to one
//!   chat are handled one at a time (a FIFO lock per chat, taken in
//!   delivery order), and an alert that must be tried again later is not
//!   handed back to the stream, where a later alert to the same chat could
//!   overtake it: it is retried in place, under the [retry
//!   policy](crate::retry), holding its chat's turn, until it is sent or
//!   dead-lettered (at `delivery.max_age_secs`) or the partition stops.
//!   Messages handed back at a stop are redelivered in order because the
//!   next owner reopens the consumer from its ack floor
//!   ([`crate::consume::ConsumerSpec::reset`]).
//! - [`Dispatch`] hands a partition's message to the alert handler, or to
//!   the prepared-message handler when it carries the
//!   [`PREPARED`](crate::deliver::prepared::PREPARED) header (a quiet-hours
//!   summary, an "N more" note: sent in turn with the chat's alerts).
//! - [`Forwarder`] moves alerts published on the Telegram subject of
//!   earlier releases (`ALERTS_SUBJECT.telegram`, no partition) to their
//!   chat's partition, so alerts in flight during an upgrade are delivered.

use crate::alert::{Alert, Target};
use crate::consume::{Handler, Outcome};
use crate::deliver::prepared;
use crate::nats::{Broker, MSG_ID};
use crate::retry::{Failure, RetryError, RetryPolicy, retry};
use crate::shutdown::Stopping;
use async_nats::jetstream;
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::partition::{partition_of, partition_subject, stable_hash};

/// Handles a chat's alerts one at a time, in order, never handing one back.
pub struct InOrder<H> {
    inner: Arc<H>,
    /// One FIFO lock per chat (undecodable alerts share chat 0's).
    chats: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
}

impl<H: Handler> InOrder<H> {
    pub fn new(inner: Arc<H>) -> Self {
        InOrder {
            inner,
            chats: Mutex::new(HashMap::new()),
        }
    }

    fn lock_for(&self, chat: i64) -> Arc<tokio::sync::Mutex<()>> {
        let mut chats = self.chats.lock().unwrap_or_else(|e| e.into_inner());
        if chats.len() > 10_000 {
            chats.retain(|_, l| Arc::strong_count(l) > 1);
        }
        chats.entry(chat).or_default().clone()
    }

    async fn process(&self, msg: &jetstream::Message, stopping: &Stopping) -> Outcome {
        let chat = chat_of(msg);
        let lock = self.lock_for(chat);
        let _turn = tokio::select! {
            guard = lock.lock_owned() => guard,
            () = stopping.cancelled() => return Outcome::Release,
        };
        // The inner handler's delays are its backoff; this only repeats.
        let policy = RetryPolicy::forever(Duration::from_millis(1), Duration::from_millis(1));
        let what = format!("telegram alert to chat {chat}");
        let handled = retry(&policy, stopping, &what, |_| async {
            match self.inner.handle(msg, stopping).await {
                Outcome::Retry(later) => Err(Failure::Transient {
                    error: "not sent yet; retrying in place to keep the chat's order",
                    retry_after: Some(later),
                }),
                done => Ok(done),
            }
        })
        .await;
        match handled {
            Ok(outcome) => outcome,
            Err(RetryError::Stopped | RetryError::Permanent(_) | RetryError::GaveUp { .. }) => {
                Outcome::Release
            }
        }
    }
}

impl<H: Handler> Handler for InOrder<H> {
    fn handle<'a>(
        &'a self,
        msg: &'a jetstream::Message,
        stopping: &'a Stopping,
    ) -> BoxFuture<'a, Outcome> {
        Box::pin(self.process(msg, stopping))
    }
}

/// The `target` of an alert or a prepared message, read without the rest
/// (titles, snippets: the handler decodes those).
#[derive(serde::Deserialize)]
struct Addressed {
    target: Target,
}

/// The chat a partition's message goes to (0 if undecodable: its handler
/// dead-letters it).
fn chat_of(msg: &jetstream::Message) -> i64 {
    match serde_json::from_slice::<Addressed>(&msg.payload).map(|a| a.target) {
        Ok(Target::TelegramChat(chat)) => chat,
        _ => 0,
    }
}

/// A Telegram partition's handler: single alerts and prepared messages.
pub struct Dispatch<A, P> {
    pub alerts: Arc<A>,
    pub prepared: Arc<P>,
}

impl<A: Handler, P: Handler> Handler for Dispatch<A, P> {
    fn handle<'a>(
        &'a self,
        msg: &'a jetstream::Message,
        stopping: &'a Stopping,
    ) -> BoxFuture<'a, Outcome> {
        match prepared::is_prepared(msg) {
            true => self.prepared.handle(msg, stopping),
            false => self.alerts.handle(msg, stopping),
        }
    }
}

/// Moves alerts from the unpartitioned Telegram subject to their partition.
pub struct Forwarder {
    pub broker: Broker,
    pub alerts_subject: String,
    pub partitions: u32,
    /// Backoff when a publish fails.
    pub retry: RetryPolicy,
}

impl Forwarder {
    async fn forward(&self, msg: &jetstream::Message) -> Outcome {
        // An undecodable alert goes to partition 0, whose worker
        // dead-letters it with the reason.
        let (partition, id) = match serde_json::from_slice::<Alert>(&msg.payload) {
            Ok(alert) => match alert.target {
                Target::TelegramChat(chat) => (partition_of(chat, self.partitions), alert.key()),
                Target::Email(_) => (0, alert.key()),
            },
            Err(_) => (0, format!("{:x}", stable_hash(&msg.payload))),
        };
        // A new id: JetStream's duplicate window spans the whole stream,
        // and the original id is already in it.
        let id = format!("{id}/partitioned");
        let mut headers = msg.headers.clone().unwrap_or_default();
        headers.insert(MSG_ID, id.as_str());
        let subject = partition_subject(&self.alerts_subject, partition);
        let payload = msg.payload.clone();
        match self
            .broker
            .publish(subject, &id, Some(headers), payload)
            .await
        {
            Ok(()) => Outcome::Ack,
            Err(e) => {
                tracing::warn!(error = %e, "could not move an alert to its partition; retrying later");
                Outcome::retry_later(&self.retry, msg)
            }
        }
    }
}

impl Handler for Forwarder {
    fn handle<'a>(
        &'a self,
        msg: &'a jetstream::Message,
        _stopping: &'a Stopping,
    ) -> BoxFuture<'a, Outcome> {
        Box::pin(self.forward(msg))
    }
}
