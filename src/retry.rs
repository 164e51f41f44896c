//! The one retry policy for everything that retries: connecting to NATS,
//! recreating a consumer, writing the sent log, sending an alert. Backoff
//! is exponential with jitter, never earlier than a remote's `retry_after`,
//! bounded in attempts and/or elapsed time, and interrupted by shutdown.
//!
//! Callers classify each failure where it happens ([`Failure::Transient`]
//! or [`Failure::Permanent`]); [`retry`] only decides when to try again.

use crate::settings::DeliverySettings;
use crate::shutdown::{Stopping, sleep_unless_stopping};
use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

/// How hard to try before giving up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all (the first included); 0 = no limit. Waits a remote
    /// asked for (`retry_after`) do not count: they are waited out.
    pub max_attempts: u32,
    /// Give up once this much time has passed since the first attempt
    /// (checked after a failure); `None` = no limit.
    pub max_elapsed: Option<Duration>,
    /// Upper bound of the first backoff.
    pub initial: Duration,
    /// Upper bound of any backoff.
    pub max: Duration,
    /// How long an attempt in progress may still take once shutdown begins;
    /// then it is abandoned (a duplicate beats a loss).
    pub shutdown_grace: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            max_elapsed: None,
            initial: Duration::from_millis(500),
            max: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

impl From<&DeliverySettings> for RetryPolicy {
    /// The policy for sending alerts, from `[delivery]`.
    fn from(d: &DeliverySettings) -> Self {
        RetryPolicy {
            max_attempts: d.retry_attempts.max(1),
            initial: Duration::from_millis(d.retry_initial_ms.max(1)),
            max: Duration::from_millis(d.retry_max_ms.max(d.retry_initial_ms).max(1)),
            ..RetryPolicy::default()
        }
    }
}

impl RetryPolicy {
    /// Retry until it works (or shutdown), backing off from `initial` to
    /// `max`: for infrastructure the service cannot run without.
    pub fn forever(initial: Duration, max: Duration) -> Self {
        RetryPolicy {
            max_attempts: 0,
            initial,
            max,
            ..RetryPolicy::default()
        }
    }

    /// The same policy, giving up after `limit` (none if `None`).
    pub fn with_max_elapsed(self, limit: Option<Duration>) -> Self {
        RetryPolicy {
            max_elapsed: limit,
            ..self
        }
    }

    /// Wait before attempt `attempt + 1` (`attempt` counts from 1).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .initial
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max);
        let jittered = exp.mul_f64(0.5 + fastrand::f64() * 0.5);
        match retry_after {
            // Never earlier; a little jitter so waiting callers do not stampede.
            Some(at_least) => at_least + jittered.min(at_least / 10 + Duration::from_millis(50)),
            None => jittered,
        }
    }

    fn exhausted(&self, attempt: u32, started: tokio::time::Instant) -> bool {
        (self.max_attempts > 0 && attempt >= self.max_attempts)
            || self.max_elapsed.is_some_and(|l| started.elapsed() >= l)
    }
}

/// One failed attempt, classified by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure<E> {
    /// Worth trying again, not before `retry_after` if the remote said so.
    Transient {
        error: E,
        retry_after: Option<Duration>,
    },
    /// Retrying cannot help.
    Permanent(E),
}

impl<E> Failure<E> {
    /// A transient failure with no wait imposed by the remote.
    pub fn transient(error: E) -> Self {
        Failure::Transient {
            error,
            retry_after: None,
        }
    }
}

/// How [`retry`] ended without success.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetryError<E: Display> {
    #[error("{0}")]
    Permanent(E),
    /// Still failing transiently when the policy's limit was reached.
    #[error("{error} (gave up after {attempts} attempts)")]
    GaveUp { error: E, attempts: u32 },
    /// Shutdown interrupted a wait or an attempt.
    #[error("stopped")]
    Stopped,
}

/// Run `op` (given the attempt number, from 1) until it succeeds, fails
/// permanently, exhausts `policy`, or `stopping` fires. Each retry is
/// logged with `what`: at `warn` when its error differs from the last one
/// logged, else at `debug` (a server refusing for an hour is one warning).
///
/// # Errors
/// See [`RetryError`].
pub async fn retry<T, E, F, Fut>(
    policy: &RetryPolicy,
    stopping: &Stopping,
    what: &str,
    mut op: F,
) -> Result<T, RetryError<E>>
where
    E: Display,
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, Failure<E>>>,
{
    let started = tokio::time::Instant::now();
    let mut attempt = 1;
    let mut waits = 0u32;
    // The same failure again is logged at debug: one warning per cause.
    let mut last_logged: Option<String> = None;
    loop {
        let result = tokio::select! {
            r = op(attempt) => r,
            () = async {
                stopping.cancelled().await;
                tokio::time::sleep(policy.shutdown_grace).await;
            } => return Err(RetryError::Stopped),
        };
        let (error, retry_after) = match result {
            Ok(v) => return Ok(v),
            Err(Failure::Permanent(e)) => return Err(RetryError::Permanent(e)),
            Err(Failure::Transient { error, retry_after }) => (error, retry_after),
        };
        if retry_after.is_none() && policy.exhausted(attempt, started) {
            return Err(RetryError::GaveUp {
                error,
                attempts: attempt,
            });
        }
        let wait = policy.delay(attempt, retry_after);
        waits += 1;
        let message = error.to_string();
        let wait_ms = wait.as_millis() as u64;
        if last_logged.as_ref() == Some(&message) {
            tracing::debug!(what, attempt, waits, wait_ms, error = %message, "failed again; retrying");
        } else {
            tracing::warn!(what, attempt, waits, wait_ms, error = %message, "failed; retrying");
            last_logged = Some(message);
        }
        if !sleep_unless_stopping(wait, stopping).await {
            return Err(RetryError::Stopped);
        }
        if retry_after.is_none() {
            attempt += 1;
        }
    }
}

#[cfg(test)]
mod tests;
