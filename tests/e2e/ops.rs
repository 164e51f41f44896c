//! The operator's commands against a real NATS: `publish` (dedup ids,
//! bad lines reported by file:line) and `dlq list` / `dlq replay` (a dead
//! letter replayed once its cause is fixed is delivered, and leaves the
//! dead-letter stream).

use crate::support::nats::NatsServer;
use crate::support::telegram::{FakeTelegram, Fault};
use crate::support::wait_until;
use crate::{RULES, config_dir, publish, spawn_app};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

fn newsalert(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_newsalert"))
        .args(args)
        .arg("--config")
        .arg(dir)
        .env_remove("RUST_LOG")
        .output()
        .expect("run newsalert")
}

async fn stream_ids(nats: &NatsServer, stream: &str) -> Vec<(String, String)> {
    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let mut s = js.get_stream(stream).await.unwrap();
    let state = s.info().await.unwrap().state.clone();
    let mut out = Vec::new();
    for seq in state.first_sequence..=state.last_sequence {
        if let Ok(m) = s.get_raw_message(seq).await {
            let id = m
                .headers
                .get("Nats-Msg-Id")
                .map(|v| v.to_string())
                .unwrap_or_default();
            out.push((m.subject.to_string(), id));
        }
    }
    out
}

#[tokio::test]
async fn publish_uses_article_ids_as_dedup_ids_and_reports_bad_lines() {
    let nats = NatsServer::start();
    let dir = config_dir(&nats, None, None, RULES);
    let file = dir.path().join("articles.jsonl");
    std::fs::write(
        &file,
        "{\"id\":\"p-1\",\"title\":\"Baku\"}\n{\"id\":\"p-2\",\"title\":\"Minsk Group\"}\n{\"id\":\"p-3\"}\nnot json\n",
    )
    .unwrap();
    let out = newsalert(dir.path(), &["publish", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let name = file.display().to_string();
    assert!(
        stderr.contains(&format!("{name}:3: missing required field `title`")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{name}:4: invalid JSON")),
        "{stderr}"
    );
    assert!(
        stderr.contains("published 2 article(s) to news.articles.cli; 2 rejected"),
        "{stderr}"
    );
    let want = vec![
        ("news.articles.cli".to_string(), "p-1".to_string()),
        ("news.articles.cli".to_string(), "p-2".to_string()),
    ];
    assert_eq!(stream_ids(&nats, "ARTICLES").await, want);

    // Publishing again within the dedup window stores nothing new.
    let _ = newsalert(dir.path(), &["publish", file.to_str().unwrap()]);
    assert_eq!(stream_ids(&nats, "ARTICLES").await, want);
}

#[tokio::test]
async fn dead_letters_are_listed_and_replayed_once_the_cause_is_fixed() {
    let nats = NatsServer::start();
    let telegram = FakeTelegram::start().await;
    telegram.push_fault(Some(42), Fault::Forbidden);
    let app = spawn_app(config_dir(&nats, Some(&telegram), None, RULES)).await;
    let dir = app.dir.path().to_path_buf();
    let article = r#"{"id":"d-1","title":"The Minsk Group met","body":"OSCE"}"#;
    publish(&nats, "news.articles.x", "d-1", article).await;

    // desk is served; analyst's chat answers 403: dead letter, chat disabled.
    telegram.wait_for(1, Duration::from_secs(10)).await;
    let list = || {
        let out = newsalert(&dir, &["dlq", "list", "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    assert!(
        wait_until(Duration::from_secs(10), || list().len() == 1).await,
        "one dead letter"
    );
    let entry = &list()[0];
    assert_eq!(entry["kind"], "target_unreachable");
    let subject = entry["original_subject"].as_str().unwrap_or_default();
    assert!(
        subject.starts_with("newsalert.alerts.telegram."),
        "the chat's partition: {entry}"
    );
    assert!(
        entry["reason"].as_str().unwrap().contains("blocked"),
        "{entry}"
    );

    // The user unblocks the bot; the operator replays.
    let out = newsalert(&dir, &["dlq", "replay", "--all"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        wait_until(Duration::from_secs(10), || telegram.sent_to(42).len() == 1).await,
        "replayed alert delivered: {:?}",
        telegram.attempts()
    );
    assert!(
        list().is_empty(),
        "replayed entries leave the dead-letter stream"
    );
    let out = newsalert(&dir, &["dlq", "replay", "999"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("dead letter 999: not found"));
    app.stop().await;
}
