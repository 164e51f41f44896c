//! Several instances, one bot, on a three-node JetStream cluster: two
//! `newsalert run` processes (streams and buckets at R3) share 1,000
//! alerts to 20 chats and 20 mailboxes, through the fake Telegram
//! enforcing the bot's limits and the SMTP sink, while the alerts stream's
//! leader node and then one instance are SIGKILLed. Every alert arrives,
//! duplicates stay within the documented bound (one per chat the killed
//! instance served, plus its emails in flight), no 429, each chat's
//! alerts in publish order. The sent log is created beforehand as an
//! earlier release did (read by direct get from any replica); the first
//! instance switches it to reads from the leader. Figures printed with
//! `--nocapture`:
//! `NATS_SERVER_BIN=$PWD/.tools/bin/nats-server cargo test --test e2e scale:: -- --nocapture`

use crate::TOKEN;
use crate::delivery::article_id_in;
use crate::service::Service;
use crate::support::nats_cluster::NatsCluster;
use crate::support::smtp::SmtpSink;
use crate::support::telegram::{FakeTelegram, FloodLimits};
use crate::support::wait_until;
use async_nats::jetstream;
use newsalert::deliver::flood::OVERALL_BUDGET_PER_SEC;
use newsalert::deliver::partition::partition_of;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

const CHATS: i64 = 20;
const MAILBOXES: usize = 20;
const ARTICLES: usize = 25;
const PARTITIONS: u32 = 16;
/// Emails handled at once per instance: the email duplicate bound.
const EMAIL_CONCURRENCY: usize = 4;

/// Chats `first+1..=first+chats` and `mailboxes` mailboxes, all alerted
/// for any article about Baku.
fn rules(first: i64, chats: i64, mailboxes: usize) -> String {
    let mut rules = String::new();
    let mut ids = Vec::new();
    for c in 1..=chats {
        rules.push_str(&format!(
            "[[subscriber]]\nid = \"chat{c}\"\ntelegram_chat_id = {}\n\n",
            first + c
        ));
        ids.push(format!("\"chat{c}\""));
    }
    for m in 1..=mailboxes {
        rules.push_str(&format!(
            "[[subscriber]]\nid = \"mail{m}\"\nemail = \"desk{m}@example.org\"\n\n"
        ));
        ids.push(format!("\"mail{m}\""));
    }
    rules.push_str(&format!(
        "[[rule]]\nid = \"scale\"\nquery = 'Baku'\nnotify = [{}]\n",
        ids.join(", ")
    ));
    rules
}

fn config(cluster: &NatsCluster, telegram: &FakeTelegram, smtp: &SmtpSink) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let local = format!(
        "[nats]\nurl = \"{}\"\nack_wait_secs = 5\nreplicas = 3\n\n\
         [rules]\nwatch = false\n\n[log]\nfilter = \"warn\"\n\n\
         [story]\nenabled = false\n\n[bot]\nenabled = false\n\n\
         [delivery]\nretry_initial_ms = 50\nretry_max_ms = 500\nemail_concurrency = {EMAIL_CONCURRENCY}\n\n\
         [telegram]\nbot_token = \"{TOKEN}\"\napi_url = \"{}\"\npartitions = {PARTITIONS}\nlease_ttl_secs = 3\n\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"newsalert <alerts@example.net>\"\ntimeout_secs = 5\n",
        cluster.urls(),
        telegram.api_url(),
        smtp.port()
    );
    std::fs::write(dir.path().join("local.toml"), local).unwrap();
    std::fs::write(dir.path().join("rules.toml"), rules(7000, CHATS, MAILBOXES)).unwrap();
    dir
}

/// The partitions whose lease process `pid` holds.
async fn partitions_of(js: &jetstream::Context, pid: u32) -> HashSet<u32> {
    let kv = js.get_key_value("newsalert_telegram_leases").await.unwrap();
    let mut held = HashSet::new();
    for p in 0..PARTITIONS {
        if let Ok(Some(v)) = kv.get(format!("partition.{p}")).await
            && String::from_utf8_lossy(&v).starts_with(&format!("{pid}-"))
        {
            held.insert(p);
        }
    }
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_the_bot_through_node_and_instance_kills() {
    let mut cluster = NatsCluster::start(3).await;
    let telegram = FakeTelegram::start().await;
    telegram.enable_flood_limits(FloodLimits::default());
    let smtp = SmtpSink::start();
    let dir_a = config(&cluster, &telegram, &smtp);
    let dir_b = config(&cluster, &telegram, &smtp);
    let client = cluster.client().await;
    let js = jetstream::new(client.clone());
    // A sent log as an earlier release created it: read by direct get,
    // which lets a lagging follower answer.
    js.create_stream(jetstream::stream::Config {
        name: "KV_newsalert_sent".into(),
        subjects: vec!["$KV.newsalert_sent.>".into()],
        max_messages_per_subject: 1,
        allow_direct: true,
        allow_rollup: true,
        deny_delete: true,
        num_replicas: 3,
        ..Default::default()
    })
    .await
    .unwrap();
    let a = Service::start(dir_a.path(), [("NEWSALERT__LOG__FILTER", "info")]);
    a.wait_consuming(1).await;
    let mut sent_log = js.get_stream("KV_newsalert_sent").await.unwrap();
    let sent_log = sent_log.info().await.unwrap().config.clone();
    assert!(
        !sent_log.allow_direct,
        "the replicated sent log is still read by direct get"
    );
    let mut b = Service::start(dir_b.path(), [("NEWSALERT__LOG__FILTER", "info")]);
    b.wait_consuming(1).await;
    // Balanced: each holds half the partitions.
    let b_pid = b.pid();
    let balanced = async {
        for _ in 0..60 {
            if partitions_of(&js, b_pid).await.len() == PARTITIONS as usize / 2 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        false
    };
    assert!(
        balanced.await,
        "B never held half the partitions:\n{}",
        b.log()
    );

    let started = Instant::now();
    for i in 0..ARTICLES {
        let id = format!("a-{i:03}");
        let body = format!("{{\"id\":\"{id}\",\"title\":\"Baku report {id}\"}}");
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", id.as_str());
        js.publish_with_headers("news.articles.scale", headers, body.into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let telegram_total = ARTICLES * CHATS as usize;
    let total = telegram_total + ARTICLES * MAILBOXES;

    // The alerts stream's leader node dies while alerts flow.
    assert!(wait_until(Duration::from_secs(30), || telegram.sent().len() >= 100).await);
    let leader = cluster
        .stream_leader(&client, "NEWSALERT_ALERTS")
        .await
        .expect("a stream leader");
    let node_killed = Instant::now();
    cluster.kill(&leader);
    let mut new_leader = None;
    while node_killed.elapsed() < Duration::from_secs(30) && new_leader.is_none() {
        new_leader = cluster
            .stream_leader(&client, "NEWSALERT_ALERTS")
            .await
            .filter(|l| *l != leader);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let leader_failover = node_killed.elapsed();
    assert!(new_leader.is_some(), "no new leader for NEWSALERT_ALERTS");

    // Then instance B dies; A takes its partitions over.
    assert!(wait_until(Duration::from_secs(30), || telegram.sent().len() >= 250).await);
    // B may have lost its leases in the leader's failover; kill it only
    // once it serves partitions again (rebalancing to ⌈P / live⌉ each).
    let deadline = Instant::now() + Duration::from_secs(30);
    let b_partitions = loop {
        let held = partitions_of(&js, b_pid).await;
        if !held.is_empty() || Instant::now() >= deadline {
            break held;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        !b_partitions.is_empty(),
        "instance B holds no partition 30 s after the leader kill"
    );
    let b_chats: HashSet<i64> = (1..=CHATS)
        .map(|c| 7000 + c)
        .filter(|c| b_partitions.contains(&partition_of(*c, PARTITIONS)))
        .collect();
    let instance_killed = Instant::now();
    b.kill();
    let sent_before = telegram.sent().len();
    assert!(
        wait_until(Duration::from_secs(90), || {
            unique_telegram(&telegram) >= telegram_total
                && unique_mail(&smtp) >= ARTICLES * MAILBOXES
        })
        .await,
        "not every alert arrived: telegram {} of {telegram_total}, mail {}\nA:\n{}",
        unique_telegram(&telegram),
        unique_mail(&smtp),
        a.log()
    );
    let took = started.elapsed();
    // Redeliveries still due would show up within an ack wait.
    tokio::time::sleep(Duration::from_secs(6)).await;

    let sent = telegram.sent();
    let instance_failover = sent
        .iter()
        .skip(sent_before)
        .find(|m| b_chats.contains(&m.chat_id) && m.at >= instance_killed)
        .map(|m| m.at - instance_killed);
    let refused = telegram
        .attempts()
        .iter()
        .filter(|a| a.status == 429)
        .count();
    let telegram_dupes = sent.len() - unique_telegram(&telegram);
    let mails = smtp.messages().len();
    let mail_dupes = mails - unique_mail(&smtp);
    let lost = total - unique_telegram(&telegram) - unique_mail(&smtp);
    // Each chat's alerts in the order they were published to the alerts
    // stream (articles are matched concurrently, so not article order).
    let published = alerts_by_chat(&js).await;
    let (mut out_of_order, mut raw_reordered) = (0, 0);
    for c in 1..=CHATS {
        let rank: HashMap<&String, usize> = published[&(7000 + c)]
            .iter()
            .enumerate()
            .map(|(i, id)| (id, i))
            .collect();
        let ranks: Vec<usize> = telegram
            .sent_to(7000 + c)
            .iter()
            .filter_map(|m| article_id_in(&m.text))
            .map(|id| rank[&id])
            .collect();
        raw_reordered += ranks.windows(2).filter(|w| w[1] < w[0]).count();
        let mut seen = HashSet::new();
        let first: Vec<usize> = ranks.into_iter().filter(|r| seen.insert(*r)).collect();
        out_of_order += first.windows(2).filter(|w| w[1] < w[0]).count();
    }
    println!(
        "scale: {total} alerts ({telegram_total} telegram to {CHATS} chats, {} email to {MAILBOXES} mailboxes) \
         in {took:.1?}; lost {lost}; duplicates telegram {telegram_dupes} (bound {}), email {mail_dupes} (bound {}); \
         429s {refused}; out of order {out_of_order} (raw {raw_reordered}); \
         stream leader {leader} killed → new leader {new_leader:?} in {leader_failover:.1?}; \
         instance B killed (partitions {}, chats {}) → first alert to its chats after {instance_failover:.1?}; \
         partition consumers reopened after a lost or repeated delivery: A {}, B {}",
        ARTICLES * MAILBOXES,
        b_chats.len(),
        EMAIL_CONCURRENCY,
        b_partitions.len(),
        b_chats.len(),
        a.count("was due") + a.count("is delivery"),
        b.count("was due") + b.count("is delivery"),
    );
    if telegram_dupes > b_chats.len() || out_of_order > 0 {
        // What went twice, when (s since the first publish), and what
        // the instances warned about.
        let mut times: HashMap<(i64, String), Vec<f64>> = HashMap::new();
        for m in &sent {
            if let Some(id) = article_id_in(&m.text) {
                let at = (m.at - started).as_secs_f64();
                times.entry((m.chat_id, id)).or_default().push(at);
            }
        }
        times.retain(|_, t| t.len() > 1);
        println!(
            "leader killed at {:.1}s, instance B at {:.1}s; sent twice: {times:?}",
            (node_killed - started).as_secs_f64(),
            (instance_killed - started).as_secs_f64()
        );
        for (name, log) in [("A", a.log()), ("B", b.log())] {
            let warns: Vec<&str> = log.lines().filter(|l| l.contains("WARN")).collect();
            println!("{name}: {} warnings, the last 30:", warns.len());
            for l in warns.iter().rev().take(30).rev() {
                println!("  {l}");
            }
        }
    }
    assert_eq!(lost, 0);
    assert_eq!(
        refused,
        0,
        "429s: {:#?}",
        telegram
            .attempts()
            .iter()
            .filter(|a| a.status == 429)
            .collect::<Vec<_>>()
    );
    assert_eq!(out_of_order, 0, "a chat's alerts out of publish order");
    assert!(
        telegram_dupes <= b_chats.len(),
        "telegram duplicates {telegram_dupes}"
    );
    assert!(
        mail_dupes <= EMAIL_CONCURRENCY,
        "email duplicates {mail_dupes}"
    );
    assert!(
        instance_failover.is_some(),
        "B's chats got nothing after the kill"
    );
}

/// Article ids of each chat's alerts, in alerts-stream order (read
/// message by message: no consumer to place on the damaged cluster).
async fn alerts_by_chat(js: &jetstream::Context) -> HashMap<i64, Vec<String>> {
    let mut stream = js.get_stream("NEWSALERT_ALERTS").await.unwrap();
    let last = stream.info().await.unwrap().state.last_sequence;
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for seq in 1..=last {
        let mut msg = None;
        for _ in 0..5 {
            match stream.get_raw_message(seq).await {
                Ok(m) => {
                    msg = Some(m);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        let msg = msg.unwrap_or_else(|| panic!("alerts stream message {seq}"));
        if !msg.subject.starts_with("newsalert.alerts.telegram.") {
            continue;
        }
        let alert: newsalert::alert::Alert = serde_json::from_slice(&msg.payload).unwrap();
        if let newsalert::alert::Target::TelegramChat(chat) = alert.target {
            out.entry(chat).or_default().push(alert.article_id);
        }
    }
    out
}

fn unique_telegram(telegram: &FakeTelegram) -> usize {
    let pairs: HashSet<(i64, Option<String>)> = telegram
        .sent()
        .iter()
        .map(|m| (m.chat_id, article_id_in(&m.text)))
        .collect();
    pairs.len()
}

fn unique_mail(smtp: &SmtpSink) -> usize {
    let mut pairs = HashMap::new();
    for m in smtp.messages() {
        let subject = m.data.lines().find(|l| l.starts_with("Subject:"));
        let id = subject.and_then(article_id_in);
        *pairs.entry((m.to.clone(), id)).or_insert(0) += 1;
    }
    pairs.len()
}

/// The holder of each partition's lease.
async fn holders(js: &jetstream::Context) -> HashMap<String, usize> {
    let kv = js.get_key_value("newsalert_telegram_leases").await.unwrap();
    let mut out = HashMap::new();
    for p in 0..PARTITIONS {
        if let Ok(Some(v)) = kv.get(format!("partition.{p}")).await {
            *out.entry(String::from_utf8_lossy(&v).into_owned())
                .or_insert(0) += 1;
        }
    }
    out
}

/// Two in-process instances on one nats-server split the partitions
/// 8 / 8 and each sends its half of the bot's budget (28/s, under
/// Telegram's 30/s): 180 alerts to 90 chats go out at close to it, none
/// refused, each once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_keep_the_bot_under_30_per_second_together() {
    const N: i64 = 90;
    let nats = crate::support::nats::NatsServer::start();
    let telegram = FakeTelegram::start().await;
    telegram.enable_flood_limits(FloodLimits::default());
    let rules = rules(8000, N, 0);
    let app = |rules: &str| {
        let dir = crate::config_dir(&nats, Some(&telegram), None, rules);
        let local = dir.path().join("local.toml");
        let mut text = std::fs::read_to_string(&local).unwrap();
        text.push_str("lease_ttl_secs = 3\n");
        std::fs::write(&local, text).unwrap();
        crate::spawn_app(dir)
    };
    let a = app(&rules).await;
    let b = app(&rules).await;
    let js = jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    let mut split = HashMap::new();
    for _ in 0..60 {
        split = holders(&js).await;
        if split.len() == 2 && split.values().all(|n| *n == PARTITIONS as usize / 2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        split.values().copied().collect::<Vec<_>>(),
        [8, 8],
        "{split:?}"
    );
    for id in ["a-1", "a-2"] {
        let body = format!("{{\"id\":\"{id}\",\"title\":\"Baku news {id}\"}}");
        crate::publish(&nats, "news.articles.t", id, &body).await;
    }
    let sent = telegram
        .wait_for(2 * N as usize, Duration::from_secs(30))
        .await;
    crate::delivery::wait_drained(&js, Duration::from_secs(10)).await;
    let refused = telegram
        .attempts()
        .iter()
        .filter(|a| a.status != 200)
        .count();
    let span = sent.last().unwrap().at - sent[0].at;
    let rate = (sent.len() - 1) as f64 / span.as_secs_f64();
    println!(
        "two instances: {} alerts to {N} chats at {rate:.1}/s, {refused} refused",
        sent.len()
    );
    let refusals: Vec<String> = (telegram.attempts().iter())
        .filter(|a| a.status != 200)
        .map(|a| {
            let at = a.message.at - sent[0].at;
            format!("{at:.3?} chat {}: {:?}", a.message.chat_id, a.description)
        })
        .collect();
    assert_eq!(refused, 0, "{refusals:#?}");
    assert_eq!(telegram.sent().len(), 2 * N as usize, "each alert once");
    let budget = f64::from(OVERALL_BUDGET_PER_SEC);
    assert!(rate <= budget * 1.05, "the bot at {rate:.1}/s");
    assert!(
        rate >= budget * 0.6,
        "two halves of {budget}/s: {rate:.1}/s"
    );
    a.stop().await;
    b.stop().await;
}
