//! Rendering alerts for people: Telegram HTML and email (subject, plain
//! text, HTML). Every article field is escaped; lengths are bounded before
//! escaping so no limit ever cuts through a tag or an entity.

use crate::alert::{Alert, Snippet};

/// Telegram's limit for one message, in characters after entity parsing.
pub const TELEGRAM_MAX_CHARS: usize = 4096;
const MAX_TITLE_CHARS: usize = 300;
const MAX_RULES_LISTED: usize = 20;

/// Escape text for Telegram HTML and email HTML (text and attribute values).
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", s[..i].trim_end()),
        None => s.to_string(),
    }
}

/// Only http(s) links are rendered as links.
fn safe_url(alert: &Alert) -> Option<&str> {
    alert
        .url
        .as_deref()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
}

fn rules_line(alert: &Alert) -> String {
    let mut names: Vec<String> = alert.rules.iter().take(MAX_RULES_LISTED).cloned().collect();
    if alert.rules.len() > MAX_RULES_LISTED {
        names.push(format!("+{} more", alert.rules.len() - MAX_RULES_LISTED));
    }
    names.join(", ")
}

fn meta_line(alert: &Alert) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(s) = &alert.source {
        parts.push(truncate_chars(s, 100));
    }
    if let Some(t) = alert.published_at {
        parts.push(t.format("%Y-%m-%d %H:%M %:z").to_string());
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// The snippet as HTML with highlights in `<b>`.
fn snippet_html(s: &Snippet) -> String {
    let mut out = String::new();
    let mut at = 0;
    for &(a, b) in &s.highlights {
        if a < at || b > s.text.len() || !s.text.is_char_boundary(a) || !s.text.is_char_boundary(b)
        {
            continue;
        }
        out.push_str(&escape_html(&s.text[at..a]));
        out.push_str("<b>");
        out.push_str(&escape_html(&s.text[a..b]));
        out.push_str("</b>");
        at = b;
    }
    out.push_str(&escape_html(&s.text[at..]));
    out
}

/// The Telegram message (parse mode HTML).
pub fn telegram_html(alert: &Alert) -> String {
    let title = escape_html(&truncate_chars(&alert.title, MAX_TITLE_CHARS));
    let mut out = match safe_url(alert) {
        Some(url) => format!("<b><a href=\"{}\">{title}</a></b>", escape_html(url)),
        None => format!("<b>{title}</b>"),
    };
    if let Some(meta) = meta_line(alert) {
        out.push_str(&format!("\n<i>{}</i>", escape_html(&meta)));
    }
    if let Some(s) = &alert.snippet {
        out.push_str("\n\n");
        out.push_str(&snippet_html(s));
    }
    out.push_str(&format!("\n\nRules: {}", escape_html(&rules_line(alert))));
    out
}

/// The same alert as plain text (fallback when Telegram rejects HTML).
pub fn telegram_plain(alert: &Alert) -> String {
    email_text(alert)
}

/// Email subject line.
pub fn email_subject(alert: &Alert) -> String {
    format!(
        "[newsalert] {}",
        truncate_chars(&alert.title.replace(['\r', '\n'], " "), 150)
    )
}

/// Plain-text email body.
pub fn email_text(alert: &Alert) -> String {
    let mut out = truncate_chars(&alert.title, MAX_TITLE_CHARS);
    if let Some(meta) = meta_line(alert) {
        out.push_str(&format!("\n{meta}"));
    }
    if let Some(url) = safe_url(alert) {
        out.push_str(&format!("\n{url}"));
    }
    if let Some(s) = &alert.snippet {
        out.push_str(&format!("\n\n{}", s.text));
    }
    out.push_str(&format!("\n\nRules: {}\n", rules_line(alert)));
    out
}

/// HTML email body.
pub fn email_html(alert: &Alert) -> String {
    let title = escape_html(&truncate_chars(&alert.title, MAX_TITLE_CHARS));
    let mut out = String::from("<!DOCTYPE html><html><body>");
    match safe_url(alert) {
        Some(url) => out.push_str(&format!(
            "<h3><a href=\"{}\">{title}</a></h3>",
            escape_html(url)
        )),
        None => out.push_str(&format!("<h3>{title}</h3>")),
    }
    if let Some(meta) = meta_line(alert) {
        out.push_str(&format!("<p><i>{}</i></p>", escape_html(&meta)));
    }
    if let Some(s) = &alert.snippet {
        out.push_str(&format!("<p>{}</p>", snippet_html(s)));
    }
    out.push_str(&format!(
        "<p>Rules: {}</p></body></html>\n",
        escape_html(&rules_line(alert))
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Target;
    use crate::subscriber::Channel;

    fn alert() -> Alert {
        Alert {
            article_id: "a1".into(),
            subscriber: "desk".into(),
            channel: Channel::Telegram,
            target: Target::TelegramChat(-100),
            title: "Zakharova: <Russia> & \"Azerbaijan\"".into(),
            url: Some("https://example.org/a?x=1&y=\"2\"".into()),
            source: Some("news.example.org".into()),
            published_at: Some("2025-10-25T08:00:00+04:00".parse().unwrap()),
            rules: vec!["minsk-group".into(), "azerbaijan".into()],
            snippet: Some(Snippet {
                text: "the OSCE Minsk Group & <co-chairs>".into(),
                highlights: vec![(9, 20)],
            }),
        }
    }

    #[test]
    fn telegram_html_snapshot() {
        assert_eq!(
            telegram_html(&alert()),
            "<b><a href=\"https://example.org/a?x=1&amp;y=&quot;2&quot;\">Zakharova: &lt;Russia&gt; &amp; &quot;Azerbaijan&quot;</a></b>\n\
             <i>news.example.org · 2025-10-25 08:00 +04:00</i>\n\n\
             the OSCE <b>Minsk Group</b> &amp; &lt;co-chairs&gt;\n\n\
             Rules: minsk-group, azerbaijan"
        );
    }

    #[test]
    fn unsafe_urls_are_not_links_and_lengths_are_bounded() {
        let mut a = alert();
        a.url = Some("javascript:alert(1)".into());
        a.title = "<".repeat(5000);
        a.rules = (0..500).map(|i| format!("rule-{i}")).collect();
        let html = telegram_html(&a);
        assert!(!html.contains("javascript"));
        assert!(html.contains("+480 more"));
        let visible = html
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
            .replace("&quot;", "\"");
        assert!(visible.chars().count() < TELEGRAM_MAX_CHARS);
    }

    #[test]
    fn email_snapshot() {
        let a = alert();
        assert_eq!(
            email_subject(&a),
            "[newsalert] Zakharova: <Russia> & \"Azerbaijan\""
        );
        assert!(email_text(&a).contains("https://example.org/a?x=1&y=\"2\""));
        assert!(
            email_html(&a).contains("<p>the OSCE <b>Minsk Group</b> &amp; &lt;co-chairs&gt;</p>")
        );
    }
}
