//! The fake's side of receiving: updates queued by the test
//! ([`Updates::push_text`]) handed out by `getUpdates` in order, by
//! `offset` (an update below the offset is confirmed and dropped), with
//! long polling held up to 1 s; every poll recorded; a poll that arrives
//! while another is in flight answered 409 Conflict, as Telegram does
//! when two processes poll one bot; `setMyCommands` bodies recorded.

use std::collections::VecDeque;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// One `getUpdates` request.
#[derive(Clone, Debug)]
pub struct Poll {
    pub offset: i64,
    pub at: Instant,
    /// Answered 409 because another poll was in flight.
    pub conflict: bool,
}

#[derive(Default)]
pub(super) struct Updates {
    queue: VecDeque<Value>,
    next_id: i64,
    pub(super) polls: Vec<Poll>,
    in_flight: usize,
    pub(super) commands: Vec<Value>,
}

impl Updates {
    /// Queue a text message from user `first_name` in `chat_id`; returns
    /// its update id.
    pub(super) fn push_text(&mut self, chat_id: i64, first_name: &str, text: &str) -> i64 {
        self.next_id += 1;
        let id = self.next_id;
        let date = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let chat = if chat_id > 0 {
            json!({"id": chat_id, "type": "private", "first_name": first_name})
        } else {
            json!({"id": chat_id, "type": "supergroup", "title": "Test supergroup"})
        };
        self.queue.push_back(json!({
            "update_id": id,
            "message": {
                "message_id": 1000 + id,
                "date": date,
                "chat": chat,
                "from": {"id": chat_id.abs(), "is_bot": false, "first_name": first_name},
                "text": text,
            }
        }));
        id
    }

    /// Start a poll: `false` if another is in flight (answer 409).
    pub(super) fn begin(&mut self, offset: i64) -> bool {
        let conflict = self.in_flight > 0;
        self.polls.push(Poll {
            offset,
            at: Instant::now(),
            conflict,
        });
        if !conflict {
            self.in_flight += 1;
        }
        !conflict
    }

    pub(super) fn end(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// Drop updates below `offset`; the next `limit` others.
    pub(super) fn take(&mut self, offset: i64, limit: usize) -> Vec<Value> {
        self.queue
            .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
        self.queue.iter().take(limit).cloned().collect()
    }

    /// Updates queued and not yet confirmed.
    pub(super) fn pending(&self) -> usize {
        self.queue.len()
    }
}
