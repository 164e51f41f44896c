//! Article events: the wire form producers publish, and [`decode`] which
//! turns bytes into a valid [`Article`] or a [`DecodeError`] that says why
//! (the event then goes to the dead-letter stream).
//!
//! Accepted forms: a plain JSON article, or a CloudEvents 1.0 structured
//! envelope (`specversion` + `data`) whose `data` is the article. Unknown
//! fields are ignored. Fields that are merely malformed but not needed to
//! alert (`published_at`, `language`, `content_type`) are dropped with a
//! warning instead of losing the article.
//!
//! Fields are kept as sent; how they are read is part of the format, as in
//! JSON Feed: `title` and `summary` are plain text (a `<` in them is a
//! character; character references such as `&amp;` are decoded once when
//! the text is prepared), only `body` may be HTML — detected, or as
//! `content_type` says ([`BodyFormat`]).

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Default largest accepted event, in bytes.
pub const DEFAULT_MAX_BYTES: usize = 256 * 1024;
/// Longest accepted article id, in characters.
pub const MAX_ID_CHARS: usize = 256;

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

/// Why an event cannot be processed. Permanent: redelivery will not help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("event is {size} bytes; the limit is {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("missing required field `{0}`")]
    Missing(&'static str),
    #[error("field `{field}` {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl DecodeError {
    /// Short machine-readable reason, used in dead-letter headers.
    pub fn kind(&self) -> &'static str {
        match self {
            DecodeError::TooLarge { .. } => "too_large",
            DecodeError::Json(_) => "bad_json",
            DecodeError::Missing(_) => "missing_field",
            DecodeError::Invalid { .. } => "invalid_field",
        }
    }
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

#[derive(Deserialize)]
struct WireArticle {
    id: Option<Value>,
    title: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    published_at: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    regions: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
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
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| DecodeError::Json(e.to_string()))?;
    let (value, envelope) = unwrap_cloudevent(value)?;
    let wire: WireArticle =
        serde_json::from_value(value).map_err(|e| DecodeError::Json(e.to_string()))?;
    from_wire(wire, envelope)
}

/// What a CloudEvents envelope can supply when `data` lacks it.
#[derive(Default)]
struct Envelope {
    id: Option<String>,
    time: Option<String>,
}

fn unwrap_cloudevent(value: Value) -> Result<(Value, Envelope), DecodeError> {
    let Value::Object(mut map) = value else {
        return Err(DecodeError::Json("expected a JSON object".into()));
    };
    if !map.contains_key("specversion") {
        return Ok((Value::Object(map), Envelope::default()));
    }
    match map.get("specversion").and_then(Value::as_str) {
        Some(v) if v.starts_with("1.") => {}
        other => {
            return Err(DecodeError::Invalid {
                field: "specversion",
                reason: format!("must be \"1.0\", got {other:?}"),
            });
        }
    }
    let envelope = Envelope {
        id: map.get("id").and_then(Value::as_str).map(str::to_string),
        time: map.get("time").and_then(Value::as_str).map(str::to_string),
    };
    let data = match map.remove("data") {
        Some(Value::String(s)) => {
            serde_json::from_str(&s).map_err(|e| DecodeError::Json(format!("in `data`: {e}")))?
        }
        Some(v @ Value::Object(_)) => v,
        Some(_) => {
            return Err(DecodeError::Invalid {
                field: "data",
                reason: "must be a JSON object (the article)".into(),
            });
        }
        None => return Err(DecodeError::Missing("data")),
    };
    Ok((data, envelope))
}

fn from_wire(wire: WireArticle, envelope: Envelope) -> Result<Article, DecodeError> {
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
mod tests {
    use super::*;

    fn dec(s: &str) -> Result<Article, DecodeError> {
        decode(s.as_bytes(), DEFAULT_MAX_BYTES)
    }

    #[test]
    fn accepts_plain_and_cloudevents() {
        let plain = dec(r#"{"id":"a1","title":"T","body":"B","regions":["az"],"x":1}"#).unwrap();
        assert_eq!(plain.id.as_str(), "a1");
        assert_eq!(plain.regions, vec!["AZ"]);
        let ce = dec(
            r#"{"specversion":"1.0","id":"ev-9","type":"news.article","source":"/crawler",
                "time":"2025-10-25T08:00:00Z","data":{"title":"T","language":"ru-RU"}}"#,
        )
        .unwrap();
        assert_eq!(ce.id.as_str(), "ev-9");
        assert_eq!(ce.language.as_deref(), Some("ru"));
        assert!(ce.published_at.is_some());
        let ce_str =
            dec(r#"{"specversion":"1.0","id":"e","data":"{\"id\":\"x\",\"title\":\"T\"}"}"#);
        assert_eq!(ce_str.unwrap().id.as_str(), "x");
    }

    #[test]
    fn rejects_with_reasons() {
        let long_id = format!(r#"{{"id":"{}","title":"T"}}"#, "x".repeat(257));
        let cases: &[(&str, &str)] = &[
            ("not json", "bad_json"),
            ("[1,2]", "bad_json"),
            (r#"{"id":"a"}"#, "missing_field"),
            (r#"{"title":"t"}"#, "missing_field"),
            (r#"{"id":"","title":"t"}"#, "invalid_field"),
            (r#"{"id":"a","title":"  "}"#, "invalid_field"),
            (r#"{"id":"a","title":5}"#, "bad_json"),
            (r#"{"id":[1],"title":"t"}"#, "invalid_field"),
            (&long_id, "invalid_field"),
            (r#"{"specversion":"0.3","data":{}}"#, "invalid_field"),
            (r#"{"specversion":"1.0","id":"e"}"#, "missing_field"),
        ];
        for (input, kind) in cases {
            assert_eq!(dec(input).unwrap_err().kind(), *kind, "input {input}");
        }
        let big = format!(r#"{{"id":"a","title":"{}"}}"#, "x".repeat(300_000));
        assert_eq!(dec(&big).unwrap_err().kind(), "too_large");
    }

    #[test]
    fn ids_of_invalid_events_are_peeked_for_diagnostics() {
        assert_eq!(
            peek_id(br#"{"id":"a-1","body":"no title"}"#).as_deref(),
            Some("a-1")
        );
        assert_eq!(
            peek_id(br#"{"specversion":"1.0","id":"ev","data":{"id":7}}"#).as_deref(),
            Some("7")
        );
        assert_eq!(peek_id(b"{not json"), None);
    }

    #[test]
    fn malformed_optional_fields_become_warnings() {
        let a = dec(r#"{"id":"a","title":"t","published_at":"yesterday","language":"english"}"#)
            .unwrap();
        assert_eq!(a.published_at, None);
        assert_eq!(a.language, None);
        assert_eq!(a.warnings.len(), 2);
    }

    #[test]
    fn title_and_summary_are_kept_as_sent_and_content_type_names_the_body() {
        let title = r#"Envoys: \"<b>Baku &amp; Yerevan</b>\" agree on <draft> text"#;
        let a = dec(&format!(
            r#"{{"id":"a","title":"{title}","summary":"a &lt; b","body":"x","content_type":"text/plain; charset=utf-8"}}"#
        ))
        .unwrap();
        assert_eq!(
            a.title,
            r#"Envoys: "<b>Baku &amp; Yerevan</b>" agree on <draft> text"#
        );
        assert_eq!(a.summary, "a &lt; b");
        assert_eq!(a.body_format, Some(BodyFormat::Text));
        let cases = [
            ("html", Some(BodyFormat::Html)),
            ("TEXT/HTML", Some(BodyFormat::Html)),
            ("text", Some(BodyFormat::Text)),
            ("markdown", None),
        ];
        for (content_type, format) in cases {
            let a = dec(&format!(
                r#"{{"id":"a","title":"t","content_type":"{content_type}"}}"#
            ))
            .unwrap();
            assert_eq!(a.body_format, format, "{content_type}");
            assert_eq!(a.warnings.len(), usize::from(format.is_none()));
        }
        assert_eq!(dec(r#"{"id":"a","title":"t"}"#).unwrap().body_format, None);
    }
}
