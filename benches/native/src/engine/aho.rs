//! `aho-corasick` (one automaton, standard semantics, overlapping
//! matches) over every distinct literal, with word boundaries checked by
//! hand as in `benches/common/baseline.rs`: a match counts if a space
//! (or a field break) comes before it, and, unless its term is a prefix,
//! after it. Unlike that baseline it evaluates only the candidate rules
//! of the terms found (see [`crate::eval`]), like the other engines.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};

use super::{Engine, literal};
use crate::rules::Term;

/// What one literal stands for: the term that must end at a word
/// boundary, and the prefix term that may end inside a word.
#[derive(Clone, Copy)]
struct Pattern {
    word: Option<u32>,
    prefix: Option<u32>,
}

pub struct Aho {
    ac: AhoCorasick,
    patterns: Vec<Pattern>,
}

impl Aho {
    pub fn new(terms: &[Term]) -> Result<Aho, String> {
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut texts = Vec::new();
        let mut patterns: Vec<Pattern> = Vec::new();
        for (id, term) in terms.iter().enumerate() {
            let text = literal(term);
            let next = patterns.len();
            let p = *ids.entry(text.clone()).or_insert(next);
            if p == next {
                texts.push(text);
                patterns.push(Pattern {
                    word: None,
                    prefix: None,
                });
            }
            let slot = if term.prefix {
                &mut patterns[p].prefix
            } else {
                &mut patterns[p].word
            };
            *slot = Some(id as u32);
        }
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&texts)
            .map_err(|e| format!("aho-corasick: {e}"))?;
        Ok(Aho { ac, patterns })
    }
}

fn is_break(b: u8) -> bool {
    b == b' ' || b == b'\n'
}

impl Engine for Aho {
    fn scan(&mut self, text: &[u8], hits: &mut Vec<u32>) {
        for m in self.ac.find_overlapping_iter(text) {
            if !m.start().checked_sub(1).is_some_and(|i| is_break(text[i])) {
                continue;
            }
            let p = self.patterns[m.pattern().as_usize()];
            if let Some(t) = p.prefix {
                hits.push(t);
            }
            if let Some(t) = p.word
                && text.get(m.end()).copied().is_some_and(is_break)
            {
                hits.push(t);
            }
        }
    }
}
