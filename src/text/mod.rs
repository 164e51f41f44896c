//! Text preparation: turns an article's raw fields (plain text or HTML) into
//! the text a reader sees, drops page boilerplate, and splits it into
//! normalised words for the matcher. Offsets of matches found in the clean
//! text map back to the original field via [`PreparedField::to_original`].
//!
//! Cleaning runs in two steps: `html` turns HTML (or entity-escaped text)
//! into visible text, then `boilerplate` drops trailing link lists and
//! "Read more" lines. Both keep an `OffsetMap` so every byte of the clean
//! text knows which span of the original it came from.

mod boilerplate;
mod dates;
mod entities;
mod html;
mod lexer;
pub mod normalize;
mod offsets;
mod tags;
#[cfg(test)]
mod tests;

pub use normalize::{Token, fold, tokenize};

use offsets::OffsetMap;

/// Which article field a piece of text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldName {
    Title,
    Summary,
    Body,
}

impl FieldName {
    pub const ALL: [FieldName; 3] = [FieldName::Title, FieldName::Summary, FieldName::Body];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldName::Title => "title",
            FieldName::Summary => "summary",
            FieldName::Body => "body",
        }
    }
}

/// How fields are cleaned before matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CleanOptions {
    /// Strip HTML and boilerplate (trailing link lists etc.). When false the
    /// field is matched exactly as given.
    pub enabled: bool,
}

impl Default for CleanOptions {
    fn default() -> Self {
        CleanOptions { enabled: true }
    }
}

/// A field ready for matching: clean text, its words, and the way back to
/// the original text.
#[derive(Debug, Clone)]
pub struct PreparedField {
    /// The text a reader sees, boilerplate removed.
    pub clean: String,
    /// Words of `clean`, in order; offsets are into `clean`.
    pub tokens: Vec<Token>,
    /// Offsets in `clean` → offsets in the original.
    map: OffsetMap,
}

impl PreparedField {
    /// Prepare `original` (plain text or HTML) for matching. With cleaning
    /// disabled `clean` is `original` unchanged.
    pub fn new(original: &str, options: CleanOptions) -> Self {
        let (clean, map) = if options.enabled {
            clean_text(original)
        } else {
            (original.to_string(), OffsetMap::identity(original.len()))
        };
        let tokens = tokenize(&clean);
        PreparedField { clean, tokens, map }
    }

    /// Map the byte span `start..end` of [`Self::clean`] to the span of the
    /// original text it was taken from: the exact bytes for copied text,
    /// the whole reference for a decoded entity (`&amp;`), the tag for a
    /// line break that stands for one. Offsets past the end are clamped,
    /// offsets inside a char are widened to it, so the result is always a
    /// valid, possibly empty, span of the original; an empty span maps to
    /// an empty span.
    pub fn to_original(&self, start: usize, end: usize) -> (usize, usize) {
        let len = self.clean.len();
        let end = end.min(len);
        let mut start = start.min(end);
        while !self.clean.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = end;
        while !self.clean.is_char_boundary(end) {
            end += 1;
        }
        self.map.map_span(start, end)
    }
}

/// HTML to text, then boilerplate removal.
fn clean_text(original: &str) -> (String, OffsetMap) {
    let (text, map) = html::to_text(original, html::detect(original));
    let Some(keep) = boilerplate::keep_ranges(&text) else {
        return (text, map);
    };
    let clean = keep.iter().map(|r| &text[r.clone()]).collect();
    (clean, map.select(&keep))
}
