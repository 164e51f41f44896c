//! The Telegram bot end to end: commands typed into the fake Telegram
//! (`getUpdates`), the replies it receives, `setMyCommands`, and alerts
//! skipped for paused and stopped chats; and the polling lease moving to
//! a second instance when the holder dies.

use crate::support::http::get;
use crate::support::nats::NatsServer;
use crate::support::telegram::{FakeTelegram, SentMessage};
use crate::{config_dir, enable, publish, spawn_app};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

const RULES: &str = r#"
[[subscriber]]
id = "desk"
telegram_chat_id = -1001

[[subscriber]]
id = "analyst"
telegram_chat_id = 42
timezone = "Asia/Baku"

[[rule]]
id = "minsk-group"
query = '"Minsk Group"'
notify = ["desk", "analyst"]
"#;

/// Short lease, short polls: a takeover within seconds.
const BOT: &str = "lease_ttl_secs = 3\npoll_timeout_secs = 1\n";

/// Send `text` from chat `chat` and wait for the bot's next message there.
async fn say(fake: &FakeTelegram, chat: i64, text: &str) -> String {
    let before = fake.sent_to(chat).len();
    fake.push_text(chat, "Leyla", text);
    let got = crate::support::wait_until(WAIT, || fake.sent_to(chat).len() > before).await;
    assert!(got, "no reply to {text:?} in chat {chat}");
    fake.sent_to(chat)[before].text.clone()
}

async fn article(nats: &NatsServer, id: &str) {
    let body =
        serde_json::json!({"id": id, "title": format!("Minsk Group meets ({id})"), "body": "x"});
    publish(nats, "news.articles.test", id, &body.to_string()).await;
}

/// Wait until `/metrics` has the line `metric`.
async fn wait_metric(addr: SocketAddr, metric: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(r) = get(addr, "/metrics").await
            && r.body.lines().any(|l| l == metric)
        {
            return;
        }
        assert!(Instant::now() < deadline, "no {metric:?} in /metrics");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn alerts(sent: &[SentMessage]) -> Vec<&str> {
    sent.iter()
        .filter(|m| m.text.contains("Rules: minsk-group"))
        .map(|m| m.text.lines().next().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn commands_answer_and_alerts_follow_pause_and_stop() {
    let nats = NatsServer::start();
    let fake = FakeTelegram::start().await;
    let dir = config_dir(&nats, Some(&fake), None, RULES);
    enable(&dir, "bot", BOT);
    let app = spawn_app(dir).await;

    let start = say(&fake, 42, "/start").await;
    assert!(start.starts_with("Hello, Leyla!"), "{start}");
    assert!(start.contains("This chat's id: <code>42</code>"), "{start}");
    let commands = fake.my_commands();
    let names: Vec<&str> = commands[0]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["start", "status", "pause", "resume", "stop", "help"]
    );
    let stranger = say(&fake, 7, "/start").await;
    assert!(
        stranger.contains("<code>telegram_chat_id = 7</code>"),
        "{stranger}"
    );

    let status = say(&fake, 42, "/status").await;
    for part in [
        "Alerts: active",
        "Quiet hours: none",
        "Subscriber: analyst",
        "minsk-group",
    ] {
        assert!(status.contains(part), "{part}: {status}");
    }
    assert!(
        say(&fake, 42, "/weather")
            .await
            .starts_with("I don't know /weather")
    );
    assert!(
        say(&fake, 42, "/pause soon")
            .await
            .contains("is not a duration")
    );

    // Paused: the desk gets the alert, the analyst's is skipped.
    assert!(
        say(&fake, 42, "/pause 1h")
            .await
            .starts_with("Alerts paused until")
    );
    assert!(
        say(&fake, 42, "/status")
            .await
            .contains("Alerts: paused until")
    );
    article(&nats, "a1").await;
    wait_metric(
        app.http,
        r#"newsalert_alerts_suppressed_total{channel="telegram",reason="chat_paused"} 1"#,
    )
    .await;
    assert!(crate::support::wait_until(WAIT, || alerts(&fake.sent_to(-1001)).len() == 1).await);

    assert_eq!(say(&fake, 42, "/resume").await, "Alerts resumed.");
    article(&nats, "a2").await;
    assert!(crate::support::wait_until(WAIT, || alerts(&fake.sent_to(42)).len() == 1).await);

    // Stopped: skipped until /start; /pause and /resume do not undo it.
    assert!(say(&fake, 42, "/stop").await.starts_with("Stopped"));
    assert!(say(&fake, 42, "/resume").await.contains("send /start"));
    article(&nats, "a3").await;
    wait_metric(
        app.http,
        r#"newsalert_alerts_suppressed_total{channel="telegram",reason="chat_stopped"} 1"#,
    )
    .await;
    assert!(
        say(&fake, 42, "/status")
            .await
            .contains("Alerts: stopped since")
    );
    assert!(
        say(&fake, 42, "/start")
            .await
            .contains("Alerts are on again")
    );
    article(&nats, "a4").await;
    assert!(crate::support::wait_until(WAIT, || alerts(&fake.sent_to(42)).len() == 2).await);
    assert_eq!(
        alerts(&fake.sent_to(42)),
        [
            "<b>Minsk Group meets (a2)</b>",
            "<b>Minsk Group meets (a4)</b>"
        ]
    );
    assert!(crate::support::wait_until(WAIT, || alerts(&fake.sent_to(-1001)).len() == 4).await);
    assert!(
        fake.polls().iter().all(|p| !p.conflict),
        "one poller at a time"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_polling_lease_moves_to_a_second_instance_when_the_holder_dies() {
    let nats = NatsServer::start();
    let fake = FakeTelegram::start().await;
    let instance = || {
        let dir = config_dir(&nats, Some(&fake), None, RULES);
        enable(&dir, "bot", BOT);
        dir
    };
    let first = spawn_app(instance()).await;
    assert!(say(&fake, 42, "/start").await.contains("<code>42</code>"));
    let second = spawn_app(instance()).await;
    // Both run; only the holder polls (no 409 from the fake).
    assert!(say(&fake, 42, "/status").await.contains("Alerts: active"));
    first.kill();
    let killed = Instant::now();
    fake.push_text(42, "Leyla", "/help");
    let before = fake.sent_to(42).len();
    let help_answered = || {
        fake.sent_to(42)[before..]
            .iter()
            .any(|m| m.text.starts_with("/start —"))
    };
    assert!(
        crate::support::wait_until(Duration::from_secs(30), help_answered).await,
        "the second instance did not take over within 30 s"
    );
    let took = killed.elapsed();
    println!(
        "bot lease: second instance answered {took:?} after the holder was killed (lease_ttl_secs = 3)"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(
        fake.polls().iter().all(|p| !p.conflict),
        "never two pollers at once"
    );
    assert_eq!(
        fake.my_commands().len(),
        2,
        "each holder registers the commands"
    );
    second.stop().await;
}

/// Replies go through the flood limits the alerts use: commands typed in
/// quick succession, next to an alert for the same chat, get every answer
/// at least a second apart and no refusal from a fake that enforces
/// Telegram's limits; a 429 for a reply pauses the chat and the reply is
/// sent once the pause is over.
#[tokio::test]
async fn replies_keep_the_flood_limits_and_outlast_a_429() {
    use crate::support::telegram::{Fault, FloodLimits};
    let nats = NatsServer::start();
    let fake = FakeTelegram::start().await;
    fake.enable_flood_limits(FloodLimits::default());
    let dir = config_dir(&nats, Some(&fake), None, RULES);
    enable(&dir, "bot", BOT);
    let app = spawn_app(dir).await;
    assert!(say(&fake, 42, "/help").await.contains("/pause"));

    article(&nats, "flood-1").await;
    for command in ["/status", "/help", "/start"] {
        fake.push_text(42, "Leyla", command);
    }
    let got = crate::support::wait_until(WAIT, || fake.sent_to(42).len() >= 5).await;
    let sent = fake.sent_to(42);
    assert!(got, "1 + 3 replies and the alert: {sent:?}");
    assert_eq!(alerts(&sent), ["<b>Minsk Group meets (flood-1)</b>"]);
    for pair in sent.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap >= Duration::from_millis(950),
            "{gap:?} between {pair:?}"
        );
    }
    let refused: Vec<_> = fake
        .attempts()
        .into_iter()
        .filter(|a| a.status != 200)
        .collect();
    assert!(refused.is_empty(), "{refused:?}");

    fake.push_fault(Some(42), Fault::RetryAfter(2));
    let before = fake.sent_to(42).len();
    fake.push_text(42, "Leyla", "/status");
    let got = crate::support::wait_until(WAIT, || fake.sent_to(42).len() > before).await;
    assert!(got, "the reply after the 429");
    let attempts = fake.attempts();
    let throttled = attempts
        .iter()
        .rev()
        .find(|a| a.status == 429)
        .expect("the 429");
    let reply = &fake.sent_to(42)[before];
    assert!(reply.text.contains("Alerts: active"), "{}", reply.text);
    assert!(
        reply.at - throttled.message.at >= Duration::from_millis(1900),
        "sent {:?} after the 429 (retry_after 2 s)",
        reply.at - throttled.message.at
    );
    app.stop().await;
}
