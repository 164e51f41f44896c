//! The `[stats]` section: per-rule counters and `check`'s warnings from
//! them (see [`crate::stats`]).

use serde::Deserialize;
use std::time::Duration;

/// Per-rule counters shared by instances, and the warnings `check`
/// draws from them (see [`crate::stats`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsSettings {
    /// Count matches, alerts, suppressions and failures per rule.
    pub enabled: bool,
    /// Key-value bucket of the counters (kept forever).
    pub bucket: String,
    /// How often each instance adds what it counted to the bucket (seconds).
    pub flush_secs: u64,
    /// `check` warns about a rule that matched nothing this long (days).
    pub stale_after_days: u64,
    /// `check` warns about a rule matching more than this share (0–1) of
    /// all articles…
    pub too_broad_share: f64,
    /// …once at least this many articles were counted.
    pub too_broad_min_articles: u64,
}

impl StatsSettings {
    /// How often counts are flushed to the bucket.
    pub fn flush_every(&self) -> Duration {
        Duration::from_secs(self.flush_secs.max(1))
    }
}
