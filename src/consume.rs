//! The one JetStream consume loop, shared by every stage, and the owner of
//! the durable pull consumers: create or update a stage's consumer
//! ([`ConsumerSpec::ensure`]), fetch, run a [`Handler`] per message with
//! bounded concurrency, keep slow messages alive with in-progress acks,
//! and ack or nak (with a delay, or at once to release) by the handler's
//! [`Outcome`]. Messages are never terminated: what can never be
//! processed is dead-lettered by its handler ([`crate::dlq`]) and acked.
//!
//! Each loop reports whether its consumer is bound to [`Health`] (for
//! `/readyz`); [`report_backlog`] puts the consumers' backlog into
//! [`Metrics`].
//!
//! Resilience: if the consumer cannot be created, disappears, or its
//! message stream fails (async-nats may keep yielding heartbeat errors
//! forever after a consumer is deleted), it is recreated under the
//! [retry policy](crate::retry). On shutdown, waits end and fetching stops
//! at once, handlers see [`Stopping`] and release what they are waiting
//! on, and in-flight messages are acked or nak'ed before returning.

use async_nats::jetstream::{self, AckKind, consumer};
use futures::StreamExt;
use futures::future::BoxFuture;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::observe::{Health, Metrics};
use crate::retry::{Failure, RetryPolicy, retry};
use crate::shutdown::{Stopping, sleep_unless_stopping};

mod order;
use order::DeliveryOrder;

/// What to do with a message once handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done (including: dead-lettered, or already done before).
    Ack,
    /// Try again after this delay (nak with delay).
    Retry(Duration),
    /// Shutting down: hand the message back for another instance now.
    Release,
}

impl Outcome {
    /// Try `msg` again later: after `policy`'s delay for its delivery
    /// count, so a message that keeps failing backs off.
    pub fn retry_later(policy: &RetryPolicy, msg: &jetstream::Message) -> Outcome {
        Outcome::retry_later_after(policy, msg, 0)
    }

    /// As [`Outcome::retry_later`] for a handler that already made
    /// `in_place` attempts during this delivery: the backoff goes on from
    /// there instead of starting again.
    pub fn retry_later_after(
        policy: &RetryPolicy,
        msg: &jetstream::Message,
        in_place: u32,
    ) -> Outcome {
        let delivered = msg.info().map_or(1, |i| i.delivered);
        Outcome::Retry(redelivery_delay(
            policy,
            delivered.saturating_add(i64::from(in_place)),
        ))
    }
}

/// `policy`'s delay before delivery `delivered + 1`.
fn redelivery_delay(policy: &RetryPolicy, delivered: i64) -> Duration {
    policy.delay(u32::try_from(delivered.max(1)).unwrap_or(u32::MAX), None)
}

/// Handles one message of a stage.
pub trait Handler: Send + Sync + 'static {
    fn handle<'a>(
        &'a self,
        msg: &'a jetstream::Message,
        stopping: &'a Stopping,
    ) -> BoxFuture<'a, Outcome>;
}

/// Instances expected to share a consumer, for its max_ack_pending (each
/// holds up to one batch being handled and one fetched).
pub const INSTANCES_HINT: usize = 4;

/// Which consumer a stage reads.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    pub stream: String,
    pub durable: String,
    /// Empty: every subject of the stream.
    pub filter_subject: String,
    pub ack_wait: Duration,
    /// Messages handled at once by this instance (the fetch batch size).
    /// The consumer allows [`INSTANCES_HINT`] times as many unacknowledged
    /// messages, so several instances sharing it are all kept busy.
    pub concurrency: usize,
    /// Each time the consumer is opened, start it again from its ack
    /// floor ([`ConsumerSpec::reset`]): for consumers served by one
    /// instance at a time that must see messages in stream order. Each
    /// delivery is then checked ([`order`]): one lost or redelivered out
    /// of turn reopens the consumer from its ack floor again.
    pub from_ack_floor: bool,
}

impl ConsumerSpec {
    /// Create or update the durable consumer.
    ///
    /// # Errors
    /// JetStream refused.
    pub async fn ensure(&self, js: &jetstream::Context) -> Result<consumer::PullConsumer, String> {
        self.create(js, consumer::DeliverPolicy::All).await
    }

    async fn create(
        &self,
        js: &jetstream::Context,
        deliver_policy: consumer::DeliverPolicy,
    ) -> Result<consumer::PullConsumer, String> {
        js.create_consumer_on_stream(
            consumer::pull::Config {
                deliver_policy,
                durable_name: Some(self.durable.clone()),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: self.ack_wait,
                max_deliver: -1,
                max_ack_pending: i64::try_from(self.concurrency.saturating_mul(2 * INSTANCES_HINT))
                    .unwrap_or(i64::MAX)
                    .max(1),
                filter_subject: self.filter_subject.clone(),
                ..Default::default()
            },
            &self.stream,
        )
        .await
        .map_err(|e| format!("consumer {} on {}: {e}", self.durable, self.stream))
    }

    /// Recreate the durable consumer from its ack floor: every message not
    /// acknowledged yet (and any acknowledged out of order after it) is
    /// delivered again in stream order, before anything newer. So a
    /// message handed back (nak, expired ack wait, a failed stream) never
    /// comes after a later one; the redelivered ones already handled are
    /// for the handler to recognise (the sent log does).
    ///
    /// # Errors
    /// JetStream refused.
    pub async fn reset(&self, js: &jetstream::Context) -> Result<consumer::PullConsumer, String> {
        let what = |e: &dyn std::fmt::Display| {
            format!("consumer {} on {}: {e}", self.durable, self.stream)
        };
        let existing = js
            .get_consumer_from_stream::<consumer::pull::Config, _, _>(&self.durable, &self.stream)
            .await;
        let floor = match existing {
            Ok(mut c) => {
                let floor = c
                    .info()
                    .await
                    .map_err(|e| what(&e))?
                    .ack_floor
                    .stream_sequence;
                js.delete_consumer_from_stream(&self.durable, &self.stream)
                    .await
                    .map_err(|e| what(&e))?;
                floor
            }
            Err(_) => 0,
        };
        let policy = match floor {
            0 => consumer::DeliverPolicy::All,
            f => consumer::DeliverPolicy::ByStartSequence {
                start_sequence: f + 1,
            },
        };
        self.create(js, policy).await
    }

    /// Create or update the durable consumer (or [reset](Self::reset)
    /// it) and open its message stream.
    ///
    /// # Errors
    /// JetStream refused.
    async fn open(&self, js: &jetstream::Context) -> Result<consumer::pull::Stream, String> {
        let consumer = match self.from_ack_floor {
            true => self.reset(js).await?,
            false => self.ensure(js).await?,
        };
        consumer
            .stream()
            .max_messages_per_batch(self.concurrency.clamp(1, 500))
            .heartbeat(Duration::from_secs(5))
            .expires(Duration::from_secs(30))
            .messages()
            .await
            .map_err(|e| format!("consumer {} on {}: {e}", self.durable, self.stream))
    }
}

/// How a consumer is (re)created: from 500 ms up to 5 s between
/// attempts, until it works or shutdown.
pub fn recreate_policy() -> RetryPolicy {
    RetryPolicy::forever(Duration::from_millis(500), Duration::from_secs(5))
}

/// Consume `spec` with `handler` until `shutdown` resolves, telling
/// `health` whether the consumer is bound.
pub async fn run<H: Handler>(
    js: jetstream::Context,
    spec: ConsumerSpec,
    handler: Arc<H>,
    health: Health,
    shutdown: impl Future<Output = ()> + Send,
) {
    let stopping = Stopping::new();
    let signal = async {
        shutdown.await;
        stopping.cancel();
        // Consuming goes on until in-flight messages are settled.
        std::future::pending::<()>().await;
    };
    tokio::select! {
        () = consume(&js, &spec, handler, &health, &stopping) => {}
        () = signal => {}
    }
    health.consumer_bound(&spec.durable, false);
    tracing::info!(consumer = %spec.durable, "stopped consuming");
}

/// The consume loop proper: returns once `stopping` fires and in-flight
/// messages are settled, or if the message stream ends.
async fn consume<H: Handler>(
    js: &jetstream::Context,
    spec: &ConsumerSpec,
    handler: Arc<H>,
    health: &Health,
    stopping: &Stopping,
) {
    let policy = recreate_policy();
    let what = format!("consumer {} on {}", spec.durable, spec.stream);
    // Stream failures in a row with no message handled in between.
    let mut failures = 0;
    loop {
        let opened = retry(&policy, stopping, &what, |_| async {
            spec.open(js).await.map_err(Failure::transient)
        })
        .await;
        // A forever policy ends only on shutdown.
        let Ok(messages) = opened else { return };
        health.consumer_bound(&spec.durable, true);
        tracing::info!(stream = %spec.stream, consumer = %spec.durable, "consuming");
        let failed = AtomicBool::new(false);
        let handled = AtomicBool::new(false);
        let mut order = DeliveryOrder::default();
        messages
            .take_while(|m| {
                let broken = match m {
                    Err(e) => {
                        health.consumer_bound(&spec.durable, false);
                        Some(format!("consumer stream failed: {e}"))
                    }
                    Ok(msg) if spec.from_ack_floor => msg.info().map_or_else(
                        |e| Some(format!("delivery without JetStream info: {e}")),
                        |i| order.check(i.consumer_sequence, i.delivered).err(),
                    ),
                    Ok(_) => None,
                };
                if let Some(why) = &broken {
                    tracing::warn!(consumer = %spec.durable, reason = %why, "recreating the consumer");
                    failed.store(true, Ordering::SeqCst);
                }
                std::future::ready(broken.is_none())
            })
            .filter_map(|m| std::future::ready(m.ok()))
            .take_until(stopping.cancelled())
            .for_each_concurrent(spec.concurrency, |msg| {
                let (handler, stopping) = (handler.clone(), stopping.clone());
                let keepalive = spec.ack_wait / 3;
                handled.store(true, Ordering::Relaxed);
                async move { handle_one(handler.as_ref(), msg, &stopping, keepalive).await }
            })
            .await;
        if stopping.is_cancelled() || !failed.load(Ordering::SeqCst) {
            return;
        }
        // Back off before recreating if the stream keeps failing at once.
        failures = if handled.load(Ordering::Relaxed) {
            1
        } else {
            failures + 1
        };
        if !sleep_unless_stopping(policy.delay(failures, None), stopping).await {
            return;
        }
    }
}

/// How often [`report_backlog`] asks JetStream for the consumers' backlog.
pub const BACKLOG_INTERVAL: Duration = Duration::from_secs(5);

/// Until `stopping` fires, put each consumer's pending and ack-pending
/// counts into `metrics` every [`BACKLOG_INTERVAL`] (first at once). A
/// failed lookup (NATS down, consumer not created yet) skips that round.
pub async fn report_backlog(
    js: jetstream::Context,
    specs: Vec<ConsumerSpec>,
    metrics: Arc<Metrics>,
    stopping: Stopping,
) {
    loop {
        for spec in &specs {
            let info = async {
                let mut c: consumer::PullConsumer = js
                    .get_consumer_from_stream(&spec.durable, &spec.stream)
                    .await
                    .map_err(|e| e.to_string())?;
                c.info().await.cloned().map_err(|e| e.to_string())
            };
            match tokio::time::timeout(BACKLOG_INTERVAL, info).await {
                Ok(Ok(i)) => {
                    metrics.consumer_backlog(&spec.durable, i.num_pending, i.num_ack_pending)
                }
                Ok(Err(e)) => {
                    tracing::debug!(consumer = %spec.durable, error = %e, "consumer backlog unknown")
                }
                Err(_) => {
                    tracing::debug!(consumer = %spec.durable, "consumer backlog lookup timed out")
                }
            }
        }
        if !sleep_unless_stopping(BACKLOG_INTERVAL, &stopping).await {
            return;
        }
    }
}

async fn handle_one<H: Handler>(
    handler: &H,
    msg: jetstream::Message,
    stopping: &Stopping,
    keepalive: Duration,
) {
    let work = handler.handle(&msg, stopping);
    let mut work = std::pin::pin!(work);
    let outcome = loop {
        tokio::select! {
            outcome = &mut work => break outcome,
            () = tokio::time::sleep(keepalive) => {
                if let Err(e) = msg.ack_with(AckKind::Progress).await {
                    tracing::warn!(error = %e, "in-progress ack failed");
                }
            }
        }
    };
    let ack = match outcome {
        Outcome::Ack => msg.double_ack().await,
        Outcome::Retry(delay) => msg.ack_with(AckKind::Nak(Some(delay))).await,
        Outcome::Release => msg.ack_with(AckKind::Nak(None)).await,
    };
    if let Err(e) = ack {
        tracing::warn!(error = %e, ?outcome, "ack failed; the message will be redelivered");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redeliveries_back_off_by_delivery_count() {
        let policy = RetryPolicy::forever(Duration::from_millis(500), Duration::from_secs(60));
        let ms = Duration::from_millis;
        // (delivery count, shortest delay, longest delay): jitter halves at most.
        let cases = [
            (0, ms(250), ms(500)),
            (1, ms(250), ms(500)),
            (2, ms(500), ms(1000)),
            (4, ms(2000), ms(4000)),
            (8, ms(30_000), ms(60_000)),
            (i64::MAX, ms(30_000), ms(60_000)),
        ];
        for (delivered, shortest, longest) in cases {
            for _ in 0..20 {
                let d = redelivery_delay(&policy, delivered);
                assert!(shortest <= d && d <= longest, "{delivered}: {d:?}");
            }
        }
    }

    struct Unreachable;

    impl Handler for Unreachable {
        fn handle<'a>(
            &'a self,
            _: &'a jetstream::Message,
            _: &'a Stopping,
        ) -> BoxFuture<'a, Outcome> {
            unreachable!("no server, no messages")
        }
    }

    /// With no server, creating the consumer is retried until shutdown,
    /// which ends the wait or the attempt in progress (after the grace).
    #[tokio::test(start_paused = true)]
    async fn consumer_creation_is_retried_until_shutdown() {
        let client = async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .connect("nats://127.0.0.1:1")
            .await
            .unwrap();
        let spec = ConsumerSpec {
            stream: "S".into(),
            durable: "d".into(),
            filter_subject: String::new(),
            ack_wait: Duration::from_secs(30),
            concurrency: 1,
            from_ack_floor: false,
        };
        let started = tokio::time::Instant::now();
        let shutdown_at = Duration::from_secs(60);
        run(
            jetstream::new(client),
            spec,
            Arc::new(Unreachable),
            Health::default(),
            tokio::time::sleep(shutdown_at),
        )
        .await;
        let took = started.elapsed();
        let grace = recreate_policy().shutdown_grace;
        assert!(
            shutdown_at <= took && took <= shutdown_at + grace,
            "{took:?}"
        );
    }
}
