//! NATS JetStream at the edge: connecting (waiting for the server at
//! start, reconnecting forever after), creating or updating the streams and
//! the durable pull consumer idempotently, publishing with dedup ids, and
//! dead-lettering events that can never be processed.

use crate::settings::NatsSettings;
use async_nats::HeaderMap;
use async_nats::jetstream::{self, kv, stream};
use secrecy::ExposeSecret;
use std::time::{Duration, Instant};

/// Header carrying the producer's dedup id.
pub const MSG_ID: &str = "Nats-Msg-Id";
/// Dead-letter headers.
pub const DLQ_REASON: &str = "Newsalert-Reason";
pub const DLQ_KIND: &str = "Newsalert-Error-Kind";
pub const DLQ_SUBJECT: &str = "Newsalert-Original-Subject";
pub const DLQ_STREAM: &str = "Newsalert-Original-Stream";
pub const DLQ_STREAM_SEQ: &str = "Newsalert-Stream-Sequence";
pub const DLQ_DELIVERIES: &str = "Newsalert-Delivery-Count";

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

/// Connect, retrying with backoff until the server answers or
/// `connect_timeout_secs` (0 = forever) has passed.
///
/// # Errors
/// Bad credentials files, or the timeout.
pub async fn connect(s: &NatsSettings) -> Result<async_nats::Client, NatsError> {
    let started = Instant::now();
    let limit = (s.connect_timeout_secs > 0).then(|| Duration::from_secs(s.connect_timeout_secs));
    let url = redact_url(&s.url);
    let mut wait = Duration::from_millis(100);
    loop {
        let opts = options(s).await.map_err(|reason| NatsError::Connect {
            url: url.clone(),
            reason,
        })?;
        match opts.connect(s.url.as_str()).await {
            Ok(client) => return Ok(client),
            Err(e) => {
                if limit.is_some_and(|l| started.elapsed() >= l) {
                    return Err(NatsError::Connect {
                        url,
                        reason: e.to_string(),
                    });
                }
                tracing::warn!(%url, error = %e, retry_in_ms = wait.as_millis() as u64, "NATS not reachable yet");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
        }
    }
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
    pub client: async_nats::Client,
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
        let js = jetstream::new(client.clone());
        let window = Duration::from_secs(s.duplicate_window_secs.max(1));
        ensure_stream(&js, &s.stream, &s.subjects, window).await?;
        ensure_stream(
            &js,
            &s.dead_letter_stream,
            &[format!("{}.>", s.dead_letter_subject)],
            window,
        )
        .await?;
        ensure_stream(
            &js,
            &s.alerts_stream,
            &[format!("{}.>", s.alerts_subject)],
            window,
        )
        .await?;
        Ok(Broker {
            client,
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

    /// Put a message that can never be processed into the dead-letter
    /// stream (subject `<dead_letter_subject>.<category>`), with the reason,
    /// original subject and headers, stream sequence and delivery count.
    ///
    /// # Errors
    /// The dead-letter publish was not acknowledged (the caller must then
    /// not ack the original).
    pub async fn dead_letter(
        &self,
        msg: &jetstream::Message,
        letter: DeadLetter<'_>,
    ) -> Result<(), NatsError> {
        let (stream, seq, delivered) = msg
            .info()
            .map(|i| (i.stream.to_string(), i.stream_sequence, i.delivered))
            .unwrap_or_default();
        let mut headers = msg.headers.clone().unwrap_or_default();
        headers.insert(
            DLQ_REASON,
            letter.reason.replace(['\r', '\n'], " ").as_str(),
        );
        headers.insert(DLQ_KIND, letter.kind);
        headers.insert(DLQ_SUBJECT, msg.subject.as_str());
        headers.insert(DLQ_STREAM, stream.as_str());
        headers.insert(DLQ_STREAM_SEQ, seq.to_string().as_str());
        headers.insert(DLQ_DELIVERIES, delivered.to_string().as_str());
        let id = format!("dlq-{stream}-{seq}");
        self.publish(
            format!("{}.{}", self.dead_letter_subject, letter.category),
            &id,
            Some(headers),
            msg.payload.clone(),
        )
        .await
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

/// Why and where a message is dead-lettered.
#[derive(Debug, Clone, Copy)]
pub struct DeadLetter<'a> {
    /// Machine-readable reason (`bad_json`, `permanent`, ...).
    pub kind: &'a str,
    /// Human-readable reason.
    pub reason: &'a str,
    /// `articles` or `alerts`: the last subject token.
    pub category: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        assert_eq!(redact_url("nats://u:secret@h:4222"), "nats://***@h:4222");
        assert_eq!(redact_url("nats://h:4222"), "nats://h:4222");
        assert_eq!(redact_url("u:p@h"), "***@h");
    }
}
