//! First deliveries: whether a message can have been handled before.
//!
//! Delivery reads the sent log before each send so that a redelivered alert
//! is not sent twice. Most alerts are delivered once, and that read is one
//! NATS round trip on each alert's path. A publisher that knows a message's
//! key was never published before (ingest, for the alerts of an article it
//! claimed first: [`crate::deliver::ledger::Ledger::claim_article`]) puts
//! the [`FIRST_PUBLISH`] header on it; the consume loop removes the header
//! from every delivery that may not be the message's first, so a handler
//! that still sees it knows nobody handled the message before.
//!
//! A delivery is a first one when JetStream counts it as the first
//! (`delivered == 1`) **and** the message was stored after this consumer
//! was (re)created ([`boundary`]): a consumer created anew (deleted by an
//! operator, reopened from its ack floor by a partition's new owner)
//! counts from 1 again for messages an earlier incarnation delivered.

use async_nats::HeaderMap;
use async_nats::jetstream::{self, Message};

/// Header: no message with this message's key was published before.
pub const FIRST_PUBLISH: &str = "Newsalert-First-Publish";

/// The last sequence of `stream`, read once the consumer is open: messages
/// after it reach this consumer incarnation only. Unknown (the stream
/// could not be read) is `u64::MAX`: no delivery counts as a first one.
pub async fn boundary(js: &jetstream::Context, stream: &str) -> u64 {
    let last = async {
        let mut s = js.get_stream(stream).await.map_err(|e| e.to_string())?;
        s.info()
            .await
            .map(|i| i.state.last_sequence)
            .map_err(|e| e.to_string())
    };
    last.await.unwrap_or_else(|e| {
        tracing::debug!(stream, error = %e, "stream's last sequence unknown; every delivery takes the sent-log read");
        u64::MAX
    })
}

/// Whether the delivery with this count, of the message with this stream
/// sequence, is its first by any consumer incarnation.
pub fn is_first(delivered: i64, stream_sequence: u64, boundary: u64) -> bool {
    delivered == 1 && stream_sequence > boundary
}

/// Remove [`FIRST_PUBLISH`] from `msg` unless this delivery is its first.
pub fn keep_hint_if_first(msg: &mut Message, boundary: u64) {
    let Some(headers) = &msg.message.headers else {
        return;
    };
    if headers.get(FIRST_PUBLISH).is_none() {
        return;
    }
    let first = msg
        .info()
        .is_ok_and(|i| is_first(i.delivered, i.stream_sequence, boundary));
    if !first {
        msg.message.headers = Some(without_hint(headers));
    }
}

/// `headers` without [`FIRST_PUBLISH`] (for a message published again).
pub fn without_hint(headers: &HeaderMap) -> HeaderMap {
    let mut kept = HeaderMap::new();
    for (name, values) in headers.iter() {
        let name: &str = name.as_ref();
        if name.eq_ignore_ascii_case(FIRST_PUBLISH) {
            continue;
        }
        for v in values {
            kept.append(name, v.as_str());
        }
    }
    kept
}

/// Whether `msg` carries [`FIRST_PUBLISH`] (after the consume loop's check).
pub fn has_hint(msg: &Message) -> bool {
    msg.headers
        .as_ref()
        .is_some_and(|h| h.get(FIRST_PUBLISH).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_first_delivery_after_the_boundary_counts() {
        // (delivered, stream sequence, boundary, first?)
        let cases = [
            (1, 11, 10, true),
            (1, 10, 10, false),
            (1, 3, 10, false),
            (2, 11, 10, false),
            (0, 11, 10, false),
            (1, 11, u64::MAX, false),
            (1, 1, 0, true),
        ];
        for (delivered, seq, boundary, first) in cases {
            assert_eq!(
                is_first(delivered, seq, boundary),
                first,
                "{delivered} {seq} {boundary}"
            );
        }
    }

    #[test]
    fn the_hint_is_dropped_and_the_rest_kept() {
        let mut h = HeaderMap::new();
        h.insert(FIRST_PUBLISH, "1");
        h.insert("Nats-Msg-Id", "a/b/telegram");
        h.append("X-Two", "1");
        h.append("X-Two", "2");
        let kept = without_hint(&h);
        assert!(kept.get(FIRST_PUBLISH).is_none());
        assert_eq!(kept.get("Nats-Msg-Id").unwrap().as_str(), "a/b/telegram");
        assert_eq!(kept.get_all("X-Two").count(), 2);
    }
}
