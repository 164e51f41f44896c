//! The words of one text, stored without a `String` per word: one buffer
//! holds the text lower-cased (ASCII letters only), which is the normal
//! form of every ASCII word where it stands, followed by the normal forms
//! of the other words; each word is a [`Span`] of the text plus the range
//! of its normal form in that buffer. Filled by [`Tokens::new`] /
//! [`Tokens::refill`] (see `normalize`); read through [`TokenRef`]s, which
//! borrow the buffer.

use std::ops::{Index, Range};

/// Where one word is: byte offsets into the text it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Byte offset of the first byte of the word.
    pub start: usize,
    /// Byte offset one past the last byte of the word.
    pub end: usize,
    /// Its normal form in the buffer: the text's own bytes lower-cased
    /// for an ASCII word, else a folded form after the text.
    norm_start: u32,
    norm_end: u32,
}

impl Span {
    fn norm(self) -> std::ops::Range<usize> {
        self.norm_start as usize..self.norm_end as usize
    }
}

/// One word of a text: where it is and its normal form, borrowed from
/// [`Tokens`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenRef<'a> {
    /// Byte offset of the first byte of the word.
    pub start: usize,
    /// Byte offset one past the last byte of the word.
    pub end: usize,
    /// Case-folded, diacritic-free form used for matching.
    pub norm: &'a str,
}

/// The words of a text, in order.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    /// The text lower-cased, then the normal forms of its non-ASCII words.
    norms: String,
    spans: Vec<Span>,
}

/// A run of consecutive words of a [`Tokens`] (what [`Tokens::get`] gives
/// for a range): cheap to copy, iterated by value.
#[derive(Debug, Clone, Copy)]
pub struct TokenSlice<'a> {
    norms: &'a str,
    spans: &'a [Span],
}

/// What [`Tokens::get`] takes: a position (one word) or a range of
/// positions (a [`TokenSlice`]), as slices do.
pub trait TokenIndex {
    /// [`TokenRef`] for a position, [`TokenSlice`] for a range.
    type Output<'a>;
    /// The word(s) of `tokens` at `self`; `None` when out of bounds.
    fn get_from(self, tokens: TokenSlice<'_>) -> Option<Self::Output<'_>>;
}

impl TokenIndex for usize {
    type Output<'a> = TokenRef<'a>;
    fn get_from(self, t: TokenSlice<'_>) -> Option<TokenRef<'_>> {
        let span = *t.spans.get(self)?;
        Some(TokenRef {
            start: span.start,
            end: span.end,
            norm: &t.norms[span.norm()],
        })
    }
}

impl TokenIndex for Range<usize> {
    type Output<'a> = TokenSlice<'a>;
    fn get_from(self, t: TokenSlice<'_>) -> Option<TokenSlice<'_>> {
        Some(TokenSlice {
            norms: t.norms,
            spans: t.spans.get(self)?,
        })
    }
}

impl Tokens {
    /// Forget every word and start on `text`: the buffer becomes `text`
    /// lower-cased (room for as much again for folded forms, a word per 5
    /// bytes: English averages 6 with its separator; more grows them).
    pub(super) fn start_text(&mut self, text: &str) {
        self.norms.clear();
        self.spans.clear();
        self.norms.reserve(text.len() + text.len() / 4);
        self.spans.reserve(text.len() / 5 + 1);
        self.norms.push_str(text);
        self.norms.make_ascii_lowercase();
    }

    /// The ASCII word at `start..end` of the text given to
    /// [`Self::start_text`]: its normal form is already in the buffer.
    pub(super) fn push_ascii_word(&mut self, start: usize, end: usize) {
        self.spans.push(Span {
            start,
            end,
            norm_start: offset(start),
            norm_end: offset(end),
        });
    }

    /// The buffer the next word's folded form is appended to.
    pub(super) fn norm_buffer(&mut self) -> &mut String {
        &mut self.norms
    }

    /// Close the word at `start..end` of the text whose normal form was
    /// appended to the buffer from `norm_start` on. Nothing was appended:
    /// no word.
    pub(super) fn end_folded_word(&mut self, start: usize, end: usize, norm_start: usize) {
        let norm_end = self.norms.len();
        if norm_end > norm_start {
            self.spans.push(Span {
                start,
                end,
                norm_start: offset(norm_start),
                norm_end: offset(norm_end),
            });
        }
    }

    /// All the words, as a [`TokenSlice`].
    pub fn as_slice(&self) -> TokenSlice<'_> {
        TokenSlice {
            norms: &self.norms,
            spans: &self.spans,
        }
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Word `i` (a [`TokenRef`]) or the words in a range (a
    /// [`TokenSlice`]); `None` when out of bounds.
    pub fn get<I: TokenIndex>(&self, i: I) -> Option<I::Output<'_>> {
        i.get_from(self.as_slice())
    }

    pub fn iter(&self) -> TokenIter<'_> {
        self.as_slice().into_iter()
    }
}

/// `tokens[i]` is where word `i` is (its normal form: [`Tokens::get`]).
impl Index<usize> for Tokens {
    type Output = Span;
    fn index(&self, i: usize) -> &Span {
        &self.spans[i]
    }
}

impl<'a> IntoIterator for &'a Tokens {
    type Item = TokenRef<'a>;
    type IntoIter = TokenIter<'a>;
    fn into_iter(self) -> TokenIter<'a> {
        self.iter()
    }
}

impl<'a> TokenSlice<'a> {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Word `i` of the slice (or the words in a range of it).
    pub fn get<I: TokenIndex>(self, i: I) -> Option<I::Output<'a>> {
        i.get_from(self)
    }
}

impl<'a> IntoIterator for TokenSlice<'a> {
    type Item = TokenRef<'a>;
    type IntoIter = TokenIter<'a>;
    fn into_iter(self) -> TokenIter<'a> {
        TokenIter {
            norms: self.norms,
            spans: self.spans.iter(),
        }
    }
}

/// The words of a [`Tokens`] or [`TokenSlice`], in order.
#[derive(Debug, Clone)]
pub struct TokenIter<'a> {
    norms: &'a str,
    spans: std::slice::Iter<'a, Span>,
}

impl<'a> Iterator for TokenIter<'a> {
    type Item = TokenRef<'a>;

    fn next(&mut self) -> Option<TokenRef<'a>> {
        let span = *self.spans.next()?;
        Some(TokenRef {
            start: span.start,
            end: span.end,
            norm: &self.norms[span.norm()],
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.spans.size_hint()
    }
}

impl ExactSizeIterator for TokenIter<'_> {}

/// A buffer offset as stored in a [`Span`]: texts are far below 4 GiB
/// (events are at most a few MB).
fn offset(at: usize) -> u32 {
    u32::try_from(at).unwrap_or(u32::MAX)
}
