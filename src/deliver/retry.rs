//! The one place where failed sends are retried: exponential backoff with
//! full jitter, never earlier than a remote's `retry_after`, bounded in
//! attempts; permanent errors are returned at once.

use super::{DeliveryError, Notifier};
use crate::alert::Alert;
use std::time::Duration;

/// How hard to try before giving up on an alert for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Sends in all, the first included.
    pub max_attempts: u32,
    /// Upper bound of the first backoff.
    pub initial: Duration,
    /// Upper bound of any backoff.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Wait before attempt `attempt + 1` after transient error `err`
    /// (`attempt` counts from 1).
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

/// Send `alert` with `notifier`, retrying transient failures per `policy`.
///
/// # Errors
/// The permanent error, or the last transient one once attempts run out.
pub async fn send_with_retry(
    notifier: &dyn Notifier,
    alert: &Alert,
    policy: RetryPolicy,
) -> Result<(), DeliveryError> {
    let mut attempt = 1;
    loop {
        match notifier.send(alert).await {
            Ok(()) => return Ok(()),
            Err(e @ DeliveryError::Permanent { .. }) => return Err(e),
            Err(e @ DeliveryError::Transient { .. }) if attempt >= policy.max_attempts => {
                return Err(e);
            }
            Err(DeliveryError::Transient {
                reason,
                retry_after,
            }) => {
                let wait = policy.delay(attempt, retry_after);
                tracing::warn!(
                    alert = %alert.key(),
                    notifier = notifier.name(),
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    %reason,
                    "send failed; retrying"
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
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
            assert!(p.delay(1, Some(Duration::from_secs(7))) >= Duration::from_secs(7));
        }
    }
}
