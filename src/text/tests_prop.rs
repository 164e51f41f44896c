//! The tokenizer against its reference (`naive.rs`) on arbitrary text:
//! the same words at the same offsets with the same normal forms, and the
//! same `fold`.

use super::naive::{fold_reference, tokenize_reference};
use super::{CleanOptions, FieldFormat, PreparedField, Token, Tokens, fold, tokenize};
use proptest::prelude::*;

/// Pieces the tokenizer or folding treat specially, to build texts from.
const SPECIAL: &[&str] = &[
    // Case folding that changes length or needs decomposition.
    "ß",
    "ẞ",
    "STRASSE",
    "İ",
    "ı",
    "I",
    "i",
    "ǅ",
    "ǈ",
    "Σ",
    "ς",
    "ΐ",
    "ŉ",
    "ﬁ",
    "ﬀ",
    "ﬆ",
    "K",
    "Å",
    "Ω",
    "ᾼ",
    "\u{345}",
    "ǰ",
    "Ꭰ",
    "ꭰ",
    // Diacritics precomposed and combining; marks alone.
    "é",
    "e\u{301}",
    "\u{301}",
    "\u{308}\u{323}",
    "Türkiye",
    "São",
    "Ǻ",
    "Ḗ",
    // Compatibility forms: full-width, super/subscripts, fractions, numerals.
    "Ａ",
    "ｂ",
    "１",
    "²",
    "₂",
    "¼",
    "Ⅷ",
    "ⅷ",
    "㎞",
    "㍿",
    "ｶ",
    "ﾞ",
    "①",
    // Other scripts: Cyrillic, Armenian, Greek, Georgian, Arabic with
    // harakat, Hebrew points, Devanagari, Hangul (syllable and jamo), Thai,
    // CJK.
    "ЗАХАРОВА",
    "ё",
    "Й",
    "Հայաստան",
    "ΕΛΛΆΔΑ",
    "საქართველო",
    "Ა",
    "مُحَمَّد",
    "שָׁלוֹם",
    "हिन्दी",
    "한국",
    "\u{1100}\u{1161}",
    "ไทย",
    "中国",
    // Apostrophes and possessives, hyphens and dashes.
    "'",
    "’",
    "ʼ",
    "‘",
    "'s",
    "’s",
    "ʼS",
    "'st",
    "s",
    "S",
    "-",
    "‐",
    "–",
    "—",
    // Digits, separators, emoji (with modifiers and joiners), controls.
    "0",
    "42",
    "٣",
    " ",
    "\n",
    "\t",
    "\u{a0}",
    ".",
    ",",
    "«",
    "»",
    "😀",
    "👍🏽",
    "👩\u{200d}💻",
    "\u{200b}",
    "\u{200d}",
    "\u{fe0f}",
    "\0",
    // Plain ASCII words.
    "Baku",
    "it",
    "O",
    "Minsk",
    "x",
];

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(SPECIAL).prop_map(str::to_string),
        1 => any::<char>().prop_map(String::from),
        1 => "[A-Za-z0-9]{1,8}",
        // Longer than the tokenizer's eight-byte steps.
        1 => "[A-Za-z0-9]{8,24}",
        1 => "\\PC{1,6}",
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..40).prop_map(|p| p.concat())
}

fn words(tokens: &Tokens) -> Vec<Token> {
    tokens
        .iter()
        .map(|t| Token {
            start: t.start,
            end: t.end,
            norm: t.norm.to_string(),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn tokens_agree_with_the_reference(s in text()) {
        let want = tokenize_reference(&s);
        prop_assert_eq!(&tokenize(&s), &want);
        prop_assert_eq!(&words(&Tokens::new(&s)), &want);
        let f = PreparedField::with_format(&s, FieldFormat::Text, CleanOptions { enabled: false });
        prop_assert_eq!(&words(&f.tokens), &want);
    }

    #[test]
    fn fold_agrees_with_the_reference(s in text()) {
        prop_assert_eq!(fold(&s), fold_reference(&s));
    }

    #[test]
    fn any_string_agrees(s in any::<String>()) {
        prop_assert_eq!(tokenize(&s), tokenize_reference(&s));
        prop_assert_eq!(fold(&s), fold_reference(&s));
    }

    /// A reused `Tokens` holds exactly the words of the last text.
    #[test]
    fn refill_forgets_the_previous_text(a in text(), b in text()) {
        let mut t = Tokens::new(&a);
        t.refill(&b);
        prop_assert_eq!(words(&t), tokenize_reference(&b));
    }

    /// Windows and positions read the same words as iteration.
    #[test]
    fn windows_agree_with_iteration(s in text(), from in 0usize..20, len in 0usize..6) {
        let t = Tokens::new(&s);
        let all: Vec<_> = t.iter().collect();
        match t.get(from..from + len) {
            Some(w) => prop_assert_eq!(w.into_iter().collect::<Vec<_>>(), &all[from..from + len]),
            None => prop_assert!(from + len > all.len()),
        }
        prop_assert_eq!(t.get(from), all.get(from).copied());
        if let Some(tok) = all.get(from) {
            prop_assert_eq!((t[from].start, t[from].end), (tok.start, tok.end));
        }
    }
}
