//! Fetching a feed over HTTP (reqwest with rustls): a conditional GET
//! (`If-None-Match` / `If-Modified-Since` from the last answer's `ETag` /
//! `Last-Modified`), gzip, at most `feeds.max_redirects` redirects, one
//! timeout for the whole exchange, and a body size limit enforced while
//! the body streams in (after decompression), so a 50 MB answer is cut off
//! at the limit, never held. Requests to one host wait their turn
//! ([`Hosts`]). Failures are [`FetchError`]s; the caller retries them.

use super::hosts::Hosts;
use crate::settings::FeedsSettings;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What the server said last time, for a conditional GET.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

impl Validators {
    /// No validator at all: nothing to send, nothing to store.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// A successful fetch.
#[derive(Debug)]
pub enum Fetched {
    /// 304: nothing new since `Validators`.
    NotModified,
    /// The document, and the validators to send next time.
    Body {
        bytes: Vec<u8>,
        validators: Validators,
    },
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("HTTP {status}")]
    Status {
        status: u16,
        /// From `Retry-After` (429, 503).
        retry_after: Option<Duration>,
    },
    #[error("body larger than {limit} bytes; abandoned")]
    TooLarge { limit: usize },
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("redirects: {0}")]
    Redirect(String),
    #[error("network: {0}")]
    Network(String),
}

impl FetchError {
    /// How long the server asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// An HTTP client for feeds, shared by every feed.
pub struct Fetcher {
    client: reqwest::Client,
    hosts: Hosts,
    max_body: usize,
    timeout: Duration,
}

impl Fetcher {
    /// A client as `[feeds]` says.
    ///
    /// # Errors
    /// The TLS backend could not start, or the user agent is not a valid
    /// header value.
    pub fn new(s: &FeedsSettings) -> Result<Fetcher, String> {
        let timeout = Duration::from_secs(s.timeout_secs.max(1));
        let client = reqwest::Client::builder()
            .user_agent(&s.user_agent)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::limited(s.max_redirects))
            .gzip(true)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Fetcher {
            client,
            hosts: Hosts::new(Duration::from_millis(s.host_gap_ms)),
            max_body: s.max_body_bytes,
            timeout,
        })
    }

    /// GET `url`, conditionally on `last`, waiting for the host's turn.
    ///
    /// # Errors
    /// See [`FetchError`].
    pub async fn fetch(&self, url: &url::Url, last: &Validators) -> Result<Fetched, FetchError> {
        let _turn = self.hosts.turn(url).await;
        let mut headers = HeaderMap::new();
        let mut put = |name, value: &Option<String>| {
            if let Some(v) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                headers.insert(name, v);
            }
        };
        put(header::IF_NONE_MATCH, &last.etag);
        put(header::IF_MODIFIED_SINCE, &last.last_modified);
        let mut response = self
            .client
            .get(url.clone())
            .headers(headers)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
                retry_after: retry_after(response.headers()),
            });
        }
        let text = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let validators = Validators {
            etag: text(header::ETAG),
            last_modified: text(header::LAST_MODIFIED),
        };
        let limit = self.max_body;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(FetchError::TooLarge { limit });
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(e))? {
            if bytes.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge { limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body { bytes, validators })
    }

    fn classify(&self, e: reqwest::Error) -> FetchError {
        if e.is_timeout() {
            FetchError::Timeout(self.timeout)
        } else if e.is_redirect() {
            FetchError::Redirect(error_chain(&e))
        } else {
            FetchError::Network(error_chain(&e))
        }
    }
}

/// `e` and its causes, `: `-separated (reqwest's own message is terse).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}
