//! SMTP against a distant relay: what one connection carries, pipelined
//! (RFC 2920) and one command at a time.
//!
//! Run with `cargo bench --bench smtp_relay` (release build) or
//! `cargo test --bench smtp_relay -- --bench`; `cargo test --benches` runs
//! it once with a few mails (smoke). `SMTP_BENCH_MAILS=n` sets the mails
//! per series (default 50).
//!
//! The loopback SMTP sink stands in for the relay; it holds each write of
//! replies for a simulated round trip (0, 5 and 20 ms), as a relay that
//! far away would. For each round trip and mode, the service's SMTP pool
//! (one connection, warmed by one mail first) sends the same 10 KB mail
//! `n` times, one after the other; printed: the median and p99 time per
//! mail from `MAIL FROM` to the `250` after the final `.`, and mails per
//! second on the connection. Pipelined, a mail takes two round trips; one
//! command at a time, four.

#[allow(unused_imports)]
#[path = "../tests/support/mod.rs"]
mod support;

// The binary's allocator, so this measures what runs.
newsalert::use_binary_allocator!();

use lettre::address::Envelope;
use newsalert::deliver::email::smtp::SmtpPool;
use std::time::{Duration, Instant};
use support::smtp::{SinkOptions, SmtpSink};

/// A 10 KB mail: headers and 160 lines of text, as a quoted-printable
/// alert is.
fn mail() -> String {
    let mut mail = String::from(
        "From: alerts@example.net\r\nTo: desk@example.org\r\nSubject: Envoys meet in Baku\r\n\r\n",
    );
    for i in 0..160 {
        mail.push_str(&format!(
            "Line {i:03}: negotiators met in Baku to discuss the draft treaty.\r\n"
        ));
    }
    mail
}

/// Per-mail times of `n` mails on one warm connection.
async fn series(rtt: Duration, pipelining: bool, n: usize) -> (Vec<Duration>, Duration) {
    let sink = SmtpSink::start_with(SinkOptions {
        pipelining,
        reply_delay: rtt,
        ..SinkOptions::default()
    });
    let pool = SmtpPool::new(&sink.client_settings(""), None, 1);
    let envelope = Envelope::new(
        Some("alerts@example.net".parse().unwrap()),
        vec!["desk@example.org".parse().unwrap()],
    )
    .unwrap();
    let body = mail();
    pool.send(&envelope, body.as_bytes())
        .await
        .expect("warm-up mail");
    let start = Instant::now();
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        pool.send(&envelope, body.as_bytes()).await.expect("mail");
        times.push(t.elapsed());
    }
    let total = start.elapsed();
    sink.wait_for(n + 1, Duration::from_secs(10)).await;
    times.sort();
    (times, total)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::var("SMTP_BENCH_MAILS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 50 } else { 3 });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    println!(
        "SMTP on one connection, {n} mails of {} B per series\n",
        mail().len()
    );
    println!("| round trip | mode | per mail p50 | p99 | mails/s per connection |");
    println!("|---:|---|---:|---:|---:|");
    for rtt_ms in [0u64, 5, 20] {
        for pipelining in [true, false] {
            let (times, total) =
                runtime.block_on(series(Duration::from_millis(rtt_ms), pipelining, n));
            let p = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
            println!(
                "| {rtt_ms} ms | {} | {:.2} ms | {:.2} ms | {:.0} |",
                if pipelining {
                    "pipelined"
                } else {
                    "one command at a time"
                },
                ms(p(0.5)),
                ms(p(0.99)),
                n as f64 / total.as_secs_f64()
            );
        }
    }
}
