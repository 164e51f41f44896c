//! What `newsalert check` says about the counters, pure: rules that
//! matched nothing for `stats.stale_after_days` although the service has
//! known them that long (usually a renamed source or a typo), and rules
//! matching more than `stats.too_broad_share` of all articles counted.
//! Warnings, never errors.

use super::counts::Counters;
use super::store::Snapshot;

/// When a rule deserves a warning.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub stale_after_days: u64,
    pub too_broad_share: f64,
    pub too_broad_min_articles: u64,
}

const DAY_MS: i64 = 86_400_000;

/// `(rule id, message)` for each rule of `ids` (in that order) that
/// deserves a warning at `now_ms`.
pub fn warnings(
    ids: &[&str],
    snapshot: &Snapshot,
    now_ms: i64,
    policy: Policy,
) -> Vec<(String, String)> {
    let stale_ms = i64::try_from(policy.stale_after_days)
        .unwrap_or(i64::MAX / DAY_MS)
        .saturating_mul(DAY_MS);
    let articles = snapshot.articles.matched;
    let mut out = Vec::new();
    for &id in ids {
        let Some(c) = snapshot.rules.get(id) else {
            continue;
        };
        if let Some(first) = c.first_seen_ms
            && now_ms - first >= stale_ms
            && c.last_match_ms.is_none_or(|last| now_ms - last >= stale_ms)
        {
            out.push((id.to_string(), stale(id, c, policy.stale_after_days)));
        }
        if articles >= policy.too_broad_min_articles.max(1) {
            let share = c.matched as f64 / articles as f64;
            if share > policy.too_broad_share {
                out.push((
                    id.to_string(),
                    format!(
                        "rule {id:?} matched {:.0}% of all articles ({} of {articles} counted), \
                         more than stats.too_broad_share ({:.0}%): too broad?",
                        share * 100.0,
                        c.matched,
                        policy.too_broad_share * 100.0
                    ),
                ));
            }
        }
    }
    out
}

fn stale(id: &str, c: &Counters, days: u64) -> String {
    let last = match c.last_match_ms {
        Some(ms) => format!("last match {}", date(ms)),
        None => "never matched".to_string(),
    };
    format!(
        "rule {id:?} matched nothing in {days} days ({last}; known since {}): \
         a renamed source or a typo?",
        c.first_seen_ms.map_or_else(String::new, date)
    )
}

/// `YYYY-MM-DD` (UTC) of Unix milliseconds.
pub fn date(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .map(|t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_and_too_broad_rules_and_no_others() {
        let now = 100 * DAY_MS;
        let rule = |matched, first: Option<i64>, last: Option<i64>| Counters {
            matched,
            first_seen_ms: first.map(|d| d * DAY_MS),
            last_match_ms: last.map(|d| d * DAY_MS),
            ..Counters::default()
        };
        let mut snapshot = Snapshot::default();
        for (id, c) in [
            ("never", rule(0, Some(10), None)), // known 90 days, never matched
            ("old-match", rule(5, Some(10), Some(60))), // last match 40 days ago
            ("recent", rule(5, Some(10), Some(80))), // matched 20 days ago
            ("young", rule(0, Some(90), None)), // known 10 days only
            ("broad", rule(300, Some(10), Some(99))), // 30 % of articles
        ] {
            snapshot.rules.insert(id.to_string(), c);
        }
        snapshot.articles.matched = 1000;
        let policy = Policy {
            stale_after_days: 30,
            too_broad_share: 0.2,
            too_broad_min_articles: 100,
        };
        let ids = ["never", "old-match", "recent", "young", "broad", "unknown"];
        let got = warnings(&ids, &snapshot, now, policy);
        let which: Vec<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(which, ["never", "old-match", "broad"]);
        assert!(got[0].1.contains("never matched"), "{}", got[0].1);
        assert!(got[1].1.contains("last match 1970-03-02"), "{}", got[1].1);
        assert!(
            got[2].1.contains("30% of all articles (300 of 1000"),
            "{}",
            got[2].1
        );
        // Too few articles counted: no too-broad verdict.
        snapshot.articles.matched = 50;
        snapshot.rules.get_mut("broad").unwrap().matched = 40;
        let got = warnings(&["broad"], &snapshot, now, policy);
        assert!(got.is_empty(), "{got:?}");
    }
}
