//! The counters' key-value bucket: one key per rule ([`rule_key`]) plus
//! [`ARTICLES_KEY`], each a JSON [`Counters`]. Deltas are added with a
//! compare-and-set (read the entry and its revision, write the sum only
//! if the revision is still the latest, else read again), so several
//! instances flushing the same key never lose a count. [`start`] runs an
//! instance's flusher: it registers every rule of the book in force
//! (first-seen time, at start and after each reload) and flushes the
//! handle's counts every `stats.flush_secs`, and once more on
//! [`Flusher::stop`].

use super::counts::{ARTICLES_KEY, Counters, rule_id, rule_key};
use super::{Pending, RuleStats, now_ms};
use crate::nats::{Broker, NatsError};
use crate::reload::SharedRuleBook;
use crate::settings::StatsSettings;
use crate::shutdown::{Stopping, sleep_unless_stopping};
use async_nats::jetstream::{self, kv};
use futures::{StreamExt, TryStreamExt};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// Reads and compare-and-set writes tried per key and flush.
const CAS_ATTEMPTS: usize = 10;
/// Keys written or read at once.
const AT_ONCE: usize = 32;

/// The bucket's content.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub rules: HashMap<String, Counters>,
    /// Articles counted (`matched`) and since when (`first_seen_ms`).
    pub articles: Counters,
}

/// The counters' bucket.
#[derive(Clone)]
pub struct StatsStore {
    kv: kv::Store,
}

impl StatsStore {
    /// The bucket `name`, created if missing (entries kept forever).
    ///
    /// # Errors
    /// JetStream refused.
    pub async fn open(broker: &Broker, name: &str) -> Result<StatsStore, NatsError> {
        Ok(StatsStore {
            kv: broker.bucket(name, Duration::ZERO).await?,
        })
    }

    /// The bucket `name` if it exists (readers create nothing).
    pub async fn existing(js: &jetstream::Context, name: &str) -> Option<StatsStore> {
        js.get_key_value(name)
            .await
            .ok()
            .map(|kv| StatsStore { kv })
    }

    /// Add `delta` to `key` (created with first-seen = now if missing).
    ///
    /// # Errors
    /// NATS failed, or other writers won every attempt.
    pub async fn add(&self, key: &str, delta: &Counters) -> Result<(), String> {
        let mut last = String::new();
        for _ in 0..CAS_ATTEMPTS {
            let entry = self.kv.entry(key).await.map_err(|e| e.to_string())?;
            let written = match entry.filter(|e| e.operation == kv::Operation::Put) {
                Some(e) => {
                    let mut c: Counters = serde_json::from_slice(&e.value).unwrap_or_else(|err| {
                        tracing::warn!(key, error = %err, "unreadable rule stats; starting again");
                        Counters::default()
                    });
                    c.add(delta);
                    let value = serde_json::to_vec(&c).map_err(|e| e.to_string())?;
                    self.kv
                        .update(key, value.into(), e.revision)
                        .await
                        .map(drop)
                        .map_err(|e| e.to_string())
                }
                None => {
                    let mut c = delta.clone();
                    c.first_seen_ms.get_or_insert_with(now_ms);
                    let value = serde_json::to_vec(&c).map_err(|e| e.to_string())?;
                    self.kv
                        .create(key, value.into())
                        .await
                        .map(drop)
                        .map_err(|e| e.to_string())
                }
            };
            match written {
                Ok(()) => return Ok(()),
                // Another writer was first: read again.
                Err(e) => last = e,
            }
        }
        Err(format!("{key}: {CAS_ATTEMPTS} attempts lost: {last}"))
    }

    /// Add every count of `pending`; what could not be stored is returned.
    pub async fn flush(&self, pending: Pending) -> Pending {
        let mut writes: Vec<(String, Option<String>, Counters)> = pending
            .rules
            .into_iter()
            .map(|(id, c)| (rule_key(&id), Some(id), c))
            .collect();
        if pending.articles > 0 {
            let c = Counters {
                matched: pending.articles,
                ..Counters::default()
            };
            writes.push((ARTICLES_KEY.to_string(), None, c));
        }
        let failed: Vec<_> = futures::stream::iter(writes)
            .map(|(key, id, c)| async move {
                match self.add(&key, &c).await {
                    Ok(()) => None,
                    Err(e) => {
                        tracing::warn!(error = %e, "rule stats not stored; will try again");
                        Some((id, c))
                    }
                }
            })
            .buffer_unordered(AT_ONCE)
            .filter_map(|f| async move { f })
            .collect()
            .await;
        let mut back = Pending::default();
        for (id, c) in failed {
            match id {
                Some(id) => drop(back.rules.insert(id, c)),
                None => back.articles += c.matched,
            }
        }
        back
    }

    /// Record first-seen = now for those of `ids` the bucket lacks.
    ///
    /// # Errors
    /// The bucket's keys cannot be listed.
    pub async fn register(&self, ids: &[String]) -> Result<(), String> {
        let known: HashSet<String> = self.keys().await?.into_iter().collect();
        let first_seen = Counters {
            first_seen_ms: Some(now_ms()),
            ..Counters::default()
        };
        let missing = ids.iter().map(|id| rule_key(id));
        let missing = missing.filter(|k| !known.contains(k));
        futures::stream::iter(missing)
            .for_each_concurrent(AT_ONCE, |key| {
                let value = serde_json::to_vec(&first_seen).unwrap_or_default();
                async move {
                    // Already there (another instance): nothing to do.
                    let _ = self.kv.create(&key, value.into()).await;
                }
            })
            .await;
        Ok(())
    }

    async fn keys(&self) -> Result<Vec<String>, String> {
        let keys = self.kv.keys().await.map_err(|e| e.to_string())?;
        keys.try_collect().await.map_err(|e| e.to_string())
    }

    /// Everything in the bucket.
    ///
    /// # Errors
    /// NATS failed.
    pub async fn read(&self) -> Result<Snapshot, String> {
        let entries: Vec<(String, Counters)> = futures::stream::iter(self.keys().await?)
            .map(|key| async move {
                let value = self.kv.get(&key).await.map_err(|e| e.to_string())?;
                let c = value
                    .and_then(|v| serde_json::from_slice(&v).ok())
                    .unwrap_or_default();
                Ok::<_, String>((key, c))
            })
            .buffer_unordered(AT_ONCE)
            .try_collect()
            .await?;
        let mut snapshot = Snapshot::default();
        for (key, c) in entries {
            match rule_id(&key) {
                Some(id) => drop(snapshot.rules.insert(id, c)),
                None if key == ARTICLES_KEY => snapshot.articles = c,
                None => {}
            }
        }
        Ok(snapshot)
    }
}

/// A running flusher.
pub struct Flusher {
    stopping: Stopping,
    task: tokio::task::JoinHandle<()>,
}

impl Flusher {
    /// Flush once more and stop.
    pub async fn stop(self) {
        self.stopping.cancel();
        let _ = self.task.await;
    }
}

/// The counting handle for `settings` and, when enabled, its flusher on
/// `broker`, registering the rules of `rules` as they change.
///
/// # Errors
/// The bucket cannot be created.
pub async fn start(
    settings: &StatsSettings,
    broker: &Broker,
    rules: SharedRuleBook,
) -> Result<(RuleStats, Option<Flusher>), NatsError> {
    if !settings.enabled {
        return Ok((RuleStats::disabled(), None));
    }
    let store = StatsStore::open(broker, &settings.bucket).await?;
    let stats = RuleStats::new();
    let stopping = Stopping::new();
    let task = tokio::spawn(run(
        store,
        stats.clone(),
        rules,
        settings.flush_every(),
        stopping.clone(),
    ));
    Ok((stats, Some(Flusher { stopping, task })))
}

async fn run(
    store: StatsStore,
    stats: RuleStats,
    rules: SharedRuleBook,
    every: Duration,
    stopping: Stopping,
) {
    let mut books = rules.subscribe();
    books.mark_changed();
    loop {
        if books.has_changed().unwrap_or(false) {
            let ids: Vec<String> = books
                .borrow_and_update()
                .rules
                .iter()
                .map(|r| r.id.clone())
                .collect();
            if let Err(e) = store.register(&ids).await {
                tracing::warn!(error = %e, "cannot register the rules' first-seen times; will try again");
                books.mark_changed();
            }
        }
        let running = sleep_unless_stopping(every, &stopping).await;
        let pending = stats.take();
        if !pending.is_empty() {
            stats.give_back(store.flush(pending).await);
        }
        if !running {
            return;
        }
    }
}
