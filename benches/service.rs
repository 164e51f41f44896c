//! End-to-end service benchmark: the real service (`App::build`) against
//! 10k rules, a real `nats-server`, the fake Telegram Bot API (no limits
//! enforced) and the loopback SMTP sink; throughput and publish-to-delivery
//! latency per channel, against a bare JetStream pull-consume-and-ack loop
//! on the same server in the same run.
//!
//! Run with `cargo bench --bench service` (release build); `NATS_SERVER_BIN`
//! or `.tools/bin/nats-server` as for the tests. `cargo test --benches` runs
//! it once with a handful of articles (smoke: seconds, no figures checked).
//! Knobs: `SERVICE_BENCH_RATE` (articles/s, default 40),
//! `SERVICE_BENCH_ARTICLES` (at that rate, default 2400: one minute),
//! `SERVICE_BENCH_FLOOD` (articles published at once, default 3000),
//! `SERVICE_BENCH_RULES` (default 10000), `SERVICE_BENCH_CONFIG` (TOML
//! appended to the service's settings, e.g. `"[delivery]\nemail_concurrency = 32"`),
//! `SERVICE_BENCH_SMTP_PIPELINING=0` (the SMTP sink does not offer
//! PIPELINING, so the client waits for each reply: the A/B for RFC 2920).
//!
//! Workload: the generated rule mix of `benches/common/rules.rs` spread over
//! 30 email subscribers (rule `i` notifies `mail{i % 30}`), plus 24 Telegram
//! chats with one rule each; the news-sized corpus of `benches/common`
//! (3–8 KB bodies), each published copy with a unique id and `Bench {i}:`
//! in front of its title. Telegram traffic is kept at ~13 alerts/s in all
//! (~0.55/s per chat, under the bot's 1/s per chat and 30/s overall, which the
//! service always keeps), so the flood control never holds an alert back.
//!
//! Phases, one server and one service:
//! 1. **rate**: articles at the set rate; per channel, alerts/s and latency
//!    from just before the publish to the fake's / the sink's receipt;
//!    articles/s = articles / (first publish → articles consumer drained).
//! 2. **flood**: articles published all at once (email rules only):
//!    the most articles/s the service matches, and emails/s delivered.
//! 3. **bare**: the same server, a bare stream and durable pull consumer,
//!    messages of the corpus' mean size, at the same rate and all at once.
//!
//! Each alert's latency is also broken down by hop (publish → ingest →
//! matched → alerts published → delivery consumer → send → sent log) from
//! the service's hop events (`benches/common/hops.rs`).
//!
//! Targets: service throughput ≥ 0.8× the bare loop's, service p99 ≤ 5× the
//! bare publish-to-consume p99; each is printed as met or NOT met.

#[allow(unused_imports)]
#[path = "../tests/support/mod.rs"]
mod support;

mod common;

// The binary's allocator, so this measures what runs.
newsalert::use_binary_allocator!();

use common::latency::{Summary, due, env_or, jetstream_floor, row, summary};
use newsalert::app::App;
use newsalert::article::Article;
use newsalert::regions::Gazetteer;
use newsalert::settings::Settings;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::nats::{NatsServer, wait_drained};
use support::smtp::{SinkOptions, SmtpSink};
use support::telegram::FakeTelegram;

const EMAIL_SUBSCRIBERS: usize = 30;
const TELEGRAM_CHATS: usize = 24;
/// Telegram alerts per second asked of the service in the rate phase.
const TELEGRAM_RATE: f64 = 12.0;
const TARGET_THROUGHPUT: f64 = 0.8;
const TARGET_P99: f64 = 5.0;
/// Articles published before measuring (connections, caches, pools).
const WARMUP: usize = 20;

/// `Bench 12: …` in a subject or message text → 12.
fn index_in(text: &str) -> Option<usize> {
    let rest = &text[text.find("Bench ")? + 6..];
    rest[..rest.find(':')?].parse().ok()
}

fn rules_toml(rules: &[newsalert::rules::RuleDef]) -> String {
    let mut out = String::with_capacity(rules.len() * 80);
    for k in 0..EMAIL_SUBSCRIBERS {
        out +=
            &format!("[[subscriber]]\nid = \"mail{k:02}\"\nemail = \"mail{k:02}@example.org\"\n\n");
    }
    for k in 0..TELEGRAM_CHATS {
        out += &format!(
            "[[subscriber]]\nid = \"chat{k:02}\"\ntelegram_chat_id = {}\n\n\
             [[rule]]\nid = \"tg{k:02}\"\nquery = 'tgdesk{k:02}'\nnotify = [\"chat{k:02}\"]\n\n",
            1000 + k
        );
    }
    for (i, r) in rules.iter().enumerate() {
        let query = toml::Value::String(r.query.clone());
        out += &format!(
            "[[rule]]\nid = \"{}\"\nquery = {query}\nnotify = [\"mail{:02}\"]\n\n",
            r.id,
            i % EMAIL_SUBSCRIBERS
        );
    }
    out
}

/// Article event `i`: corpus article `i % len` under a unique id, tagged for
/// Telegram chat `tg` when given.
fn article_json(corpus: &[Article], i: usize, tg: Option<usize>) -> String {
    let a = &corpus[i % corpus.len()];
    let tag = tg.map_or(String::new(), |k| format!(" tgdesk{k:02}"));
    serde_json::json!({
        "id": format!("svc-{i}"),
        "title": format!("Bench {i}: {}{tag}", a.title),
        "summary": a.summary,
        "body": a.body,
        "url": format!("https://news.example.org/svc/{i}"),
        "source": a.source,
        "language": a.language,
        "regions": a.regions,
    })
    .to_string()
}

/// The running service and its edges.
struct Rig {
    js: async_nats::jetstream::Context,
    smtp: SmtpSink,
    telegram: FakeTelegram,
    corpus: Arc<Vec<Article>>,
    published: Arc<Mutex<Vec<Option<Instant>>>>,
}

/// What one phase delivered.
struct Phase {
    articles: usize,
    articles_per_s: f64,
    email: Vec<Duration>,
    email_span: Duration,
    telegram: Vec<Duration>,
    telegram_span: Duration,
}

impl Rig {
    /// Publishes articles `from..to`, at `rate` per second (`None`: all at
    /// once), Telegram-tagged every `tg_every`-th; waits until everything
    /// is delivered and returns what came out.
    async fn phase(&self, from: usize, to: usize, rate: Option<f64>, tg_every: usize) -> Phase {
        let first = Instant::now();
        let start = tokio::time::Instant::now();
        let mut acks = Vec::with_capacity(to - from);
        for i in from..to {
            if let Some(rate) = rate {
                tokio::time::sleep_until(due(start, i - from, rate)).await;
            }
            let tg = (tg_every > 0 && i.is_multiple_of(tg_every))
                .then(|| (i / tg_every) % TELEGRAM_CHATS);
            let (js, published) = (self.js.clone(), self.published.clone());
            let payload = article_json(&self.corpus, i, tg);
            acks.push(tokio::spawn(async move {
                let mut headers = async_nats::HeaderMap::new();
                headers.insert("Nats-Msg-Id", format!("svc-{i}").as_str());
                published.lock().unwrap()[i] = Some(Instant::now());
                let ack = js
                    .publish_with_headers("news.articles.bench", headers, payload.into())
                    .await
                    .expect("publish");
                ack.await.expect("publish ack");
            }));
        }
        for ack in acks {
            ack.await.unwrap();
        }
        let consumed = articles_drained(&self.js).await - first;
        let budget = Duration::from_secs(120 + (to - from) as u64 / 10);
        wait_drained(&self.js, &["ARTICLES", "NEWSALERT_ALERTS"], budget).await;
        // A Telegram partition's consumer exists only once an instance holds
        // its lease, so "drained" can come before its alerts: wait for them.
        let tagged = (from..to)
            .filter(|i| tg_every > 0 && i.is_multiple_of(tg_every))
            .count();
        let deadline = Instant::now() + budget;
        while Instant::now() < deadline {
            let seen = (self.telegram.sent().iter())
                .filter_map(|m| index_in(&m.text))
                .filter(|i| (from..to).contains(i))
                .count();
            if seen >= tagged {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        wait_drained(&self.js, &["ARTICLES", "NEWSALERT_ALERTS"], budget).await;
        let published = self.published.lock().unwrap();
        let since =
            |i: usize, at: Instant| (i >= from && i < to).then(|| at - published[i].unwrap());
        let email: Vec<(Duration, Instant)> = self
            .smtp
            .messages()
            .iter()
            .filter_map(|m| {
                let i = index_in(&m.subject().unwrap_or_default())?;
                since(i, m.at).map(|d| (d, m.at))
            })
            .collect();
        let telegram: Vec<(Duration, Instant)> = self
            .telegram
            .sent()
            .iter()
            .filter_map(|m| since(index_in(&m.text)?, m.at).map(|d| (d, m.at)))
            .collect();
        let mails: Vec<(usize, String)> = self
            .smtp
            .messages()
            .iter()
            .filter_map(|m| Some((index_in(&m.subject()?)?, m.to.join(","))))
            .filter(|(i, _)| (from..to).contains(i))
            .collect();
        let chats: Vec<(usize, i64)> = self
            .telegram
            .sent()
            .iter()
            .filter_map(|m| Some((index_in(&m.text)?, m.chat_id)))
            .filter(|(i, _)| (from..to).contains(i))
            .collect();
        assert_unique(&mails, "email");
        assert_unique(&chats, "Telegram");
        assert_eq!(chats.len(), tagged, "one Telegram alert per tagged article");
        let span = |v: &[(Duration, Instant)]| v.iter().map(|(_, at)| *at - first).max();
        Phase {
            articles: to - from,
            articles_per_s: (to - from) as f64 / consumed.as_secs_f64(),
            email_span: span(&email).unwrap_or_default(),
            telegram_span: span(&telegram).unwrap_or_default(),
            email: email.into_iter().map(|(d, _)| d).collect(),
            telegram: telegram.into_iter().map(|(d, _)| d).collect(),
        }
    }
}

/// Each (article, recipient) delivered at most once.
fn assert_unique<T: Ord + Clone + std::fmt::Debug>(deliveries: &[T], channel: &str) {
    let mut sorted = deliveries.to_vec();
    sorted.sort();
    let before = sorted.len();
    sorted.dedup();
    assert_eq!(sorted.len(), before, "{channel}: an alert delivered twice");
}

/// When the service's articles consumer has acknowledged everything.
async fn articles_drained(js: &async_nats::jetstream::Context) -> Instant {
    let stream = js.get_stream("ARTICLES").await.expect("articles stream");
    loop {
        let info = stream
            .consumer_info("newsalert")
            .await
            .expect("consumer info");
        if info.num_pending == 0 && info.num_ack_pending == 0 {
            return Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The 1-, 5- and 15-minute load averages.
fn loadavg() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn per_s(n: usize, span: Duration) -> f64 {
    if span.is_zero() {
        0.0
    } else {
        n as f64 / span.as_secs_f64()
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

fn latency_row(name: &str, samples: &[Duration]) -> Option<Summary> {
    if samples.is_empty() {
        println!("| {name} | 0 | – | – | – |");
        return None;
    }
    let s = summary(samples.to_vec());
    row(name, &s);
    Some(s)
}

#[tokio::main]
async fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (rate, n, flood, rules) = if bench {
        (
            env_or("SERVICE_BENCH_RATE", 40.0),
            env_or("SERVICE_BENCH_ARTICLES", 2400),
            env_or("SERVICE_BENCH_FLOOD", 3000),
            env_or("SERVICE_BENCH_RULES", 10_000),
        )
    } else {
        (50.0, 30, 30, 10_000)
    };
    let hops = common::hops::Hops::install();
    let load_before = loadavg();
    let vocab = common::Vocabulary::new(&Gazetteer::builtin());
    let corpus = common::corpus::articles(&vocab);
    let mean_bytes = common::corpus::text_bytes(&corpus) as usize / corpus.len();
    let rule_set = common::rules::mixed(&vocab, rules);

    let nats = NatsServer::start();
    // The sink offers PIPELINING, as Postfix and Exim do; `0` for the A/B.
    let smtp = SmtpSink::start_with(SinkOptions {
        pipelining: std::env::var("SERVICE_BENCH_SMTP_PIPELINING").as_deref() != Ok("0"),
        ..SinkOptions::default()
    });
    let telegram = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("local.toml"),
        format!(
            "[nats]\nurl = \"{}\"\n\n[rules]\nwatch = false\n\n[log]\nfilter = \"error\"\n\n\
             [story]\nenabled = false\n\n[bot]\nenabled = false\n\n\
             [telegram]\nbot_token = \"123456:BENCH-token\"\napi_url = \"{}\"\n\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n\
             from = \"newsalert <alerts@example.net>\"\ntimeout_secs = 5\n",
            nats.url(),
            telegram.api_url(),
            smtp.port()
        ) + &std::env::var("SERVICE_BENCH_CONFIG").unwrap_or_default(),
    )
    .unwrap();
    std::fs::write(dir.path().join("rules.toml"), rules_toml(&rule_set)).unwrap();
    let settings = Settings::load_with_env(dir.path(), Vec::new()).expect("settings");
    let app = App::build(settings).await.expect("app builds");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = tokio::spawn(app.run_until_stopped(async {
        stopped.await.ok();
    }));
    let rig = Rig {
        js: async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap()),
        smtp,
        telegram,
        corpus: Arc::new(corpus),
        published: Arc::new(Mutex::new(vec![None; WARMUP + n + flood])),
    };
    let tg_every = ((rate / TELEGRAM_RATE).round() as usize).max(1);
    rig.phase(0, WARMUP, Some(rate), tg_every).await;
    let at_rate = rig.phase(WARMUP, WARMUP + n, Some(rate), tg_every).await;
    let flooded = rig.phase(WARMUP + n, WARMUP + n + flood, None, 0).await;
    stop.send(()).expect("service still running");
    service.await.unwrap().unwrap();
    let bare_rate = jetstream_floor(&nats.url(), "BARE", n, Some(rate), mean_bytes).await;
    let bare_max = jetstream_floor(&nats.url(), "BAREMAX", flood, None, mean_bytes).await;
    assert!(
        rules < 100 || !at_rate.email.is_empty(),
        "no email alerts delivered"
    );
    assert!(!at_rate.telegram.is_empty(), "no Telegram alerts delivered");

    println!(
        "service at {rate} articles/s ({n} articles, then {flood} at once), {rules} rules, \
         {EMAIL_SUBSCRIBERS} email + {TELEGRAM_CHATS} Telegram subscribers, articles of \
         {mean_bytes} B mean; load average {load_before} before, {} after",
        loadavg()
    );
    println!("\nthroughput, per second:");
    println!(
        "| series | articles | articles/s | email alerts/s | Telegram alerts/s |\n|---|---:|---:|---:|---:|"
    );
    for (name, p) in [
        ("service at rate", &at_rate),
        ("service, all at once", &flooded),
    ] {
        println!(
            "| {name} | {} | {:.1} | {:.1} ({} alerts) | {:.1} ({} alerts) |",
            p.articles,
            p.articles_per_s,
            per_s(p.email.len(), p.email_span),
            p.email.len(),
            per_s(p.telegram.len(), p.telegram_span),
            p.telegram.len()
        );
    }
    for (name, b) in [
        ("bare JetStream at rate", &bare_rate),
        ("bare JetStream, all at once", &bare_max),
    ] {
        println!(
            "| {name} | {} | {:.1} | – | – |",
            b.latencies.len(),
            b.throughput()
        );
    }
    // Items the service moves, articles and alerts, against the bare
    // loop's messages. Each alert was a JetStream message of its own until
    // mails were batched (`delivery.email_batch`: up to 64 per message);
    // counted per item, so the figure compares across releases.
    let fanned = flooded.articles_per_s * (flooded.articles + flooded.email.len()) as f64
        / flooded.articles as f64;
    println!(
        "all at once, items through the service (articles + alerts): {fanned:.0}/s \
         = {:.2}× the bare loop",
        fanned / bare_max.throughput()
    );
    println!("\nlatency, milliseconds:");
    println!("| series | n | p50 | p99 | max |\n|---|---:|---:|---:|---:|");
    let email = latency_row("email at rate: publish → SMTP accepted", &at_rate.email);
    let tg = latency_row("Telegram at rate: publish → sendMessage", &at_rate.telegram);
    latency_row("email, all at once", &flooded.email);
    let bare = summary(bare_rate.latencies.clone());
    row("bare at rate: publish → consume", &bare);
    row("bare, all at once", &summary(bare_max.latencies.clone()));

    let published = rig.published.lock().unwrap().clone();
    hops.print("at rate", WARMUP..WARMUP + n, &published);
    hops.print("all at once", WARMUP + n..WARMUP + n + flood, &published);

    println!();
    let sustained = at_rate.articles_per_s / bare_rate.throughput();
    println!(
        "throughput at rate: service / bare = {sustained:.2} (target ≥ {TARGET_THROUGHPUT}): {}",
        verdict(sustained >= TARGET_THROUGHPUT)
    );
    let most = flooded.articles_per_s / bare_max.throughput();
    println!(
        "throughput all at once: service / bare = {most:.3} (target ≥ {TARGET_THROUGHPUT}): {}",
        verdict(most >= TARGET_THROUGHPUT)
    );
    for (name, s) in [("email", email), ("Telegram", tg)] {
        if let Some(s) = s {
            let ratio = s.p99 / bare.p99;
            println!(
                "p99 {name} / bare p99 = {ratio:.1} (target ≤ {TARGET_P99}): {}",
                verdict(ratio <= TARGET_P99)
            );
        }
    }
}
