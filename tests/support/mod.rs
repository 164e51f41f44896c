//! Test doubles for the integration tests: a real `nats-server` on a random
//! port, a fake Telegram Bot API and an SMTP sink, plus small polling helpers.
//!
//! Every server binds 127.0.0.1 on a port of its own and is torn down on
//! `Drop`, so tests can run in parallel and never touch a system NATS.
#![allow(dead_code)]

pub mod dkim;
pub mod feeds;
pub mod http;
pub mod nats;
pub mod nats_auth;
pub mod nats_cluster;
pub mod smtp;
pub mod telegram;

#[cfg(test)]
mod selftest;

use std::net::TcpListener;
use std::time::{Duration, Instant};

/// How often the `wait_*` helpers re-check their condition.
pub const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// A TCP port on 127.0.0.1 that was free a moment ago.
///
/// The OS picks it; there is a small window in which another process can
/// take it, so servers started on it should retry on "address in use".
pub fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .expect("bind 127.0.0.1:0 to find a free port")
        .port()
}

/// Polls `cond` every [`POLL_INTERVAL`] until it is true or `timeout` passes.
/// Returns whether it became true; use it as
/// `assert!(wait_until(..).await, "what we waited for")`.
pub async fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Blocking twin of [`wait_until`] for code outside a tokio runtime.
pub fn wait_until_blocking(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// A tokio runtime on a thread of its own, for servers that must keep
/// running whatever the test's runtime does (paused clock, blocking code).
/// The runtime stops when this value is dropped.
pub(crate) struct BackgroundRuntime {
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundRuntime {
    pub(crate) fn start(name: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(name)
            .enable_all()
            .build()
            .expect("build background tokio runtime");
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .expect("spawn background runtime thread");
        Self {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        &self.handle
    }
}

impl Drop for BackgroundRuntime {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
