//! The shutdown signal. Every loop and every wait (backoff, rate limits,
//! consumer recreation) listens to one [`Stopping`] token, so a shutdown
//! interrupts waits at once and in-flight work is released, not lost.

use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Cancelled when the service is shutting down.
pub type Stopping = CancellationToken;

/// Sleep for `d`, or less if `stopping` fires. Returns false if stopped.
pub async fn sleep_unless_stopping(d: Duration, stopping: &Stopping) -> bool {
    tokio::select! {
        () = tokio::time::sleep(d) => true,
        () = stopping.cancelled() => false,
    }
}
