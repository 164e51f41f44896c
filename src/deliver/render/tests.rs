//! Rendering tests: the full Telegram HTML and email output pinned by
//! `insta` snapshots (in `snapshots/`, reviewed by reading them), for a
//! normal alert and for hostile titles, built through the real pipeline
//! (decode → prepare → match → route) so the title's plain-text reading
//! is pinned too. Timestamps are fixed, so snapshots are deterministic.

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
        story: None,
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
    assert!(email_html(&a).contains("<p>the OSCE <b>Minsk Group</b> &amp; &lt;co-chairs&gt;</p>"));
}

use crate::article::{DEFAULT_MAX_BYTES, decode};
use crate::pipeline::{PreparedArticle, evaluate, route};
use crate::regions::Gazetteer;
use crate::rulebook::RuleBook;
use crate::text::CleanOptions;
use std::path::Path;

const RULES: &str = r#"
[[subscriber]]
id = "desk"
telegram_chat_id = -1001
email = "desk@example.org"

[[rule]]
id = "minsk-group"
query = '"Minsk Group"'
notify = ["desk"]

[[rule]]
id = "azerbaijan"
query = 'Azerbaijan OR Baku'
notify = ["desk"]
"#;

/// The Telegram alert the pipeline makes of an event titled `title` (as
/// sent: a JSON string), with a fixed body, link, source and time.
fn alert_for(title: &str) -> Alert {
    let event = serde_json::json!({
        "id": "a-1",
        "title": title,
        "body": "<p>Moscow doubts the sincerity of the OSCE <b>Minsk Group</b> co-chairs &amp; their <i>plans</i>.</p>",
        "url": "https://news.example.org/a?x=1&y=2",
        "source": "news.example.org",
        "published_at": "2025-10-25T09:30:00+04:00",
    });
    let article = decode(event.to_string().as_bytes(), DEFAULT_MAX_BYTES).unwrap();
    let book = RuleBook::parse(Path::new("rules.toml"), RULES, &Gazetteer::builtin()).unwrap();
    let prepared = PreparedArticle::new(&article, CleanOptions::default());
    let alerts = route(&book, &prepared, &evaluate(&book, &prepared));
    alerts
        .into_iter()
        .find(|a| a.channel == Channel::Telegram)
        .expect("a telegram alert")
}

/// Every rendering of `alert`, in sections, for one snapshot. The
/// Telegram plain-text fallback is the email text, so it is not repeated.
fn rendered(alert: &Alert) -> String {
    let html = telegram_html(alert);
    let visible = telegram_visible(&html);
    assert!(
        visible.chars().count() <= TELEGRAM_MAX_CHARS,
        "{} visible characters",
        visible.chars().count()
    );
    assert!(telegram_plain(alert).chars().count() <= TELEGRAM_MAX_CHARS);
    format!(
        "--- telegram html ---\n{html}\n\
         --- telegram as shown ---\n{visible}\n\
         --- email subject ---\n{}\n\
         --- email text ---\n{}\
         --- email html ---\n{}",
        email_subject(alert),
        email_text(alert),
        email_html(alert),
    )
}

/// What Telegram shows of our HTML: tags dropped, the four entities we
/// write decoded. Our output never has a raw `<` outside a tag.
fn telegram_visible(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

#[test]
fn snapshot_normal_alert() {
    let a = alert_for("Zakharova: Baku and the \"Minsk Group\" talks");
    insta::assert_snapshot!("normal", rendered(&a));
}

#[test]
fn snapshot_alert_without_link_source_or_time() {
    let mut a = alert_for("Baku talks");
    a.url = None;
    a.source = None;
    a.published_at = None;
    a.snippet = None;
    insta::assert_snapshot!("bare", rendered(&a));
}

#[test]
fn snapshot_title_with_tags_is_shown_as_text() {
    let a = alert_for("Envoys: \"<b>Baku &amp; Yerevan</b>\" agree on <draft> text");
    assert_eq!(
        a.title,
        "Envoys: \"<b>Baku & Yerevan</b>\" agree on <draft> text"
    );
    insta::assert_snapshot!("tags_as_text", rendered(&a));
}

#[test]
fn snapshot_script_title() {
    let a = alert_for("<script>alert(1)</script> Baku");
    insta::assert_snapshot!("script", rendered(&a));
}

#[test]
fn snapshot_ampersands_decoded_once() {
    // Sent: a bare `&`, `&amp;`, `&lt;`, and a double-escaped `&amp;lt;`.
    let a = alert_for("Q&A: AT&T &amp; Baku &lt;3 &amp;lt;b&amp;gt;");
    assert_eq!(a.title, "Q&A: AT&T & Baku <3 &lt;b&gt;");
    insta::assert_snapshot!("ampersands", rendered(&a));
}

#[test]
fn snapshot_lone_open_tag() {
    let a = alert_for("Baku <b");
    insta::assert_snapshot!("lone_open_tag", rendered(&a));
}

#[test]
fn snapshot_emoji() {
    let a = alert_for("🇦🇿 Baku 🤝 Yerevan 👍🏽: talks 🕊️");
    insta::assert_snapshot!("emoji", rendered(&a));
}

#[test]
fn snapshot_right_to_left() {
    let a = alert_for("Baku: محادثات السلام في باكو — שיחות שלום בבאקו");
    insta::assert_snapshot!("right_to_left", rendered(&a));
}

#[test]
fn snapshot_ten_kilobyte_title() {
    let title = format!("Baku <talks> & {}", "x&y ".repeat(2560));
    assert!(title.len() > 10 * 1024);
    let mut a = alert_for(&title);
    a.rules = (0..25).map(|i| format!("rule-{i:02}")).collect();
    let out = rendered(&a);
    let title_line = telegram_visible(&telegram_html(&a));
    let title_line = title_line.lines().next().unwrap();
    assert!(
        title_line.chars().count() <= MAX_TITLE_CHARS + 1,
        "{title_line}"
    );
    assert!(title_line.ends_with('…'), "{title_line}");
    insta::assert_snapshot!("ten_kilobyte_title", out);
}

#[test]
fn snapshot_later_copy_of_a_story() {
    // `story.later_copies = "annotate"`: a later copy says "+N sources".
    let mut a = alert_for("<script>Baku</script> & <b talks 🕊️ باكو");
    a.story = Some(crate::alert::StoryRef {
        id: "0123456789abcdef01234567".into(),
        sources: 3,
    });
    let out = rendered(&a);
    assert!(out.contains("· +2 sources"), "{out}");
    insta::assert_snapshot!("later_copy", out);
}
