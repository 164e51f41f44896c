//! The dead-letter stream, for operators: list what is in it, and replay
//! entries (re-publish them to their original subject) once the cause is
//! fixed. Replaying an alert whose target had been disabled re-enables the
//! target first. Replayed entries are removed from the stream.

use crate::deliver::ledger::Ledger;
use crate::nats::{self, Broker};
use async_nats::HeaderMap;
use serde::Serialize;

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
            kind: header(&m.headers, nats::DLQ_KIND),
            reason: header(&m.headers, nats::DLQ_REASON),
            original_subject: header(&m.headers, nats::DLQ_SUBJECT),
            deliveries: header(&m.headers, nats::DLQ_DELIVERIES),
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
        if name.starts_with("Newsalert-") || name == nats::MSG_ID {
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
