//! NATS JetStream at the edge: connecting (waiting for the server at
//! start under the [retry policy](crate::retry), reconnecting forever
//! after), creating or updating the streams and key-value buckets
//! idempotently, and publishing with dedup ids. Consumers belong to
//! [`crate::consume`], dead letters to [`crate::dlq`].

mod streams;

pub use streams::{StreamLimits, ensure_stream};

use crate::observe::Health;
use crate::retry::{Failure, RetryError, RetryPolicy, retry};
use crate::settings::NatsSettings;
use crate::settings::subject::all_under;
use crate::shutdown::Stopping;
use async_nats::jetstream::{self, kv, stream};
use async_nats::{Event, HeaderMap};
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

async fn options(s: &NatsSettings, health: &Health) -> Result<async_nats::ConnectOptions, String> {
    let events = health.clone();
    let mut o = async_nats::ConnectOptions::new()
        .name("newsalert")
        .max_reconnects(None)
        .require_tls(s.tls_required)
        .event_callback(move |event| {
            let health = events.clone();
            async move {
                match &event {
                    Event::Connected => health.nats_reconnected(),
                    Event::ServerError(e) => health.nats_failed(format!("server error: {e}")),
                    Event::ClientError(e) => health.nats_failed(e.to_string()),
                    _ => {}
                }
                tracing::info!(%event, "nats connection event");
            }
        });
    if !s.user.is_empty() {
        o = o.user_and_password(s.user.clone(), s.password.expose_secret().to_string());
    }
    if !s.token.expose_secret().is_empty() {
        o = o.token(s.token.expose_secret().to_string());
    }
    if !s.nkey_seed.expose_secret().is_empty() {
        o = o.nkey(s.nkey_seed.expose_secret().trim().to_string());
    }
    if !s.nkey_file.is_empty() {
        let seed = std::fs::read_to_string(&s.nkey_file)
            .map_err(|e| format!("nats.nkey_file {:?}: {e}", s.nkey_file))?;
        o = o.nkey(seed.trim().to_string());
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

/// A failed connection attempt in words an operator can act on; `true`
/// when the server refused us (credentials, TLS) rather than could not be
/// reached: retrying alone will not help, but the service keeps trying so
/// a fixed server or rotated secret needs no restart.
fn describe(e: &async_nats::ConnectError) -> (String, bool) {
    use async_nats::ConnectErrorKind as Kind;
    let text = e.to_string();
    // rustls failures reach us as I/O errors: recognise them by their text.
    let tls_io = e.kind() == Kind::Io
        && [
            "certificate",
            "tls",
            "handshake",
            "corrupt message",
            "alert",
        ]
        .iter()
        .any(|w| text.to_lowercase().contains(w));
    match e.kind() {
        Kind::AuthorizationViolation | Kind::Authentication => (
            format!(
                "NATS refused the credentials ({text}): check nats.user/password, token, \
                 nkey_seed/nkey_file or creds_file against the server's authorization"
            ),
            true,
        ),
        Kind::Tls => (tls_failed(&text), true),
        Kind::Io if tls_io => (tls_failed(&text), true),
        _ => (text, false),
    }
}

fn tls_failed(error: &str) -> String {
    format!(
        "TLS with NATS failed ({error}): check nats.tls_required, tls_ca_file, \
         tls_cert_file/tls_key_file against the server's tls block"
    )
}

/// The servers of `nats.url`, a comma-separated list (one per cluster
/// node): the client connects to one and fails over to the others.
///
/// # Errors
/// A URL that does not parse (permanent), naming it without credentials.
fn server_addrs(urls: &str) -> Result<Vec<async_nats::ServerAddr>, Failure<String>> {
    urls.split(',')
        .map(|u| {
            u.trim()
                .parse()
                .map_err(|e| Failure::Permanent(format!("nats.url {}: {e}", redact_url(u.trim()))))
        })
        .collect()
}

/// How connecting at start is retried: from 100 ms up to 5 s between
/// attempts, until `connect_timeout_secs` (none if 0).
pub fn connect_policy(s: &NatsSettings) -> RetryPolicy {
    RetryPolicy::forever(Duration::from_millis(100), Duration::from_secs(5))
        .with_max_elapsed(s.connect_timeout())
}

/// Connect, retrying under [`connect_policy`] until the server answers.
/// (A signal before the service runs ends the process, so nothing here
/// waits for shutdown.) Each failure is reported to `health` (so
/// `/readyz` says why); a server refusing the credentials or the TLS
/// handshake is logged once as an error, then retried quietly.
///
/// # Errors
/// Bad credentials files, or the timeout.
pub async fn connect(s: &NatsSettings, health: &Health) -> Result<async_nats::Client, NatsError> {
    let url = redact_url(&s.url);
    let what = format!("connecting to NATS at {url}");
    // The refusal last logged as an error.
    let refused = std::sync::Mutex::new(None::<String>);
    let result = retry(&connect_policy(s), &Stopping::new(), &what, |_| {
        let (refused, url) = (&refused, &url);
        async move {
            let opts = options(s, health).await.map_err(Failure::Permanent)?;
            match opts.connect(server_addrs(&s.url)?).await {
                Ok(client) => Ok(client),
                Err(e) => {
                    let (reason, is_refusal) = describe(&e);
                    let mut last = refused.lock().unwrap_or_else(|e| e.into_inner());
                    if is_refusal && last.as_deref() != Some(reason.as_str()) {
                        tracing::error!(url = %url, error = %reason, "cannot connect to NATS; will keep trying, /readyz stays unready");
                        *last = Some(reason.clone());
                    }
                    drop(last);
                    health.nats_failed(reason.clone());
                    Err(Failure::transient(reason))
                }
            }
        }
    })
    .await;
    let client = result.map_err(|e| NatsError::Connect {
        url,
        reason: match e {
            RetryError::Permanent(reason) | RetryError::GaveUp { error: reason, .. } => reason,
            RetryError::Stopped => "stopped".to_string(),
        },
    })?;
    health.nats_connected(client.clone());
    Ok(client)
}

/// Everything a running instance needs from NATS.
#[derive(Clone)]
pub struct Broker {
    /// JetStream on the connection (which it keeps open).
    pub js: jetstream::Context,
    dead_letter_subject: String,
    /// Replicas of the streams and buckets this instance creates.
    replicas: usize,
}

impl Broker {
    /// Connect and create or update the article and dead-letter streams.
    ///
    /// # Errors
    /// As [`connect`] and [`ensure_stream`].
    pub async fn connect(s: &NatsSettings, health: &Health) -> Result<Broker, NatsError> {
        let client = connect(s, health).await?;
        let js = jetstream::new(client);
        let (window, r) = (s.duplicate_window(), s.replicas);
        ensure_stream(
            &js,
            &s.stream,
            &s.subjects,
            window,
            r,
            StreamLimits::articles(s),
        )
        .await?;
        let dead_letters = [all_under(&s.dead_letter_subject)];
        let none = StreamLimits::default();
        ensure_stream(&js, &s.dead_letter_stream, &dead_letters, window, r, none).await?;
        let alerts = [all_under(&s.alerts_subject)];
        ensure_stream(&js, &s.alerts_stream, &alerts, window, r, none).await?;
        Ok(Broker {
            js,
            dead_letter_subject: s.dead_letter_subject.clone(),
            replicas: r,
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
    /// Reads go to the bucket's leader: with replicas, "direct get" would
    /// let any replica answer, and a follower a moment behind would say an
    /// alert just recorded in the sent log was never sent. A replicated
    /// bucket created with direct get (by an earlier release) is changed.
    ///
    /// # Errors
    /// JetStream refused.
    pub async fn bucket(&self, name: &str, max_age: Duration) -> Result<kv::Store, NatsError> {
        if let Ok(store) = self.js.get_key_value(name).await {
            let config = &store.stream.cached_info().config;
            if !(config.allow_direct && config.num_replicas > 1) {
                return Ok(store);
            }
            let config = stream::Config {
                allow_direct: false,
                ..config.clone()
            };
            if let Err(e) = self.js.update_stream(config).await {
                tracing::warn!(bucket = name, error = %e, "could not turn direct get off");
                return Ok(store);
            }
            return self
                .js
                .get_key_value(name)
                .await
                .map_err(|e| js_err(format!("key-value bucket {name}"), e));
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
                allow_direct: self.replicas <= 1,
                discard: stream::DiscardPolicy::New,
                num_replicas: self.replicas,
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

/// The first value of header `name` in `headers`, names compared
/// case-insensitively (NATS keeps them as the publisher wrote them).
pub fn header_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(key, _)| {
            let key: &str = key.as_ref();
            key.eq_ignore_ascii_case(name)
        })
        .and_then(|(_, values)| values.first())
        .map(|v| v.to_string())
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
            let err = connect(&s.nats, &Health::default()).await.unwrap_err();
            let took = started.elapsed();
            assert!(shortest <= took && took <= longest, "{env:?}: {took:?}");
            assert!(matches!(err, NatsError::Connect { .. }), "{err}");
            assert!(!err.to_string().contains("pw"), "{err}");
        }
    }

    #[test]
    fn several_urls_make_a_server_list() {
        let addrs = server_addrs("nats://a:4222, nats://u:pw@b:4223").unwrap();
        assert_eq!(addrs.len(), 2);
        assert_eq!(addrs[1].host(), "b");
        let Err(Failure::Permanent(e)) = server_addrs("nats://a:4222,nats://u:pw@b:x") else {
            panic!("a bad port is refused");
        };
        assert!(e.contains("nats://***@b:x") && !e.contains("pw"), "{e}");
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(redact_url("nats://u:secret@h:4222"), "nats://***@h:4222");
        assert_eq!(redact_url("nats://h:4222"), "nats://h:4222");
        assert_eq!(redact_url("u:p@h"), "***@h");
    }
}
