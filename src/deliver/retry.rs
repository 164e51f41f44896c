//! The one place where failed sends are retried: exponential backoff with
//! jitter, never earlier than a remote's `retry_after`, bounded in
//! attempts; permanent errors end at once, and shutdown interrupts waits.

use super::{DeliveryError, Notifier};
use crate::alert::Alert;
use crate::consume::{Stopping, sleep_unless_stopping};
use std::time::Duration;

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
        let (reason, retry_after) = match notifier.send(alert).await {
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
}
