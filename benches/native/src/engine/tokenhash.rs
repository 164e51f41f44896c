//! Token hashing: split the text into words, look each word up in a hash
//! map (`FxHashMap`) of the words that start some term, and check the
//! phrases that start with it against the following words; prefixes are
//! looked up in a second map, once per distinct prefix length no longer
//! than the word. No automaton: the cost is a few hash lookups per word,
//! whatever the number of terms.

use rustc_hash::FxHashMap;

use super::Engine;
use crate::rules::Term;

/// Terms that start with one word.
#[derive(Default)]
struct Entry {
    /// The one-word term that is this word.
    word: Option<u32>,
    /// Phrases (indices into `phrases`) whose first word this is.
    phrases: Vec<u32>,
}

/// A term of two or more words: the words after the first.
struct Phrase {
    term: u32,
    rest: Vec<Box<[u8]>>,
    prefix: bool,
}

pub struct TokenHash {
    words: FxHashMap<Box<[u8]>, Entry>,
    phrases: Vec<Phrase>,
    prefixes: FxHashMap<Box<[u8]>, u32>,
    /// Distinct byte lengths of the prefixes, ascending.
    prefix_lens: Vec<usize>,
    /// The current field's words (byte ranges of the text).
    tokens: Vec<(u32, u32)>,
}

impl TokenHash {
    pub fn new(terms: &[Term]) -> TokenHash {
        let mut words: FxHashMap<Box<[u8]>, Entry> = FxHashMap::default();
        let mut phrases = Vec::new();
        let mut prefixes: FxHashMap<Box<[u8]>, u32> = FxHashMap::default();
        for (id, term) in terms.iter().enumerate() {
            let id = id as u32;
            let first: Box<[u8]> = term.words[0].as_bytes().into();
            if term.words.len() == 1 && term.prefix {
                prefixes.insert(first, id);
            } else if term.words.len() == 1 {
                words.entry(first).or_default().word = Some(id);
            } else {
                words
                    .entry(first)
                    .or_default()
                    .phrases
                    .push(phrases.len() as u32);
                phrases.push(Phrase {
                    term: id,
                    rest: term.words[1..]
                        .iter()
                        .map(|w| w.as_bytes().into())
                        .collect(),
                    prefix: term.prefix,
                });
            }
        }
        let mut prefix_lens: Vec<usize> = prefixes.keys().map(|p| p.len()).collect();
        prefix_lens.sort_unstable();
        prefix_lens.dedup();
        TokenHash {
            words,
            phrases,
            prefixes,
            prefix_lens,
            tokens: Vec::new(),
        }
    }

    /// The terms in one field's words.
    fn field(&self, text: &[u8], hits: &mut Vec<u32>) {
        let word = |i: usize| {
            let (s, e) = self.tokens[i];
            &text[s as usize..e as usize]
        };
        for i in 0..self.tokens.len() {
            let w = word(i);
            if let Some(entry) = self.words.get(w) {
                hits.extend(entry.word);
                for &p in &entry.phrases {
                    let p = &self.phrases[p as usize];
                    let n = p.rest.len();
                    if i + n >= self.tokens.len() {
                        continue;
                    }
                    let full = p.rest[..n - 1]
                        .iter()
                        .enumerate()
                        .all(|(k, r)| word(i + 1 + k) == &r[..]);
                    let last = word(i + n);
                    let tail = &p.rest[n - 1];
                    let ok = if p.prefix {
                        last.starts_with(tail)
                    } else {
                        last == &tail[..]
                    };
                    if full && ok {
                        hits.push(p.term);
                    }
                }
            }
            for &len in &self.prefix_lens {
                if len > w.len() {
                    break;
                }
                if let Some(&t) = self.prefixes.get(&w[..len]) {
                    hits.push(t);
                }
            }
        }
    }
}

impl Engine for TokenHash {
    fn scan(&mut self, text: &[u8], hits: &mut Vec<u32>) {
        let mut start = 0;
        while start < text.len() {
            let end = text[start..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(text.len(), |n| start + n);
            self.tokens.clear();
            let mut at = start;
            for word in text[start..end].split(|&b| b == b' ') {
                if !word.is_empty() {
                    self.tokens.push((at as u32, (at + word.len()) as u32));
                }
                at += word.len() + 1;
            }
            self.field(text, hits);
            start = end + 1;
        }
    }
}
