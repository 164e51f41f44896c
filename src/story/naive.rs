//! The oracle for the property test: every story ever started in one
//! list, and for each article a scan of all of them — no index, no band
//! lists, no pruning. A story is a candidate when it is live and its
//! first copy's band keys share one with the article's (the LSH rule,
//! computed pairwise); the article joins the most similar candidate at or
//! above the threshold (older, then smaller id, on ties), else starts a
//! story. The same article always gets its first answer.

use super::cluster::{Assignment, StoryParams, story_id};
use super::minhash::band_keys;
use super::shingle::Shingles;

struct Story {
    id: String,
    created_ms: i64,
    shingles: Shingles,
    sources: Vec<String>,
}

#[derive(Default)]
pub(super) struct Naive {
    stories: Vec<Story>,
    seen: Vec<(String, Assignment)>,
}

impl Naive {
    pub(super) fn assign(
        &mut self,
        params: &StoryParams,
        article_id: &str,
        source: &str,
        shingles: &Shingles,
        now_ms: i64,
    ) -> Option<Assignment> {
        if let Some((_, a)) = self.seen.iter().find(|(id, _)| id == article_id) {
            return Some(a.clone());
        }
        if shingles.is_empty() {
            return None;
        }
        let mine = band_keys(shingles);
        let mut best: Option<(f64, usize)> = None;
        for (i, s) in self.stories.iter().enumerate() {
            let live = now_ms - s.created_ms < params.window_ms;
            let shares_band = band_keys(&s.shingles).iter().any(|k| mine.contains(k));
            let sim = shingles.similarity(&s.shingles);
            if !live || !shares_band || sim < params.threshold {
                continue;
            }
            let better = match best {
                None => true,
                Some((b, j)) => {
                    let t = &self.stories[j];
                    sim > b || (sim == b && (s.created_ms, &s.id) < (t.created_ms, &t.id))
                }
            };
            if better {
                best = Some((sim, i));
            }
        }
        let assignment = match best {
            Some((_, i)) => {
                let s = &mut self.stories[i];
                if !s.sources.iter().any(|x| x == source) && s.sources.len() < 100 {
                    s.sources.push(source.to_string());
                }
                Assignment {
                    story: s.id.clone(),
                    first: false,
                    sources: s.sources.len(),
                }
            }
            None => {
                let id = story_id(article_id);
                self.stories.push(Story {
                    id: id.clone(),
                    created_ms: now_ms,
                    shingles: shingles.clone(),
                    sources: vec![source.to_string()],
                });
                Assignment {
                    story: id,
                    first: true,
                    sources: 1,
                }
            }
        };
        self.seen.push((article_id.to_string(), assignment.clone()));
        Some(assignment)
    }
}
