//! Hot reload of a watched rules file inside a running service: a valid
//! edit is picked up without a restart, a broken one is rejected with every
//! error logged while the old rules keep running.
//!
//! These run in real time, not on a paused clock: the service talks to a
//! real nats-server and the fake Telegram over sockets (a paused clock
//! would auto-advance through the client's timeouts while a reply is on
//! the wire), and the watcher polls the real file system every 50 ms.
//! No fixed sleeps: each wait polls for its condition (`wait_until`,
//! `wait_for`) with a generous deadline, so a slow machine only makes it
//! slower. The watcher's timing itself is tested on a paused clock in
//! `src/reload.rs`.

use crate::support::nats::NatsServer;
use crate::support::telegram::FakeTelegram;
use crate::support::wait_until;
use crate::{RULES, config_dir, publish, spawn_app};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::subscriber::DefaultGuard;

/// `RULES` plus a subscriber and a rule that only pipeline news match.
fn rules_with_energy() -> String {
    format!(
        "{RULES}\n[[subscriber]]\nid = \"energy\"\ntelegram_chat_id = 77\n\n\
         [[rule]]\nid = \"pipeline\"\nquery = 'pipeline'\nnotify = [\"energy\"]\n"
    )
}

fn article(id: &str, title: &str) -> String {
    serde_json::json!({"id": id, "title": title, "body": title, "language": "en"}).to_string()
}

/// Log lines of this test's service, captured from `tracing`.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// Capture every event on this thread (`#[tokio::test]` runs the
    /// service's tasks on the test's thread) until the guard is dropped.
    fn capture(&self) -> DefaultGuard {
        let logs = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || logs.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).to_string()
    }

    fn count(&self, needle: &str) -> usize {
        self.text().matches(needle).count()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Turn on watching (every 50 ms) in a `config_dir`.
fn watch_rules(dir: &Path) {
    let path = dir.join("local.toml");
    let local = std::fs::read_to_string(&path).unwrap();
    let local = local.replace("watch = false", "watch = true\npoll_ms = 50");
    std::fs::write(path, local).unwrap();
}

#[tokio::test]
async fn edited_rules_file_is_reloaded_and_a_new_rule_alerts() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let nats = NatsServer::start();
    let telegram = FakeTelegram::start().await;
    let dir = config_dir(&nats, Some(&telegram), None, RULES);
    watch_rules(dir.path());
    let rules = dir.path().join("rules.toml");
    let app = spawn_app(dir).await;

    std::fs::write(&rules, rules_with_energy()).unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || logs.count("rules reloaded")
            == 1)
        .await,
        "no reload: {}",
        logs.text()
    );
    publish(
        &nats,
        "news.articles.t",
        "p-1",
        &article("p-1", "New gas pipeline"),
    )
    .await;

    let sent = telegram.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].chat_id, 77);
    assert!(sent[0].text.contains("Rules: pipeline"), "{}", sent[0].text);
    app.stop().await;
}

#[tokio::test]
async fn broken_rules_file_keeps_the_old_rules_and_logs_every_error() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let nats = NatsServer::start();
    let telegram = FakeTelegram::start().await;
    let dir = config_dir(&nats, Some(&telegram), None, RULES);
    watch_rules(dir.path());
    let rules = dir.path().join("rules.toml");
    let app = spawn_app(dir).await;

    // Two errors: an unknown subscriber and an unclosed parenthesis.
    let broken = rules_with_energy()
        .replace("notify = [\"energy\"]", "notify = [\"nobody\"]")
        .replace("'Azerbaijan OR Baku'", "'(Azerbaijan OR Baku'");
    std::fs::write(&rules, &broken).unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || logs
            .count("rules file rejected")
            == 1)
        .await,
        "no rejection: {}",
        logs.text()
    );
    let text = logs.text();
    let file = rules.display().to_string();
    assert!(
        text.contains(&format!("{file}:18:10: rule \"azerbaijan\"")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{file}:28:11: rule \"pipeline\": unknown subscriber \"nobody\""
        )),
        "{text}"
    );
    assert!(text.contains("errors=2"), "{text}");
    assert_eq!(logs.count("rules reloaded"), 0, "{text}");

    // The old rules still run: Baku alerts the desk, pipelines nobody.
    publish(
        &nats,
        "news.articles.t",
        "p-1",
        &article("p-1", "Gas pipeline news"),
    )
    .await;
    publish(
        &nats,
        "news.articles.t",
        "b-1",
        &article("b-1", "Baku news"),
    )
    .await;
    let sent = telegram.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].chat_id, -1001);
    assert!(
        sent[0].text.contains("Rules: azerbaijan"),
        "{}",
        sent[0].text
    );

    // Fixing the file is picked up; the broken version is not retried.
    std::fs::write(&rules, rules_with_energy()).unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || logs.count("rules reloaded")
            == 1)
        .await,
        "{}",
        logs.text()
    );
    assert_eq!(logs.count("rules file rejected"), 1, "{}", logs.text());
    publish(
        &nats,
        "news.articles.t",
        "p-2",
        &article("p-2", "Gas pipeline news"),
    )
    .await;
    assert!(
        wait_until(Duration::from_secs(10), || !telegram.sent_to(77).is_empty()).await,
        "{:?}",
        telegram.sent()
    );
    app.stop().await;
}
