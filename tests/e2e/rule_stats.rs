//! Per-rule counters against a real nats-server: concurrent writers lose
//! no counts, the counts survive a server restart, the service fills them
//! (`rules stats`), and `check` warns about stale and too-broad rules
//! with their file:line — and about no others.

use crate::support::nats::NatsServer;
use crate::support::telegram::{FakeTelegram, Fault};
use crate::support::wait_until;
use crate::{RULES, config_dir, publish, spawn_app};
use newsalert::nats::Broker;
use newsalert::observe::Health;
use newsalert::reload;
use newsalert::settings::Settings;
use newsalert::stats::counts::rule_key;
use newsalert::stats::store::{self, StatsStore};
use newsalert::stats::{Counters, now_ms};
use std::time::Duration;

use crate::cli as run_cli;

async fn broker(dir: &std::path::Path) -> (Settings, Broker) {
    let settings = Settings::load_with_env(dir, Vec::new()).unwrap();
    let broker = Broker::connect(&settings.nats, &Health::default())
        .await
        .unwrap();
    (settings, broker)
}

#[tokio::test]
async fn concurrent_writers_lose_no_counts_and_counts_survive_a_restart() {
    let mut nats = NatsServer::start();
    let dir = config_dir(&nats, None, None, RULES);
    std::fs::write(
        dir.path().join("local.toml"),
        std::fs::read_to_string(dir.path().join("local.toml")).unwrap()
            + "\n[stats]\nflush_secs = 1\n",
    )
    .unwrap();
    // Two instances: their own connections, handles and flushers.
    let (settings, a) = broker(dir.path()).await;
    let (_, b) = broker(dir.path()).await;
    let book = |s: &Settings| {
        let g = newsalert::regions::Gazetteer::builtin();
        reload::shared(newsalert::rulebook::RuleBook::load(&s.rules_path(), &g).unwrap())
    };
    let metrics = std::sync::Arc::new(newsalert::observe::Metrics::new());
    let (stats_a, flusher_a) = store::start(&settings.stats, &a, book(&settings), metrics.clone())
        .await
        .unwrap();
    let (stats_b, flusher_b) = store::start(&settings.stats, &b, book(&settings), metrics)
        .await
        .unwrap();
    let rules = vec!["azerbaijan".to_string()];
    let count = |stats: newsalert::stats::RuleStats| {
        let rules = rules.clone();
        tokio::spawn(async move {
            for i in 0..600 {
                stats.matched(["azerbaijan"]);
                stats.alerted(&rules);
                if i % 100 == 0 {
                    // Spread over several flushes.
                    tokio::time::sleep(Duration::from_millis(400)).await;
                }
            }
        })
    };
    let (x, y) = (count(stats_a), count(stats_b));
    x.await.unwrap();
    y.await.unwrap();
    flusher_a.unwrap().stop().await;
    flusher_b.unwrap().stop().await;
    // And raw compare-and-set adds from both, all at once.
    let (sa, sb) = (
        StatsStore::open(&a, "newsalert_rule_stats").await.unwrap(),
        StatsStore::open(&b, "newsalert_rule_stats").await.unwrap(),
    );
    let one = Counters {
        failed: 1,
        ..Counters::default()
    };
    let key = rule_key("azerbaijan");
    let adds = (0..50).flat_map(|_| [sa.add(&key, &one), sb.add(&key, &one)]);
    for r in futures::future::join_all(adds).await {
        r.unwrap();
    }
    let read = sa.read().await.unwrap();
    let az = &read.rules["azerbaijan"];
    assert_eq!((az.matched, az.alerted, az.failed), (1200, 1200, 100));
    assert_eq!(read.articles.matched, 1200);
    // Every rule of the book was registered, matched or not.
    let minsk = &read.rules["minsk-group"];
    assert_eq!(minsk.matched, 0);
    assert!(minsk.first_seen_ms.is_some() && az.last_match_ms.is_some());

    drop((sa, sb, a, b));
    nats.restart();
    let (_, again) = broker(dir.path()).await;
    let store = StatsStore::open(&again, "newsalert_rule_stats")
        .await
        .unwrap();
    assert_eq!(store.read().await.unwrap(), read);
}

#[tokio::test]
async fn the_service_counts_and_rules_stats_prints_them() {
    let nats = NatsServer::start();
    let telegram = FakeTelegram::start().await;
    let dir = config_dir(&nats, Some(&telegram), None, RULES);
    let local = dir.path().join("local.toml");
    let text = std::fs::read_to_string(&local).unwrap() + "\n[stats]\nflush_secs = 1\n";
    std::fs::write(&local, text).unwrap();
    let path = dir.path().to_path_buf();
    // analyst's chat has blocked the bot: its first alert fails for good,
    // the next is suppressed (target disabled).
    telegram.push_fault(Some(42), Fault::Forbidden);
    let app = spawn_app(dir).await;
    let article = |id: &str, title: &str| serde_json::json!({"id": id, "title": title}).to_string();
    publish(
        &nats,
        "news.articles.t",
        "s-1",
        &article("s-1", "Baku talks"),
    )
    .await;
    publish(&nats, "news.articles.t", "s-2", &article("s-2", "Weather")).await;
    assert!(
        wait_until(Duration::from_secs(10), || telegram.sent_to(-1001).len()
            == 1)
        .await,
        "{:?}",
        telegram.sent()
    );
    for (n, (id, title)) in [("m-1", "The Minsk Group met"), ("m-2", "Minsk Group again")]
        .into_iter()
        .enumerate()
    {
        publish(&nats, "news.articles.t", id, &article(id, title)).await;
        assert!(
            wait_until(Duration::from_secs(10), || telegram.sent_to(-1001).len()
                == n + 2)
            .await,
            "{:?}",
            telegram.sent()
        );
    }
    // Flushed every second: poll `rules stats` until every outcome counts.
    let mut lines: Vec<serde_json::Value> = Vec::new();
    let stats_out = || crate::json_lines(&run_cli(&path, &["rules", "stats", "--json"]));
    let alerted = |lines: &[serde_json::Value]| {
        let minsk = lines.iter().find(|l| l["rule"] == "minsk-group");
        lines
            .iter()
            .any(|l| l["rule"] == "azerbaijan" && l["alerted"] == 2)
            && minsk.is_some_and(|m| m["alerted"] == 4 && m["failed"] == 1)
            && minsk.is_some_and(|m| m["suppressed"]["target_disabled"] == 1)
    };
    for _ in 0..40 {
        lines = stats_out();
        if alerted(&lines) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(lines.len(), 2, "{lines:?}");
    let az = lines.iter().find(|l| l["rule"] == "azerbaijan").unwrap();
    // desk: Telegram, and email on the console notifier.
    assert_eq!(
        (az["matched"].as_u64(), az["alerted"].as_u64()),
        (Some(1), Some(2)),
        "{az}"
    );
    assert!(az["last_match_ms"].as_i64().unwrap() > 0);
    let minsk = lines.iter().find(|l| l["rule"] == "minsk-group").unwrap();
    assert_eq!(minsk["matched"], 2, "{minsk}");
    assert_eq!(minsk["alerted"], 4, "{minsk}");
    assert_eq!(minsk["failed"], 1, "{minsk}");
    assert_eq!(
        minsk["suppressed"],
        serde_json::json!({"target_disabled": 1})
    );
    let out = run_cli(&path, &["rules", "stats"]);
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(table.starts_with("4 article(s) counted since "), "{table}");
    assert!(table.contains("\nazerbaijan "), "{table}");
    let metrics = crate::support::http::get(app.http, "/metrics")
        .await
        .unwrap();
    let sent = "newsalert_rule_alerts_total{rule=\"azerbaijan\",outcome=\"sent\",reason=\"\"} 2";
    assert!(metrics.body.lines().any(|l| l == sent), "{}", metrics.body);
    app.stop().await;
}

const CHECKED: &str = r#"
[[subscriber]]
id = "desk"
telegram_chat_id = 1

[[rule]]
id = "stale"
query = 'Zangezur'
notify = ["desk"]

[[rule]]
id = "broad"
query = 'talks'
notify = ["desk"]

[[rule]]
id = "fine"
query = 'Baku'
notify = ["desk"]

[[rule]]
id = "young"
query = 'Yerevan'
notify = ["desk"]
"#;

#[tokio::test]
async fn check_warns_about_stale_and_too_broad_rules_with_file_line() {
    let nats = NatsServer::start();
    let dir = config_dir(&nats, None, None, CHECKED);
    let file = dir.path().join("rules.toml").display().to_string();
    // No stats yet: no warnings.
    let out = run_cli(dir.path(), &["check"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success() && !text.contains("warning"), "{text}");

    let (_, broker) = broker(dir.path()).await;
    let store = StatsStore::open(&broker, "newsalert_rule_stats")
        .await
        .unwrap();
    let day = 86_400_000;
    let now = now_ms();
    let seed = |matched, first: i64, last: Option<i64>| Counters {
        matched,
        first_seen_ms: Some(now - first * day),
        last_match_ms: last.map(|d| now - d * day),
        ..Counters::default()
    };
    for (id, c) in [
        ("stale", seed(3, 90, Some(45))),
        ("broad", seed(400, 90, Some(0))),
        ("fine", seed(50, 90, Some(1))),
        ("young", seed(0, 5, None)),
    ] {
        store.add(&rule_key(id), &c).await.unwrap();
    }
    let articles = Counters {
        matched: 1000,
        ..Counters::default()
    };
    store.add("total.articles", &articles).await.unwrap();

    let out = run_cli(dir.path(), &["check"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "{file}:7:6: warning: rule \"stale\" matched nothing in 30 days"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{file}:12:6: warning: rule \"broad\" matched 40% of all articles (400 of 1000"
        )),
        "{text}"
    );
    assert_eq!(text.matches("warning:").count(), 2, "{text}");
    assert!(text.contains("rules.toml: OK"), "{text}");

    // Offline: one line, and check still passes.
    drop(nats);
    let out = run_cli(dir.path(), &["check"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(text.matches("rule stats not checked").count(), 1, "{text}");
}
