//! Reply snapshots: every reply for a subscribed chat, an unknown chat,
//! paused and stopped chats, and hostile first names (`<script>`, `&`, a
//! lone `<b`, emoji, right-to-left text, 10 KB). Times are fixed.

use super::*;
use crate::regions::Gazetteer;
use std::path::Path;

const RULES: &str = r#"
[[subscriber]]
id = "desk"
telegram_chat_id = -1001
email = "desk@example.org"
timezone = "Europe/Berlin"

[[subscriber]]
id = "mail-only"
email = "m@example.org"

[[rule]]
id = "minsk-group"
query = '"Minsk Group" OR (Azerbaijan AND Armenia AND talks)'
notify = ["desk"]

[[rule]]
id = "at-and-t"
query = '"AT&T" OR "Q&A" OR Baku OR Yerevan OR Tbilisi OR Ankara OR Tehran OR Moscow OR Washington'
notify = ["desk", "mail-only"]

[[rule]]
id = "email-only"
query = 'Baku'
notify = ["desk"]
channels = ["email"]
"#;

/// 2025-10-25 08:00 UTC.
const NOW: i64 = 1_761_379_200_000;

fn book() -> RuleBook {
    RuleBook::parse(Path::new("rules.toml"), RULES, &Gazetteer::builtin()).unwrap()
}

/// What Telegram shows: tags dropped, our four entities decoded.
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

fn checked(html: String) -> String {
    assert!(visible(&html).encode_utf16().count() <= 4096, "{html}");
    html
}

#[test]
fn snapshot_subscribed_chat() {
    let book = book();
    let view = ChatView::of(&book, -1001);
    assert_eq!(view.rules.len(), 2, "the email-only rule is not listed");
    let out = [
        checked(start(&view, Some("Leyla"), false)),
        checked(status(&view, None, NOW)),
        checked(status(
            &view,
            Some(&ChatPref::Paused {
                until_ms: Some(NOW + 7_200_000),
            }),
            NOW,
        )),
        checked(status(
            &view,
            Some(&ChatPref::Paused {
                until_ms: Some(NOW - 1),
            }),
            NOW,
        )),
        checked(status(
            &view,
            Some(&ChatPref::Paused { until_ms: None }),
            NOW,
        )),
        checked(status(
            &view,
            Some(&ChatPref::Stopped { since_ms: NOW }),
            NOW,
        )),
        checked(paused(&view, Some(NOW + 7_200_000))),
        checked(paused(&view, None)),
        resumed(Some(&ChatPref::Paused { until_ms: None })),
        resumed(Some(&ChatPref::Stopped { since_ms: NOW })),
        resumed(None),
        stopped(),
        checked(start(&view, None, true)),
    ];
    insta::assert_snapshot!("subscribed_chat", out.join("\n-----\n"));
}

#[test]
fn snapshot_unknown_chat_and_errors() {
    let book = book();
    let view = ChatView::of(&book, 42);
    assert!(view.subscribers.is_empty());
    let out = [
        checked(start(&view, Some("Sam"), false)),
        checked(status(&view, None, NOW)),
        checked(unknown("weather<b>")),
        checked(bad_argument("\"soon&<b\" is not a duration")),
    ];
    insta::assert_snapshot!("unknown_chat", out.join("\n-----\n"));
}

#[test]
fn snapshot_hostile_first_names() {
    let book = book();
    let view = ChatView::of(&book, 42);
    let long = "x&y<".repeat(2600);
    assert!(long.len() > 10 * 1024);
    let names = [
        "<script>alert(1)</script>",
        "Tom & Jerry &amp;",
        "lone <b",
        "🇦🇿 Leyla 👍🏽",
        "مرحبا שלום",
        long.as_str(),
    ];
    let out: Vec<String> = names
        .iter()
        .map(|n| {
            let reply = checked(start(&view, Some(n), false));
            assert!(
                !reply.contains("<script>") && !reply.contains("<b\n"),
                "{reply}"
            );
            reply.lines().next().unwrap_or_default().to_string()
        })
        .collect();
    insta::assert_snapshot!("hostile_names", out.join("\n"));
}

#[test]
fn status_lists_are_bounded() {
    let mut rules = String::from("[[subscriber]]\nid = \"d\"\ntelegram_chat_id = 7\n");
    for i in 0..300 {
        rules.push_str(&format!(
            "[[rule]]\nid = \"rule-{i:03}-{}\"\nquery = '{}'\nnotify = [\"d\"]\n",
            "x".repeat(100),
            "word ".repeat(50).trim()
        ));
    }
    let book = RuleBook::parse(Path::new("rules.toml"), &rules, &Gazetteer::builtin()).unwrap();
    let out = checked(status(&ChatView::of(&book, 7), None, NOW));
    assert!(out.contains("… and 280 more"), "{out}");
}
