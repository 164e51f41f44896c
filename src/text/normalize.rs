//! Word tokens and their normal form: the one place that decides what a
//! "word" is, shared by the query parser (terms) and the matcher (text).
//!
//! A word is a maximal run of letters, digits and combining marks. Hyphens,
//! apostrophes, punctuation and whitespace separate words, so
//! `Nagorno-Karabakh` is the two words `nagorno karabakh`. A possessive
//! `'s` / `’s` directly after a word is dropped (`Azerbaijan's` →
//! `azerbaijan`). The normal form is full Unicode case folding with
//! diacritics removed (`Türkiye` → `turkiye`, `ß` → `ss`).
//!
//! Tokenizing a text allocates nothing per word: [`Tokens`] keeps every
//! normal form in one buffer, which starts as the whole text lower-cased
//! at once (ASCII letters only: all folding does to ASCII). A word of
//! ASCII letters and digits (most words of most news) is then only found,
//! eight bytes at a time (a SWAR test of eight bytes in a `u64`), and its
//! normal form is where it stands in that copy; only a word with a byte ≥
//! 0x80 is folded char by char when each of its chars folds to one letter
//! on its own (`simple_fold`: most words of most scripts), and otherwise
//! goes through Unicode decomposition and case folding, as a chain of
//! iterators that appends to the same buffer. `naive.rs` keeps the
//! straightforward per-word `String` version as the oracle of a property
//! test.

use super::simple_fold::{fold_chars, fold_simple, simple};
use super::tokens::Tokens;
use unicode_normalization::char::is_combining_mark;

/// One word of a text, owning its normal form (for parsing queries and
/// other short texts; a field's words are a [`Tokens`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Byte offset of the first byte of the word.
    pub start: usize,
    /// Byte offset one past the last byte of the word.
    pub end: usize,
    /// Case-folded, diacritic-free form used for matching.
    pub norm: String,
}

/// Case-fold and strip diacritics from `s` (which may hold several words;
/// separators are kept as they are).
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    // Separators are ASCII or not simple, so they fold as the chain does.
    let mut out = String::with_capacity(s.len());
    if fold_simple(s, &mut out) {
        return out;
    }
    fold_chars(s).collect()
}

fn is_word_char(c: char) -> bool {
    // A simple char is a letter or digit: known without the tables.
    simple(c).is_some() || c.is_alphanumeric() || is_combining_mark(c)
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | 'ʼ')
}

/// Split `text` into words (see the module docs), in order.
pub fn tokenize(text: &str) -> Vec<Token> {
    Tokens::new(text)
        .iter()
        .map(|t| Token {
            start: t.start,
            end: t.end,
            norm: t.norm.to_string(),
        })
        .collect()
}

impl Tokens {
    /// The words of `text` (see the module docs).
    pub fn new(text: &str) -> Tokens {
        let mut tokens = Tokens::default();
        tokens.refill(text);
        tokens
    }

    /// Replace the words with those of `text`, reusing the buffers.
    pub fn refill(&mut self, text: &str) {
        self.start_text(text);
        let bytes = text.as_bytes();
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            if b.is_ascii() {
                if !ASCII_WORD[usize::from(b)] {
                    i += 1;
                    continue;
                }
                // Fast path: ASCII letters and digits up to an ASCII
                // separator (or the end) are the whole word, and its
                // normal form is already in the buffer.
                let end = ascii_word_end(bytes, i + 1);
                if bytes.get(end).is_none_or(u8::is_ascii) {
                    self.push_ascii_word(i, end);
                    i = after_possessive(text, end);
                    continue;
                }
            } else {
                let c = char_at(text, i);
                if !is_word_char(c) {
                    i += c.len_utf8();
                    continue;
                }
            }
            let (end, ascii) = word_end(text, i);
            if ascii {
                self.push_ascii_word(i, end);
            } else {
                // Compatibility forms can fold to separators (`¼` →
                // `1⁄4`): keep word characters only. A run of combining
                // marks alone folds to nothing: not a word.
                let from = self.norm_buffer().len();
                let word = &text[i..end];
                if !fold_simple(word, self.norm_buffer()) {
                    self.norm_buffer()
                        .extend(fold_chars(word).filter(|c| is_word_char(*c)));
                }
                self.end_folded_word(i, end, from);
            }
            i = after_possessive(text, end);
        }
    }
}

/// ASCII letters and digits, by byte: the word bytes of the fast path.
static ASCII_WORD: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    t
};

/// The end of the run of ASCII letters and digits at `from`: eight bytes
/// at a time ([`ascii_word_bytes`]), the last few one by one.
fn ascii_word_end(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut eight = [0; 8];
        eight.copy_from_slice(chunk);
        let stop = !ascii_word_bytes(u64::from_le_bytes(eight)) & HIGH;
        if stop != 0 {
            return i + (stop.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if !ASCII_WORD[usize::from(b)] {
            break;
        }
        i += 1;
    }
    i
}

/// The high bit of each byte of a `u64`.
const HIGH: u64 = 0x8080_8080_8080_8080;

/// `b` in each byte of a `u64`.
const fn splat(b: u8) -> u64 {
    0x0101_0101_0101_0101 * b as u64
}

/// The high bit set in each byte of `x` (eight bytes of text, little
/// endian) that is an ASCII letter or digit, the other bits clear. Every
/// addition stays within its byte: operands are at most 0x7F and 0x80.
fn ascii_word_bytes(x: u64) -> u64 {
    let ascii = x & !HIGH;
    let at_least = |v: u64, b: u8| v.wrapping_add(splat(0x80 - b));
    let digit = at_least(ascii, b'0') & !at_least(ascii, b'9' + 1);
    // `| 0x20` lower-cases letters and leaves them the only bytes in a..=z.
    let folded = ascii | splat(0x20);
    let letter = at_least(folded, b'a') & !at_least(folded, b'z' + 1);
    (digit | letter) & !x & HIGH
}

/// The char starting at byte `i` of `text` (a char boundary).
fn char_at(text: &str, i: usize) -> char {
    text[i..].chars().next().unwrap_or('\0')
}

/// Where the word starting at `start` ends, and whether it is all ASCII.
fn word_end(text: &str, start: usize) -> (usize, bool) {
    let bytes = text.as_bytes();
    let mut i = start;
    let mut ascii = true;
    while let Some(&b) = bytes.get(i) {
        if b.is_ascii() {
            if !b.is_ascii_alphanumeric() {
                break;
            }
            i += 1;
        } else {
            let c = char_at(text, i);
            if !is_word_char(c) {
                break;
            }
            ascii = false;
            i += c.len_utf8();
        }
    }
    (i, ascii)
}

/// Where reading goes on after a word ending at `end`: past a following
/// `'s` / `’s` that is not itself followed by a word character.
#[inline]
fn after_possessive(text: &str, end: usize) -> usize {
    // `'`, or the first byte of `’` (E2 80 99) or `ʼ` (CA BC).
    if !matches!(text.as_bytes().get(end), Some(b'\'' | 0xE2 | 0xCA)) {
        return end;
    }
    after_apostrophe(text, end)
}

/// [`after_possessive`] past its one-byte test.
fn after_apostrophe(text: &str, end: usize) -> usize {
    let mut it = text[end..].chars();
    let (Some(a), Some(s)) = (it.next(), it.next()) else {
        return end;
    };
    if !is_apostrophe(a) || !matches!(s, 's' | 'S') || it.next().is_some_and(is_word_char) {
        return end;
    }
    end + a.len_utf8() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norms(text: &str) -> Vec<String> {
        tokenize(text).into_iter().map(|t| t.norm).collect()
    }

    #[test]
    fn splits_and_folds() {
        let cases: &[(&str, &[&str])] = &[
            ("Minsk Group", &["minsk", "group"]),
            ("Nagorno-Karabakh", &["nagorno", "karabakh"]),
            ("Azerbaijan's talks", &["azerbaijan", "talks"]),
            ("Azerbaijan’s", &["azerbaijan"]),
            ("it's", &["it"]),
            ("O'Sullivan", &["o", "sullivan"]),
            ("Türkiye", &["turkiye"]),
            ("São Tomé", &["sao", "tome"]),
            ("Straße", &["strasse"]),
            ("ЗАХАРОВА сказала", &["захарова", "сказала"]),
            ("«Минская группа»", &["минская", "группа"]),
            ("21.Oct.2025", &["21", "oct", "2025"]),
            ("", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(norms(text), *want, "text {text:?}");
        }
    }

    #[test]
    fn offsets_point_into_the_original() {
        let text = "Le «Türkiye» d'abord";
        for t in tokenize(text) {
            assert_eq!(fold(&text[t.start..t.end]), t.norm);
        }
        let t = &tokenize(text)[1];
        assert_eq!(&text[t.start..t.end], "Türkiye");
    }

    #[test]
    fn fold_is_idempotent_on_examples() {
        for s in ["Türkiye", "ǅemal", "ΣΊΣΥΦΟΣ", "ﬁne", "İstanbul"] {
            assert_eq!(fold(&fold(s)), fold(s), "{s}");
        }
    }

    #[test]
    fn refill_reuses_and_replaces() {
        let mut t = Tokens::new("Straße in Baku's centre");
        let words: Vec<&str> = t.iter().map(|t| t.norm).collect();
        assert_eq!(words, ["strasse", "in", "baku", "centre"]);
        assert_eq!((t[3].start, t[3].end), (18, 24));
        t.refill("ﬁne ¼");
        let words: Vec<(usize, usize, &str)> = t.iter().map(|t| (t.start, t.end, t.norm)).collect();
        assert_eq!(words, [(0, 5, "fine"), (6, 8, "14")]);
        let window: Vec<&str> = t.get(1..2).unwrap().into_iter().map(|t| t.norm).collect();
        assert_eq!(window, ["14"]);
        assert!(t.get(1..3).is_none() && t.get(2).is_none());
        assert_eq!(t.get(1).map(|t| t.norm), Some("14"));
    }

    #[test]
    fn eight_byte_test_agrees_with_the_byte_table() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut eight = [b'-'; 8];
                eight[at] = b;
                let got = ascii_word_bytes(u64::from_le_bytes(eight));
                let want = if ASCII_WORD[usize::from(b)] {
                    0x80u64 << (8 * at)
                } else {
                    0
                };
                assert_eq!(got, want, "byte {b:#x} at {at}");
            }
        }
        let text = b"abcdefghXYZ019 a";
        assert_eq!(ascii_word_end(text, 0), 14);
        assert_eq!(ascii_word_end(b"abc\xc3\xa9", 1), 3);
    }

    proptest::proptest! {
        /// Normalising twice changes nothing, for words and whole texts, and
        /// tokenizing a token's normal form gives that form back.
        #[test]
        fn normalisation_is_idempotent(s in "\\PC{0,40}") {
            let once = fold(&s);
            proptest::prop_assert_eq!(fold(&once), once.clone());
            for t in tokenize(&s) {
                proptest::prop_assert_eq!(fold(&t.norm), t.norm.clone());
                let again: Vec<String> = tokenize(&t.norm).into_iter().map(|t| t.norm).collect();
                proptest::prop_assert_eq!(again, vec![t.norm.clone()]);
            }
        }
    }
}
