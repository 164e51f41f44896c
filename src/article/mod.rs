//! Article events: the wire form producers publish, and [`decode`] which
//! turns bytes into a valid [`Article`] or a [`DecodeError`] that says why
//! (the event then goes to the dead-letter stream).
//!
//! Accepted forms: a plain JSON article, or a CloudEvents 1.0 event whose
//! data is the article, in structured, binary or batch mode
//! ([`cloudevents`]; [`decode_message`] takes a message with its headers,
//! [`decode`] a body alone). Unknown fields are ignored. Fields that are merely malformed but not needed to
//! alert (`published_at`, `language`, `content_type`) are dropped with a
//! warning instead of losing the article.
//!
//! Fields are kept as sent; how they are read is part of the format, as in
//! JSON Feed: `title` and `summary` are plain text (a `<` in them is a
//! character; character references such as `&amp;` are decoded once when
//! the text is prepared), only `body` may be HTML — detected, or as
//! `content_type` says ([`BodyFormat`]).
//!
//! A plain article is read straight into its wire form (`wire`), without
//! a `serde_json::Value` in between; everything else, and every error,
//! goes through a `Value` (same results, same messages).

pub mod cloudevents;
mod error;
mod wire;

pub use error::DecodeError;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use serde_json::Value;
use std::fmt;

/// Default largest accepted event, in bytes.
pub const DEFAULT_MAX_BYTES: usize = 256 * 1024;
/// Longest accepted article id, in characters.
pub const MAX_ID_CHARS: usize = 256;
/// A batch may be this many times `max_bytes` in all.
pub const MAX_BATCH_EVENTS: usize = 16;

/// A producer-assigned article id: 1 to 256 characters, no control
/// characters. Used as the dedup key (`Nats-Msg-Id`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ArticleId(String);

impl ArticleId {
    /// # Errors
    /// When the id is empty, too long or holds control characters.
    pub fn parse(s: &str) -> Result<ArticleId, DecodeError> {
        let invalid = |reason: &str| DecodeError::Invalid {
            field: "id",
            reason: reason.to_string(),
        };
        if s.trim().is_empty() {
            return Err(invalid("must not be empty"));
        }
        let n = s.chars().count();
        if n > MAX_ID_CHARS {
            return Err(invalid(&format!(
                "is {n} characters long; at most {MAX_ID_CHARS} allowed"
            )));
        }
        if s.chars().any(char::is_control) {
            return Err(invalid("must not contain control characters"));
        }
        Ok(ArticleId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ArticleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What `body` holds, when the event says so in `content_type`: `"text"`
/// or `"text/plain"`, `"html"` or `"text/html"` (case and parameters
/// such as `; charset=utf-8` ignored). Without it the body is detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyFormat {
    Text,
    Html,
}

impl BodyFormat {
    fn parse(s: &str) -> Option<BodyFormat> {
        let media = s.split(';').next().unwrap_or_default().trim();
        match media.to_ascii_lowercase().as_str() {
            "text" | "text/plain" => Some(BodyFormat::Text),
            "html" | "text/html" => Some(BodyFormat::Html),
            _ => None,
        }
    }
}

/// A valid new-article event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Article {
    pub id: ArticleId,
    /// Plain text, as sent (character references not yet decoded).
    pub title: String,
    /// Plain text or HTML: see `body_format`.
    pub body: String,
    /// `Some` when the event said what `body` holds; `None`: detected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_format: Option<BodyFormat>,
    /// Plain text, as sent, like `title`.
    pub summary: String,
    pub url: Option<String>,
    pub source: Option<String>,
    pub published_at: Option<DateTime<FixedOffset>>,
    /// ISO 639-1 code, lower case.
    pub language: Option<String>,
    /// Producer's region tags, upper case.
    pub regions: Vec<String>,
    pub tags: Vec<String>,
    /// Problems with optional fields that were dropped rather than reject
    /// the article.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// The article id of an event that failed to decode, if one can be read
/// (plain or CloudEvents form), for logs and dead-letter headers.
pub fn peek_id(bytes: &[u8]) -> Option<String> {
    if bytes.len() > DEFAULT_MAX_BYTES * 16 {
        return None;
    }
    let value: Value = serde_json::from_slice(bytes).ok()?;
    let id = value
        .get("data")
        .and_then(|d| d.get("id"))
        .or_else(|| value.get("id"))?;
    match id {
        Value::String(s) => Some(s.chars().take(MAX_ID_CHARS).collect()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The lower-case ISO 639-1 code of a language tag (`ru-RU`, `en_us`,
/// `EN` → `ru`, `en`, `en`), or `None` if its primary subtag is not two
/// letters.
pub fn language_code(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
    (primary.len() == 2 && primary.chars().all(|c| c.is_ascii_alphabetic()))
        .then(|| primary.to_ascii_lowercase())
}

/// Decode one event of at most `max_bytes`.
///
/// # Errors
/// A [`DecodeError`] naming the problem; never panics on any input.
pub fn decode(bytes: &[u8], max_bytes: usize) -> Result<Article, DecodeError> {
    if bytes.len() > max_bytes {
        return Err(DecodeError::TooLarge {
            size: bytes.len(),
            limit: max_bytes,
        });
    }
    // Most events are plain articles: read straight into the wire struct;
    // anything else (CloudEvents, or an error to report) takes the
    // general path through a `Value`.
    if let Some(wire) = wire::plain(bytes) {
        return from_wire(wire, cloudevents::Envelope::default());
    }
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| DecodeError::Json(e.to_string()))?;
    let (value, envelope) = cloudevents::unwrap_structured(value)?;
    from_value(value, envelope)
}

/// One event of a message: its article or why not, and for an element of
/// a batch its index and JSON (what is dead-lettered when it is bad).
#[derive(Debug)]
pub struct Event {
    pub article: Result<Article, DecodeError>,
    pub element: Option<(usize, Vec<u8>)>,
}

/// Decode one message in any accepted form (plain, CloudEvents structured,
/// binary or batch: [`cloudevents`]); `header` looks up a message header
/// (case-insensitive). Each event of a batch is decoded on its own, at
/// most `max_bytes` each and [`MAX_BATCH_EVENTS`] × `max_bytes` in all.
pub fn decode_message(
    payload: &[u8],
    header: &dyn Fn(&str) -> Option<String>,
    max_bytes: usize,
) -> Vec<Event> {
    let one = |article| {
        vec![Event {
            article,
            element: None,
        }]
    };
    if let Some(envelope) = cloudevents::binary_envelope(header) {
        return one(envelope.and_then(|envelope| decode_binary(payload, envelope, max_bytes)));
    }
    if !cloudevents::is_batch(header("content-type").as_deref(), payload) {
        return one(decode(payload, max_bytes));
    }
    let limit = max_bytes.saturating_mul(MAX_BATCH_EVENTS);
    if payload.len() > limit {
        return one(Err(DecodeError::TooLarge {
            size: payload.len(),
            limit,
        }));
    }
    match cloudevents::batch_elements(payload) {
        Err(e) => one(Err(e)),
        Ok(elements) => elements
            .into_iter()
            .enumerate()
            .map(|(i, element)| Event {
                article: decode(&element, max_bytes),
                element: Some((i, element)),
            })
            .collect(),
    }
}

/// A binary-mode event: the body is the article.
fn decode_binary(
    payload: &[u8],
    envelope: cloudevents::Envelope,
    max_bytes: usize,
) -> Result<Article, DecodeError> {
    if payload.len() > max_bytes {
        return Err(DecodeError::TooLarge {
            size: payload.len(),
            limit: max_bytes,
        });
    }
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| DecodeError::Json(e.to_string()))?;
    if !value.is_object() {
        return Err(DecodeError::Json(
            "expected a JSON object (the article)".into(),
        ));
    }
    from_value(value, envelope)
}

fn from_value(value: Value, envelope: cloudevents::Envelope) -> Result<Article, DecodeError> {
    let wire: wire::WireArticle =
        serde_json::from_value(value).map_err(|e| DecodeError::Json(e.to_string()))?;
    from_wire(wire, envelope)
}

fn from_wire(
    wire: wire::WireArticle,
    envelope: cloudevents::Envelope,
) -> Result<Article, DecodeError> {
    let id = match wire.id {
        Some(Value::String(s)) => s,
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => {
            return Err(DecodeError::Invalid {
                field: "id",
                reason: "must be a string".into(),
            });
        }
        None => envelope.id.ok_or(DecodeError::Missing("id"))?,
    };
    let id = ArticleId::parse(&id)?;
    let title = wire.title.ok_or(DecodeError::Missing("title"))?;
    if title.trim().is_empty() {
        return Err(DecodeError::Invalid {
            field: "title",
            reason: "must not be empty".into(),
        });
    }
    let mut warnings = Vec::new();
    let published_at = wire.published_at.or(envelope.time).and_then(|s| {
        DateTime::parse_from_rfc3339(&s)
            .map_err(|e| warnings.push(format!("published_at {s:?} dropped: {e}")))
            .ok()
    });
    let language = wire.language.and_then(|l| {
        let code = language_code(&l);
        if code.is_none() {
            warnings.push(format!("language {l:?} dropped: not an ISO 639-1 code"));
        }
        code
    });
    let body_format = wire.content_type.and_then(|c| {
        let format = BodyFormat::parse(&c);
        if format.is_none() {
            warnings.push(format!(
                "content_type {c:?} dropped: not text or html; the body is detected"
            ));
        }
        format
    });
    Ok(Article {
        id,
        title,
        body: wire.body.unwrap_or_default(),
        body_format,
        summary: wire.summary.unwrap_or_default(),
        url: wire.url.filter(|u| !u.trim().is_empty()),
        source: wire.source.filter(|s| !s.trim().is_empty()),
        published_at,
        language,
        regions: wire
            .regions
            .into_iter()
            .map(|r| r.trim().to_ascii_uppercase())
            .filter(|r| !r.is_empty())
            .collect(),
        tags: wire.tags,
        warnings,
    })
}

#[cfg(test)]
mod tests;
