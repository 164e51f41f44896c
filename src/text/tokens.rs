//! The words of one text, stored without a `String` per word: every
//! normal form back to back in one buffer, each word a [`Span`] of the
//! text plus the end of its normal form in that buffer. Filled by
//! [`Tokens::new`] / [`Tokens::refill`] (see `normalize`); read through
//! [`TokenRef`]s, which borrow the buffer.

use std::ops::{Index, Range};

/// Where one word is: byte offsets into the text it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Byte offset of the first byte of the word.
    pub start: usize,
    /// Byte offset one past the last byte of the word.
    pub end: usize,
    /// End of its normal form in the buffer; it starts where the previous
    /// word's ends (at 0 for the first word).
    norm_end: usize,
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokens {
    /// The normal forms of all words, back to back.
    norms: String,
    spans: Vec<Span>,
}

/// A run of consecutive words of a [`Tokens`] (what [`Tokens::get`] gives
/// for a range): cheap to copy, iterated by value.
#[derive(Debug, Clone, Copy)]
pub struct TokenSlice<'a> {
    norms: &'a str,
    spans: &'a [Span],
    /// Where the first word's normal form starts in `norms`.
    norm_start: usize,
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
        let span = t.spans.get(self)?;
        let from = self
            .checked_sub(1)
            .map_or(t.norm_start, |p| t.spans[p].norm_end);
        Some(TokenRef {
            start: span.start,
            end: span.end,
            norm: &t.norms[from..span.norm_end],
        })
    }
}

impl TokenIndex for Range<usize> {
    type Output<'a> = TokenSlice<'a>;
    fn get_from(self, t: TokenSlice<'_>) -> Option<TokenSlice<'_>> {
        let spans = t.spans.get(self.clone())?;
        let norm_start = self
            .start
            .checked_sub(1)
            .map_or(t.norm_start, |p| t.spans[p].norm_end);
        Some(TokenSlice {
            norms: t.norms,
            spans,
            norm_start,
        })
    }
}

impl Tokens {
    /// An empty list whose buffers fit a text of `len` bytes.
    pub(super) fn with_capacity(len: usize) -> Tokens {
        Tokens {
            norms: String::with_capacity(len),
            spans: Vec::with_capacity(len / 5 + 1),
        }
    }

    /// Forget every word, keeping the buffers.
    pub(super) fn clear(&mut self) {
        self.norms.clear();
        self.spans.clear();
    }

    /// Room for the words of a text of `len` bytes: normal forms as long
    /// as the text (as ASCII's are), a word per 5 bytes (English averages
    /// 6 with its separator); more grows the buffers.
    pub(super) fn reserve(&mut self, len: usize) {
        self.norms.reserve(len);
        self.spans.reserve(len / 5 + 1);
    }

    /// Append an ASCII word, lower-cased, to the buffer.
    pub(super) fn push_ascii_word(&mut self, word: &str) {
        let from = self.norms.len();
        self.norms.push_str(word);
        self.norms[from..].make_ascii_lowercase();
    }

    /// The buffer the next word's normal form is appended to.
    pub(super) fn norm_buffer(&mut self) -> &mut String {
        &mut self.norms
    }

    /// Close the word at `start..end` of the text: its normal form is what
    /// was appended to the buffer since the previous word. Nothing was
    /// appended: no word.
    pub(super) fn end_word(&mut self, start: usize, end: usize) {
        let norm_end = self.norms.len();
        if norm_end > self.spans.last().map_or(0, |s| s.norm_end) {
            self.spans.push(Span {
                start,
                end,
                norm_end,
            });
        }
    }

    /// All the words, as a [`TokenSlice`].
    pub fn as_slice(&self) -> TokenSlice<'_> {
        TokenSlice {
            norms: &self.norms,
            spans: &self.spans,
            norm_start: 0,
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
            norm_start: self.norm_start,
        }
    }
}

/// The words of a [`Tokens`] or [`TokenSlice`], in order.
#[derive(Debug, Clone)]
pub struct TokenIter<'a> {
    norms: &'a str,
    spans: std::slice::Iter<'a, Span>,
    norm_start: usize,
}

impl<'a> Iterator for TokenIter<'a> {
    type Item = TokenRef<'a>;

    fn next(&mut self) -> Option<TokenRef<'a>> {
        let span = self.spans.next()?;
        let from = std::mem::replace(&mut self.norm_start, span.norm_end);
        Some(TokenRef {
            start: span.start,
            end: span.end,
            norm: &self.norms[from..span.norm_end],
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.spans.size_hint()
    }
}

impl ExactSizeIterator for TokenIter<'_> {}
