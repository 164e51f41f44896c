//! Delivery: notifiers for each channel behind one [`Notifier`] trait
//! ([`telegram`] with its flood limits in [`flood`], [`email`],
//! [`console`]), the single place where failed sends are retried
//! ([`retry`]), messages built from several held alerts ([`prepared`]:
//! digests, quiet-hours summaries), what delivery remembers ([`ledger`]: sent log, disabled
//! targets, chat migrations; [`settled`]: the delivery record of an
//! article's email batches ([`batch`]); [`memo`]: which of the two an
//! alert uses) and the stage that ties them together ([`worker`]). Telegram alerts are partitioned by chat ([`partition`]);
//! each partition is served by one instance at a time ([`partitions`]),
//! which keeps each chat's order ([`in_order`]) and its share of the bot's
//! limits.
//!
//! Notifiers classify their errors where they happen: [`DeliveryError::Transient`]
//! (retry later, maybe not before `retry_after`) or
//! [`DeliveryError::Permanent`] (retrying cannot help).

pub mod batch;
pub mod console;
pub mod email;
pub mod flood;
pub mod in_order;
pub mod ledger;
pub mod memo;
pub mod partition;
pub mod partitions;
pub mod prepared;
pub mod render;
pub mod retry;
pub mod settled;
pub mod telegram;
pub mod worker;

use crate::alert::Alert;
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

/// Why a send failed, classified for the retry policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    #[error("transient: {reason}")]
    Transient {
        reason: String,
        /// The remote asked us to wait at least this long.
        retry_after: Option<Duration>,
    },
    #[error("permanent: {reason}")]
    Permanent { reason: String },
    /// The target itself is gone (bot blocked, chat deleted, user
    /// deactivated): the target is disabled, other targets are unaffected.
    #[error("unreachable: {reason}")]
    Unreachable { reason: String },
}

impl DeliveryError {
    pub fn transient(reason: impl Into<String>) -> Self {
        DeliveryError::Transient {
            reason: reason.into(),
            retry_after: None,
        }
    }

    pub fn permanent(reason: impl Into<String>) -> Self {
        DeliveryError::Permanent {
            reason: reason.into(),
        }
    }
}

/// Sends one alert on one channel.
pub trait Notifier: Send + Sync {
    /// A short name for logs ("telegram", "email", "console").
    fn name(&self) -> &'static str;

    /// Send `alert` once; no retries here.
    fn send<'a>(&'a self, alert: &'a Alert) -> BoxFuture<'a, Result<(), DeliveryError>>;

    /// Send a [`Prepared`](prepared::Prepared) message (a digest, a
    /// quiet-hours summary) once. Notifiers that cannot refuse it
    /// permanently.
    fn send_prepared<'a>(
        &'a self,
        prepared: &'a prepared::Prepared,
    ) -> BoxFuture<'a, Result<(), DeliveryError>> {
        let reason = format!("{} cannot send {} messages", self.name(), prepared.kind);
        Box::pin(async move { Err(DeliveryError::permanent(reason)) })
    }
}

/// The notifier for each channel.
#[derive(Clone)]
pub struct Notifiers {
    pub telegram: Arc<dyn Notifier>,
    pub email: Arc<dyn Notifier>,
}

impl Notifiers {
    pub fn for_channel(&self, channel: crate::subscriber::Channel) -> &Arc<dyn Notifier> {
        match channel {
            crate::subscriber::Channel::Telegram => &self.telegram,
            crate::subscriber::Channel::Email => &self.email,
        }
    }
}
