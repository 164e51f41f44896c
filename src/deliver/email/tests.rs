//! Email composition: the `Message-ID` derivation, and the whole header
//! block of an alert mail pinned by an `insta` snapshot
//! (`snapshots/`; the random multipart boundary is replaced by `BOUNDARY`).

use super::message::{Composer, message_id};
use crate::alert::{Alert, Snippet, Target};
use crate::subscriber::Channel;
use std::time::{Duration, SystemTime};

fn alert(article: &str, subscriber: &str) -> Alert {
    Alert {
        article_id: article.into(),
        subscriber: subscriber.into(),
        channel: Channel::Email,
        target: Target::Email("desk@example.org".into()),
        title: "Zakharova: Baku and the \"Minsk Group\" talks".into(),
        url: Some("https://news.example.org/a?x=1&y=2".into()),
        source: Some("news.example.org".into()),
        published_at: Some("2025-10-25T09:30:00+04:00".parse().unwrap()),
        rules: vec!["minsk-group".into(), "azerbaijan".into()],
        snippet: Some(Snippet {
            text: "the OSCE Minsk Group co-chairs".into(),
            highlights: vec![(9, 20)],
        }),
        story: None,
    }
}

fn composer() -> Composer {
    Composer {
        from: "newsalert <alerts@example.net>".parse().unwrap(),
        message_id_domain: "example.net".into(),
        dkim: None,
        links: None,
    }
}

/// 2025-10-25 05:30:00 UTC.
fn fixed_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_761_370_200)
}

/// The header block of `message`, the multipart boundary made stable.
fn headers(message: &lettre::Message) -> String {
    let text = String::from_utf8(message.formatted()).unwrap();
    let head = text.split("\r\n\r\n").next().unwrap().to_string();
    let boundary = head
        .split("boundary=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a multipart boundary");
    head.replace(boundary, "BOUNDARY").replace("\r\n", "\n")
}

#[test]
fn message_ids_are_stable_per_alert_and_distinct_between_alerts() {
    let a = alert("a-1", "desk");
    let id = message_id(&a.key(), "example.net");
    assert_eq!(id, message_id(&a.clone().key(), "example.net"));
    assert!(
        id.starts_with("<alert.") && id.ends_with("@example.net>"),
        "{id}"
    );
    assert_eq!(id.len(), "<alert.@example.net>".len() + 32, "{id}");
    let others = [
        alert("a-2", "desk").key(),
        alert("a-1", "ops").key(),
        alert("a/1", "desk").key(),
    ];
    for key in others {
        assert_ne!(message_id(&key, "example.net"), id, "{key}");
    }
}

#[test]
fn snapshot_email_headers() {
    let mut a = alert("a-1", "desk");
    // Line breaks in ids never split a header.
    a.rules.push("odd\r\nBcc: x@example.com".into());
    let message = composer()
        .compose("desk@example.org", &a, fixed_time())
        .unwrap();
    let headers = headers(&message);
    assert!(!headers.contains("\nBcc:"), "{headers}");
    insta::assert_snapshot!("email_headers", headers);
}

#[test]
fn a_bad_recipient_is_permanent() {
    let err = composer()
        .compose("not an address", &alert("a", "d"), fixed_time())
        .unwrap_err();
    assert!(
        matches!(err, crate::deliver::DeliveryError::Permanent { .. }),
        "{err}"
    );
}

#[test]
fn snapshot_digest_headers_with_one_click_unsubscribe() {
    let mut c = composer();
    c.links = crate::unsubscribe::Links::new("https://alerts.example.org", "s3cret");
    let p = crate::deliver::prepared::Prepared {
        key: "claim.digest.abc.1765090800000.42".into(),
        kind: "digest".into(),
        subscriber: "desk".into(),
        channel: Channel::Email,
        target: Target::Email("desk@example.org".into()),
        subject: "Digest: 3 new matches · Mon 7 Dec 2026".into(),
        text: "text".into(),
        html: Some("<p>html</p>".into()),
        items: 3,
    };
    let message = c
        .compose_prepared("desk@example.org", &p, fixed_time())
        .unwrap();
    let head = headers(&message);
    assert!(head.contains("multipart/alternative"), "{head}");
    insta::assert_snapshot!("digest_headers", head);
    // Instant mails carry the same two headers.
    let instant = headers(
        &c.compose("desk@example.org", &alert("a-1", "desk"), fixed_time())
            .unwrap(),
    );
    assert!(
        instant.contains("List-Unsubscribe: <https://alerts.example.org/unsubscribe?a="),
        "{instant}"
    );
    assert!(
        instant.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{instant}"
    );
}
