//! The shutdown signal. Every loop and every wait (backoff, rate limits,
//! consumer recreation) listens to one [`Stopping`] token, so a shutdown
//! interrupts waits at once and in-flight work is released, not lost.

use std::future::Future;
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

/// Aborts a task when dropped: ties a spawned task's life to its owner
/// (a bucket watch to its last reader, the bot's poller to the service).
pub struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A shutdown future that several stages can await.
pub trait SharedSignal {
    fn shared_signal(self) -> futures::future::Shared<futures::future::BoxFuture<'static, ()>>;
}

impl<F: Future<Output = ()> + Send + 'static> SharedSignal for F {
    fn shared_signal(self) -> futures::future::Shared<futures::future::BoxFuture<'static, ()>> {
        use futures::FutureExt;
        self.boxed().shared()
    }
}
