//! Delivery benchmark: sends per second from the alerts stream to a
//! notifier with no limits, through the real delivery path (consumer,
//! sent log, target checks, ack) against a real `nats-server`.
//!
//! Run with `cargo bench --bench deliver` (release build), or
//! `cargo test --bench deliver -- --bench` (the same runs in the test
//! profile, no release build needed); `NATS_SERVER_BIN` or
//! `.tools/bin/nats-server` as for the tests. Each run starts a fresh
//! server, publishes `N` Telegram alerts spread over `CHATS` chats, starts
//! the service with notifiers that only count, and times until every alert
//! is sent and acked. Prints each run and the median.
//!
//! `cargo test --benches` runs it once with a small `N` (smoke).

/// The tests' `nats-server` runner; it needs the two items below.
#[allow(dead_code)]
#[path = "../tests/support/nats.rs"]
mod nats;

const POLL_INTERVAL: Duration = Duration::from_millis(10);

fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

use futures::StreamExt;
use nats::NatsServer;
use newsalert::alert::{Alert, Target};
use newsalert::app::App;
use newsalert::deliver::{DeliveryError, Notifier, Notifiers};
use newsalert::settings::Settings;
use newsalert::subscriber::Channel;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Distinct chats the alerts go to (sends to one chat are sequential).
const CHATS: i64 = 200;

/// Counts sends; never fails, never waits.
#[derive(Default)]
struct Counting(AtomicUsize);

impl Notifier for Counting {
    fn name(&self) -> &'static str {
        "counting"
    }

    fn send<'a>(
        &'a self,
        _: &'a Alert,
    ) -> futures::future::BoxFuture<'a, Result<(), DeliveryError>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::ready(Ok(())))
    }
}

fn alert(i: usize) -> Alert {
    Alert {
        article_id: format!("a-{i}"),
        subscriber: format!("s-{}", i as i64 % CHATS),
        channel: Channel::Telegram,
        target: Target::TelegramChat(1000 + i as i64 % CHATS),
        title: format!("Title {i}"),
        url: None,
        source: None,
        published_at: None,
        rules: vec!["r".into()],
        snippet: None,
        story: None,
    }
}

/// One run: seconds from the service's start until `n` alerts are sent
/// and acked.
async fn run(n: usize) -> Duration {
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("local.toml"),
        format!(
            "[nats]\nurl = \"{}\"\n\n[rules]\nwatch = false\n\n[log]\nfilter = \"error\"\n",
            nats.url()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("rules.toml"),
        "[[subscriber]]\nid = \"s\"\ntelegram_chat_id = 1\n\n\
         [[rule]]\nid = \"r\"\nquery = 'x'\nnotify = [\"s\"]\n",
    )
    .unwrap();
    let settings = Settings::load_with_env(dir.path(), Vec::new()).expect("settings");
    let subject = format!("{}.telegram", settings.nats.alerts_subject);
    let (stream, durable) = (
        settings.nats.alerts_stream.clone(),
        format!("{}-telegram", settings.nats.consumer),
    );
    let counting = Arc::new(Counting::default());
    let app = App::build(settings)
        .await
        .expect("app builds")
        .with_notifiers(Notifiers {
            telegram: counting.clone(),
            email: counting.clone(),
        });

    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    futures::stream::iter(0..n)
        .for_each_concurrent(256, |i| {
            let (js, subject) = (js.clone(), subject.clone());
            async move {
                let a = alert(i);
                let mut headers = async_nats::HeaderMap::new();
                headers.insert("Nats-Msg-Id", a.key().as_str());
                let payload = serde_json::to_vec(&a).unwrap();
                js.publish_with_headers(subject, headers, payload.into())
                    .await
                    .unwrap()
                    .await
                    .unwrap();
            }
        })
        .await;

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let service = tokio::spawn(app.run_until_stopped(async {
        stopped.await.ok();
    }));
    loop {
        if counting.0.load(Ordering::SeqCst) >= n {
            let consumer = js
                .get_consumer_from_stream::<async_nats::jetstream::consumer::pull::Config, _, _>(
                    &durable, &stream,
                )
                .await;
            if let Ok(mut c) = consumer
                && c.info()
                    .await
                    .is_ok_and(|i| i.num_pending == 0 && i.num_ack_pending == 0)
            {
                break;
            }
        }
        assert!(started.elapsed() < Duration::from_secs(600), "timed out");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = started.elapsed();
    assert_eq!(counting.0.load(Ordering::SeqCst), n, "each alert once");
    stop.send(()).expect("service still running");
    service.await.unwrap().unwrap();
    took
}

#[tokio::main]
async fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (n, runs) = if bench { (20_000, 5) } else { (200, 1) };
    let mut rates = Vec::new();
    for i in 1..=runs {
        let took = run(n).await;
        let rate = n as f64 / took.as_secs_f64();
        println!("deliver run {i}: {n} alerts in {took:.2?}: {rate:.0} sends/s");
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "deliver: median {:.0} sends/s over {runs} run(s) of {n} alerts to {CHATS} chats",
        rates[rates.len() / 2]
    );
}
