//! Sending one alert (or one [`Prepared`] message) under the [retry policy](crate::retry): a
//! notifier's [`DeliveryError`] classified as a retry [`Failure`], and the
//! result as a [`SendOutcome`] the delivery worker acts on.

use super::prepared::Prepared;
use super::{DeliveryError, Notifier};
use crate::alert::Alert;
use crate::observe::Metrics;
use crate::retry::{Failure, RetryError, RetryPolicy, retry};
use crate::shutdown::Stopping;
use crate::subscriber::Channel;
use futures::future::BoxFuture;

/// How [`send_with_retry`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Sent,
    /// Permanent or unreachable: retrying cannot help.
    Failed(DeliveryError),
    /// Still failing transiently after `max_attempts`; try again later.
    GaveUp(DeliveryError),
    /// Shutdown interrupted a wait.
    Stopped,
}

/// Send `alert`, retrying transient failures per `policy`; every attempt
/// after the first counts in `metrics` as a retry.
pub async fn send_with_retry(
    notifier: &dyn Notifier,
    alert: &Alert,
    policy: RetryPolicy,
    stopping: &Stopping,
    metrics: &Metrics,
) -> SendOutcome {
    let what = format!("{} send of {}", notifier.name(), alert.key());
    let attempt = || notifier.send(alert);
    send_retrying(&what, alert.channel, policy, stopping, metrics, attempt).await
}

/// Send a [`Prepared`] message (a digest, a summary) the same way.
pub async fn send_prepared_with_retry(
    notifier: &dyn Notifier,
    prepared: &Prepared,
    policy: RetryPolicy,
    stopping: &Stopping,
    metrics: &Metrics,
) -> SendOutcome {
    let what = format!("{} send of {}", notifier.name(), prepared.key);
    let attempt = || notifier.send_prepared(prepared);
    send_retrying(&what, prepared.channel, policy, stopping, metrics, attempt).await
}

async fn send_retrying<'a>(
    what: &str,
    channel: Channel,
    policy: RetryPolicy,
    stopping: &Stopping,
    metrics: &Metrics,
    mut attempt: impl FnMut() -> BoxFuture<'a, Result<(), DeliveryError>>,
) -> SendOutcome {
    let mut first = true;
    let result = retry(&policy, stopping, what, |_| {
        if !std::mem::take(&mut first) {
            metrics.alert_retried(channel);
        }
        let sent = attempt();
        async {
            sent.await.map_err(|e| match e {
                DeliveryError::Transient { retry_after, .. } => Failure::Transient {
                    error: e,
                    retry_after,
                },
                e => Failure::Permanent(e),
            })
        }
    })
    .await;
    match result {
        Ok(()) => SendOutcome::Sent,
        Err(RetryError::Permanent(e)) => SendOutcome::Failed(e),
        Err(RetryError::GaveUp { error, .. }) => SendOutcome::GaveUp(error),
        Err(RetryError::Stopped) => SendOutcome::Stopped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// One scripted answer: `None` hangs forever.
    type Answer = Option<Result<(), DeliveryError>>;

    /// Answers from a script, counting calls.
    struct Scripted {
        answers: std::sync::Mutex<Vec<Answer>>,
        calls: std::sync::atomic::AtomicUsize,
    }

    impl Notifier for Scripted {
        fn name(&self) -> &'static str {
            "scripted"
        }
        fn send<'a>(
            &'a self,
            _: &'a Alert,
        ) -> futures::future::BoxFuture<'a, Result<(), DeliveryError>> {
            self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let next = self.answers.lock().unwrap().remove(0);
            Box::pin(async move {
                match next {
                    Some(r) => r,
                    None => std::future::pending().await,
                }
            })
        }
    }

    fn scripted(answers: Vec<Answer>) -> Scripted {
        Scripted {
            answers: std::sync::Mutex::new(answers),
            calls: Default::default(),
        }
    }

    fn alert() -> Alert {
        serde_json::from_value(serde_json::json!({
            "article_id": "a", "subscriber": "s", "channel": "email",
            "target": {"email": "x@example.org"}, "title": "t", "url": null,
            "source": null, "published_at": null, "rules": ["r"], "snippet": null
        }))
        .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn outcomes_and_call_counts() {
        let policy = RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        };
        let stopping = Stopping::new();
        let t = || Some(Err(DeliveryError::transient("451")));
        let cases: Vec<(Vec<Answer>, SendOutcome, usize)> = vec![
            (vec![t(), t(), Some(Ok(()))], SendOutcome::Sent, 3),
            (
                vec![t(), t(), t()],
                SendOutcome::GaveUp(DeliveryError::transient("451")),
                3,
            ),
            (
                vec![Some(Err(DeliveryError::permanent("550")))],
                SendOutcome::Failed(DeliveryError::permanent("550")),
                1,
            ),
            (
                vec![
                    Some(Err(DeliveryError::Transient {
                        reason: "429".into(),
                        retry_after: Some(Duration::from_secs(30)),
                    })),
                    Some(Err(DeliveryError::Transient {
                        reason: "429".into(),
                        retry_after: Some(Duration::from_secs(30)),
                    })),
                    t(),
                    t(),
                    Some(Ok(())),
                ],
                SendOutcome::Sent,
                5,
            ),
        ];
        for (answers, want, calls) in cases {
            let n = scripted(answers);
            let metrics = Metrics::new();
            let out = send_with_retry(&n, &alert(), policy, &stopping, &metrics).await;
            assert_eq!(out, want);
            assert_eq!(n.calls.load(std::sync::atomic::Ordering::SeqCst), calls);
            // Every call after the first is a retry.
            let retried = format!(
                "newsalert_alerts_retried_total{{channel=\"email\"}} {}",
                calls - 1
            );
            let text = metrics.encode();
            assert!(text.contains(&format!("{retried}\n")), "{retried}: {text}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_abandons_a_hanging_send_after_the_grace_period() {
        let n = scripted(vec![None]);
        let stopping = Stopping::new();
        let started = tokio::time::Instant::now();
        let stop = stopping.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            stop.cancel();
        });
        let metrics = Metrics::new();
        let out = send_with_retry(&n, &alert(), RetryPolicy::default(), &stopping, &metrics).await;
        assert_eq!(out, SendOutcome::Stopped);
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(1) + RetryPolicy::default().shutdown_grace
        );
    }
}
