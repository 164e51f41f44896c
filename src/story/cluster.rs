//! The clustering decision, pure and synchronous: which live story a new
//! article joins ([`decide`]), what a story and a band of the index hold
//! ([`StoryRecord`], [`BandEntry`]), and [`Clusterer`], the whole index in
//! memory with exactly the semantics of the key-value one
//! ([`super::store`]): both gather the same inputs and call [`decide`].

use super::minhash::band_keys;
use super::shingle::Shingles;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// At most this many sources are remembered per story (the count shown
/// stops there).
pub const MAX_SOURCES: usize = 100;

/// How stories are told apart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoryParams {
    /// A story takes copies for this long after its first copy
    /// (milliseconds).
    pub window_ms: i64,
    /// Least [`Shingles::similarity`] of a copy to the story's first copy.
    pub threshold: f64,
}

/// A story: its first copy's shingles and the sources seen so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoryRecord {
    pub id: String,
    /// When its first copy arrived (Unix milliseconds).
    pub created_ms: i64,
    /// The first copy's shingles, sorted.
    pub shingles: Vec<u64>,
    /// Distinct sources of its copies, the first copy's first.
    pub sources: Vec<String>,
}

impl StoryRecord {
    /// A story whose first copy is from `source`, arriving `now_ms`.
    pub fn new(id: String, shingles: &Shingles, source: String, now_ms: i64) -> Self {
        StoryRecord {
            id,
            created_ms: now_ms,
            shingles: shingles.hashes().to_vec(),
            sources: vec![source],
        }
    }

    /// Whether the story still takes copies at `now_ms`.
    pub fn live(&self, now_ms: i64, params: &StoryParams) -> bool {
        now_ms - self.created_ms < params.window_ms
    }

    /// Count `source` (once); false if it was counted before or the list
    /// is full.
    pub fn add_source(&mut self, source: &str) -> bool {
        if self.sources.len() >= MAX_SOURCES || self.sources.iter().any(|s| s == source) {
            return false;
        }
        self.sources.push(source.to_string());
        true
    }
}

/// One story listed under a band key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandEntry {
    pub story: String,
    pub created_ms: i64,
}

/// What the index decided for one article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// The story's id (its first copy's [`story_id`]).
    pub story: String,
    /// This article is the story's first copy.
    pub first: bool,
    /// Distinct sources of the story once this article is counted.
    pub sources: usize,
}

/// The id of a story whose first copy is `article_id`: a hex digest, a
/// valid key-value key token.
pub fn story_id(article_id: &str) -> String {
    crate::deliver::ledger::digest(article_id)[..24].to_string()
}

/// The live stories listed under any of an article's bands, each once.
pub fn candidates<'a>(
    bands: impl IntoIterator<Item = &'a BandEntry>,
    now_ms: i64,
    params: &StoryParams,
) -> Vec<String> {
    let mut out: Vec<String> = bands
        .into_iter()
        .filter(|e| now_ms - e.created_ms < params.window_ms)
        .map(|e| e.story.clone())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The story a copy with `shingles` joins: among the live `stories`
/// (candidates from its bands), the most similar one at or above the
/// threshold; ties go to the older story, then the smaller id. `None`:
/// the article starts a story of its own.
pub fn decide<'a>(
    shingles: &Shingles,
    stories: impl IntoIterator<Item = &'a StoryRecord>,
    now_ms: i64,
    params: &StoryParams,
) -> Option<&'a StoryRecord> {
    stories
        .into_iter()
        .filter(|s| s.live(now_ms, params))
        .map(|s| {
            let theirs = Shingles::from_hashes(s.shingles.clone());
            (shingles.similarity(&theirs), s)
        })
        .filter(|(sim, _)| *sim >= params.threshold)
        .min_by(|(a, s), (b, t)| {
            b.total_cmp(a)
                .then(s.created_ms.cmp(&t.created_ms))
                .then(s.id.cmp(&t.id))
        })
        .map(|(_, s)| s)
}

/// The band list after adding `story`: dead entries dropped.
pub fn add_to_band(
    mut entries: Vec<BandEntry>,
    story: &StoryRecord,
    now_ms: i64,
    params: &StoryParams,
) -> Vec<BandEntry> {
    entries.retain(|e| now_ms - e.created_ms < params.window_ms && e.story != story.id);
    entries.push(BandEntry {
        story: story.id.clone(),
        created_ms: story.created_ms,
    });
    entries
}

/// The story index in memory: the reference for the key-value index and
/// the fast path the property test holds to the naive oracle.
#[derive(Debug)]
pub struct Clusterer {
    params: StoryParams,
    bands: HashMap<String, Vec<BandEntry>>,
    stories: HashMap<String, StoryRecord>,
    articles: HashMap<String, Assignment>,
}

impl Clusterer {
    pub fn new(params: StoryParams) -> Self {
        Clusterer {
            params,
            bands: HashMap::new(),
            stories: HashMap::new(),
            articles: HashMap::new(),
        }
    }

    /// Assign article `article_id` (from `source`) with `shingles`,
    /// arriving at `now_ms`. The same article always gets its first
    /// answer. `None` for a text without shingles.
    pub fn assign(
        &mut self,
        article_id: &str,
        source: &str,
        shingles: &Shingles,
        now_ms: i64,
    ) -> Option<Assignment> {
        if let Some(done) = self.articles.get(article_id) {
            return Some(done.clone());
        }
        let keys = band_keys(shingles);
        if keys.is_empty() {
            return None;
        }
        let p = self.params;
        let listed = candidates(
            keys.iter().filter_map(|k| self.bands.get(k)).flatten(),
            now_ms,
            &p,
        );
        let records = listed.iter().filter_map(|id| self.stories.get(id));
        let joined = decide(shingles, records, now_ms, &p).map(|s| s.id.clone());
        let assignment = match joined {
            Some(id) => {
                let story = self.stories.get_mut(&id)?;
                story.add_source(source);
                Assignment {
                    story: id,
                    first: false,
                    sources: story.sources.len(),
                }
            }
            None => {
                let story = StoryRecord::new(story_id(article_id), shingles, source.into(), now_ms);
                for key in keys {
                    let entries = self.bands.remove(&key).unwrap_or_default();
                    self.bands
                        .insert(key, add_to_band(entries, &story, now_ms, &p));
                }
                let assignment = Assignment {
                    story: story.id.clone(),
                    first: true,
                    sources: 1,
                };
                self.stories.insert(story.id.clone(), story);
                assignment
            }
        };
        self.articles
            .insert(article_id.to_string(), assignment.clone());
        Some(assignment)
    }

    /// Distinct sources of story `id` so far (0 if unknown).
    pub fn sources(&self, id: &str) -> usize {
        self.stories.get(id).map_or(0, |s| s.sources.len())
    }
}
