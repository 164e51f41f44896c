//! A JetStream key-value bucket mirrored in memory: [`watch_bucket`]
//! feeds every key's latest value, then each change as it happens, to an
//! `apply` callback (a put, or a delete / purge as `None`), and says when
//! the bucket's content at start has been seen ([`BucketWatch::loaded`]),
//! so readers can wait for it. A failed watch is started again (latest
//! values again, deletions included) under the retry policy. Used for
//! small, rarely written buckets every instance reads on each alert:
//! disabled targets ([`crate::deliver::ledger`]) and chat preferences
//! ([`crate::bot::prefs`]).

use crate::retry::{Failure, RetryPolicy, retry};
use crate::shutdown::{AbortOnDrop, Stopping};
use async_nats::jetstream::kv;
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// A running bucket watch; stops when the last clone is dropped.
#[derive(Clone)]
pub struct BucketWatch {
    loaded: watch::Receiver<bool>,
    _task: Arc<AbortOnDrop>,
}

impl BucketWatch {
    /// Wait until the bucket's content at start has been applied (at once
    /// if the watch has ended, at shutdown).
    pub async fn loaded(&self) {
        self.loaded.clone().wait_for(|loaded| *loaded).await.ok();
    }
}

/// Start mirroring `store` into `apply` (so it must be called inside a
/// tokio runtime); `what` names the bucket in logs.
pub fn watch_bucket(
    store: kv::Store,
    what: &'static str,
    apply: impl Fn(&str, Option<&[u8]>) + Send + Sync + 'static,
) -> BucketWatch {
    let (loaded_tx, loaded) = watch::channel(false);
    let task = tokio::spawn(run(store, what, apply, loaded_tx));
    BucketWatch {
        loaded,
        _task: Arc::new(AbortOnDrop(task)),
    }
}

async fn run(
    store: kv::Store,
    what: &'static str,
    apply: impl Fn(&str, Option<&[u8]>),
    loaded: watch::Sender<bool>,
) {
    let policy = RetryPolicy::forever(Duration::from_millis(200), Duration::from_secs(10));
    // Runs until the watch is dropped, which aborts it.
    let never = Stopping::new();
    loop {
        let started = retry(&policy, &never, what, |_| async {
            let empty = store
                .status()
                .await
                .map_err(|e| Failure::transient(e.to_string()))?
                .values()
                == 0;
            let watch = store
                .watch_with_history(">")
                .await
                .map_err(|e| Failure::transient(e.to_string()))?;
            Ok((empty, watch))
        })
        .await;
        let Ok((empty, mut entries)) = started else {
            return;
        };
        if empty {
            loaded.send_replace(true);
        }
        while let Some(entry) = entries.next().await {
            match entry {
                Ok(e) => {
                    let value = matches!(e.operation, kv::Operation::Put).then_some(&e.value[..]);
                    apply(&e.key, value);
                    if e.delta == 0 {
                        loaded.send_replace(true);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "{what} failed; watching again");
                    break;
                }
            }
        }
    }
}
