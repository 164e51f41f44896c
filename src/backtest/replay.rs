//! Reading the articles stream's retained history for `backtest`: an
//! ordered, ephemeral consumer (no acks, no durable state) from the
//! window's start up to the stream's last message at the start of the
//! replay (or the window's end), fed through a bounded channel so that
//! memory stays bounded. Nothing in NATS is created for good: the
//! consumer is deleted at the end (and would expire on its own anyway),
//! no stream or bucket is made.

use async_nats::jetstream::{self, consumer::DeliverPolicy, consumer::pull::OrderedConfig};
use futures::StreamExt;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::mpsc;

/// Messages read ahead of the matching threads.
const READ_AHEAD: usize = 256;
/// A replay that receives nothing for this long has reached the end.
const IDLE: Duration = Duration::from_secs(10);

/// Which part of the stream to replay (stream time, i.e. when each
/// article was published to NATS); `None`: from the start / to the end.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
}

/// What the stream holds and keeps, for the report's header.
#[derive(Debug, Clone)]
pub struct Retention {
    pub stream: String,
    pub messages: u64,
    pub first: Option<OffsetDateTime>,
    /// Zero: no age limit.
    pub max_age: Duration,
    /// Negative: no size limit.
    pub max_bytes: i64,
}

/// A replay in progress: messages in stream order on `messages`, each
/// `Err` a reason the replay stopped early.
pub struct Replay {
    pub retention: Retention,
    pub messages: mpsc::Receiver<Result<jetstream::Message, String>>,
    /// The reader; finished once it has removed its consumer.
    pub done: tokio::task::JoinHandle<()>,
}

/// Start replaying `stream` over `window` on `js`.
///
/// # Errors
/// The stream does not exist or cannot be read.
pub async fn start(
    js: &jetstream::Context,
    stream: &str,
    window: Window,
) -> Result<Replay, String> {
    let mut handle = js
        .get_stream(stream)
        .await
        .map_err(|e| format!("stream {stream}: {e}"))?;
    let info = handle
        .info()
        .await
        .map_err(|e| format!("stream {stream}: {e}"))?
        .clone();
    let state = &info.state;
    let retention = Retention {
        stream: stream.to_string(),
        messages: state.messages,
        first: (state.messages > 0).then_some(state.first_timestamp),
        max_age: info.config.max_age,
        max_bytes: info.config.max_bytes,
    };
    let (tx, messages) = mpsc::channel(READ_AHEAD);
    let empty = state.messages == 0
        || window.from.is_some_and(|from| from > state.last_timestamp)
        || window.to.is_some_and(|to| to < state.first_timestamp);
    if empty {
        return Ok(Replay {
            retention,
            messages,
            done: tokio::spawn(async move { drop(tx) }),
        });
    }
    let last = state.last_sequence;
    let name = format!(
        "newsalert-backtest-{}-{}",
        std::process::id(),
        OffsetDateTime::now_utc().unix_timestamp_nanos()
    );
    let config = OrderedConfig {
        name: Some(name.clone()),
        deliver_policy: match window.from {
            Some(start_time) => DeliverPolicy::ByStartTime { start_time },
            None => DeliverPolicy::All,
        },
        ..Default::default()
    };
    let consumer = handle
        .create_consumer(config)
        .await
        .map_err(|e| format!("stream {stream}: cannot replay: {e}"))?;
    let mut ordered = consumer
        .messages()
        .await
        .map_err(|e| format!("stream {stream}: cannot replay: {e}"))?;
    let done = tokio::spawn(async move {
        // The last stream sequence received.
        let mut seen = 0;
        loop {
            let next = match tokio::time::timeout(IDLE, ordered.next()).await {
                // Cut short: say so rather than report part of the window.
                Err(_) | Ok(None) => Err(format!(
                    "replay stalled: nothing received for {}s after stream sequence {seen} of {last}",
                    IDLE.as_secs()
                )),
                Ok(Some(Err(e))) => Err(format!("reading the stream: {e}")),
                Ok(Some(Ok(msg))) => Ok(msg),
            };
            let (stop, item) = match next {
                Ok(msg) => match msg
                    .info()
                    .map(|i| (i.stream_sequence, i.published, i.pending))
                {
                    Ok((seq, published, pending)) => {
                        seen = seq;
                        if seq > last || window.to.is_some_and(|to| published > to) {
                            (true, None)
                        } else {
                            (seq >= last || pending == 0, Some(Ok(msg)))
                        }
                    }
                    Err(e) => (true, Some(Err(format!("message metadata: {e}")))),
                },
                Err(e) => (true, Some(Err(e))),
            };
            if let Some(item) = item
                && tx.send(item).await.is_err()
            {
                break;
            }
            if stop {
                break;
            }
        }
        drop(ordered);
        // Ephemeral consumers expire on their own; remove it now so that
        // a backtest leaves nothing behind.
        let _ = handle.delete_consumer(&name).await;
    });
    Ok(Replay {
        retention,
        messages,
        done,
    })
}
