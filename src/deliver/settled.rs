//! The delivery record of an article's email batches ([`super::batch`]):
//! which of its subscribers are settled (mailed, or dead-lettered), one key
//! in the sent bucket per article (the digest of
//! [`record_key`](super::batch::record_key)), value a JSON array of
//! subscriber ids.
//!
//! A delivery of a batch reads the record once ([`Settled::load`]) and
//! skips the subscribers it names, so a redelivery, however late, mails
//! nobody twice. Each settled subscriber is written back before the batch
//! is acked, by group commit ([`Settled::settle`]): one write in flight at
//! a time, carrying every subscriber settled while the previous one was
//! on the wire, so an article's dozens of mails cost a few writes, not one
//! each. Writes are compare-and-set on the key's revision: two instances
//! handling batches of one article (a redelivery after an ack timeout, a
//! large article's several batches) merge their sets, never overwrite.
//!
//! Failures are handled as the per-alert sent log's
//! ([`super::ledger::Ledger`]): retried for up to
//! [`RECORD_FOR`]; a record that cannot be read counts as empty and one
//! that cannot be written is logged, because a possible duplicate beats a
//! loss.

use super::ledger::{RECORD_FOR, Stopped, digest, ledger_policy};
use crate::retry::{Failure, RetryError, retry};
use crate::shutdown::Stopping;
use async_nats::jetstream::kv::{self, Operation};
use std::collections::BTreeSet;
use std::time::Instant;

/// The record as last read or written.
#[derive(Debug, Default)]
struct Written {
    /// The key's revision; `None`: no entry seen (create it).
    revision: Option<u64>,
    ids: BTreeSet<String>,
}

/// One article's email delivery record.
pub struct Settled {
    store: kv::Store,
    key: String,
    /// Subscribers settled since the last write started.
    pending: std::sync::Mutex<BTreeSet<String>>,
    /// Held while a write is in flight.
    written: tokio::sync::Mutex<Written>,
    /// What the record held when this delivery started.
    at_load: BTreeSet<String>,
}

impl Settled {
    /// Read the record of `record_key` (see [`super::batch::record_key`]).
    ///
    /// # Errors
    /// `stopping` fired first: hand the batch back, send nothing.
    pub async fn load(
        store: kv::Store,
        record_key: &str,
        stopping: &Stopping,
    ) -> Result<Settled, Stopped> {
        let key = digest(record_key);
        let read = retry(
            &ledger_policy(),
            stopping,
            "delivery-record read",
            |_| async { read(&store, &key).await.map_err(Failure::transient) },
        )
        .await;
        let written = match read {
            Ok(w) => w,
            Err(RetryError::Stopped) => return Err(Stopped),
            Err(e) => {
                tracing::warn!(error = %e, "delivery-record read failed; sending anyway");
                Written::default()
            }
        };
        Ok(Settled {
            store,
            key,
            pending: std::sync::Mutex::default(),
            at_load: written.ids.clone(),
            written: tokio::sync::Mutex::new(written),
        })
    }

    /// Whether `subscriber` was settled before this delivery.
    pub fn contains(&self, subscriber: &str) -> bool {
        self.at_load.contains(subscriber)
    }

    /// Record `subscriber` as settled; returns once a write holding it is
    /// stored (or, after [`RECORD_FOR`] of failures, logged as lost).
    pub async fn settle(&self, subscriber: &str) {
        self.lock_pending().insert(subscriber.to_string());
        let mut written = self.written.lock().await;
        if written.ids.contains(subscriber) {
            return; // a write that finished meanwhile carried it
        }
        let mut next = written.ids.clone();
        next.append(&mut self.lock_pending());
        let policy = ledger_policy();
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let e = match self.write(&mut written, &next).await {
                Ok(()) => return,
                Err(Write::Conflict(current)) => {
                    // Another writer got in first: merge, and write again.
                    next.extend(current.ids.iter().cloned());
                    written.revision = current.revision;
                    written.ids = current.ids;
                    continue;
                }
                Err(Write::Failed(e)) => e,
            };
            if started.elapsed() >= RECORD_FOR {
                tracing::warn!(error = %e, "could not record settled mails; a redelivery may duplicate them");
                return;
            }
            tokio::time::sleep(policy.delay(attempt, None)).await;
        }
    }

    /// Store `ids` over the revision in `written`.
    async fn write(&self, written: &mut Written, ids: &BTreeSet<String>) -> Result<(), Write> {
        let value = serde_json::to_vec(ids).unwrap_or_default();
        let stored = match written.revision {
            None => (self.store.create(&self.key, value.into()).await).map_err(|e| {
                let conflict = e.kind() == kv::CreateErrorKind::AlreadyExists;
                (conflict, e.to_string())
            }),
            Some(revision) => {
                (self.store.update(&self.key, value.into(), revision).await).map_err(|e| {
                    let conflict = e.kind() == kv::UpdateErrorKind::WrongLastRevision;
                    (conflict, e.to_string())
                })
            }
        };
        match stored {
            Ok(revision) => {
                written.revision = Some(revision);
                written.ids = ids.clone();
                Ok(())
            }
            Err((true, _)) => match read(&self.store, &self.key).await {
                Ok(current) => Err(Write::Conflict(current)),
                Err(e) => Err(Write::Failed(e)),
            },
            Err((false, e)) => Err(Write::Failed(e)),
        }
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

enum Write {
    /// The key changed since it was read: what it holds now.
    Conflict(Written),
    Failed(String),
}

/// The record under `key` now (an empty one if absent or deleted).
async fn read(store: &kv::Store, key: &str) -> Result<Written, String> {
    let entry = store.entry(key).await.map_err(|e| e.to_string())?;
    Ok(match entry {
        None => Written::default(),
        Some(e) => Written {
            revision: Some(e.revision),
            ids: match e.operation {
                Operation::Put => parse(&e.value),
                Operation::Delete | Operation::Purge => BTreeSet::new(),
            },
        },
    })
}

/// A stored value; unreadable ones count as empty (logged).
fn parse(value: &[u8]) -> BTreeSet<String> {
    serde_json::from_slice(value).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "unreadable delivery record; treating it as empty");
        BTreeSet::new()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_and_bad_ones_are_empty() {
        let ids: BTreeSet<String> = ["a".to_string(), "b".to_string()].into();
        let value = serde_json::to_vec(&ids).unwrap();
        assert_eq!(value, b"[\"a\",\"b\"]");
        assert_eq!(parse(&value), ids);
        assert!(parse(b"not json").is_empty());
    }
}
