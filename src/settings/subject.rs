//! NATS subjects derived from the settings: the alerts subject per
//! channel, the wildcard a stream covers, the subject `publish` uses by
//! default, and whether two subject patterns overlap.

use std::fmt::Display;

/// Subject of alerts for `channel` under `prefix` (`newsalert.alerts` →
/// `newsalert.alerts.telegram`). Publisher and consumers both use this.
pub fn alert_subject(prefix: &str, channel: impl Display) -> String {
    format!("{prefix}.{channel}")
}

/// Every subject under `prefix`: what a stream of that prefix covers.
pub fn all_under(prefix: &str) -> String {
    format!("{prefix}.>")
}

/// The first configured subject with wildcards replaced by `cli`: where
/// `newsalert publish` publishes unless told otherwise.
pub fn default_publish_subject(subjects: &[String]) -> String {
    let first = subjects.first().map_or("news.articles.>", String::as_str);
    first
        .split('.')
        .map(|t| if t == "*" || t == ">" { "cli" } else { t })
        .collect::<Vec<_>>()
        .join(".")
}

/// Whether two subject patterns can match the same subject.
pub fn subjects_overlap(a: &str, b: &str) -> bool {
    let (mut a, mut b) = (a.split('.'), b.split('.'));
    loop {
        match (a.next(), b.next()) {
            (Some(">"), _) | (_, Some(">")) => return true,
            (None, None) => return true,
            (Some(x), Some(y)) if x == y || x == "*" || y == "*" => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_overlap() {
        assert!(subjects_overlap("news.articles.>", "news.articles.x"));
        assert!(subjects_overlap("news.*.x", "news.a.x"));
        assert!(!subjects_overlap("news.articles.>", "newsalert.dlq"));
    }

    #[test]
    fn derived_subjects() {
        assert_eq!(
            alert_subject("newsalert.alerts", "telegram"),
            "newsalert.alerts.telegram"
        );
        assert_eq!(all_under("newsalert.dlq"), "newsalert.dlq.>");
        let cases: &[(&[&str], &str)] = &[
            (&["news.articles.>"], "news.articles.cli"),
            (&["feeds.*.in", "x"], "feeds.cli.in"),
            (&["plain"], "plain"),
            (&[], "news.articles.cli"),
        ];
        for (subjects, want) in cases {
            let subjects: Vec<String> = subjects.iter().map(ToString::to_string).collect();
            assert_eq!(default_publish_subject(&subjects), *want, "{subjects:?}");
        }
    }
}
