//! NATS JetStream at the edge: connecting (waiting for the server at
//! start under the [retry policy](crate::retry), reconnecting forever
//! after), creating or updating the streams and key-value buckets
//! idempotently, and publishing with dedup ids. Consumers belong to
//! [`crate::consume`], dead letters to [`crate::dlq`].

use crate::retry::{Failure, RetryError, RetryPolicy, retry};
use crate::settings::NatsSettings;
use crate::settings::subject::all_under;
use crate::shutdown::Stopping;
use async_nats::HeaderMap;
use async_nats::jetstream::{self, kv, stream};
use secrecy::ExposeSecret;
use std::time::Duration;

/// Header carrying the producer's dedup id.
pub const MSG_ID: &str = "Nats-Msg-Id";

/// A connection-level failure, with the URL's credentials never shown.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    #[error("cannot connect to NATS at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("JetStream {what}: {reason}")]
    JetStream { what: String, reason: String },
}

fn js_err(what: impl Into<String>, e: impl std::fmt::Display) -> NatsError {
    NatsError::JetStream {
        what: what.into(),
        reason: e.to_string(),
    }
}

/// `url` with any `user:password@` removed, for messages.
pub fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://***@{host}"),
            None => url.to_string(),
        },
        None => match url.rsplit_once('@') {
            Some((_, host)) => format!("***@{host}"),
            None => url.to_string(),
        },
    }
}

async fn options(s: &NatsSettings) -> Result<async_nats::ConnectOptions, String> {
    let mut o = async_nats::ConnectOptions::new()
        .name("newsalert")
        .max_reconnects(None)
        .require_tls(s.tls_required)
        .event_callback(|event| async move {
            tracing::info!(%event, "nats connection event");
        });
    if !s.user.is_empty() {
        o = o.user_and_password(s.user.clone(), s.password.expose_secret().to_string());
    }
    if !s.token.expose_secret().is_empty() {
        o = o.token(s.token.expose_secret().to_string());
    }
    if !s.creds_file.is_empty() {
        o = o
            .credentials_file(&s.creds_file)
            .await
            .map_err(|e| format!("nats.creds_file: {e}"))?;
    }
    if !s.tls_ca_file.is_empty() {
        o = o.add_root_certificates(s.tls_ca_file.clone().into());
    }
    if !s.tls_cert_file.is_empty() {
        o = o.add_client_certificate(
            s.tls_cert_file.clone().into(),
            s.tls_key_file.clone().into(),
        );
    }
    Ok(o)
}

/// How connecting at start is retried: from 100 ms up to 5 s between
/// attempts, until `connect_timeout_secs` (none if 0).
pub fn connect_policy(s: &NatsSettings) -> RetryPolicy {
    RetryPolicy::forever(Duration::from_millis(100), Duration::from_secs(5))
        .with_max_elapsed(s.connect_timeout())
}

/// Connect, retrying under [`connect_policy`] until the server answers.
/// (A signal before the service runs ends the process, so nothing here
/// waits for shutdown.)
///
/// # Errors
/// Bad credentials files, or the timeout.
pub async fn connect(s: &NatsSettings) -> Result<async_nats::Client, NatsError> {
    let url = redact_url(&s.url);
    let what = format!("connecting to NATS at {url}");
    let result = retry(&connect_policy(s), &Stopping::new(), &what, |_| async {
        let opts = options(s).await.map_err(Failure::Permanent)?;
        opts.connect(s.url.as_str())
            .await
            .map_err(|e| Failure::transient(e.to_string()))
    })
    .await;
    result.map_err(|e| NatsError::Connect {
        url,
        reason: match e {
            RetryError::Permanent(reason) | RetryError::GaveUp { error: reason, .. } => reason,
            RetryError::Stopped => "stopped".to_string(),
        },
    })
}

/// Create `name` with `subjects`, or make sure an existing stream also
/// covers `subjects` (other settings an operator changed are kept).
///
/// # Errors
/// JetStream refused.
pub async fn ensure_stream(
    js: &jetstream::Context,
    name: &str,
    subjects: &[String],
    duplicate_window: Duration,
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

/// Everything a running instance needs from NATS.
#[derive(Clone)]
pub struct Broker {
    /// JetStream on the connection (which it keeps open).
    pub js: jetstream::Context,
    dead_letter_subject: String,
}

impl Broker {
    /// Connect and create or update the article and dead-letter streams.
    ///
    /// # Errors
    /// As [`connect`] and [`ensure_stream`].
    pub async fn connect(s: &NatsSettings) -> Result<Broker, NatsError> {
        let client = connect(s).await?;
        let js = jetstream::new(client);
        let window = s.duplicate_window();
        ensure_stream(&js, &s.stream, &s.subjects, window).await?;
        ensure_stream(
            &js,
            &s.dead_letter_stream,
            &[all_under(&s.dead_letter_subject)],
            window,
        )
        .await?;
        ensure_stream(
            &js,
            &s.alerts_stream,
            &[all_under(&s.alerts_subject)],
            window,
        )
        .await?;
        Ok(Broker {
            js,
            dead_letter_subject: s.dead_letter_subject.clone(),
        })
    }

    /// Publish `payload` with dedup id `msg_id` and wait for the ack.
    ///
    /// # Errors
    /// No ack from JetStream.
    pub async fn publish(
        &self,
        subject: String,
        msg_id: &str,
        headers: Option<HeaderMap>,
        payload: bytes::Bytes,
    ) -> Result<(), NatsError> {
        let mut headers = headers.unwrap_or_default();
        headers.insert(MSG_ID, msg_id);
        self.js
            .publish_with_headers(subject.clone(), headers, payload)
            .await
            .map_err(|e| js_err(format!("publish to {subject}"), e))?
            .await
            .map_err(|e| js_err(format!("publish ack from {subject}"), e))?;
        Ok(())
    }

    /// Subject prefix of the dead-letter stream (see [`crate::dlq`]).
    pub fn dead_letter_subject(&self) -> &str {
        &self.dead_letter_subject
    }

    /// A key-value bucket (history 1), created if missing. The backing
    /// stream is created directly, as `create_key_value` would, because
    /// async-nats's own path queries account info in a form nats-server 2.9
    /// does not answer.
    ///
    /// # Errors
    /// JetStream refused.
    pub async fn bucket(&self, name: &str, max_age: Duration) -> Result<kv::Store, NatsError> {
        if let Ok(store) = self.js.get_key_value(name).await {
            return Ok(store);
        }
        let created = self
            .js
            .create_stream(stream::Config {
                name: format!("KV_{name}"),
                subjects: vec![format!("$KV.{name}.>")],
                max_messages_per_subject: 1,
                max_age,
                storage: stream::StorageType::File,
                allow_rollup: true,
                deny_delete: true,
                allow_direct: true,
                discard: stream::DiscardPolicy::New,
                num_replicas: 1,
                ..Default::default()
            })
            .await;
        if let Err(e) = created {
            // Another instance may have created it meanwhile.
            tracing::debug!(bucket = name, error = %e, "bucket create failed; looking it up");
        }
        self.js
            .get_key_value(name)
            .await
            .map_err(|e| js_err(format!("key-value bucket {name}"), e))
    }
}

/// The delivery ledger's key-value buckets.
pub struct LedgerBuckets {
    /// Alerts sent, kept `sent_retention_days`.
    pub sent: kv::Store,
    /// Disabled and migrated targets, kept until changed.
    pub targets: kv::Store,
}

impl Broker {
    /// The delivery ledger's buckets, created if missing.
    ///
    /// # Errors
    /// JetStream refused.
    pub async fn ledger_buckets(&self, s: &NatsSettings) -> Result<LedgerBuckets, NatsError> {
        Ok(LedgerBuckets {
            sent: self.bucket(&s.sent_bucket, s.sent_retention()).await?,
            targets: self.bucket(&s.targets_bucket, Duration::ZERO).await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings for a server that is not there.
    fn unreachable(extra: &[(&str, &str)]) -> crate::settings::Settings {
        let dir = tempfile::tempdir().unwrap();
        let mut env = vec![("NEWSALERT__NATS__URL", "nats://u:pw@127.0.0.1:1")];
        env.extend_from_slice(extra);
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        crate::settings::Settings::load_with_env(dir.path(), env).unwrap()
    }

    /// Connecting is retried until `connect_timeout_secs`; a bad creds
    /// file fails at once. Errors never show the password.
    #[tokio::test(start_paused = true)]
    async fn connect_retries_until_the_timeout() {
        let secs = Duration::from_secs;
        // (settings, shortest and longest time to give up)
        let cases = [
            (
                vec![("NEWSALERT__NATS__CONNECT_TIMEOUT_SECS", "3")],
                secs(3),
                secs(3) + connect_policy(&unreachable(&[]).nats).max,
            ),
            (
                vec![
                    ("NEWSALERT__NATS__USER", ""),
                    ("NEWSALERT__NATS__CREDS_FILE", "/nonexistent/creds"),
                ],
                secs(0),
                secs(0),
            ),
        ];
        for (env, shortest, longest) in cases {
            let s = unreachable(&env);
            let started = tokio::time::Instant::now();
            let err = connect(&s.nats).await.unwrap_err();
            let took = started.elapsed();
            assert!(shortest <= took && took <= longest, "{env:?}: {took:?}");
            assert!(matches!(err, NatsError::Connect { .. }), "{err}");
            assert!(!err.to_string().contains("pw"), "{err}");
        }
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(redact_url("nats://u:secret@h:4222"), "nats://***@h:4222");
        assert_eq!(redact_url("nats://h:4222"), "nats://h:4222");
        assert_eq!(redact_url("u:p@h"), "***@h");
    }
}
