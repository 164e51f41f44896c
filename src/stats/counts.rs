//! The counters themselves, pure: one rule's [`Counters`] (also the
//! delta an instance accumulates between flushes), how two add up
//! ([`Counters::add`]), and the bucket's key names.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One rule's counts (or a delta to add to them). Times are Unix
/// milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counters {
    /// Articles the rule matched.
    pub matched: u64,
    /// Alerts listing the rule that were sent.
    pub alerted: u64,
    /// Alerts listing the rule that were not sent, by reason.
    pub suppressed: BTreeMap<String, u64>,
    /// Alerts listing the rule that failed for good.
    pub failed: u64,
    /// When an instance first ran with the rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_match_ms: Option<i64>,
}

impl Counters {
    /// Add `delta`: counts summed, the earliest first-seen and the latest
    /// last-match time kept.
    pub fn add(&mut self, delta: &Counters) {
        self.matched += delta.matched;
        self.alerted += delta.alerted;
        for (reason, n) in &delta.suppressed {
            *self.suppressed.entry(reason.clone()).or_default() += n;
        }
        self.failed += delta.failed;
        self.first_seen_ms = min_some(self.first_seen_ms, delta.first_seen_ms);
        self.last_match_ms = self.last_match_ms.max(delta.last_match_ms);
    }

    /// Alerts suppressed for any reason.
    pub fn suppressed_total(&self) -> u64 {
        self.suppressed.values().sum()
    }
}

fn min_some(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The key holding the number of articles counted (in `matched`).
pub const ARTICLES_KEY: &str = "total.articles";
const RULE_PREFIX: &str = "rule.";

/// The bucket key of rule `id`: bytes outside `A-Za-z0-9_-` are written
/// `=XX` (hex), as key-value keys allow few characters.
pub fn rule_key(id: &str) -> String {
    let mut key = String::from(RULE_PREFIX);
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            key.push(char::from(b));
        } else {
            key.push_str(&format!("={b:02X}"));
        }
    }
    key
}

/// The rule id of a bucket key, `None` for other keys.
pub fn rule_id(key: &str) -> Option<String> {
    let rest = key.strip_prefix(RULE_PREFIX)?;
    let mut bytes = Vec::with_capacity(rest.len());
    let mut it = rest.bytes();
    while let Some(b) = it.next() {
        if b == b'=' {
            let hex = [it.next()?, it.next()?];
            let hex = std::str::from_utf8(&hex).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_add_up() {
        let mut total = Counters {
            matched: 2,
            suppressed: BTreeMap::from([("duplicate".into(), 1)]),
            first_seen_ms: Some(100),
            last_match_ms: Some(500),
            ..Counters::default()
        };
        total.add(&Counters {
            matched: 3,
            alerted: 4,
            suppressed: BTreeMap::from([("duplicate".into(), 2), ("chat_paused".into(), 1)]),
            failed: 1,
            first_seen_ms: Some(50),
            last_match_ms: Some(400),
        });
        total.add(&Counters::default());
        assert_eq!(
            (
                total.matched,
                total.alerted,
                total.failed,
                total.suppressed_total()
            ),
            (5, 4, 1, 4)
        );
        assert_eq!(
            (total.first_seen_ms, total.last_match_ms),
            (Some(50), Some(500))
        );
        let json = serde_json::to_string(&total).unwrap();
        assert_eq!(serde_json::from_str::<Counters>(&json).unwrap(), total);
        assert_eq!(
            serde_json::from_str::<Counters>("{}").unwrap(),
            Counters::default()
        );
    }

    #[test]
    fn keys_round_trip() {
        for id in ["minsk-group", "a_b", "Ünïcode rule.1", "x=y"] {
            let key = rule_key(id);
            assert!(
                key.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-=.".contains(&b)),
                "{key}"
            );
            assert_eq!(rule_id(&key).as_deref(), Some(id), "{key}");
        }
        assert_eq!(rule_key("a.b"), "rule.a=2Eb");
        assert_eq!(rule_id(ARTICLES_KEY), None);
        assert_eq!(rule_id("rule.bad=Z"), None);
    }
}
