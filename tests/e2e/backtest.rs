//! `newsalert backtest` (the real binary) over 200 articles in a real
//! nats-server, in plain, CloudEvents binary and structured form: per-rule
//! counts, per-day counts and the diff against the rules in force, checked
//! against what the test computes from the words it put in each article;
//! and nothing in NATS changes.

use crate::config_dir;
use crate::support::nats::NatsServer;
use async_nats::jetstream::{self, consumer};
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::Output;

const CURRENT: &str = r#"
[[subscriber]]
id = "desk"
telegram_chat_id = 1

[[rule]]
id = "r-alpha"
query = 'alpha'
notify = ["desk"]

[[rule]]
id = "r-beta"
query = 'beta'
notify = ["desk"]

[[rule]]
id = "r-gamma"
query = 'gamma'
notify = ["desk"]
"#;

/// r-alpha unchanged, r-beta widened, r-gamma removed, r-delta added.
const CANDIDATE: &str = r#"
[[subscriber]]
id = "desk"
telegram_chat_id = 1

[[rule]]
id = "r-alpha"
query = 'alpha'
notify = ["desk"]

[[rule]]
id = "r-beta"
query = 'beta OR gamma'
notify = ["desk"]

[[rule]]
id = "r-delta"
query = 'delta'
notify = ["desk"]
"#;

/// The words article `i` contains.
fn words(i: usize) -> Vec<&'static str> {
    [(3, "alpha"), (5, "beta"), (7, "gamma"), (11, "delta")]
        .into_iter()
        .filter(|(m, _)| i.is_multiple_of(*m))
        .map(|(_, w)| w)
        .collect()
}

/// Article `i` in one of the accepted forms.
async fn publish(js: &jetstream::Context, i: usize) {
    let id = format!("bt-{i}");
    // The words go in the body, behind HTML, so cleaning is exercised.
    let body = format!("<p>Report <b>{}</b> ends.</p>", words(i).join("</b> <b>"));
    let article = json!({"id": id, "title": format!("Story {i}"), "body": body});
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", id.as_str());
    let payload = match i % 10 {
        0 => {
            headers.insert("ce-specversion", "1.0");
            headers.insert("ce-id", id.as_str());
            headers.insert("ce-source", "/test");
            headers.insert("ce-type", "article");
            headers.insert("content-type", "application/json");
            let mut a = article.clone();
            a.as_object_mut().unwrap().remove("id");
            a.to_string()
        }
        1 => json!({"specversion": "1.0", "id": id, "source": "/test", "type": "article",
                    "data": article})
        .to_string(),
        _ => article.to_string(),
    };
    js.publish_with_headers("news.articles.bt", headers, payload.into())
        .await
        .unwrap()
        .await
        .unwrap();
}

/// Streams (KV buckets included) with their message counts, and each
/// stream's consumers.
async fn nats_state(js: &jetstream::Context) -> BTreeMap<String, (u64, Vec<String>)> {
    let mut out = BTreeMap::new();
    let mut streams = js.streams();
    while let Some(info) = streams.next().await {
        let info = info.unwrap();
        let stream = js.get_stream(&info.config.name).await.unwrap();
        let mut names: Vec<String> = stream
            .consumer_names()
            .map(|n| n.unwrap())
            .collect::<Vec<_>>()
            .await;
        names.sort();
        out.insert(info.config.name.clone(), (info.state.messages, names));
    }
    out
}

fn newsalert(dir: &std::path::Path, args: &[&str]) -> Output {
    let mut all = vec!["backtest"];
    all.extend_from_slice(args);
    crate::cli(dir, &all)
}

/// `backtest --json`'s lines by rule.
fn by_rule(out: &Output) -> BTreeMap<String, Value> {
    crate::json_lines(out)
        .into_iter()
        .map(|v| (v["rule"].as_str().unwrap().to_string(), v))
        .collect()
}

fn ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

fn expected_ids(pred: impl Fn(usize) -> bool) -> Vec<String> {
    let mut ids: Vec<String> = (0..200)
        .filter(|&i| pred(i))
        .map(|i| format!("bt-{i}"))
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn backtest_counts_and_diffs_a_changed_rule_file_and_changes_nothing() {
    let nats = NatsServer::start();
    let dir = config_dir(&nats, None, None, CURRENT);
    let settings = newsalert::settings::Settings::load_with_env(dir.path(), Vec::new()).unwrap();
    let broker =
        newsalert::nats::Broker::connect(&settings.nats, &newsalert::observe::Health::default())
            .await
            .unwrap();
    let js = broker.js.clone();
    let day_before = chrono::Utc::now().format("%Y-%m-%d").to_string();
    for i in 0..200 {
        publish(&js, i).await;
    }
    // One undecodable event: reported with its place, skipped.
    js.publish("news.articles.bt", "{not json".into())
        .await
        .unwrap()
        .await
        .unwrap();
    // A service's durable consumer and a bucket entry, which must stay.
    let stream = js.get_stream("ARTICLES").await.unwrap();
    stream
        .create_consumer(consumer::pull::Config {
            durable_name: Some("newsalert".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let bucket = broker
        .bucket("newsalert_sent", std::time::Duration::ZERO)
        .await
        .unwrap();
    bucket.put("k", "v".into()).await.unwrap();
    let before = nats_state(&js).await;

    let candidate = dir.path().join("candidate.toml");
    std::fs::write(&candidate, CANDIDATE).unwrap();
    let out = newsalert(
        dir.path(),
        &["--rules", candidate.to_str().unwrap(), "--json"],
    );
    let day_after = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(stderr.contains("stream sequence 201:"), "{stderr}");
    assert!(stderr.contains("201 message(s)"), "{stderr}");
    let rules = by_rule(&out);
    assert_eq!(
        rules.keys().collect::<Vec<_>>(),
        ["r-alpha", "r-beta", "r-delta", "r-gamma"]
    );
    let has = |i: usize, w: &str| words(i).contains(&w);
    let count = |pred: &dyn Fn(usize) -> bool| (0..200).filter(|&i| pred(i)).count() as u64;
    let expected: [(&str, &dyn Fn(usize) -> bool); 4] = [
        ("r-alpha", &|i| has(i, "alpha")),
        ("r-beta", &|i| has(i, "beta") || has(i, "gamma")),
        ("r-delta", &|i| has(i, "delta")),
        ("r-gamma", &|_| false),
    ];
    for (rule, pred) in expected {
        let v = &rules[rule];
        let n = count(pred);
        assert_eq!(v["matched"], n, "{rule}: {v}");
        let per_day: u64 = v["per_day"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(d, c)| {
                assert!(*d == day_before || *d == day_after, "{d}");
                c.as_u64().unwrap()
            })
            .sum();
        assert_eq!(per_day, n, "{rule}");
        assert_eq!(
            v["samples"].as_array().unwrap().len() as u64,
            n.min(5),
            "{rule}"
        );
        for s in v["samples"].as_array().unwrap() {
            let i: usize = s["id"].as_str().unwrap()[3..].parse().unwrap();
            assert!(pred(i), "{rule}: {s}");
            assert_eq!(s["title"], format!("Story {i}"));
            assert!(!s["hits"].as_array().unwrap().is_empty(), "{s}");
        }
    }
    // The diff: counts and (all, as they are ≤ 10 here or capped) ids.
    assert_eq!(rules["r-alpha"]["status"], "same");
    assert_eq!(rules["r-alpha"]["newly_matched"]["count"], 0);
    assert_eq!(rules["r-beta"]["status"], "changed");
    let newly_beta = |i| has(i, "gamma") && !has(i, "beta");
    assert_eq!(
        rules["r-beta"]["newly_matched"]["count"],
        count(&newly_beta)
    );
    let shown = ids(&rules["r-beta"]["newly_matched"]);
    assert_eq!(shown.len(), 10);
    assert!(shown.iter().all(|id| expected_ids(newly_beta).contains(id)));
    assert_eq!(rules["r-beta"]["no_longer_matched"]["count"], 0);
    assert_eq!(rules["r-delta"]["status"], "added");
    assert_eq!(
        rules["r-delta"]["newly_matched"]["count"],
        count(&|i| has(i, "delta"))
    );
    assert_eq!(rules["r-gamma"]["status"], "removed");
    let gamma = &rules["r-gamma"]["no_longer_matched"];
    assert_eq!(gamma["count"], count(&|i| has(i, "gamma")));
    assert!(
        ids(gamma)
            .iter()
            .all(|id| expected_ids(|i| has(i, "gamma")).contains(id))
    );

    // Text output, one rule; a window with nothing in it.
    let out = newsalert(
        dir.path(),
        &[
            "--rules",
            candidate.to_str().unwrap(),
            "--rule",
            "r-beta",
            "--since",
            "1h",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let n = count(&|i| has(i, "beta") || has(i, "gamma"));
    assert!(
        text.starts_with(&format!("r-beta (changed): {n} matched\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("  + newly matches {}:", count(&newly_beta))),
        "{text}"
    );
    assert!(!text.contains("r-alpha"), "{text}");
    let rules = by_rule(&newsalert(dir.path(), &["--from", "2999-01-01", "--json"]));
    assert!(rules.values().all(|v| v["matched"] == 0), "{rules:?}");
    let out = newsalert(dir.path(), &["--rule", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--rule \"nope\""));

    assert_eq!(nats_state(&js).await, before, "backtest changed NATS");
}
