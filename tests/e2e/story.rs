//! One alert per story, end to end: reworded copies of one story from
//! other outlets reach each Telegram chat once (later copies suppressed,
//! or marked "+N sources" with `later_copies = "annotate"`), email gets
//! every copy tagged, a different story on the same topic alerts, and the
//! story index survives a restart.

use crate::support::http::get;
use crate::support::nats::NatsServer;
use crate::support::smtp::SmtpSink;
use crate::support::telegram::FakeTelegram;
use crate::support::wait_until;
use crate::{config_dir, enable, publish, spawn_app};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

const RULES: &str = r#"
[[subscriber]]
id = "desk"
telegram_chat_id = -1001
email = "desk@example.org"

[[subscriber]]
id = "analyst"
telegram_chat_id = 42

[[rule]]
id = "caucasus"
query = 'Azerbaijan OR Armenia'
notify = ["desk", "analyst"]
"#;

/// (id, source, title, summary): three outlets' copies of one story and
/// another story on the same topic.
const REUTERS: (&str, &str, &str, &str) = (
    "reuters-1",
    "reuters.com",
    "Azerbaijan and Armenia agree to resume peace talks in Washington next month",
    "The foreign ministers of Azerbaijan and Armenia agreed on Tuesday to resume peace talks in Washington next month, the U.S. State Department said, after a year-long pause in negotiations over a border deal.",
);
const AP: (&str, &str, &str, &str) = (
    "ap-1",
    "apnews.com",
    "Armenia, Azerbaijan to restart peace negotiations in Washington",
    "Armenia and Azerbaijan have agreed to restart peace talks in Washington next month after a pause of more than a year in negotiations over a border deal, the U.S. State Department announced on Tuesday, citing both foreign ministers.",
);
const LOCAL: (&str, &str, &str, &str) = (
    "local-1",
    "news.example.az",
    "Azerbaijan and Armenia to resume peace talks in Washington, State Department says",
    "The foreign ministers of Azerbaijan and Armenia will resume peace talks in Washington next month, ending more than a year of stalled negotiations over a border deal, the U.S. State Department said on Tuesday.",
);
const SHELLING: (&str, &str, &str, &str) = (
    "shelling-1",
    "reuters.com",
    "Azerbaijan accuses Armenia of shelling its positions on the border",
    "Azerbaijan's defence ministry said on Wednesday that Armenian forces had fired on its positions along the border, an accusation Armenia's defence ministry denied, days before planned peace talks.",
);

async fn send(nats: &NatsServer, (id, source, title, summary): (&str, &str, &str, &str)) {
    let event = serde_json::json!({"id": id, "source": source, "title": title, "summary": summary});
    publish(nats, "news.articles.test", id, &event.to_string()).await;
}

async fn metric(addr: SocketAddr, line: &str) {
    let deadline = Instant::now() + WAIT;
    while !get(addr, "/metrics")
        .await
        .is_ok_and(|r| r.body.lines().any(|l| l == line))
    {
        assert!(Instant::now() < deadline, "no {line:?} in /metrics");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn titles(fake: &FakeTelegram, chat: i64) -> Vec<String> {
    fake.sent_to(chat)
        .iter()
        .map(|m| m.text.lines().next().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn copies_of_a_story_alert_each_chat_once_across_a_restart() {
    let nats = NatsServer::start();
    let fake = FakeTelegram::start().await;
    let smtp = SmtpSink::start();
    let dir = || {
        let dir = config_dir(&nats, Some(&fake), Some(&smtp), RULES);
        enable(&dir, "story", "");
        dir
    };
    let app = spawn_app(dir()).await;
    send(&nats, REUTERS).await;
    smtp.wait_for(1, WAIT).await;
    send(&nats, AP).await;
    let mails = smtp.wait_for(2, WAIT).await;
    metric(
        app.http,
        r#"newsalert_alerts_suppressed_total{channel="telegram",reason="same_story"} 2"#,
    )
    .await;
    // Email gets every copy; the later one says how many sources.
    assert!(
        mails[1].data.contains("apnews.com =C2=B7 +1 source")
            || mails[1].data.contains("apnews.com · +1 source"),
        "{}",
        mails[1].data
    );
    app.stop().await;

    // A new process reads the same index.
    let app = spawn_app(dir()).await;
    send(&nats, LOCAL).await;
    send(&nats, SHELLING).await;
    smtp.wait_for(4, WAIT).await;
    metric(
        app.http,
        r#"newsalert_alerts_suppressed_total{channel="telegram",reason="same_story"} 2"#,
    )
    .await;
    // Each chat's partition is consumed on its own: wait for both.
    assert!(
        wait_until(WAIT, || [-1001, 42]
            .iter()
            .all(|c| fake.sent_to(*c).len() == 2))
        .await
    );
    for chat in [-1001, 42] {
        let got = titles(&fake, chat);
        assert_eq!(got.len(), 2, "{chat}: {got:?}");
        assert!(got[0].contains("agree to resume peace talks"), "{got:?}");
        assert!(got[1].contains("accuses Armenia of shelling"), "{got:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn annotate_mode_sends_later_copies_marked_with_their_sources() {
    let nats = NatsServer::start();
    let fake = FakeTelegram::start().await;
    let dir = config_dir(&nats, Some(&fake), None, RULES);
    enable(&dir, "story", "later_copies = \"annotate\"\n");
    let app = spawn_app(dir).await;
    send(&nats, REUTERS).await;
    assert!(wait_until(WAIT, || fake.sent_to(42).len() == 1).await);
    send(&nats, AP).await;
    assert!(wait_until(WAIT, || fake.sent_to(42).len() == 2).await);
    send(&nats, LOCAL).await;
    assert!(wait_until(WAIT, || fake.sent_to(42).len() == 3).await);
    let sent = fake.sent_to(42);
    assert!(!sent[0].text.contains("source"), "{}", sent[0].text);
    assert!(
        sent[1].text.contains("<i>apnews.com · +1 source</i>"),
        "{}",
        sent[1].text
    );
    assert!(
        sent[2].text.contains("<i>news.example.az · +2 sources</i>"),
        "{}",
        sent[2].text
    );
    app.stop().await;
}
