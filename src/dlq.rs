//! The dead-letter stream, in one place: the header names, putting a
//! message that can never be processed into the stream ([`dead_letter`],
//! called by the article and alert handlers), and, for operators, listing
//! entries and replaying them (re-publishing to their original subject)
//! once the cause is fixed. Replaying an alert whose target had been
//! disabled re-enables the target first; replayed entries are removed.

use crate::consume::Outcome;
use crate::deliver::batch::ALERT_BATCH;
use crate::deliver::ledger::Ledger;
use crate::nats::{self, Broker, NatsError};
use crate::retry::RetryPolicy;
use async_nats::HeaderMap;
use async_nats::jetstream;
use serde::Serialize;
use std::time::Duration;

/// Why the message was dead-lettered, for people.
pub const REASON: &str = "Newsalert-Reason";
/// Why the message was dead-lettered, for machines (`bad_json`, ...).
pub const KIND: &str = "Newsalert-Error-Kind";
/// The subject the message was published on.
pub const ORIGINAL_SUBJECT: &str = "Newsalert-Original-Subject";
/// The stream the message was read from.
pub const ORIGINAL_STREAM: &str = "Newsalert-Original-Stream";
/// Its sequence in that stream.
pub const STREAM_SEQUENCE: &str = "Newsalert-Stream-Sequence";
/// How often it had been delivered.
pub const DELIVERY_COUNT: &str = "Newsalert-Delivery-Count";
/// For one event of a batch: its index in the batch.
pub const BATCH_INDEX: &str = "Newsalert-Batch-Index";
/// Prefix of every header above (dropped on replay).
const PREFIX: &str = "Newsalert-";

/// Why and where a message is dead-lettered.
#[derive(Debug, Clone, Copy)]
pub struct DeadLetter<'a> {
    /// Machine-readable reason (`bad_json`, `permanent`, ...).
    pub kind: &'a str,
    /// Human-readable reason.
    pub reason: &'a str,
    /// `articles` or `alerts`: the last subject token.
    pub category: &'a str,
    /// Only this element of a batch (its index and JSON), not the whole
    /// message.
    pub element: Option<(usize, &'a [u8])>,
}

/// Dead-letter `msg`: [`Outcome::Ack`] once the dead letter is stored,
/// else retry the original later, backing off by its delivery count
/// (never ack what was not kept).
pub async fn dead_letter(
    broker: &Broker,
    msg: &jetstream::Message,
    letter: DeadLetter<'_>,
) -> Outcome {
    match publish(broker, msg, letter).await {
        Ok(()) => Outcome::Ack,
        Err(e) => {
            let outcome = Outcome::retry_later(&publish_retry(), msg);
            tracing::error!(error = %e, ?outcome, "dead-letter publish failed; will retry");
            outcome
        }
    }
}

/// How a message whose dead letter could not be stored is retried.
fn publish_retry() -> RetryPolicy {
    RetryPolicy::forever(Duration::from_secs(1), Duration::from_secs(60))
}

/// Put `msg` into the dead-letter stream (subject
/// `<dead_letter_subject>.<category>`), with the reason, original subject
/// and headers, stream sequence and delivery count.
///
/// # Errors
/// The dead-letter publish was not acknowledged (the caller must then
/// not ack the original).
async fn publish(
    broker: &Broker,
    msg: &jetstream::Message,
    letter: DeadLetter<'_>,
) -> Result<(), NatsError> {
    let (stream, seq, delivered) = msg
        .info()
        .map(|i| (i.stream.to_string(), i.stream_sequence, i.delivered))
        .unwrap_or_default();
    let mut headers = msg.headers.clone().unwrap_or_default();
    let (id, payload) = match letter.element {
        None => (format!("dlq-{stream}-{seq}"), msg.payload.clone()),
        Some((index, element)) => {
            // Alone, the element is one event (a structured CloudEvent)
            // or one alert, not a batch.
            let typed = nats::header_value(&headers, "content-type").is_some();
            headers = without(&headers, &["content-type", ALERT_BATCH]);
            if typed {
                headers.insert("content-type", "application/cloudevents+json");
            }
            headers.insert(BATCH_INDEX, index.to_string().as_str());
            (
                format!("dlq-{stream}-{seq}-{index}"),
                bytes::Bytes::copy_from_slice(element),
            )
        }
    };
    headers.insert(REASON, letter.reason.replace(['\r', '\n'], " ").as_str());
    headers.insert(KIND, letter.kind);
    headers.insert(ORIGINAL_SUBJECT, msg.subject.as_str());
    headers.insert(ORIGINAL_STREAM, stream.as_str());
    headers.insert(STREAM_SEQUENCE, seq.to_string().as_str());
    headers.insert(DELIVERY_COUNT, delivered.to_string().as_str());
    broker
        .publish(
            format!("{}.{}", broker.dead_letter_subject(), letter.category),
            &id,
            Some(headers),
            payload,
        )
        .await
}

/// `headers` without any of `names` (whatever their case).
fn without(headers: &HeaderMap, names: &[&str]) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (name, values) in headers.iter() {
        let name: &str = name.as_ref();
        if !names.iter().any(|n| name.eq_ignore_ascii_case(n)) {
            for v in values {
                out.append(name, v.as_str());
            }
        }
    }
    out
}

/// One dead letter.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Sequence in the dead-letter stream: the id for `dlq replay`.
    pub id: u64,
    pub time: String,
    pub kind: String,
    pub reason: String,
    pub original_subject: String,
    pub deliveries: String,
    /// The payload, lossily decoded and shortened for display.
    pub preview: String,
    #[serde(skip)]
    headers: HeaderMap,
    #[serde(skip)]
    payload: bytes::Bytes,
}

fn header(h: &HeaderMap, name: &str) -> String {
    h.get(name).map(|v| v.to_string()).unwrap_or_default()
}

/// Every entry of the dead-letter stream, oldest first.
///
/// # Errors
/// The stream cannot be read.
pub async fn list(broker: &Broker, stream: &str) -> Result<Vec<Entry>, String> {
    let mut s = broker
        .js
        .get_stream(stream)
        .await
        .map_err(|e| format!("dead-letter stream {stream}: {e}"))?;
    let state = s.info().await.map_err(|e| e.to_string())?.state.clone();
    let mut out = Vec::new();
    if state.messages == 0 {
        return Ok(out);
    }
    for seq in state.first_sequence..=state.last_sequence {
        // Deleted (replayed) sequences leave gaps.
        let Ok(m) = s.get_raw_message(seq).await else {
            continue;
        };
        let preview: String = String::from_utf8_lossy(&m.payload)
            .chars()
            .take(120)
            .collect();
        out.push(Entry {
            id: seq,
            time: m.time.to_string(),
            kind: header(&m.headers, KIND),
            reason: header(&m.headers, REASON),
            original_subject: header(&m.headers, ORIGINAL_SUBJECT),
            deliveries: header(&m.headers, DELIVERY_COUNT),
            preview,
            headers: m.headers.clone(),
            payload: m.payload.clone(),
        });
    }
    Ok(out)
}

/// Re-publish `entry` to its original subject and delete it from the
/// dead-letter stream.
///
/// # Errors
/// The publish or the delete failed (the entry then stays).
pub async fn replay(
    broker: &Broker,
    stream: &str,
    entry: &Entry,
    ledger: &Ledger,
) -> Result<(), String> {
    if entry.original_subject.is_empty() {
        return Err(format!("entry {}: no original subject", entry.id));
    }
    if matches!(
        entry.kind.as_str(),
        "target_unreachable" | "target_disabled"
    ) && let Ok(alert) = serde_json::from_slice::<crate::alert::Alert>(&entry.payload)
    {
        ledger.enable(&alert.target).await;
    }
    let mut headers = HeaderMap::new();
    for (name, values) in entry.headers.iter() {
        let name: &str = name.as_ref();
        if name.starts_with(PREFIX) || name == nats::MSG_ID {
            continue;
        }
        for v in values {
            headers.append(name, v.as_str());
        }
    }
    let original_id = entry
        .headers
        .get(nats::MSG_ID)
        .map(|v| v.to_string())
        .unwrap_or_default();
    let msg_id = format!("replay-{}-{original_id}", entry.id);
    broker
        .publish(
            entry.original_subject.clone(),
            &msg_id,
            Some(headers),
            entry.payload.clone(),
        )
        .await
        .map_err(|e| format!("entry {}: {e}", entry.id))?;
    let s = broker
        .js
        .get_stream(stream)
        .await
        .map_err(|e| e.to_string())?;
    s.delete_message(entry.id)
        .await
        .map_err(|e| format!("entry {} replayed but not removed: {e}", entry.id))?;
    Ok(())
}
