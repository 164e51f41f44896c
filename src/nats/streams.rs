//! Streams, created idempotently: [`ensure_stream`] creates one with its
//! subjects, replicas and limits, or widens an existing one's subjects and
//! keeps whatever else an operator changed.

use super::{NatsError, js_err};
use crate::settings::NatsSettings;
use async_nats::jetstream::{self, stream};
use std::time::Duration;

/// How much a stream keeps (set when it is created).
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamLimits {
    /// Zero: no age limit.
    pub max_age: Duration,
    /// Zero: no size limit.
    pub max_bytes: u64,
}

impl StreamLimits {
    /// The articles stream's limits (`nats.stream_max_age_days`,
    /// `nats.stream_max_bytes`).
    pub fn articles(s: &NatsSettings) -> StreamLimits {
        StreamLimits {
            max_age: Duration::from_secs(s.stream_max_age_days.saturating_mul(86_400)),
            max_bytes: s.stream_max_bytes,
        }
    }
}

/// Create `name` with `subjects` at `replicas` keeping what `limits`
/// allow, or make sure an existing stream also covers `subjects` (other
/// settings an operator changed, replicas and limits included, are kept).
///
/// # Errors
/// JetStream refused.
pub async fn ensure_stream(
    js: &jetstream::Context,
    name: &str,
    subjects: &[String],
    duplicate_window: Duration,
    replicas: usize,
    limits: StreamLimits,
) -> Result<stream::Stream, NatsError> {
    match js.get_stream(name).await {
        Ok(mut existing) => {
            let info = existing
                .info()
                .await
                .map_err(|e| js_err(format!("stream {name}"), e))?;
            let mut config = info.config.clone();
            let missing: Vec<&String> = subjects
                .iter()
                .filter(|s| !config.subjects.contains(s))
                .collect();
            if !missing.is_empty() {
                config.subjects.extend(missing.into_iter().cloned());
                js.update_stream(config)
                    .await
                    .map_err(|e| js_err(format!("update stream {name}"), e))?;
            }
            Ok(existing)
        }
        Err(e) if is_not_found(&e) => js
            .create_stream(stream::Config {
                name: name.to_string(),
                subjects: subjects.to_vec(),
                storage: stream::StorageType::File,
                duplicate_window,
                num_replicas: replicas,
                max_age: limits.max_age,
                max_bytes: match limits.max_bytes {
                    0 => -1,
                    b => i64::try_from(b).unwrap_or(i64::MAX),
                },
                ..Default::default()
            })
            .await
            .map_err(|e| js_err(format!("create stream {name}"), e)),
        Err(e) => Err(js_err(format!("stream {name}"), e)),
    }
}

fn is_not_found(e: &jetstream::context::GetStreamError) -> bool {
    matches!(e.kind(), jetstream::context::GetStreamErrorKind::JetStream(err) if err.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND)
}
