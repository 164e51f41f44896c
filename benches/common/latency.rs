//! Shared pieces of the end-to-end benches (`email_latency`, `service`):
//! latency summaries (p50/p99/max), the publish schedule at a steady rate,
//! env-var workload knobs, and the bare JetStream floor: a stream and a
//! durable pull consumer on the same server, consumed and acknowledged one
//! message at a time, timed from publish to receipt.

use futures::StreamExt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Latency figures of one series, in milliseconds.
pub struct Summary {
    pub n: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

/// p50, p99 and max of `samples` (panics on an empty series: a bench that
/// measured nothing must not print figures).
pub fn summary(mut samples: Vec<Duration>) -> Summary {
    assert!(!samples.is_empty(), "no samples");
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[i].as_secs_f64() * 1000.0
    };
    Summary {
        n: samples.len(),
        p50: at(0.50),
        p99: at(0.99),
        max: samples[samples.len() - 1].as_secs_f64() * 1000.0,
    }
}

/// When message `i` of a steady `rate` per second is due.
pub fn due(start: tokio::time::Instant, i: usize, rate: f64) -> tokio::time::Instant {
    start + Duration::from_secs_f64(i as f64 / rate)
}

/// The env var `name` parsed, or `default` when unset or unparsable.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One markdown table row: `| name | n | p50 | p99 | max |`.
pub fn row(name: &str, s: &Summary) {
    println!(
        "| {name} | {} | {:.1} | {:.1} | {:.1} |",
        s.n, s.p50, s.p99, s.max
    );
}

/// One run of the bare JetStream loop.
pub struct FloorRun {
    /// Publish-to-receipt latency of each message.
    pub latencies: Vec<Duration>,
    /// From the first publish to the last message received.
    pub elapsed: Duration,
}

impl FloorRun {
    /// Messages consumed and acknowledged per second over the run.
    pub fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }
}

/// A bare JetStream pull-consume-and-ack loop on the server at `url`:
/// stream `name` (subjects `name.>`, lower-cased) with a durable explicit-ack
/// pull consumer; `n` messages of `payload_bytes` published at `rate` per
/// second (`None`: as fast as possible, every publish in flight at once),
/// each timed from just before its publish to its receipt.
pub async fn jetstream_floor(
    url: &str,
    name: &str,
    n: usize,
    rate: Option<f64>,
    payload_bytes: usize,
) -> FloorRun {
    use async_nats::jetstream::{consumer, stream};
    let js = async_nats::jetstream::new(async_nats::connect(url).await.unwrap());
    let prefix = name.to_lowercase();
    let s = js
        .get_or_create_stream(stream::Config {
            name: name.into(),
            subjects: vec![format!("{prefix}.>")],
            ..Default::default()
        })
        .await
        .unwrap();
    let c = s
        .create_consumer(consumer::pull::Config {
            durable_name: Some(prefix.clone()),
            ack_policy: consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await
        .unwrap();
    let published = Arc::new(Mutex::new(vec![None::<Instant>; n]));
    let receiver = tokio::spawn(async move {
        let mut messages = c
            .stream()
            .max_messages_per_batch(16)
            .messages()
            .await
            .unwrap();
        let mut received = Vec::with_capacity(n);
        while received.len() < n {
            let msg = messages.next().await.expect("a message").expect("ok");
            let at = Instant::now();
            let head = msg.payload.split(|&b| b == b' ').next().unwrap_or_default();
            let i: usize = std::str::from_utf8(head).unwrap().parse().unwrap();
            received.push((i, at));
            msg.ack().await.unwrap();
        }
        received
    });
    let padding = " ".repeat(payload_bytes);
    let first = Instant::now();
    let start = tokio::time::Instant::now();
    let mut acks = Vec::with_capacity(n);
    for i in 0..n {
        if let Some(rate) = rate {
            tokio::time::sleep_until(due(start, i, rate)).await;
        }
        let (js, published) = (js.clone(), published.clone());
        let payload = format!("{i}{padding}");
        let subject = format!("{prefix}.{i}");
        acks.push(tokio::spawn(async move {
            published.lock().unwrap()[i] = Some(Instant::now());
            let ack = js.publish(subject, payload.into()).await.unwrap();
            ack.await.unwrap();
        }));
    }
    for ack in acks {
        ack.await.unwrap();
    }
    let received = receiver.await.unwrap();
    let last = received.iter().map(|(_, at)| *at).max().unwrap_or(first);
    let published = published.lock().unwrap();
    FloorRun {
        latencies: received
            .into_iter()
            .map(|(i, at)| at - published[i].unwrap())
            .collect(),
        elapsed: last - first,
    }
}
