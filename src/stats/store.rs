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
use crate::observe::Metrics;
use crate::reload::SharedRuleBook;
use crate::retry::{Failure, RetryPolicy, retry};
use crate::settings::StatsSettings;
use crate::shutdown::{Stopping, sleep_unless_stopping};
use async_nats::jetstream::{self, kv};
use futures::{StreamExt, TryStreamExt};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// How a compare-and-set that lost (another instance wrote the key
/// first) or failed is tried again: quickly, with jitter so competing
/// writers spread out, for a few seconds at most (then the delta waits for
/// the next flush).
const CAS_POLICY: RetryPolicy = RetryPolicy {
    max_attempts: 0,
    max_elapsed: Some(Duration::from_secs(3)),
    initial: Duration::from_millis(5),
    max: Duration::from_millis(200),
    shutdown_grace: Duration::from_secs(1),
};
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
    /// A write that lost to another writer, or failed, is tried again
    /// under [`CAS_POLICY`].
    ///
    /// # Errors
    /// NATS kept failing, or other writers kept winning.
    pub async fn add(&self, key: &str, delta: &Counters) -> Result<(), String> {
        let what = format!("rule stats {key}");
        let never = Stopping::new();
        retry(&CAS_POLICY, &never, &what, |_| async {
            self.try_add(key, delta).await.map_err(Failure::transient)
        })
        .await
        .map_err(|e| format!("{what}: {e}"))
    }

    /// One compare-and-set attempt.
    async fn try_add(&self, key: &str, delta: &Counters) -> Result<(), String> {
        let entry = self.kv.entry(key).await.map_err(|e| e.to_string())?;
        let (mut c, revision) = match entry.filter(|e| e.operation == kv::Operation::Put) {
            Some(e) => {
                let c = serde_json::from_slice(&e.value).unwrap_or_else(|err| {
                    tracing::warn!(key, error = %err, "unreadable rule stats; starting again");
                    Counters::default()
                });
                (c, Some(e.revision))
            }
            None => (
                Counters {
                    first_seen_ms: Some(now_ms()),
                    ..Counters::default()
                },
                None,
            ),
        };
        c.add(delta);
        let value = serde_json::to_vec(&c).map_err(|e| e.to_string())?.into();
        match revision {
            Some(r) => self
                .kv
                .update(key, value, r)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            None => self
                .kv
                .create(key, value)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        }
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

/// A running flusher; dropped without [`Flusher::stop`] (the service
/// ended abruptly), it stops at once and what it holds is lost, as in a
/// crash.
pub struct Flusher {
    stopping: Stopping,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Flusher {
    /// Flush once more and stop.
    pub async fn stop(mut self) {
        self.stopping.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// The counting handle for `settings` (alert outcomes also counted in
/// `metrics`) and, when enabled, its flusher on `broker`, registering the
/// rules of `rules` as they change.
///
/// # Errors
/// The bucket cannot be created.
pub async fn start(
    settings: &StatsSettings,
    broker: &Broker,
    rules: SharedRuleBook,
    metrics: Arc<Metrics>,
) -> Result<(RuleStats, Option<Flusher>), NatsError> {
    if !settings.enabled {
        return Ok((RuleStats::disabled(), None));
    }
    let store = StatsStore::open(broker, &settings.bucket).await?;
    let stats = RuleStats::new().reporting_to(metrics);
    let stopping = Stopping::new();
    let task = tokio::spawn(run(
        store,
        stats.clone(),
        rules,
        settings.flush_every(),
        stopping.clone(),
    ));
    Ok((
        stats,
        Some(Flusher {
            stopping,
            task: Some(task),
        }),
    ))
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
