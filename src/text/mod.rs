//! Text preparation: turns an article's raw fields (plain text or HTML) into
//! the text a reader sees, drops page boilerplate, and splits it into
//! normalised words for the matcher. Offsets of matches found in the clean
//! text map back to the original field via [`PreparedField::to_original`].
//!
//! Cleaning runs in two steps: `html` turns HTML (or entity-escaped text)
//! into visible text, then `boilerplate` drops trailing link lists and
//! "Read more" lines. Both keep an `OffsetMap` so every byte of the clean
//! text knows which span of the original it came from.
//!
//! Words are split and normalised in `normalize` (what a word is, its
//! normal form) into a field's [`Tokens`] (`tokens`: one buffer of normal
//! forms, no `String` per word); `naive` is the reference the property
//! tests in `tests_prop` hold the fast path to.
//!
//! What a field may hold is its [`FieldFormat`]: titles and summaries are
//! plain text (as JSON Feed defines them), so `<draft>` in a title is text
//! a reader sees, while a body is HTML, plain text or detected.

mod boilerplate;
mod dates;
mod entities;
mod html;
mod lexer;
#[cfg(test)]
mod naive;
pub mod normalize;
mod offsets;
mod simple_fold;
mod tags;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_prop;
mod tokens;

pub use normalize::{Token, fold, tokenize};
pub use tokens::{Span, TokenIndex, TokenIter, TokenRef, TokenSlice, Tokens};

use offsets::OffsetMap;

/// Which article field a piece of text came from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
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

/// What markup a field holds, and so how it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldFormat {
    /// Plain text: every character is text (`<b>` stays `<b>`); character
    /// references that feeds put in text (`&amp;`, `&#39;`) are decoded
    /// once. No boilerplate removal: plain text has no page furniture.
    Text,
    /// HTML: tags are markup, the visible text is kept.
    Html,
    /// HTML if it reads like HTML (a known tag, a comment, a doctype),
    /// otherwise text; boilerplate is removed either way.
    Detect,
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
    pub tokens: Tokens,
    /// Offsets in `clean` → offsets in the original.
    map: OffsetMap,
}

impl PreparedField {
    /// Prepare `original` (plain text or HTML, detected) for matching.
    /// With cleaning disabled `clean` is `original` unchanged.
    pub fn new(original: &str, options: CleanOptions) -> Self {
        Self::with_format(original, FieldFormat::Detect, options)
    }

    /// Prepare `original`, read as `format`, for matching. With cleaning
    /// disabled `clean` is `original` unchanged whatever the format.
    pub fn with_format(original: &str, format: FieldFormat, options: CleanOptions) -> Self {
        let (clean, map) = if options.enabled {
            clean_text(original, format)
        } else {
            (original.to_string(), OffsetMap::identity(original.len()))
        };
        let tokens = Tokens::new(&clean);
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

/// Plain text with its references decoded; or HTML to text, then
/// boilerplate removal.
fn clean_text(original: &str, format: FieldFormat) -> (String, OffsetMap) {
    let markup = match format {
        FieldFormat::Text => return html::to_text(original, html::detect_entities(original)),
        FieldFormat::Html => html::Markup::Html,
        FieldFormat::Detect => html::detect(original),
    };
    let (text, map) = html::to_text(original, markup);
    let Some(keep) = boilerplate::keep_ranges(&text) else {
        return (text, map);
    };
    let clean = keep.iter().map(|r| &text[r.clone()]).collect();
    (clean, map.select(&keep))
}
