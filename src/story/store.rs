//! The story index that instances share and that survives restarts: a
//! JetStream key-value bucket (`story.bucket`, entries kept
//! `story.window_secs`), holding
//! - `band.<i>.<hex>` → the live stories listed under that LSH band
//!   ([`BandEntry`] list, JSON);
//! - `story.<id>` → the [`StoryRecord`] (first copy's shingles, sources);
//! - `article.<digest>` → the [`Assignment`] an article got, created once,
//!   so a redelivered article gets the same answer;
//! - `alerted.<story>.<digest of subscriber>` → the article whose alert
//!   the subscriber got for that story: created by the first copy
//!   ([`StoryStore::first_for`]), so later copies, on any instance, see it.
//!
//! Lists and records change by compare-and-set on the key's revision
//! (read, change, `update` with the revision read; again on a conflict),
//! claims by `create`. The decision itself is [`cluster::decide`], as in
//! the in-memory [`super::Clusterer`]. Two copies processed at the same
//! moment on two instances can both start a story (both alert): a rare
//! duplicate rather than a lost alert.

use super::cluster::{self, Assignment, BandEntry, StoryParams, StoryRecord};
use super::minhash::band_keys;
use super::shingle::Shingles;
use crate::deliver::ledger::digest;
use async_nats::jetstream::kv;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Attempts of one compare-and-set before giving up (each loses only to
/// another writer's success).
const CAS_ATTEMPTS: usize = 16;

/// A key-value failure (transient: NATS unreachable, timeouts, conflicts
/// that kept losing).
#[derive(Debug, Clone, thiserror::Error)]
#[error("story index: {0}")]
pub struct StoreError(String);

fn err(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError(format!("{what}: {e}"))
}

/// The shared story index.
#[derive(Clone)]
pub struct StoryStore {
    kv: kv::Store,
    params: StoryParams,
}

impl StoryStore {
    pub fn new(kv: kv::Store, params: StoryParams) -> Self {
        StoryStore { kv, params }
    }

    /// Assign article `article_id` (from `source`) to a story, as
    /// [`super::Clusterer::assign`] does; `None` for a text without
    /// shingles.
    ///
    /// # Errors
    /// The bucket could not be read or written.
    pub async fn assign(
        &self,
        article_id: &str,
        source: &str,
        shingles: &Shingles,
        now_ms: i64,
    ) -> Result<Option<Assignment>, StoreError> {
        let article_key = format!("article.{}", digest(article_id));
        if let Some(done) = self.read::<Assignment>(&article_key).await? {
            return Ok(Some(done.0));
        }
        let keys = band_keys(shingles);
        if keys.is_empty() {
            return Ok(None);
        }
        let p = self.params;
        let bands =
            futures::future::try_join_all(keys.iter().map(|k| self.read::<Vec<BandEntry>>(k)))
                .await?;
        let listed = cluster::candidates(bands.iter().flatten().flat_map(|(l, _)| l), now_ms, &p);
        let story_keys: Vec<String> = listed.iter().map(|id| story_key(id)).collect();
        let records: Vec<StoryRecord> =
            futures::future::try_join_all(story_keys.iter().map(|k| self.read::<StoryRecord>(k)))
                .await?
                .into_iter()
                .flatten()
                .map(|(r, _)| r)
                .collect();
        let joined = cluster::decide(shingles, &records, now_ms, &p).map(|s| s.id.clone());
        let assignment = match joined {
            Some(id) => {
                let record = self
                    .change(&story_key(&id), |r: Option<StoryRecord>| {
                        r.map(|mut r| {
                            r.add_source(source);
                            r
                        })
                    })
                    .await?;
                Assignment {
                    story: id,
                    first: false,
                    sources: record.map_or(1, |r| r.sources.len()),
                }
            }
            None => {
                let story = StoryRecord::new(
                    cluster::story_id(article_id),
                    shingles,
                    source.into(),
                    now_ms,
                );
                self.change(&story_key(&story.id), |_: Option<StoryRecord>| {
                    Some(story.clone())
                })
                .await?;
                futures::future::try_join_all(keys.iter().map(|k| {
                    self.change(k, |l: Option<Vec<BandEntry>>| {
                        Some(cluster::add_to_band(
                            l.unwrap_or_default(),
                            &story,
                            now_ms,
                            &p,
                        ))
                    })
                }))
                .await?;
                Assignment {
                    story: story.id,
                    first: true,
                    sources: 1,
                }
            }
        };
        let value = serde_json::to_vec(&assignment).map_err(|e| err("encode", e))?;
        match self.kv.create(&article_key, value.into()).await {
            Ok(_) => Ok(Some(assignment)),
            // Another instance assigned this same article meanwhile: its
            // answer stands.
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(self
                .read::<Assignment>(&article_key)
                .await?
                .map(|(a, _)| a)
                .or(Some(assignment))),
            Err(e) => Err(err("create article", e)),
        }
    }

    /// Whether `article_id` is the copy of `story` that `subscriber` is
    /// alerted for: true for the first copy that asks (it claims the
    /// story for the subscriber) and for that copy again (a redelivery).
    ///
    /// # Errors
    /// The bucket could not be read or written.
    pub async fn first_for(
        &self,
        story: &str,
        subscriber: &str,
        article_id: &str,
    ) -> Result<bool, StoreError> {
        let key = format!("alerted.{story}.{}", &digest(subscriber)[..24]);
        match self.kv.create(&key, article_id.to_string().into()).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {
                let holder = self.kv.get(&key).await.map_err(|e| err("get", e))?;
                Ok(holder.is_some_and(|h| h == article_id.as_bytes()))
            }
            Err(e) => Err(err("claim", e)),
        }
    }

    /// Distinct sources of story `id` so far (0 when unknown or expired).
    ///
    /// # Errors
    /// The bucket could not be read.
    pub async fn sources(&self, id: &str) -> Result<usize, StoreError> {
        Ok(self
            .read::<StoryRecord>(&story_key(id))
            .await?
            .map_or(0, |(r, _)| r.sources.len()))
    }

    /// The value of `key` and its revision; `None` if absent, deleted or
    /// unreadable (an unreadable value is logged and treated as absent).
    async fn read<T: DeserializeOwned>(&self, key: &str) -> Result<Option<(T, u64)>, StoreError> {
        let entry = self.kv.entry(key).await.map_err(|e| err("get", e))?;
        Ok(entry.and_then(|e| {
            if !matches!(e.operation, kv::Operation::Put) {
                return None;
            }
            match serde_json::from_slice(&e.value) {
                Ok(v) => Some((v, e.revision)),
                Err(why) => {
                    tracing::warn!(key, error = %why, "unreadable story index entry; ignoring it");
                    None
                }
            }
        }))
    }

    /// Compare-and-set `key` to `f(current)` (nothing written for `None`);
    /// returns what was written.
    async fn change<T: Serialize + DeserializeOwned>(
        &self,
        key: &str,
        mut f: impl FnMut(Option<T>) -> Option<T>,
    ) -> Result<Option<T>, StoreError> {
        for _ in 0..CAS_ATTEMPTS {
            let (current, revision) = match self.read::<T>(key).await? {
                Some((v, r)) => (Some(v), Some(r)),
                None => (None, None),
            };
            let Some(next) = f(current) else {
                return Ok(None);
            };
            let bytes: bytes::Bytes = serde_json::to_vec(&next)
                .map_err(|e| err("encode", e))?
                .into();
            let written = match revision {
                Some(r) => self
                    .kv
                    .update(key, bytes, r)
                    .await
                    .map_err(|e| e.to_string()),
                None => self.kv.create(key, bytes).await.map_err(|e| e.to_string()),
            };
            match written {
                Ok(_) => return Ok(Some(next)),
                Err(e) => tracing::debug!(key, error = %e, "story index write lost a race; again"),
            }
        }
        Err(StoreError(format!("{key}: kept losing concurrent writes")))
    }
}

fn story_key(id: &str) -> String {
    format!("story.{id}")
}
