//! [`DecodeError`]: why an article event cannot be processed.

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
