//! What every rule does: per-rule counters (matched, alerted, suppressed
//! by reason, failed, first seen, last match) shared by every instance
//! and kept across restarts in a JetStream key-value bucket
//! (`stats.bucket`).
//!
//! The stages count through a [`RuleStats`] handle, in memory (a mutex
//! and a map, no I/O on the article's path); a [`flusher`](store::start)
//! adds each instance's counts to the bucket every `stats.flush_secs`
//! with a compare-and-set per key, so instances incrementing the same
//! rule never lose each other's counts, and gives a delta it could not
//! store back, to be tried again at the next flush. Counts are
//! at-least-once, like delivery: an article redelivered after a crash may
//! be counted twice.
//!
//! - [`counts`]: the counters and how deltas add up (pure);
//! - [`store`]: the bucket: flushing, reading, first-seen registration;
//! - [`warnings`]: stale and too-broad rules, for `newsalert check` (pure).

use crate::alert::Alert;
use crate::observe::Metrics;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub mod counts;
pub mod store;
pub mod warnings;

pub use counts::Counters;

/// Counts not yet flushed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pending {
    pub rules: HashMap<String, Counters>,
    /// Articles matched (whether any rule matched or not).
    pub articles: u64,
}

impl Pending {
    /// Fold `other` in.
    pub fn merge(&mut self, other: Pending) {
        self.articles += other.articles;
        for (id, c) in other.rules {
            self.rules.entry(id).or_default().add(&c);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.articles == 0 && self.rules.is_empty()
    }
}

/// The stages' counting handle; cheap to clone. A disabled one
/// (`stats.enabled = false`, or in tests) counts nothing.
#[derive(Clone, Default)]
pub struct RuleStats {
    pending: Option<Arc<Mutex<Pending>>>,
    /// Where alert outcomes per rule are also counted, for `/metrics`.
    metrics: Option<Arc<Metrics>>,
}

impl RuleStats {
    /// A handle that counts (flushed by [`store::start`]).
    pub fn new() -> RuleStats {
        RuleStats {
            pending: Some(Arc::default()),
            metrics: None,
        }
    }

    /// Also count alert outcomes per rule in `metrics`.
    pub fn reporting_to(mut self, metrics: Arc<Metrics>) -> RuleStats {
        self.metrics = Some(metrics);
        self
    }

    /// A handle that counts nothing.
    pub fn disabled() -> RuleStats {
        RuleStats::default()
    }

    pub fn is_enabled(&self) -> bool {
        self.pending.is_some()
    }

    fn with(&self, f: impl FnOnce(&mut Pending)) {
        if let Some(p) = &self.pending {
            f(&mut p.lock().unwrap_or_else(|e| e.into_inner()));
        }
    }

    /// One article matched; `rules` are the ids of those that matched it.
    pub fn matched<'a>(&self, rules: impl IntoIterator<Item = &'a str>) {
        let now = now_ms();
        self.with(|p| {
            p.articles += 1;
            for id in rules {
                let c = p.rules.entry(id.to_string()).or_default();
                c.matched += 1;
                c.last_match_ms = c.last_match_ms.max(Some(now));
            }
        });
    }

    /// An alert listing `rules` was sent.
    pub fn alerted(&self, rules: &[String]) {
        self.each(rules, |c| c.alerted += 1);
        self.report(rules, "sent", "");
    }

    /// An alert listing `rules` was not sent, for `reason`.
    pub fn suppressed(&self, rules: &[String], reason: &str) {
        self.each(rules, |c| {
            *c.suppressed.entry(reason.to_string()).or_default() += 1;
        });
        self.report(rules, "suppressed", reason);
    }

    /// An alert listing `rules` failed for good.
    pub fn failed(&self, rules: &[String]) {
        self.each(rules, |c| c.failed += 1);
        self.report(rules, "failed", "");
    }

    fn report(&self, rules: &[String], outcome: &str, reason: &str) {
        if let Some(m) = &self.metrics {
            for rule in rules {
                m.rule_alert(rule, outcome, reason);
            }
        }
    }

    /// The alerts routed (by key, with their rules) that are not in `kept`
    /// were suppressed as later copies of a story.
    pub fn story_suppressed(&self, routed: &[(String, Vec<String>)], kept: &[Alert]) {
        let kept: std::collections::HashSet<String> = kept.iter().map(Alert::key).collect();
        for (key, rules) in routed {
            if !kept.contains(key) {
                self.suppressed(rules, "same_story");
            }
        }
    }

    fn each(&self, rules: &[String], f: impl Fn(&mut Counters)) {
        self.with(|p| {
            for id in rules {
                f(p.rules.entry(id.clone()).or_default());
            }
        });
    }

    /// Take what was counted since the last call.
    pub fn take(&self) -> Pending {
        let mut out = Pending::default();
        self.with(|p| out = std::mem::take(p));
        out
    }

    /// Give back counts that could not be stored, to be tried again.
    pub fn give_back(&self, counts: Pending) {
        self.with(|p| p.merge(counts));
    }
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_accumulate_until_taken_and_come_back_when_given_back() {
        let stats = RuleStats::new();
        let rules = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        stats.matched(["a", "b"]);
        stats.matched([]);
        stats.alerted(&rules(&["a"]));
        stats.suppressed(&rules(&["a", "b"]), "duplicate");
        stats.failed(&rules(&["b"]));
        let taken = stats.take();
        assert_eq!(taken.articles, 2);
        let a = &taken.rules["a"];
        assert_eq!(
            (a.matched, a.alerted, a.suppressed["duplicate"], a.failed),
            (1, 1, 1, 0)
        );
        assert!(a.last_match_ms.is_some());
        assert_eq!(taken.rules["b"].failed, 1);
        assert!(stats.take().is_empty());
        stats.matched(["a"]);
        stats.give_back(taken);
        let again = stats.take();
        assert_eq!((again.articles, again.rules["a"].matched), (3, 2));

        let off = RuleStats::disabled();
        off.matched(["a"]);
        assert!(!off.is_enabled() && off.take().is_empty());
    }

    #[test]
    fn routed_alerts_missing_from_the_kept_ones_count_as_same_story() {
        let alert = |subscriber: &str, rule: &str| Alert {
            rules: vec![rule.into()],
            ..crate::alert::test_alert("a-1", subscriber)
        };
        let routed = [alert("desk", "x"), alert("ops", "y"), alert("news", "z")];
        let routed: Vec<(String, Vec<String>)> =
            routed.iter().map(|a| (a.key(), a.rules.clone())).collect();
        let stats = RuleStats::new();
        stats.story_suppressed(&routed, &[alert("ops", "y")]);
        let taken = stats.take();
        let same_story = |r: &str| {
            taken
                .rules
                .get(r)
                .and_then(|c| c.suppressed.get("same_story").copied())
        };
        assert_eq!(
            (same_story("x"), same_story("y"), same_story("z")),
            (Some(1), None, Some(1))
        );
    }
}
