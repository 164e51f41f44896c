//! Prepared messages: one message built from several held alerts — an
//! email digest, a quiet-hours summary, an "N more matches" note — by the
//! release task ([`crate::pending`]), published once to
//! `<alerts_subject>.prepared.<channel>` with `Nats-Msg-Id` = its claim
//! key, and sent by [`handler::PreparedHandler`] through the same notifiers, retry
//! policy and sent log as single alerts. The sent log is keyed by the
//! claim key, so a redelivered or re-published copy is never sent twice.

pub mod handler;

use crate::alert::Target;
use crate::subscriber::Channel;
use serde::{Deserialize, Serialize};

/// One message ready for a notifier, built from held alerts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prepared {
    /// The claim key: its `Nats-Msg-Id`, its sent-log key, and (hashed)
    /// its email `Message-ID`.
    pub key: String,
    /// `digest`, `quiet` or `overflow`.
    pub kind: String,
    pub subscriber: String,
    pub channel: Channel,
    pub target: Target,
    /// Email subject (unused for Telegram).
    pub subject: String,
    /// The plain-text body (Telegram: the whole message, sent as plain text).
    pub text: String,
    /// The HTML alternative of an email.
    pub html: Option<String>,
    /// How many alerts it stands for.
    pub items: usize,
}
