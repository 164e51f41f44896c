//! An alert: one article for one subscriber on one channel, listing every
//! rule that matched. Its [`Alert::key`] is the idempotency key used for
//! dedup at every hand-off.

use crate::subscriber::Channel;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// Where an alert goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    TelegramChat(i64),
    Email(String),
}

/// A span of the snippet to highlight (byte offsets into `Snippet::text`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snippet {
    pub text: String,
    pub highlights: Vec<(usize, usize)>,
}

/// One alert, ready for a notifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub article_id: String,
    pub subscriber: String,
    pub channel: Channel,
    pub target: Target,
    pub title: String,
    pub url: Option<String>,
    pub source: Option<String>,
    pub published_at: Option<DateTime<FixedOffset>>,
    /// Ids of every rule that matched, in rule-file order.
    pub rules: Vec<String>,
    pub snippet: Option<Snippet>,
}

impl Alert {
    /// Stable idempotency key: the same article, subscriber and channel
    /// always give the same key.
    pub fn key(&self) -> String {
        format!("{}/{}/{}", self.article_id, self.subscriber, self.channel)
    }
}
