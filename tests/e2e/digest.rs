//! Held alerts on an injected clock ([`ManualClock`]): email digests
//! (exactly one per subscriber and period across a DST change, a restart,
//! two instances and downtime), quiet hours, the per-hour Telegram cap,
//! and one-click unsubscribe. Real nats-server, SMTP sink and fake
//! Telegram; the release task polls every 50 ms of real time and reads
//! the test's clock.

use crate::support::nats::NatsServer;
use crate::support::smtp::{ReceivedMail, SmtpFault, SmtpSink};
use crate::support::telegram::FakeTelegram;
use crate::{TestApp, config_dir, enable, publish, spawn_app_with_clock};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use newsalert::clock::ManualClock;
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn rules(subscriber: &str) -> String {
    format!(
        r#"
[[subscriber]]
id = "desk"
{subscriber}

[[rule]]
id = "baku"
query = 'Baku'
notify = ["desk"]

[[rule]]
id = "talks"
query = 'talks'
notify = ["desk"]
"#
    )
}

const DAILY: &str =
    "email = \"desk@example.org\"\ndigest = \"daily 08:00\"\ntimezone = \"Europe/Berlin\"";

async fn start(
    nats: &NatsServer,
    smtp: Option<&SmtpSink>,
    tg: Option<&FakeTelegram>,
    who: &str,
    clock: &ManualClock,
    http: &str,
) -> TestApp {
    let dir = config_dir(nats, tg, smtp, &rules(who));
    let extra = "release_poll_ms = 50\nclaim_stale_secs = 3600\n";
    enable(&dir, "digest", extra);
    if !http.is_empty() {
        let path = dir.path().join("local.toml");
        let local = std::fs::read_to_string(&path).unwrap();
        let http = format!("[http]\nlisten = \"127.0.0.1:0\"\n{http}");
        std::fs::write(
            path,
            local.replace("[http]\nlisten = \"127.0.0.1:0\"\n", &http),
        )
        .unwrap();
    }
    spawn_app_with_clock(dir, Arc::new(clock.clone())).await
}

async fn article(nats: &NatsServer, id: &str, title: &str) {
    let body = format!(
        r#"{{"id":"{id}","title":"{title}","url":"https://news.example.org/{id}","body":"Officials met in Baku for talks."}}"#
    );
    publish(nats, "news.articles.test", id, &body).await;
}

/// The held subjects' message count: how many alerts wait.
async fn held(nats: &NatsServer) -> usize {
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    let stream = js.get_stream("NEWSALERT_ALERTS").await.unwrap();
    let subjects: Vec<(String, usize)> = stream
        .info_with_subjects("newsalert.alerts.pending.>")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    subjects.iter().map(|(_, n)| n).sum()
}

/// Wait until `n` alerts are held.
async fn wait_held(nats: &NatsServer, n: usize) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while held(nats).await != n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never {n} held (now {})",
            held(nats).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn titles(mail: &ReceivedMail) -> String {
    mail.plain_text().unwrap_or_default()
}

#[tokio::test]
async fn daily_digests_across_both_berlin_dst_changes() {
    let nats = NatsServer::start();
    let smtp = SmtpSink::start();
    // Saturday before spring forward, 13:00 CET.
    let clock = ManualClock::new(utc("2026-03-28T12:00:00Z"));
    let app = start(&nats, Some(&smtp), None, DAILY, &clock, "").await;
    article(&nats, "s1", "Baku talks one").await;
    article(&nats, "s2", "Baku talks two").await;
    wait_held(&nats, 2).await;
    // 07:59 CEST on Sunday: the period has not ended; nothing is released.
    clock.set(utc("2026-03-29T05:59:00Z"));
    article(&nats, "s3", "Baku talks three").await;
    wait_held(&nats, 3).await;
    // 08:00 CEST = 06:00Z: one digest with all three.
    clock.set(utc("2026-03-29T06:00:01Z"));
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    let text = titles(&mails[0]);
    for t in ["Baku talks one", "Baku talks two", "Baku talks three"] {
        assert!(text.contains(t), "{t} in {text}");
    }
    assert!(
        mails[0]
            .subject()
            .unwrap()
            .starts_with("Digest: 3 new matches"),
        "{:?}",
        mails[0].subject()
    );
    wait_held(&nats, 0).await;
    // Fall back: Saturday 24 Oct; Sunday 08:00 CET is 07:00Z (not 06:00Z).
    clock.set(utc("2026-10-24T12:00:00Z"));
    article(&nats, "f1", "Baku talks autumn").await;
    wait_held(&nats, 1).await;
    clock.set(utc("2026-10-25T06:30:00Z"));
    article(&nats, "f2", "Baku talks autumn two").await;
    wait_held(&nats, 2).await;
    clock.set(utc("2026-10-25T07:00:01Z"));
    let mails = smtp.wait_for(2, WAIT).await;
    assert_eq!(mails.len(), 2, "one digest per period");
    assert!(titles(&mails[1]).contains("Baku talks autumn two"));
    wait_held(&nats, 0).await;
    app.stop().await;
    assert_eq!(smtp.messages().len(), 2);
}

#[tokio::test]
async fn two_instances_and_a_restart_send_one_digest_per_period() {
    let nats = NatsServer::start();
    let smtp = SmtpSink::start();
    let clock = ManualClock::new(utc("2026-12-07T10:00:00Z"));
    let first = start(&nats, Some(&smtp), None, DAILY, &clock, "").await;
    article(&nats, "a1", "Baku talks a1").await;
    wait_held(&nats, 1).await;
    // Restart inside the window: what was held stays held.
    first.stop().await;
    let one = start(&nats, Some(&smtp), None, DAILY, &clock, "").await;
    let two = start(&nats, Some(&smtp), None, DAILY, &clock, "").await;
    for i in 2..=4 {
        article(&nats, &format!("a{i}"), &format!("Baku talks a{i}")).await;
    }
    wait_held(&nats, 4).await;
    clock.set(utc("2026-12-08T07:00:01Z"));
    let mails = smtp.wait_for(1, WAIT).await;
    let text = titles(&mails[0]);
    for i in 1..=4 {
        assert!(text.contains(&format!("Baku talks a{i}")), "a{i} in {text}");
    }
    wait_held(&nats, 0).await;
    // The next period: again exactly one, with only the new article.
    article(&nats, "b1", "Baku talks b1").await;
    wait_held(&nats, 1).await;
    clock.set(utc("2026-12-09T07:00:01Z"));
    let mails = smtp.wait_for(2, WAIT).await;
    assert!(titles(&mails[1]).contains("Baku talks b1"));
    assert!(!titles(&mails[1]).contains("a1"));
    wait_held(&nats, 0).await;
    one.stop().await;
    two.stop().await;
    assert_eq!(smtp.messages().len(), 2, "one digest per period");
}

#[tokio::test]
async fn after_downtime_one_catch_up_digest() {
    let nats = NatsServer::start();
    let smtp = SmtpSink::start();
    let hourly = "email = \"desk@example.org\"\ndigest = \"hourly\"";
    let clock = ManualClock::new(utc("2026-12-07T10:10:00Z"));
    let app = start(&nats, Some(&smtp), None, hourly, &clock, "").await;
    article(&nats, "c1", "Baku talks c1").await;
    wait_held(&nats, 1).await;
    app.stop().await;
    // Down for five periods; an article arrives meanwhile.
    article(&nats, "c2", "Baku talks c2").await;
    clock.set(utc("2026-12-07T15:20:00Z"));
    let app = start(&nats, Some(&smtp), None, hourly, &clock, "").await;
    let mails = smtp.wait_for(1, WAIT).await;
    assert!(titles(&mails[0]).contains("Baku talks c1"));
    // c2 was held at 15:20: it belongs to the current period.
    wait_held(&nats, 1).await;
    clock.set(utc("2026-12-07T16:00:01Z"));
    let mails = smtp.wait_for(2, WAIT).await;
    assert!(titles(&mails[1]).contains("Baku talks c2"));
    wait_held(&nats, 0).await;
    app.stop().await;
    assert_eq!(smtp.messages().len(), 2, "one catch-up digest, not five");
}

#[tokio::test]
async fn quiet_hours_hold_telegram_alerts_until_they_end() {
    let nats = NatsServer::start();
    let tg = FakeTelegram::start().await;
    let who = "telegram_chat_id = 77\nquiet_hours = \"22:00-07:00\"";
    let clock = ManualClock::new(utc("2026-12-07T23:30:00Z"));
    let app = start(&nats, None, Some(&tg), who, &clock, "").await;
    article(&nats, "q1", "Baku talks at night").await;
    article(&nats, "q2", "Baku talks later at night").await;
    wait_held(&nats, 2).await;
    assert!(tg.sent_to(77).is_empty(), "nothing at night");
    clock.set(utc("2026-12-08T07:00:01Z"));
    let sent = tg.wait_for(1, WAIT).await;
    assert_eq!(sent.len(), 1, "one summary");
    assert!(sent[0].text.contains("2 matches"), "{}", sent[0].text);
    assert!(
        sent[0].text.contains("Baku talks at night")
            && sent[0].text.contains("Baku talks later at night")
    );
    wait_held(&nats, 0).await;
    // The summary went through chat 77's partition, where its owner sends
    // it in turn with the chat's alerts, not through the prepared subject.
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    let stream = js.get_stream("NEWSALERT_ALERTS").await.unwrap();
    let partition = newsalert::deliver::partition::partition_of(77, 16);
    let last = stream
        .get_last_raw_message_by_subject(&format!("newsalert.alerts.telegram.{partition}"))
        .await
        .unwrap();
    assert!(
        last.headers
            .get(newsalert::deliver::prepared::PREPARED)
            .is_some()
    );
    let on_prepared: Vec<(String, usize)> = stream
        .info_with_subjects("newsalert.alerts.prepared.>")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert!(on_prepared.is_empty(), "{on_prepared:?}");
    // In the day, alerts go out at once.
    article(&nats, "q3", "Baku talks by day").await;
    let sent = tg.wait_for(2, WAIT).await;
    assert!(sent[1].text.contains("Baku talks by day"));
    app.stop().await;
}

#[tokio::test]
async fn the_per_hour_cap_folds_the_overflow_into_one_message() {
    let nats = NatsServer::start();
    let tg = FakeTelegram::start().await;
    let who = "telegram_chat_id = 78\nmax_telegram_per_hour = 2";
    let clock = ManualClock::new(utc("2026-12-07T10:05:00Z"));
    let app = start(&nats, None, Some(&tg), who, &clock, "").await;
    for i in 1..=5 {
        article(&nats, &format!("o{i}"), &format!("Baku talks o{i}")).await;
    }
    let sent = tg.wait_for(2, WAIT).await;
    assert_eq!(sent.len(), 2);
    wait_held(&nats, 3).await;
    clock.set(utc("2026-12-07T11:00:01Z"));
    let sent = tg.wait_for(3, WAIT).await;
    assert!(
        sent[2].text.starts_with("3 more matches this hour"),
        "{}",
        sent[2].text
    );
    wait_held(&nats, 0).await;
    app.stop().await;
    assert_eq!(tg.sent_to(78).len(), 3);
}

#[tokio::test]
async fn one_click_unsubscribe_valid_forged_and_repeated() {
    let nats = NatsServer::start();
    let smtp = SmtpSink::start();
    let clock = ManualClock::new(utc("2026-12-07T10:00:00Z"));
    let who = "email = \"desk@example.org\"";
    let http = "public_url = \"https://alerts.example.org\"\nunsubscribe_secret = \"s3cret\"\n";
    let app = start(&nats, Some(&smtp), None, who, &clock, http).await;
    article(&nats, "u1", "Baku talks u1").await;
    let mails = smtp.wait_for(1, WAIT).await;
    let header = mails[0]
        .header("List-Unsubscribe")
        .expect("List-Unsubscribe");
    assert_eq!(
        mails[0].header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let url = header.trim_matches(['<', '>']).replace(
        "https://alerts.example.org",
        &format!("http://{}", app.http),
    );
    let client = reqwest::Client::new();
    let post = |url: String| client.post(url).body("List-Unsubscribe=One-Click").send();
    // Forged: another address's token.
    let forged = url.replace("t=", "t=00");
    assert_eq!(post(forged).await.unwrap().status(), 403);
    // GET only confirms.
    let page = client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<form method=\"post\""));
    for _ in 0..2 {
        let r = post(url.clone()).await.unwrap();
        assert_eq!(r.status(), 200, "valid and repeated");
    }
    article(&nats, "u2", "Baku talks u2").await;
    let metrics = format!("http://{}/metrics", app.http);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let text = client
            .get(&metrics)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text
            .lines()
            .any(|l| l.contains("reason=\"unsubscribed\"") && l.ends_with(" 1"))
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "u2 never skipped:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(smtp.messages().len(), 1, "nothing after unsubscribing");
    app.stop().await;
}

#[tokio::test]
async fn a_failing_digest_is_retried_and_sent_once() {
    let nats = NatsServer::start();
    let smtp = SmtpSink::start();
    let clock = ManualClock::new(utc("2026-12-07T10:10:00Z"));
    let app = start(
        &nats,
        Some(&smtp),
        None,
        "email = \"desk@example.org\"\ndigest = \"hourly\"",
        &clock,
        "",
    )
    .await;
    article(&nats, "r1", "Baku talks r1").await;
    wait_held(&nats, 1).await;
    // Two temporary failures, then accepted.
    smtp.push_faults(SmtpFault::RejectData(451), 2);
    clock.set(utc("2026-12-07T11:00:01Z"));
    let mails = smtp.wait_for(1, WAIT).await;
    assert!(titles(&mails[0]).contains("Baku talks r1"));
    assert_eq!(smtp.transactions(), 3, "two refused, one accepted");
    wait_held(&nats, 0).await;
    app.stop().await;
    assert_eq!(smtp.messages().len(), 1);
}
