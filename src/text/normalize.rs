//! Word tokens and their normal form: the one place that decides what a
//! "word" is, shared by the query parser (terms) and the matcher (text).
//!
//! A word is a maximal run of letters, digits and combining marks. Hyphens,
//! apostrophes, punctuation and whitespace separate words, so
//! `Nagorno-Karabakh` is the two words `nagorno karabakh`. A possessive
//! `'s` / `’s` directly after a word is dropped (`Azerbaijan's` →
//! `azerbaijan`). The normal form is full Unicode case folding with
//! diacritics removed (`Türkiye` → `turkiye`, `ß` → `ss`).

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// One word of a text, with byte offsets into the text it came from.
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
    let stripped: String = s.nfkd().filter(|c| !is_combining_mark(*c)).collect();
    caseless::default_case_fold_str(&stripped)
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .collect()
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | 'ʼ')
}

/// Split `text` into words (see the module docs), in order.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if !is_word_char(c) {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, c)) = chars.peek() {
            if !is_word_char(c) {
                break;
            }
            end = i + c.len_utf8();
            chars.next();
        }
        // Compatibility forms can fold to separators (`¼` → `1⁄4`): keep
        // word characters only. A run of combining marks alone folds to
        // nothing: not a word.
        let norm: String = fold(&text[start..end])
            .chars()
            .filter(|c| is_word_char(*c))
            .collect();
        if !norm.is_empty() {
            tokens.push(Token { start, end, norm });
        }
        skip_possessive(text, end, &mut chars);
    }
    tokens
}

/// After a word ending at `end`, consume a following `'s` / `’s` that is
/// not itself followed by a word character.
fn skip_possessive(
    text: &str,
    end: usize,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
) {
    let rest = &text[end..];
    let mut it = rest.chars();
    let (Some(a), Some(s)) = (it.next(), it.next()) else {
        return;
    };
    if !is_apostrophe(a) || !matches!(s, 's' | 'S') {
        return;
    }
    if it.next().is_some_and(is_word_char) {
        return;
    }
    chars.next();
    chars.next();
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
