//! The one place where failed sends are retried: exponential backoff with
//! jitter, never earlier than a remote's `retry_after`, bounded in
//! attempts; permanent errors end at once, and shutdown interrupts waits.

use super::{DeliveryError, Notifier};
use crate::alert::Alert;
use crate::consume::{Stopping, sleep_unless_stopping};
use std::time::Duration;

/// How long a send in progress may still take once shutdown begins.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How hard to try in place before handing an alert back for later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Sends in all (the first included) for network errors and 5xx.
    /// Rate-limit answers (`retry_after`) do not count: they are waited out.
    pub max_attempts: u32,
    /// Upper bound of the first backoff.
    pub initial: Duration,
    /// Upper bound of any backoff.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            initial: Duration::from_millis(500),
            max: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Wait before attempt `attempt + 1` (`attempt` counts from 1).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .initial
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max);
        let jittered = exp.mul_f64(0.5 + fastrand::f64() * 0.5);
        match retry_after {
            // Never earlier; a little jitter so waiting senders do not stampede.
            Some(at_least) => at_least + jittered.min(at_least / 10 + Duration::from_millis(50)),
            None => jittered,
        }
    }
}

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

/// Send `alert`, retrying transient failures per `policy`.
pub async fn send_with_retry(
    notifier: &dyn Notifier,
    alert: &Alert,
    policy: RetryPolicy,
    stopping: &Stopping,
) -> SendOutcome {
    let mut attempt = 1;
    loop {
        // A send in progress at shutdown gets a grace period, then is
        // abandoned (the alert is released; a duplicate beats a loss).
        let send = notifier.send(alert);
        let result = tokio::select! {
            r = send => r,
            () = async {
                stopping.cancelled().await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => return SendOutcome::Stopped,
        };
        let (reason, retry_after) = match result {
            Ok(()) => return SendOutcome::Sent,
            Err(DeliveryError::Transient {
                reason,
                retry_after,
            }) => (reason, retry_after),
            Err(e) => return SendOutcome::Failed(e),
        };
        if retry_after.is_none() && attempt >= policy.max_attempts {
            return SendOutcome::GaveUp(DeliveryError::Transient {
                reason,
                retry_after,
            });
        }
        let wait = policy.delay(attempt, retry_after);
        tracing::warn!(
            alert = %alert.key(),
            notifier = notifier.name(),
            attempt,
            wait_ms = wait.as_millis() as u64,
            %reason,
            "send failed; retrying"
        );
        if !sleep_unless_stopping(wait, stopping).await {
            return SendOutcome::Stopped;
        }
        if retry_after.is_none() {
            attempt += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_are_jittered_and_honour_retry_after() {
        let p = RetryPolicy::default();
        for attempt in 1..=10 {
            let d = p.delay(attempt, None);
            let cap = p.initial.saturating_mul(1 << (attempt - 1)).min(p.max);
            assert!(d <= cap && d >= cap / 2, "attempt {attempt}: {d:?}");
        }
        for _ in 0..100 {
            let d = p.delay(1, Some(Duration::from_secs(7)));
            assert!(
                d >= Duration::from_secs(7) && d <= Duration::from_millis(7750),
                "{d:?}"
            );
        }
    }

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
            assert_eq!(send_with_retry(&n, &alert(), policy, &stopping).await, want);
            assert_eq!(n.calls.load(std::sync::atomic::Ordering::SeqCst), calls);
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
        let out = send_with_retry(&n, &alert(), RetryPolicy::default(), &stopping).await;
        assert_eq!(out, SendOutcome::Stopped);
        assert_eq!(started.elapsed(), Duration::from_secs(1) + SHUTDOWN_GRACE);
    }
}
