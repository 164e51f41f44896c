//! Chat preferences set by bot commands, in a JetStream key-value bucket
//! (`bot.prefs_bucket`, key `chat.<id>`, kept until changed): a chat is
//! active (no key), paused until a time or until `/resume`, or stopped
//! until `/start`. The rules file stays the source of truth for who gets
//! what; a preference only silences a chat.
//!
//! Every instance mirrors the bucket in memory ([`crate::kvwatch`]), so
//! the delivery path ([`ChatPrefs::delivery`]) reads no bucket per alert,
//! and a command answered by one instance holds on all of them.

use crate::kvwatch::{BucketWatch, watch_bucket};
use async_nats::jetstream::kv;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// What a chat asked for (no entry: active).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum ChatPref {
    /// `/pause [duration]`: until `until_ms` (Unix milliseconds), or until
    /// `/resume` when `None`.
    Paused { until_ms: Option<i64> },
    /// `/stop`: nothing until `/start`.
    Stopped { since_ms: i64 },
}

/// What the delivery path does with a chat's alert now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Send,
    /// Skipped (a pause is a mute; quiet hours are what defers).
    Paused,
    /// Skipped until `/start`.
    Stopped,
}

impl ChatPref {
    /// What the pref means for an alert at `now_ms`: a pause that ended
    /// no longer holds.
    pub fn delivery(&self, now_ms: i64) -> Delivery {
        match self {
            ChatPref::Paused { until_ms: Some(t) } if *t <= now_ms => Delivery::Send,
            ChatPref::Paused { .. } => Delivery::Paused,
            ChatPref::Stopped { .. } => Delivery::Stopped,
        }
    }
}

fn key(chat: i64) -> String {
    format!("chat.{chat}")
}

fn parse_entry(key: &str, value: Option<&[u8]>) -> Option<(i64, Option<ChatPref>)> {
    let chat = key.strip_prefix("chat.")?.parse().ok()?;
    let pref = value.and_then(|v| match serde_json::from_slice(v) {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::warn!(key, error = %e, "unreadable chat preference; ignoring it");
            None
        }
    });
    Some((chat, pref))
}

/// The preferences bucket and this instance's mirror of it.
#[derive(Clone)]
pub struct ChatPrefs {
    kv: kv::Store,
    view: Arc<RwLock<HashMap<i64, ChatPref>>>,
    watch: BucketWatch,
}

impl ChatPrefs {
    /// Mirror `kv` (so it must be called inside a tokio runtime).
    pub fn new(kv: kv::Store) -> Self {
        let view: Arc<RwLock<HashMap<i64, ChatPref>>> = Arc::default();
        let mirror = view.clone();
        let watch = watch_bucket(kv.clone(), "chat preferences watch", move |k, v| {
            if let Some((chat, pref)) = parse_entry(k, v) {
                let mut view = mirror.write().unwrap_or_else(|p| p.into_inner());
                match pref {
                    Some(p) => view.insert(chat, p),
                    None => view.remove(&chat),
                };
            }
        });
        ChatPrefs { kv, view, watch }
    }

    /// The chat's preference (`None`: active).
    pub async fn get(&self, chat: i64) -> Option<ChatPref> {
        self.watch.loaded().await;
        self.view
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&chat)
            .cloned()
    }

    /// Whether an alert to `chat` goes out at `now_ms`.
    pub async fn delivery(&self, chat: i64, now_ms: i64) -> Delivery {
        self.get(chat)
            .await
            .map_or(Delivery::Send, |p| p.delivery(now_ms))
    }

    /// Store `pref` for `chat` (`None`: active again), on this instance at
    /// once and on the others through the watch.
    ///
    /// # Errors
    /// The bucket could not be written.
    pub async fn set(&self, chat: i64, pref: Option<ChatPref>) -> Result<(), String> {
        let stored = match &pref {
            Some(p) => {
                let value = serde_json::to_vec(p).map_err(|e| e.to_string())?;
                self.kv
                    .put(key(chat), value.into())
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string())
            }
            None => self.kv.delete(key(chat)).await.map_err(|e| e.to_string()),
        };
        stored.map_err(|e| format!("chat preferences: {e}"))?;
        let mut view = self.view.write().unwrap_or_else(|p| p.into_inner());
        match pref {
            Some(p) => view.insert(chat, p),
            None => view.remove(&chat),
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_end_and_stops_do_not() {
        let until = ChatPref::Paused {
            until_ms: Some(1000),
        };
        assert_eq!(until.delivery(999), Delivery::Paused);
        assert_eq!(until.delivery(1000), Delivery::Send);
        let open = ChatPref::Paused { until_ms: None };
        assert_eq!(open.delivery(i64::MAX), Delivery::Paused);
        let stop = ChatPref::Stopped { since_ms: 5 };
        assert_eq!(stop.delivery(i64::MAX), Delivery::Stopped);
    }

    #[test]
    fn entries_round_trip_and_bad_ones_are_ignored() {
        let p = ChatPref::Paused { until_ms: Some(7) };
        let json = serde_json::to_vec(&p).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&json),
            r#"{"state":"paused","until_ms":7}"#
        );
        assert_eq!(
            parse_entry("chat.-1001", Some(&json)),
            Some((-1001, Some(p)))
        );
        assert_eq!(parse_entry("chat.5", None), Some((5, None)));
        assert_eq!(parse_entry("chat.5", Some(b"{")), Some((5, None)));
        assert_eq!(parse_entry("other.5", Some(&json)), None);
    }
}
