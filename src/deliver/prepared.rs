//! Prepared messages: one message built from several held alerts — an
//! email digest, a quiet-hours summary, an "N more matches" note — by the
//! release task ([`crate::pending`]), published once to
//! `<alerts_subject>.prepared.<channel>` with `Nats-Msg-Id` = its claim
//! key, and sent by [`handler::PreparedHandler`] through the same notifiers, retry
//! policy and sent log as single alerts. The sent log is keyed by the
//! claim key, so a redelivered or re-published copy is never sent twice.
//!
//! A Telegram one (a quiet-hours summary, an "N more" note) goes to its
//! chat's partition instead, `<alerts_subject>.telegram.<p>`, marked with
//! the [`PREPARED`] header: the partition's owner sends it in turn with the
//! chat's alerts, under the bot's budget and the chat's 1/s, whichever
//! instance released it ([`crate::deliver::in_order::Dispatch`]).

pub mod handler;

use crate::alert::Target;
use crate::deliver::partition::{partition_of, partition_subject};
use crate::subscriber::Channel;
use serde::{Deserialize, Serialize};

/// Header marking a prepared message on a Telegram partition's subject.
pub const PREPARED: &str = "Newsalert-Prepared";

/// Whether `msg` is a prepared message (not a single alert).
pub fn is_prepared(msg: &async_nats::jetstream::Message) -> bool {
    (msg.headers.as_ref()).is_some_and(|h| h.get(PREPARED).is_some())
}

/// The headers a prepared message is published with.
pub fn headers() -> async_nats::HeaderMap {
    let mut h = async_nats::HeaderMap::new();
    h.insert(PREPARED, "1");
    h
}

/// Where `prepared` is published: a Telegram chat's partition, or
/// `<prefix>.prepared.<channel>`.
pub fn subject_for(prefix: &str, prepared: &Prepared, partitions: u32) -> String {
    match prepared.target {
        Target::TelegramChat(chat) => partition_subject(prefix, partition_of(chat, partitions)),
        Target::Email(_) => format!("{prefix}.prepared.{}", prepared.channel),
    }
}

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
