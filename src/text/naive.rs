//! The reference tokenizer: the straightforward version (a `String` per
//! word, every word through full Unicode folding) that `normalize`'s fast
//! path must agree with exactly. Slow and obviously correct; used only by
//! the property tests in `tests_prop.rs`.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::Token;

/// Case-fold and strip diacritics from `s`, separators kept.
pub(super) fn fold_reference(s: &str) -> String {
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

/// Split `text` into words, in order.
pub(super) fn tokenize_reference(text: &str) -> Vec<Token> {
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
        let norm: String = fold_reference(&text[start..end])
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
