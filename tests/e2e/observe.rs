//! The HTTP endpoint as `curl` sees it: `/healthz`, `/readyz` following
//! NATS going away and coming back, `/metrics` counting what happened,
//! and the endpoint stopping with the service.

use crate::support::http::{Response, get};
use crate::support::nats::NatsServer;
use crate::support::smtp::SmtpSink;
use crate::support::telegram::FakeTelegram;
use crate::{RULES, config_dir, publish, spawn_app};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// `GET path` until `want` holds (or panic after `timeout` with the last
/// answer).
async fn wait_for(
    addr: SocketAddr,
    path: &str,
    timeout: Duration,
    want: impl Fn(&Response) -> bool,
) -> Response {
    let deadline = Instant::now() + timeout;
    loop {
        let answer = get(addr, path).await;
        match answer {
            Ok(r) if want(&r) => return r,
            _ if Instant::now() >= deadline => panic!("GET {path}: {answer:?}"),
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// What `curl -i` prints (status line, content type, body), for the README.
fn show(path: &str, r: &Response) {
    println!(
        "$ curl -i {path}\nHTTP/1.1 {}\ncontent-type: {}\n\n{}",
        r.status,
        r.header("content-type").unwrap_or_default(),
        r.body
    );
}

/// The sample line of `metric` (name and labels exactly), parsed.
fn sample(text: &str, metric: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(metric)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn endpoints_answer_and_metrics_count_an_article_and_its_alerts() {
    let nats = NatsServer::start();
    let telegram = FakeTelegram::start().await;
    let smtp = SmtpSink::start();
    let app = spawn_app(config_dir(&nats, Some(&telegram), Some(&smtp), RULES)).await;
    let addr = app.http;

    let health = get(addr, "/healthz").await.unwrap();
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    let ready = wait_for(addr, "/readyz", Duration::from_secs(10), |r| {
        r.status == 200
    })
    .await;
    assert_eq!(ready.body, "ready\n");

    let article = serde_json::json!({"id": "m-1", "title": "Minsk Group talks in Baku"});
    publish(&nats, "news.articles.t", "m-1", &article.to_string()).await;
    publish(&nats, "news.articles.t", "bad-1", "not json").await;
    // desk: telegram + email; analyst: telegram.
    telegram.wait_for(2, Duration::from_secs(10)).await;
    smtp.wait_for(1, Duration::from_secs(10)).await;

    let want = [
        ("newsalert_articles_consumed_total", 2.0),
        ("newsalert_articles_invalid_total{kind=\"bad_json\"}", 1.0),
        ("newsalert_articles_dead_lettered_total", 1.0),
        ("newsalert_rule_matches_total{rule=\"minsk-group\"}", 1.0),
        ("newsalert_rule_matches_total{rule=\"azerbaijan\"}", 1.0),
        ("newsalert_alerts_sent_total{channel=\"telegram\"}", 2.0),
        ("newsalert_alerts_sent_total{channel=\"email\"}", 1.0),
        (
            "newsalert_delivery_latency_seconds_count{channel=\"telegram\"}",
            2.0,
        ),
        (
            "newsalert_delivery_latency_seconds_count{channel=\"email\"}",
            1.0,
        ),
        (
            "newsalert_consumer_pending_messages{consumer=\"newsalert\"}",
            0.0,
        ),
        ("newsalert_rules", 2.0),
        ("newsalert_telegram_429_total", 0.0),
    ];
    let metrics = wait_for(addr, "/metrics", Duration::from_secs(15), |r| {
        want.iter().all(|(m, v)| sample(&r.body, m) == Some(*v))
    })
    .await;
    assert_eq!(
        metrics.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let latency = sample(
        &metrics.body,
        "newsalert_delivery_latency_seconds_sum{channel=\"telegram\"}",
    )
    .unwrap();
    assert!(latency > 0.0 && latency < 20.0, "{latency}");
    let build = format!(
        "newsalert_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    assert!(metrics.body.lines().any(|l| l == build), "{}", metrics.body);

    show("/healthz", &health);
    show("/readyz", &ready);
    show("/metrics", &metrics);
    app.stop().await;
    // The endpoint stops with the service.
    assert!(get(addr, "/healthz").await.is_err());
}

#[tokio::test]
async fn readyz_is_503_while_nats_is_down_and_200_once_it_is_back() {
    let mut nats = NatsServer::start();
    let telegram = FakeTelegram::start().await;
    let app = spawn_app(config_dir(&nats, Some(&telegram), None, RULES)).await;
    let addr = app.http;
    wait_for(addr, "/readyz", Duration::from_secs(10), |r| {
        r.status == 200
    })
    .await;

    nats.kill();
    let down = wait_for(addr, "/readyz", Duration::from_secs(10), |r| {
        r.status == 503
    })
    .await;
    assert!(down.body.starts_with("not ready:\n"), "{}", down.body);
    assert!(down.body.contains("NATS"), "{}", down.body);
    show("/readyz", &down);
    // Alive all the same.
    assert_eq!(get(addr, "/healthz").await.unwrap().status, 200);

    nats.restart();
    let up = wait_for(addr, "/readyz", Duration::from_secs(30), |r| {
        r.status == 200
    })
    .await;
    assert_eq!(up.body, "ready\n");
    // ... and really working again.
    let article = serde_json::json!({"id": "b-1", "title": "Baku"});
    publish(&nats, "news.articles.t", "b-1", &article.to_string()).await;
    telegram.wait_for(1, Duration::from_secs(20)).await;
    app.stop().await;
}
