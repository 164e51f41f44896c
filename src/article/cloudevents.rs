//! CloudEvents 1.0 forms of an article event, as the NATS protocol binding
//! carries them:
//!
//! - **structured** ([`unwrap_structured`]): a JSON envelope with
//!   `specversion`, the article in `data` (a JSON object, or a string
//!   holding one) or in `data_base64` (the base64 of its JSON, as SDKs
//!   write bytes), with or without `datacontenttype` (when present it must
//!   be JSON: `application/json`, `text/json` or `…+json`);
//! - **binary** ([`binary_envelope`]): the attributes in `ce-` headers
//!   (`ce-specversion`, `ce-id`, `ce-source`, `ce-type`, optional
//!   `ce-time`), `content-type` for the data, the message body the article;
//! - **batch** ([`batch_elements`]): content type
//!   `application/cloudevents-batch+json` (or a body that is a JSON
//!   array), an array of structured events, each its own article.
//!
//! The envelope's `id` and `time` stand in for the article's `id` and
//! `published_at` when the article lacks them ([`Envelope`]). A plain JSON
//! article (no `specversion`) passes through unchanged.

use super::error::DecodeError;
use base64::Engine;
use serde_json::{Map, Value};

/// Content type of a batch of structured events.
pub const BATCH_CONTENT_TYPE: &str = "application/cloudevents-batch+json";

/// What a CloudEvents envelope can supply when the article lacks it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub id: Option<String>,
    pub time: Option<String>,
}

/// The media type of a content type, lower case, without parameters.
fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Whether `content_type` names JSON.
fn is_json(content_type: &str) -> bool {
    let media = media_type(content_type);
    media == "application/json" || media == "text/json" || media.ends_with("+json")
}

/// Whether the message is a batch: by its content type, or a body that
/// is a JSON array.
pub fn is_batch(content_type: Option<&str>, payload: &[u8]) -> bool {
    content_type.is_some_and(|c| media_type(c) == BATCH_CONTENT_TYPE)
        || payload.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
}

/// The elements of a batch, each as the JSON text of one event.
///
/// # Errors
/// The body is not a JSON array.
pub fn batch_elements(payload: &[u8]) -> Result<Vec<Vec<u8>>, DecodeError> {
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| DecodeError::Json(format!("in batch: {e}")))?;
    match value {
        Value::Array(items) => Ok(items
            .iter()
            .map(|item| serde_json::to_vec(item).unwrap_or_default())
            .collect()),
        _ => Err(DecodeError::Json(format!(
            "a batch ({BATCH_CONTENT_TYPE}) must be a JSON array of events"
        ))),
    }
}

fn check_specversion(field: &'static str, version: Option<&str>) -> Result<(), DecodeError> {
    match version {
        Some(v) if v.starts_with("1.") => Ok(()),
        other => Err(DecodeError::Invalid {
            field,
            reason: format!("must be \"1.0\", got {other:?}"),
        }),
    }
}

/// A binary-mode event's envelope, read from the message headers through
/// `header` (names case-insensitive); `None` when there is no
/// `ce-specversion` header (not binary mode).
///
/// # Errors
/// An unsupported `ce-specversion`, or a `content-type` that is not JSON.
pub fn binary_envelope(
    header: &dyn Fn(&str) -> Option<String>,
) -> Option<Result<Envelope, DecodeError>> {
    let version = header("ce-specversion")?;
    Some(binary_checked(&version, header))
}

fn binary_checked(
    version: &str,
    header: &dyn Fn(&str) -> Option<String>,
) -> Result<Envelope, DecodeError> {
    check_specversion("ce-specversion", Some(version))?;
    if let Some(content_type) = header("content-type").filter(|c| !is_json(c)) {
        return Err(DecodeError::Invalid {
            field: "content-type",
            reason: format!(
                "must be JSON (application/json) for a binary-mode event, got {content_type:?}"
            ),
        });
    }
    Ok(Envelope {
        id: header("ce-id"),
        time: header("ce-time"),
    })
}

/// A structured event's article and envelope; any other JSON object is a
/// plain article and comes back as it is.
///
/// # Errors
/// Not an object, an unsupported `specversion`, a `datacontenttype` that
/// is not JSON, no data, both `data` and `data_base64`, or data that is
/// not a JSON object.
pub fn unwrap_structured(value: Value) -> Result<(Value, Envelope), DecodeError> {
    let Value::Object(mut map) = value else {
        return Err(DecodeError::Json("expected a JSON object".into()));
    };
    if !map.contains_key("specversion") {
        return Ok((Value::Object(map), Envelope::default()));
    }
    check_specversion(
        "specversion",
        map.get("specversion").and_then(Value::as_str),
    )?;
    if let Some(content_type) = map.get("datacontenttype") {
        let content_type = content_type.as_str().unwrap_or_default();
        if !is_json(content_type) {
            return Err(DecodeError::Invalid {
                field: "datacontenttype",
                reason: format!("must be JSON (application/json), got {content_type:?}"),
            });
        }
    }
    let envelope = Envelope {
        id: map.get("id").and_then(Value::as_str).map(str::to_string),
        time: map.get("time").and_then(Value::as_str).map(str::to_string),
    };
    Ok((data(&mut map)?, envelope))
}

/// The article in `data` or `data_base64`.
fn data(map: &mut Map<String, Value>) -> Result<Value, DecodeError> {
    let article = match (map.remove("data"), map.remove("data_base64")) {
        (Some(_), Some(_)) => {
            return Err(DecodeError::Invalid {
                field: "data",
                reason: "and `data_base64` are both set; an event has one or the other".into(),
            });
        }
        (Some(Value::String(s)), None) => {
            serde_json::from_str(&s).map_err(|e| DecodeError::Json(format!("in `data`: {e}")))?
        }
        (Some(v), None) => v,
        (None, Some(encoded)) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded.as_str().unwrap_or_default().trim())
                .map_err(|e| DecodeError::Invalid {
                    field: "data_base64",
                    reason: format!("is not base64: {e}"),
                })?;
            serde_json::from_slice(&bytes)
                .map_err(|e| DecodeError::Json(format!("in `data_base64`: {e}")))?
        }
        (None, None) => return Err(DecodeError::Missing("data")),
    };
    if !article.is_object() {
        return Err(DecodeError::Invalid {
            field: "data",
            reason: "must be a JSON object (the article)".into(),
        });
    }
    Ok(article)
}
