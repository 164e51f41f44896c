//! Non-ASCII letters whose normal form is one letter, remembered: the fast
//! path of a non-ASCII word (Cyrillic, Greek, Armenian, Georgian, Arabic,
//! Hebrew, CJK, … and Latin letters without diacritics).
//!
//! A word's normal form is compatibility decomposition without marks,
//! full case folding, and decomposition without marks again
//! ([`fold_chars`], here too), which for each char walks the decomposition
//! and case-folding tables (~300 instructions a char). For a char that
//! (a) is a word char, with canonical combining class 0, its own
//! compatibility decomposition and not a mark, and (b) case-folds to one
//! char with the same properties, the word-level chain is the same as
//! mapping each char on its own: decomposition leaves both unchanged and
//! has no marks to reorder, and case folding works char by char. Such a
//! char is *simple*; a word made only of simple chars and ASCII letters
//! and digits folds char by char ([`fold_simple`]), any other word takes
//! the full chain. Which chars are simple is worked out the first time
//! each is seen and kept in a table shared by all threads, so the answer
//! costs a load. `tests_prop` holds the result to the reference tokenizer.

use caseless::Caseless;
use std::sync::atomic::{AtomicU32, Ordering};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{
    canonical_combining_class, decompose_compatible, is_combining_mark,
};

/// Chars below this are remembered (the BMP's letters up to CJK and
/// Hangul); others take the full chain every time.
const TABLE: usize = 0xD800;

/// Per char: 0 = not worked out yet, 1 = not simple, else the folded char
/// plus 2.
static SIMPLE: [AtomicU32; TABLE] = [const { AtomicU32::new(0) }; TABLE];

const UNKNOWN: u32 = 0;
const NOT_SIMPLE: u32 = 1;

/// The one char `c` folds to, if `c` is simple (see the module docs).
pub(super) fn simple(c: char) -> Option<char> {
    let slot = SIMPLE.get(c as usize)?;
    let known = slot.load(Ordering::Relaxed);
    let state = match known {
        UNKNOWN => {
            let state = work_out(c).map_or(NOT_SIMPLE, |f| f as u32 + 2);
            slot.store(state, Ordering::Relaxed);
            state
        }
        known => known,
    };
    match state {
        NOT_SIMPLE => None,
        folded => char::from_u32(folded - 2),
    }
}

/// Append the normal form of `word` to `out` char by char, if every char
/// is ASCII or simple; `false` (and `out` as it was) otherwise. ASCII
/// chars other than letters and digits are kept as they are, as the chain
/// keeps them (for `fold` of a text with spaces and punctuation).
pub(super) fn fold_simple(word: &str, out: &mut String) -> bool {
    let from = out.len();
    for c in word.chars() {
        let folded = match c.is_ascii() {
            true => Some(c.to_ascii_lowercase()),
            false => simple(c),
        };
        match folded {
            Some(f) => out.push(f),
            None => {
                out.truncate(from);
                return false;
            }
        }
    }
    true
}

/// Whether `c` is simple, and what it folds to.
fn work_out(c: char) -> Option<char> {
    if !unchanged(c) {
        return None;
    }
    let mut buf = [0u8; 4];
    let mut folded = fold_chars(c.encode_utf8(&mut buf));
    let (Some(f), None) = (folded.next(), folded.next()) else {
        return None;
    };
    (unchanged(f) && f.is_alphanumeric()).then_some(f)
}

/// A word char that decomposition leaves as it is: class 0, not a mark,
/// its own compatibility decomposition.
fn unchanged(c: char) -> bool {
    if !c.is_alphanumeric() || is_combining_mark(c) || canonical_combining_class(c) != 0 {
        return false;
    }
    let mut parts = 0;
    let mut same = true;
    decompose_compatible(c, |d| {
        parts += 1;
        same &= d == c;
    });
    parts == 1 && same
}

/// The chars of `s` folded: compatibility decomposition without marks,
/// full case folding, and decomposition without marks again (folding can
/// produce precomposed letters: `İ` → `i̇`).
pub(super) fn fold_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    s.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .default_case_fold()
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_fold_to_one_letter_and_others_take_the_chain() {
        assert_eq!(simple('З'), Some('з'));
        assert_eq!(simple('з'), Some('з'));
        assert_eq!(simple('Σ'), Some('σ'));
        assert_eq!(simple('ς'), Some('σ'));
        assert_eq!(simple('ა'), Some('ა'));
        assert_eq!(simple('中'), Some('中'));
        // Decomposes, folds to two chars, or is a mark: not simple.
        for c in ['é', 'ß', 'İ', 'ﬁ', 'Å', '\u{301}', '¼', 'ǅ', '\u{212A}'] {
            assert_eq!(simple(c), None, "{c:?}");
        }
        let mut out = String::from("x");
        assert!(fold_simple("Захарова2025", &mut out));
        assert_eq!(out, "xзахарова2025");
        assert!(!fold_simple("Türkiye", &mut out));
        assert_eq!(out, "xзахарова2025");
    }

    /// Every simple char of the table, with an ASCII letter and another
    /// simple char around it, folds through the full chain as char by char.
    #[test]
    fn every_simple_char_folds_as_the_full_chain_does() {
        let mut count = 0;
        let mut previous = 'a';
        for c in (0..TABLE as u32).filter_map(char::from_u32) {
            let Some(f) = simple(c) else { continue };
            count += 1;
            let word = format!("{previous}A{c}");
            let mut fast = String::new();
            assert!(fold_simple(&word, &mut fast), "{word:?}");
            let chain: String = fold_chars(&word).collect();
            assert_eq!(fast, chain, "{word:?}");
            assert!(fast.ends_with(f));
            previous = c;
        }
        assert!(count > 30_000, "{count} simple chars");
    }
}
