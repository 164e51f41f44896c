//! Email latency benchmark: publish-to-accepted latency of instant email
//! alerts at a steady article rate, against the floor measured in the same
//! run.
//!
//! Run with `cargo bench --bench email_latency` (release build) or
//! `cargo test --bench email_latency -- --bench` (test profile, no release
//! build); `NATS_SERVER_BIN` or `.tools/bin/nats-server` as for the tests.
//! `cargo test --benches` runs it once with a few articles (smoke: seconds,
//! no figures checked). `EMAIL_BENCH_ARTICLES=n` and `EMAIL_BENCH_RATE=r`
//! change the workload (default 3000 articles at 200 articles/s).
//!
//! One run:
//! 1. **email**: a real `nats-server`, the real service (`App::build`) with
//!    its SMTP notifier pointed at the tests' loopback SMTP sink, 20
//!    subscribers with a rule each, every article alerting one of them by
//!    email; articles are published at the rate, each
//!    timed from just before its publish to the moment the sink accepted
//!    the mail's final `.`.
//! 2. **floor, JetStream hop**: the same server, a bare stream and durable
//!    pull consumer; messages published at the same rate, timed from
//!    publish to receipt by the consumer.
//! 3. **floor, SMTP transaction**: a minimal SMTP client (one connection,
//!    `TCP_NODELAY`, `MAIL`/`RCPT`/`DATA` pipelined in one write, body and
//!    final `.` in another) sends the same mail to
//!    the same sink at the same rate, timed from `MAIL FROM` to the `250`
//!    after the final `.`.
//!
//! The floor is the JetStream hop's p99 plus the SMTP transaction's p99;
//! the target is an email p99 of at most 5× the floor.

#[allow(unused_imports)]
#[path = "../tests/support/mod.rs"]
mod support;

mod common;

// The binary's allocator, so this measures what runs.
newsalert::use_binary_allocator!();

use common::latency::{due, env_or, jetstream_floor, row, summary};
use newsalert::app::App;
use newsalert::settings::Settings;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::nats::NatsServer;
use support::smtp::SmtpSink;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// How far the email p99 may be above the floor.
const TARGET_RATIO: f64 = 5.0;

/// Subscribers, each with a rule and a mailbox of its own; article `i`
/// alerts subscriber `i % SUBSCRIBERS` (mails to one recipient are sent
/// one at a time, in order).
const SUBSCRIBERS: usize = 20;

fn article(i: usize) -> String {
    serde_json::json!({
        "id": format!("bench-{i}"),
        "title": format!("Bench {i}: envoys meet in Baku (desk{:02})", i % SUBSCRIBERS),
        "summary": "Talks on the peace treaty resumed.",
        "body": "<p>Negotiators from both sides met in Baku on Tuesday to discuss the \
                 draft peace treaty and the reopening of transport links.</p>",
        "url": format!("https://news.example.org/bench/{i}"),
        "source": "news.example.org",
    })
    .to_string()
}

/// `Bench 12: …` in a subject → 12.
fn index_in(subject: &str) -> Option<usize> {
    let rest = &subject[subject.find("Bench ")? + 6..];
    rest[..rest.find(':')?].parse().ok()
}

/// Publish-to-accepted latency of `n` email alerts at `rate`, and one
/// received mail (for the SMTP floor).
async fn email_run(nats: &NatsServer, n: usize, rate: f64) -> (Vec<Duration>, String) {
    let smtp = SmtpSink::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("local.toml"),
        format!(
            "[nats]\nurl = \"{}\"\n\n[rules]\nwatch = false\n\n[log]\nfilter = \"error\"\n\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n\
             from = \"newsalert <alerts@example.net>\"\ntimeout_secs = 5\n",
            nats.url(),
            smtp.port()
        ),
    )
    .unwrap();
    let rules: String = (0..SUBSCRIBERS)
        .map(|k| {
            format!(
                "[[subscriber]]\nid = \"desk{k:02}\"\nemail = \"desk{k:02}@example.org\"\n\n\
                 [[rule]]\nid = \"r{k:02}\"\nquery = 'Baku AND desk{k:02}'\nnotify = [\"desk{k:02}\"]\n\n"
            )
        })
        .collect();
    std::fs::write(dir.path().join("rules.toml"), rules).unwrap();
    let settings = Settings::load_with_env(dir.path(), Vec::new()).expect("settings");
    let subject = "news.articles.bench".to_string();
    let app = App::build(settings).await.expect("app builds");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = tokio::spawn(app.run_until_stopped(async {
        stopped.await.ok();
    }));
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());

    // Warm up: connections, consumers, the first allocation of everything.
    let warmup = 20;
    let published = Arc::new(Mutex::new(vec![None::<Instant>; n + warmup]));
    let publish = |i: usize| {
        let (js, subject, published) = (js.clone(), subject.clone(), published.clone());
        async move {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", format!("bench-{i}").as_str());
            let payload = article(i);
            published.lock().unwrap()[i] = Some(Instant::now());
            let ack = js
                .publish_with_headers(subject, headers, payload.into())
                .await
                .expect("publish");
            ack.await.expect("publish ack");
        }
    };
    for i in n..n + warmup {
        publish(i).await;
    }
    smtp.wait_for(warmup, Duration::from_secs(60)).await;

    let start = tokio::time::Instant::now();
    let mut acks = Vec::with_capacity(n);
    for i in 0..n {
        tokio::time::sleep_until(due(start, i, rate)).await;
        acks.push(tokio::spawn(publish(i)));
    }
    for ack in acks {
        ack.await.unwrap();
    }
    let mails = smtp
        .wait_for(n + warmup, Duration::from_secs(60 + n as u64 / 10))
        .await;
    stop.send(()).expect("service still running");
    service.await.unwrap().unwrap();

    let published = published.lock().unwrap();
    let mut latencies = Vec::with_capacity(n);
    let mut sample = String::new();
    for mail in &mails {
        let i = index_in(&mail.subject().unwrap_or_default()).expect("a bench subject");
        if i < n {
            latencies.push(mail.at - published[i].expect("published"));
            sample.clone_from(&mail.data);
        }
    }
    assert_eq!(latencies.len(), n, "each alert once");
    if std::env::var_os("EMAIL_BENCH_TRACE").is_some() {
        for i in (0..n).step_by((n / 20).max(1)) {
            let mail = mails
                .iter()
                .find(|m| index_in(&m.subject().unwrap_or_default()) == Some(i));
            if let Some(m) = mail {
                eprintln!("article {i}: {:?}", m.at - published[i].unwrap());
            }
        }
    }
    (latencies, sample)
}

/// One SMTP reply (multi-line replies read to their last line).
async fn reply<R: tokio::io::AsyncBufRead + Unpin>(reader: &mut R, want: &str) {
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).await.expect("smtp reply");
        assert!(line.starts_with(want), "expected {want}, got {line:?}");
        if line.as_bytes().get(3) != Some(&b'-') {
            return;
        }
    }
}

/// Duration of a bare SMTP transaction (MAIL … final `.` → 250) of mail
/// `data`, on one warm `TCP_NODELAY` connection, at `rate`.
async fn smtp_floor(n: usize, rate: f64, data: &str) -> Vec<Duration> {
    let sink = SmtpSink::start();
    let stream = tokio::net::TcpStream::connect((sink.host(), sink.port()))
        .await
        .unwrap();
    stream.set_nodelay(true).unwrap();
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    reply(&mut read, "220").await;
    write.write_all(b"EHLO floor\r\n").await.unwrap();
    reply(&mut read, "250").await;
    let mut body = String::with_capacity(data.len() + 8);
    for line in data.split_inclusive("\r\n") {
        if line.starts_with('.') {
            body.push('.');
        }
        body.push_str(line);
    }
    body.push_str(".\r\n");
    let start = tokio::time::Instant::now();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        tokio::time::sleep_until(due(start, i, rate)).await;
        let t = Instant::now();
        // Pipelined (RFC 2920), as the service's client does.
        write
            .write_all(b"MAIL FROM:<alerts@example.net>\r\nRCPT TO:<desk@example.org>\r\nDATA\r\n")
            .await
            .unwrap();
        reply(&mut read, "250").await;
        reply(&mut read, "250").await;
        reply(&mut read, "354").await;
        write.write_all(body.as_bytes()).await.unwrap();
        reply(&mut read, "250").await;
        out.push(t.elapsed());
    }
    assert_eq!(sink.messages().len(), n);
    out
}

#[tokio::main]
async fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (n, rate) = if bench {
        (
            env_or("EMAIL_BENCH_ARTICLES", 3000),
            env_or("EMAIL_BENCH_RATE", 200.0),
        )
    } else {
        (40, 200.0)
    };
    let nats = NatsServer::start();
    let (email, mail) = email_run(&nats, n, rate).await;
    let hop = jetstream_floor(&nats.url(), "FLOOR", n, Some(rate), 0)
        .await
        .latencies;
    let smtp = smtp_floor(n, rate, &mail).await;
    let (email, hop, smtp) = (summary(email), summary(hop), summary(smtp));
    let floor = hop.p99 + smtp.p99;
    println!("email latency at {rate} articles/s ({n} articles), milliseconds:");
    println!("| series | n | p50 | p99 | max |\n|---|---:|---:|---:|---:|");
    row("email: publish → SMTP accepted", &email);
    row("floor: JetStream publish → consume", &hop);
    row("floor: SMTP transaction", &smtp);
    let ratio = email.p99 / floor;
    println!(
        "floor (hop p99 + SMTP p99) = {floor:.1} ms; email p99 = {ratio:.1}× the floor (target ≤ {TARGET_RATIO}×): {}",
        if ratio <= TARGET_RATIO {
            "met"
        } else {
            "NOT met"
        }
    );
}
