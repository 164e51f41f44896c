//! Politeness towards publishers: at most one request at a time per host
//! (and port), and at least `feeds.host_gap_ms` between the end of one
//! request and the start of the next. Feeds on different hosts never wait
//! for each other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OwnedMutexGuard;
use tokio::time::Instant;

/// When each host's last request ended; a host's lock is held for the
/// whole of a request.
pub struct Hosts {
    gap: Duration,
    last: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Instant>>>>>,
}

/// A host's turn: while it lives, no other request goes to the host; when
/// it ends, the host's gap starts.
pub struct Turn(OwnedMutexGuard<Option<Instant>>);

impl Drop for Turn {
    fn drop(&mut self) {
        *self.0 = Some(Instant::now());
    }
}

impl Hosts {
    pub fn new(gap: Duration) -> Hosts {
        Hosts {
            gap,
            last: Mutex::new(HashMap::new()),
        }
    }

    /// Wait until `url`'s host is free and its gap has passed.
    pub async fn turn(&self, url: &url::Url) -> Turn {
        let key = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or(0)
        );
        let slot = self
            .last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default()
            .clone();
        let guard = slot.lock_owned().await;
        if let Some(ended) = *guard {
            tokio::time::sleep_until(ended + self.gap).await;
        }
        Turn(guard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two requests to one host are one gap apart; another host does not
    /// wait.
    #[tokio::test(start_paused = true)]
    async fn one_request_at_a_time_per_host_with_a_gap() {
        let hosts = Arc::new(Hosts::new(Duration::from_secs(2)));
        let a: url::Url = "https://a.example/feed".parse().unwrap();
        let a2: url::Url = "https://a.example/other".parse().unwrap();
        let b: url::Url = "https://b.example/feed".parse().unwrap();
        let start = Instant::now();
        let first = hosts.turn(&a).await;
        let waiter = {
            let hosts = hosts.clone();
            tokio::spawn(async move {
                let _t = hosts.turn(&a2).await;
                Instant::now()
            })
        };
        let _other = hosts.turn(&b).await;
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "another host waits for nothing"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        drop(first);
        let second_at = waiter.await.unwrap();
        assert_eq!(
            second_at - start,
            Duration::from_secs(3),
            "1 s request + 2 s gap"
        );
    }
}
