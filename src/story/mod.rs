//! One alert per story: copies of the same story from several outlets
//! within a window (`story.window_secs`, default 6 h) are recognised, so a
//! chat gets the first copy and later ones are suppressed (or sent marked
//! "+N sources", `story.later_copies`).
//!
//! How: an article's cleaned title and lead ([`lead`]) become word
//! shingles ([`Shingles`], words and word pairs from the project's
//! tokenizer in `crate::text`); a MinHash signature cut into LSH bands
//! ([`minhash`]) finds the live stories that may be the same; each is
//! verified exactly ([`Shingles::similarity`] ≥ `story.similarity`) and the
//! most similar joins ([`cluster::decide`]); otherwise the article starts
//! a story. The decision is pure and synchronous ([`cluster`]); the index
//! that instances share and that survives restarts is a JetStream
//! key-value bucket ([`store`]), the in-memory [`Clusterer`] has the same
//! semantics, and a naive all-pairs oracle checks it (`tests_prop.rs`).
//!
//! # For other stages (digests, quiet-hour summaries)
//!
//! The interface is small:
//! - every [`Alert`](crate::alert::Alert) of a story-tracked article
//!   carries `story: Some(StoryRef { id, sources })`
//!   ([`crate::alert::StoryRef`]): `id` is the same for every copy of one
//!   story (on every instance), `sources` the distinct sources of the
//!   story when this copy was routed (1 for the first copy). It is `None`
//!   when story tracking is off or the article has no words.
//! - To fold copies into one item: group by `story.id`, keep the first,
//!   and show [`plus_sources`]`(n)` with `n` = the group's largest
//!   `sources` − 1 (or [`store::StoryStore::sources`] for the count across
//!   all subscribers right now).
//! - Email alerts are never suppressed here (a digest folds them); only
//!   Telegram alerts are ([`gate`], [`store::StoryStore::first_for`]).

pub mod cluster;
pub mod gate;
pub mod minhash;
#[cfg(test)]
mod naive;
pub mod shingle;
pub mod store;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_prop;

pub use cluster::{Assignment, Clusterer, StoryParams, story_id};
pub use shingle::Shingles;

/// Longest lead taken from a body when an article has no summary.
const LEAD_FROM_BODY_CHARS: usize = 400;

/// The lead a story is recognised by: the summary, or else the start of
/// the body (up to 400 characters, cut at a word boundary).
pub fn lead<'a>(summary: &'a str, body: &'a str) -> &'a str {
    if !summary.trim().is_empty() {
        return summary;
    }
    match body.char_indices().nth(LEAD_FROM_BODY_CHARS) {
        None => body,
        Some((cut, _)) => {
            let head = &body[..cut];
            head.rfind(char::is_whitespace).map_or(head, |i| &head[..i])
        }
    }
}

/// The shingles of an article's cleaned title and lead.
pub fn shingles(title: &str, summary: &str, body: &str) -> Shingles {
    Shingles::of(&[title, lead(summary, body)])
}

/// What an article counts as for "+N sources": its `source`, else its
/// URL's host, else its id.
pub fn source_of(source: Option<&str>, url: Option<&str>, article_id: &str) -> String {
    if let Some(s) = source.map(str::trim).filter(|s| !s.is_empty()) {
        return s.to_ascii_lowercase();
    }
    url.and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_else(|| article_id.to_string())
}

/// "+N sources" for a story seen from `n` further sources; `None` for 0.
pub fn plus_sources(n: usize) -> Option<String> {
    match n {
        0 => None,
        1 => Some("+1 source".to_string()),
        n => Some(format!("+{n} sources")),
    }
}
