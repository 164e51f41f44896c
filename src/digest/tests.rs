use super::*;
use crate::alert::{Snippet, Target};
use crate::subscriber::{Channel, DigestSchedule};

fn alert(id: &str, title: &str, rules: &[&str], hour: u32) -> Alert {
    Alert {
        article_id: id.into(),
        subscriber: "desk".into(),
        channel: Channel::Email,
        target: Target::Email("desk@example.org".into()),
        title: title.into(),
        url: Some(format!("https://news.example.org/{id}")),
        source: Some("example.org".into()),
        published_at: Some(
            chrono::DateTime::parse_from_rfc3339(&format!("2026-12-07T{hour:02}:00:00+00:00"))
                .unwrap(),
        ),
        rules: rules.iter().map(|r| r.to_string()).collect(),
        snippet: Some(Snippet {
            text: "Talks on <gas> & oil resumed".into(),
            highlights: vec![(9, 14)],
        }),
        story: None,
    }
}

fn sub() -> Subscriber {
    Subscriber {
        id: "desk".into(),
        telegram_chat_id: None,
        email: Some("desk@example.org".parse().unwrap()),
        digest: DigestSchedule::Daily { hour: 8, minute: 0 },
        timezone: chrono_tz::Europe::Berlin,
        quiet_hours: None,
        max_telegram_per_hour: None,
    }
}

fn period() -> Period {
    Period {
        start: "2026-12-06T07:00:00Z".parse().unwrap(),
        end: "2026-12-07T07:00:00Z".parse().unwrap(),
    }
}

#[test]
fn digest_groups_by_rule_newest_first_with_each_article_once() {
    let links = Links::new("https://alerts.example.org", "s3cret");
    let r = DigestRenderer::new(Path::new("/nonexistent"), 3, links).unwrap();
    let alerts = [
        alert("a", "Gas <script>alert(1)</script>", &["gas", "energy"], 1),
        alert("b", "Oil & gas", &["energy"], 3),
        alert("c", "Later gas", &["gas"], 5),
        alert("a", "Gas <script>alert(1)</script>", &["gas", "energy"], 1),
        alert("d", "Fourth", &["gas"], 0),
    ];
    let mail = r
        .render(&sub(), "desk@example.org", &alerts, period())
        .unwrap();
    assert_eq!(mail.subject, "Digest: 4 new matches · Mon 7 Dec 2026");
    insta::assert_snapshot!("digest_text", mail.text);
    insta::assert_snapshot!("digest_html", mail.html);
    assert!(!mail.html.contains("<script>"), "escaped");
    assert!(
        mail.html.contains("<b>&lt;gas&gt;</b>"),
        "highlight, escaped"
    );
    assert_eq!(mail.text.matches("Gas <script>").count(), 1, "article once");
    assert!(mail.text.contains("…and 1 more."));
    assert!(
        mail.text
            .contains("https://alerts.example.org/unsubscribe?a=")
    );
}

#[test]
fn admins_can_override_templates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("digest.txt.j2"),
        "{{ count }} for {{ subscriber }}",
    )
    .unwrap();
    let r = DigestRenderer::new(dir.path(), 10, None).unwrap();
    let mail = r
        .render(
            &sub(),
            "desk@example.org",
            &[alert("a", "t", &["r"], 1)],
            period(),
        )
        .unwrap();
    assert_eq!(mail.text, "1 for desk");
    assert!(
        mail.html.contains("news.example.org&#x2f;a\">t</a>"),
        "{}",
        mail.html
    );
    std::fs::write(dir.path().join("digest.html.j2"), "{% for x in %}").unwrap();
    let e = DigestRenderer::new(dir.path(), 10, None).err().unwrap();
    assert!(e.contains("digest.html.j2:1:"), "{e}");
}

#[test]
fn copies_of_one_story_fold_into_one_item() {
    let r = DigestRenderer::new(Path::new("/nonexistent"), 10, None).unwrap();
    let story = |mut a: Alert, sources| {
        a.story = Some(crate::alert::StoryRef {
            id: "s-1".into(),
            sources,
        });
        a
    };
    let alerts = [
        story(alert("a", "Wire story", &["gas"], 1), 1),
        story(alert("b", "Wire story, reworded", &["gas"], 2), 2),
        story(alert("c", "Wire story again", &["gas"], 3), 3),
        alert("d", "Other", &["gas"], 4),
    ];
    let mail = r
        .render(&sub(), "desk@example.org", &alerts, period())
        .unwrap();
    assert!(
        mail.subject.starts_with("Digest: 2 new matches"),
        "{}",
        mail.subject
    );
    assert!(mail.text.contains("* Wire story\n"), "{}", mail.text);
    assert!(mail.text.contains("+2 sources"), "{}", mail.text);
    assert!(!mail.text.contains("reworded"), "{}", mail.text);
}

#[test]
fn hostile_titles_are_escaped_and_cut() {
    let r = DigestRenderer::new(Path::new("/nonexistent"), 10, None).unwrap();
    let alerts = [
        alert("lone", "Talks resume <b after a pause", &["gas"], 5),
        alert("amp", "Oil &amp; gas: A&B agree", &["gas"], 4),
        alert("emoji", "🇦🇿 Baku 🤝 Yerevan: talks 👍🏽", &["gas"], 3),
        alert(
            "rtl",
            "מו״מ בבאקו \u{202e}evil\u{202c} محادثات",
            &["gas"],
            2,
        ),
        alert("long", &"Minsk Group ".repeat(900), &["gas"], 1),
    ];
    let mail = r
        .render(&sub(), "desk@example.org", &alerts, period())
        .unwrap();
    insta::assert_snapshot!("digest_hostile_text", mail.text);
    insta::assert_snapshot!("digest_hostile_html", mail.html);
    assert!(!mail.html.contains("<b after"), "lone tag escaped");
    assert!(mail.html.contains("&lt;b after"), "{}", mail.html);
    assert!(
        mail.text.len() < 4_000,
        "10 KB title cut: {}",
        mail.text.len()
    );
}
