//! Articles published to NATS reach Telegram and SMTP; invalid ones reach
//! the dead-letter stream without stopping the rest.

use crate::support::nats::{NatsServer, SERVICE_STREAMS, wait_drained};
use crate::support::smtp::SmtpSink;
use crate::support::telegram::{FakeTelegram, parse_html};
use crate::{RULES, TOKEN, config_dir, publish, spawn_app};
use std::time::{Duration, Instant};

fn article(id: &str, title: &str, body: &str) -> String {
    serde_json::json!({
        "id": id,
        "title": title,
        "body": body,
        "url": "https://news.example.org/a?x=1&y=2",
        "source": "news.example.org",
        "published_at": "2025-10-25T09:30:00+04:00",
        "language": "en"
    })
    .to_string()
}

#[tokio::test]
async fn article_reaches_telegram_with_escaped_html_and_smtp() {
    let nats = NatsServer::start();
    let telegram = FakeTelegram::start().await;
    let smtp = SmtpSink::start();
    let app = spawn_app(config_dir(&nats, Some(&telegram), Some(&smtp), RULES)).await;

    let published = Instant::now();
    publish(
        &nats,
        "news.articles.test",
        "a-1",
        &article(
            "a-1",
            "Zakharova <on> the \"Minsk Group\" & Azerbaijan",
            "<p>Moscow doubts the sincerity of the OSCE <b>Minsk</b> Group co-chairs.</p>",
        ),
    )
    .await;

    // desk: telegram + email; analyst: telegram. One alert per channel.
    let sent = telegram.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(
        published.elapsed() < Duration::from_secs(2),
        "delivered in {:?}",
        published.elapsed()
    );
    let desk = sent
        .iter()
        .find(|m| m.chat_id == -1001)
        .expect("desk alert");
    assert_eq!(desk.token, TOKEN);
    assert_eq!(desk.parse_mode.as_deref(), Some("HTML"));
    assert!(
        desk.text.contains(
            "<a href=\"https://news.example.org/a?x=1&amp;y=2\">Zakharova &lt;on&gt; the &quot;Minsk Group&quot; &amp; Azerbaijan</a>"
        ),
        "{}",
        desk.text
    );
    assert!(
        desk.text.contains("Rules: minsk-group, azerbaijan"),
        "{}",
        desk.text
    );
    assert!(
        desk.text.contains("<b>Minsk Group</b>"),
        "snippet highlights the hit: {}",
        desk.text
    );
    let analyst = sent
        .iter()
        .find(|m| m.chat_id == 42)
        .expect("analyst alert");
    assert!(
        analyst.text.contains("Rules: minsk-group\n")
            || analyst.text.ends_with("Rules: minsk-group")
    );
    assert!(
        telegram.attempts().iter().all(|a| a.status == 200),
        "Telegram accepted our HTML"
    );

    let mails = smtp.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, vec!["desk@example.org"]);
    assert!(mails[0].subject().unwrap().contains("Zakharova"));
    assert!(mails[0].html().unwrap().contains("&lt;on&gt;"));
    assert!(
        mails[0]
            .plain_text()
            .unwrap()
            .contains("Rules: minsk-group, azerbaijan")
    );

    // Nothing more arrives: exactly once per subscriber and channel.
    wait_drained(&js(&nats).await, SERVICE_STREAMS, Duration::from_secs(10)).await;
    assert_eq!(telegram.sent().len(), 2);
    assert_eq!(smtp.messages().len(), 1);
    app.stop().await;
}

async fn js(nats: &NatsServer) -> async_nats::jetstream::Context {
    async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap())
}

/// Titles are plain text (JSON Feed's `title`): tags in them are shown as
/// sent, `&amp;` decoded once, and the matcher sees the same text.
#[tokio::test]
async fn title_tags_are_shown_as_text_in_telegram_and_email() {
    const DRAFT_RULES: &str = r#"
[[subscriber]]
id = "desk"
telegram_chat_id = -1001
email = "desk@example.org"

[[rule]]
id = "draft"
query = 'draft'
notify = ["desk"]
"#;
    let nats = NatsServer::start();
    let telegram = FakeTelegram::start().await;
    let smtp = SmtpSink::start();
    let app = spawn_app(config_dir(&nats, Some(&telegram), Some(&smtp), DRAFT_RULES)).await;
    let title = r#"Envoys: "<b>Baku &amp; Yerevan</b>" agree on <draft> text"#;
    let shown = r#"Envoys: "<b>Baku & Yerevan</b>" agree on <draft> text"#;
    // `draft` is only in the title: the match comes from it.
    let event = article("t-1", title, "<p>The talks go on.</p>");
    publish(&nats, "news.articles.test", "t-1", &event).await;

    let sent = telegram.wait_for(1, Duration::from_secs(5)).await;
    let html = &sent[0].text;
    assert!(
        html.contains(
            "Envoys: &quot;&lt;b&gt;Baku &amp; Yerevan&lt;/b&gt;&quot; agree on &lt;draft&gt; text"
        ),
        "{html}"
    );
    let rendered = parse_html(html).expect("Telegram accepts the HTML");
    assert!(rendered.starts_with(shown), "{rendered}");
    assert!(rendered.contains("Rules: draft"), "{rendered}");

    let mails = smtp.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(mails[0].subject().unwrap(), format!("[newsalert] {shown}"));
    let plain = mails[0].plain_text().unwrap();
    assert!(plain.starts_with(&format!("{shown}\n")), "{plain}");
    let mail_html = mails[0].html().unwrap();
    assert!(
        mail_html.contains(
            "Envoys: &quot;&lt;b&gt;Baku &amp; Yerevan&lt;/b&gt;&quot; agree on &lt;draft&gt; text</a></h3>"
        ),
        "{mail_html}"
    );
    app.stop().await;
}

#[tokio::test]
async fn invalid_event_is_dead_lettered_and_the_next_is_delivered() {
    let nats = NatsServer::start();
    let telegram = FakeTelegram::start().await;
    let app = spawn_app(config_dir(&nats, Some(&telegram), None, RULES)).await;

    publish(&nats, "news.articles.test", "bad-json", "{not json").await;
    publish(
        &nats,
        "news.articles.test",
        "no-title",
        r#"{"id":"x1","body":"Baku"}"#,
    )
    .await;
    publish(
        &nats,
        "news.articles.test",
        "ok-1",
        &article("ok-1", "Baku talks", "Azerbaijan news"),
    )
    .await;

    let sent = telegram.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].chat_id, -1001);

    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let mut dlq = js
        .get_stream("NEWSALERT_DLQ")
        .await
        .expect("dead-letter stream");
    let mut reasons = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while reasons.len() < 2 && Instant::now() < deadline {
        let n = dlq.info().await.unwrap().state.messages;
        if n >= 2 {
            for seq in 1..=n {
                let m = dlq.get_raw_message(seq).await.unwrap();
                let kind = m.headers.get("Newsalert-Error-Kind").map(|v| v.to_string());
                let subject = m
                    .headers
                    .get("Newsalert-Original-Subject")
                    .map(|v| v.to_string());
                assert_eq!(subject.as_deref(), Some("news.articles.test"));
                reasons.push((
                    kind.unwrap_or_default(),
                    String::from_utf8_lossy(&m.payload).to_string(),
                ));
            }
        } else {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    reasons.sort();
    assert_eq!(
        reasons,
        vec![
            ("bad_json".to_string(), "{not json".to_string()),
            (
                "missing_field".to_string(),
                r#"{"id":"x1","body":"Baku"}"#.to_string()
            ),
        ]
    );
    // The bad events were acked, not left to be redelivered forever.
    wait_drained(&js, &["ARTICLES"], Duration::from_secs(5)).await;
    app.stop().await;
}

#[tokio::test]
async fn duplicate_publishes_alert_once_and_unmatched_articles_alert_nobody() {
    let nats = NatsServer::start();
    let telegram = FakeTelegram::start().await;
    let app = spawn_app(config_dir(&nats, Some(&telegram), None, RULES)).await;
    let a = article("dup-1", "Baku", "Azerbaijan");
    publish(&nats, "news.articles.x", "dup-1", &a).await;
    publish(&nats, "news.articles.x", "dup-1", &a).await;
    publish(
        &nats,
        "news.articles.x",
        "other",
        &article("other", "A woman from Oman", "Minsk bakery"),
    )
    .await;
    let sent = telegram.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(sent.len(), 1);
    wait_drained(&js(&nats).await, SERVICE_STREAMS, Duration::from_secs(10)).await;
    assert_eq!(telegram.sent().len(), 1, "{:?}", telegram.sent());
    app.stop().await;
}

#[tokio::test]
async fn waits_for_nats_at_start_and_resumes_after_a_broker_restart() {
    let mut nats = NatsServer::start();
    nats.kill();
    let telegram = FakeTelegram::start().await;
    let dir = config_dir(&nats, Some(&telegram), None, RULES);
    let starting = tokio::spawn(spawn_app(dir));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!starting.is_finished(), "build waits for NATS");
    nats.restart();
    let app = tokio::time::timeout(Duration::from_secs(15), starting)
        .await
        .expect("starts once NATS is up")
        .unwrap();
    publish(
        &nats,
        "news.articles.x",
        "r-1",
        &article("r-1", "Baku", "x"),
    )
    .await;
    assert_eq!(telegram.wait_for(1, Duration::from_secs(5)).await.len(), 1);

    nats.kill();
    nats.restart();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        // The publisher may race the restart; retry until JetStream acks.
        let ok = tokio::time::timeout(Duration::from_secs(2), async {
            let client = async_nats::connect(nats.url()).await.ok()?;
            let js = async_nats::jetstream::new(client);
            let mut h = async_nats::HeaderMap::new();
            h.insert("Nats-Msg-Id", "r-2");
            js.publish_with_headers(
                "news.articles.x",
                h,
                article("r-2", "Baku again", "x").into(),
            )
            .await
            .ok()?
            .await
            .ok()
        })
        .await;
        if matches!(ok, Ok(Some(_))) {
            break;
        }
        assert!(Instant::now() < deadline, "could not publish after restart");
    }
    assert_eq!(
        telegram.wait_for(2, Duration::from_secs(15)).await.len(),
        2,
        "resumed after restart"
    );
    app.stop().await;
}
