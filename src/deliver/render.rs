//! Rendering alerts for people: Telegram HTML and email (subject, plain
//! text, HTML). An alert's title and snippet are plain text (tags in a
//! title are characters a reader sees); every field is escaped here, once,
//! for HTML and left as is for plain text. Lengths are bounded before
//! escaping so no limit ever cuts through a tag or an entity.
//!
//! A later copy of a story (`story.later_copies = "annotate"`) says
//! "+N sources" in its meta line.
//!
//! The full output is pinned by snapshot tests (`render/tests.rs`,
//! `render/snapshots/`), hostile titles included.

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

pub fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", s[..i].trim_end()),
        None => s.to_string(),
    }
}

/// Only http(s) links are rendered as links.
pub fn safe_url(alert: &Alert) -> Option<&str> {
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
    if let Some(more) = alert
        .story
        .as_ref()
        .and_then(|s| crate::story::plus_sources(s.sources.saturating_sub(1)))
    {
        parts.push(more);
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// The snippet as HTML with highlights in `<b>`.
pub fn snippet_html(s: &Snippet) -> String {
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
mod tests;
