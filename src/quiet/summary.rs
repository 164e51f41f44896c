//! The Telegram messages that stand for held alerts: the quiet-hours
//! summary (titles and links, capped) and the "N more matches" note of
//! the per-hour cap. Plain text, so nothing needs escaping.

use crate::alert::Alert;
use crate::deliver::render::{TELEGRAM_MAX_CHARS, safe_url, truncate_chars};
use crate::schedule::Period;
use chrono_tz::Tz;

fn lines(alerts: &[Alert], max: usize) -> Vec<String> {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for a in alerts {
        if seen.contains(&a.article_id.as_str()) {
            continue;
        }
        seen.push(&a.article_id);
        if out.len() < max {
            let title = truncate_chars(&a.title, 200);
            out.push(match safe_url(a) {
                Some(url) => format!("• {title}\n  {url}"),
                None => format!("• {title}"),
            });
        }
    }
    let more = seen.len().saturating_sub(out.len());
    if more > 0 {
        out.push(format!("…and {more} more"));
    }
    out
}

fn fit(text: String) -> String {
    truncate_chars(&text, TELEGRAM_MAX_CHARS - 1)
}

fn count(alerts: &[Alert]) -> usize {
    let mut ids: Vec<&str> = alerts.iter().map(|a| a.article_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}

/// The summary of alerts held during the quiet hours `window`.
pub fn quiet(alerts: &[Alert], window: Period, tz: Tz, max: usize) -> String {
    let n = count(alerts);
    let (from, to) = (
        window.start.with_timezone(&tz).format("%H:%M"),
        window.end.with_timezone(&tz).format("%H:%M"),
    );
    let noun = if n == 1 { "match" } else { "matches" };
    let mut text = format!("While you were away ({from}–{to}): {n} {noun}\n\n");
    text.push_str(&lines(alerts, max.max(1)).join("\n"));
    fit(text)
}

/// The note for alerts over the per-hour cap.
pub fn overflow(alerts: &[Alert], max: usize) -> String {
    let n = count(alerts);
    let noun = if n == 1 { "match" } else { "matches" };
    let mut text = format!("{n} more {noun} this hour (over your hourly limit):\n\n");
    text.push_str(&lines(alerts, max.max(1)).join("\n"));
    fit(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(id: &str, title: &str) -> Alert {
        Alert {
            title: title.into(),
            url: Some(format!("https://news.example.org/{id}")),
            ..crate::alert::test_alert(id, "desk")
        }
    }

    #[test]
    fn summaries() {
        let alerts = vec![
            alert("a", "<b>One</b> & two"),
            alert("b", "Two"),
            alert("a", "dup"),
            alert("c", "Three"),
        ];
        let window = Period {
            start: "2026-12-07T21:00:00Z".parse().unwrap(),
            end: "2026-12-08T06:00:00Z".parse().unwrap(),
        };
        let text = quiet(&alerts, window, chrono_tz::Europe::Berlin, 2);
        insta::assert_snapshot!(text, @r"
        While you were away (22:00–07:00): 3 matches

        • <b>One</b> & two
          https://news.example.org/a
        • Two
          https://news.example.org/b
        …and 1 more
        ");
        let text = overflow(&alerts[1..2], 5);
        assert!(text.starts_with("1 more match this hour"), "{text}");
        let long: Vec<Alert> = (0..500)
            .map(|i| alert(&i.to_string(), &"x".repeat(200)))
            .collect();
        assert!(quiet(&long, window, chrono_tz::UTC, 500).chars().count() <= TELEGRAM_MAX_CHARS);
    }

    #[test]
    fn hostile_titles_stay_plain_text_and_fit() {
        let alerts = vec![
            alert("script", "<script>alert(1)</script>"),
            alert("lone", "Talks resume <b after a pause"),
            alert("amp", "Oil &amp; gas: A&B agree"),
            alert("emoji", "🇦🇿 Baku 🤝 Yerevan: talks 👍🏽"),
            alert("rtl", "מו״מ בבאקו \u{202e}evil\u{202c} محادثات"),
            alert("long", &"Minsk Group ".repeat(900)),
        ];
        let window = Period {
            start: "2026-12-07T21:00:00Z".parse().unwrap(),
            end: "2026-12-08T06:00:00Z".parse().unwrap(),
        };
        let text = quiet(&alerts, window, chrono_tz::Asia::Baku, 10);
        insta::assert_snapshot!("quiet_hostile", text);
        assert!(text.chars().count() <= TELEGRAM_MAX_CHARS);
        let text = overflow(&alerts, 3);
        insta::assert_snapshot!("overflow_hostile", text);
    }
}
