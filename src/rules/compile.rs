//! The compiled, immutable [`Matcher`]: deduplicated phrases over a shared
//! term dictionary, resolved regions, and the presearcher index (which
//! keys make a rule a candidate for an article). Built by
//! [`super::build`]; laid out in a few flat arrays (u32 ids, shared string
//! arenas) so that 100k rules take little memory.

use std::collections::HashMap;

use super::build::Builder;
use std::hash::{BuildHasher, BuildHasherDefault};

use super::hasher::{FastMap, FxHasher};
use super::query::{Query, Scope};
use super::{RuleDef, parse};
use crate::regions::Gazetteer;

pub(super) type TermId = u32;
pub(super) type PhraseId = u32;
pub(super) type RuleId = u32;

/// See [`Node::Phrase`].
pub(super) const NO_TERM: TermId = TermId::MAX;

/// A rule that could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule {id} (#{rule}), col {column}: {message}")]
pub struct CompileError {
    /// Index of the rule in the input.
    pub rule: usize,
    pub id: String,
    /// Byte offset into the rule's query.
    pub offset: usize,
    /// 1-based column of `offset`.
    pub column: usize,
    pub message: String,
}

/// A phrase: `len` term ids from `start` in [`Matcher::phrase_terms`]; the
/// last is a prefix term when the query word was `x*`.
#[derive(Debug, Clone, Copy)]
pub(super) struct CompiledPhrase {
    pub start: u32,
    pub len: u16,
    /// Index of the anchor term: the one whose occurrences the article
    /// index records (the phrase's presearcher key, its rarest word). The
    /// other words are checked against the tokens next to it.
    pub anchor: u16,
    /// With `case:`: the words as written are in [`Matcher::exact`].
    pub exact: bool,
    /// An exact-case gazetteer alias: also matches in upper case in an
    /// all-caps title ([`crate::regions::exact_case_matches`]).
    pub caps: bool,
}

/// Strings stored end to end; item `i` is `text[ends[i-1]..ends[i]]`.
#[derive(Debug, Default)]
pub(super) struct StrArena {
    text: String,
    ends: Vec<u32>,
}

impl StrArena {
    pub fn push(&mut self, s: &str) -> u32 {
        self.text.push_str(s);
        self.ends.push(self.text.len() as u32);
        (self.ends.len() - 1) as u32
    }

    pub fn get(&self, i: u32) -> &str {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..self.ends[i] as usize).unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

/// A set of two-byte word beginnings (a 64 Kbit bitmap).
#[derive(Debug)]
pub(super) struct Heads(Box<[u64]>);

impl Default for Heads {
    fn default() -> Heads {
        Heads(vec![0; 1024].into_boxed_slice())
    }
}

impl Heads {
    fn bit(word: &str) -> usize {
        let b = word.as_bytes();
        usize::from(b.first().copied().unwrap_or(0)) << 8
            | usize::from(b.get(1).copied().unwrap_or(0))
    }

    /// Add `word`; as a prefix (`prefix`) it begins every longer word.
    pub fn insert(&mut self, word: &str, prefix: bool) {
        let bits = match word.as_bytes() {
            [] if prefix => 0..1 << 16,
            [a] if prefix => {
                let a = usize::from(*a) << 8;
                a..a + 256
            }
            _ => {
                let bit = Heads::bit(word);
                bit..bit + 1
            }
        };
        for bit in bits {
            self.0[bit / 64] |= 1 << (bit % 64);
        }
    }

    /// Whether some inserted word begins like `word` (`false`: none does).
    pub fn may_contain(&self, word: &str) -> bool {
        let bit = Heads::bit(word);
        self.0[bit / 64] & (1 << (bit % 64)) != 0
    }
}

/// A Bloom filter over strings, blocked: a key sets two bits of one
/// 64-bit word, so a lookup touches one cache line; at least 8 bits per
/// key; one [`FxHasher`](super::hasher) hash.
#[derive(Debug, Default)]
pub(super) struct Bloom {
    words: Box<[u64]>,
}

impl Bloom {
    pub fn new<'a>(keys: impl ExactSizeIterator<Item = &'a str>) -> Bloom {
        let words = (keys.len() / 8).next_power_of_two().max(64);
        let mut bloom = Bloom {
            words: vec![0; words].into_boxed_slice(),
        };
        for k in keys {
            let (word, bits) = bloom.locate(k);
            bloom.words[word] |= bits;
        }
        bloom
    }

    fn locate(&self, key: &str) -> (usize, u64) {
        let h = BuildHasherDefault::<FxHasher>::default().hash_one(key);
        let word = (h as usize) & (self.words.len() - 1);
        (word, 1 << ((h >> 52) & 63) | 1 << ((h >> 58) & 63))
    }

    /// Whether `key` may have been inserted (`false`: it was not).
    pub fn may_contain(&self, key: &str) -> bool {
        if self.words.is_empty() {
            return false;
        }
        let (word, bits) = self.locate(key);
        self.words[word] & bits == bits
    }
}

/// Lists of rules by a dense key (compressed rows).
#[derive(Debug, Default)]
pub(super) struct RuleLists {
    /// List `k` is `items[starts[k]..starts[k + 1]]`.
    pub starts: Vec<u32>,
    pub items: Vec<RuleId>,
}

impl RuleLists {
    /// From `(key, rule)` pairs; keys below `keys`.
    pub fn from_pairs(keys: usize, mut pairs: Vec<(u32, RuleId)>) -> RuleLists {
        pairs.sort_unstable();
        pairs.dedup();
        let mut starts = Vec::with_capacity(keys + 1);
        let mut at = 0;
        for k in 0..=keys as u32 {
            starts.push(at as u32);
            while at < pairs.len() && pairs[at].0 == k {
                at += 1;
            }
        }
        RuleLists {
            starts,
            items: pairs.into_iter().map(|(_, r)| r).collect(),
        }
    }

    pub fn get(&self, key: u32) -> &[RuleId] {
        let k = key as usize;
        match (self.starts.get(k), self.starts.get(k + 1)) {
            (Some(&a), Some(&b)) => &self.items[a as usize..b as usize],
            _ => &[],
        }
    }
}

#[derive(Debug)]
pub(super) struct CompiledRegion {
    pub tags: Vec<String>,
    pub strong: Vec<PhraseId>,
    pub weak: Vec<PhraseId>,
    pub exclusions: Vec<PhraseId>,
    /// Its id in [`Matcher::context`] if its weak aliases count in context.
    pub context: Option<u16>,
}

/// A compiled boolean tree. Leaves keep their query text for explanations
/// as an index into [`Matcher::labels`].
#[derive(Debug)]
pub(super) enum Node {
    Phrase {
        phrase: PhraseId,
        /// For a plain one-word phrase, its term ([`NO_TERM`] otherwise):
        /// its occurrences are the anchor occurrences of the term.
        word: TermId,
        scope: Scope,
        label: u32,
    },
    Near {
        left: PhraseId,
        right: PhraseId,
        distance: u32,
        scope: Scope,
        label: u32,
    },
    Region {
        region: u32,
        scope: Scope,
        label: u32,
    },
    Lang {
        code: Box<str>,
    },
    Source {
        domain: Box<str>,
    },
    And(Box<[Node]>),
    Or(Box<[Node]>),
    Not(Box<Node>),
}

/// All rules, compiled once; cheap to share between threads.
#[derive(Debug, Default)]
pub struct Matcher {
    /// Rule ids, by rule index.
    pub(super) ids: StrArena,
    /// Rule indices sorted by id.
    pub(super) by_id: Vec<RuleId>,
    pub(super) roots: Vec<Node>,
    /// Anchor whole-word terms by normalised form: the words worth looking
    /// up for each token of an article (see [`CompiledPhrase::anchor`]).
    pub(super) words: FastMap<Box<str>, TermId>,
    /// Anchor prefix terms, by normalised prefix.
    pub(super) prefixes: FastMap<Box<str>, TermId>,
    /// The distinct lengths of `prefixes` keys, in bytes, ascending: the
    /// only token prefixes worth looking up.
    pub(super) prefix_lens: Vec<usize>,
    /// The first two bytes of the `words` keys and of the `prefixes` keys
    /// (see [`Heads`]): most tokens are rejected without hashing.
    pub(super) word_heads: Heads,
    pub(super) prefix_heads: Heads,
    /// The `words` and `prefixes` keys, for rejecting a token (or token
    /// prefix) with one probe of a small bitmap instead of the big map.
    pub(super) word_bloom: Bloom,
    pub(super) prefix_bloom: Bloom,
    /// Every term's normalised text, by id.
    pub(super) terms: StrArena,
    /// Whether each term is a prefix term, by id.
    pub(super) term_prefix: Vec<bool>,
    /// Rules triggered by each term.
    pub(super) term_rules: RuleLists,
    pub(super) lang_rules: HashMap<Box<str>, Vec<RuleId>>,
    pub(super) source_rules: HashMap<Box<str>, Vec<RuleId>>,
    /// By ASCII upper-case tag.
    pub(super) tag_rules: HashMap<Box<str>, Vec<RuleId>>,
    /// Rules that can match without any key.
    pub(super) always: Vec<RuleId>,
    pub(super) phrases: Vec<CompiledPhrase>,
    pub(super) phrase_terms: Vec<TermId>,
    /// Words as written of `case:` phrases.
    pub(super) exact: FastMap<PhraseId, Box<[Box<str>]>>,
    pub(super) regions: Vec<CompiledRegion>,
    /// The gazetteer's tables for weak names in context.
    pub(super) context: std::sync::Arc<crate::regions::Context>,
    /// Query text of leaves.
    pub(super) labels: StrArena,
}

impl Matcher {
    /// Compile parsed rules `(id, query)`; rule indices in results are
    /// positions in `rules`.
    ///
    /// # Errors
    /// Every unknown region and duplicate id, each with its position.
    pub fn compile(
        rules: &[(String, Query)],
        gazetteer: &Gazetteer,
    ) -> Result<Matcher, Vec<CompileError>> {
        let mut b = Builder::new(gazetteer);
        for (id, query) in rules {
            b.add(id, query);
        }
        b.finish()
    }

    /// Parse and compile rule definitions.
    ///
    /// # Errors
    /// Every parse error, or else every compile error, each with its rule
    /// and position.
    pub fn build(defs: &[RuleDef], gazetteer: &Gazetteer) -> Result<Matcher, Vec<CompileError>> {
        let mut b = Builder::new(gazetteer);
        let mut errors = Vec::new();
        for (rule, def) in defs.iter().enumerate() {
            match parse(&def.query) {
                Ok(q) if errors.is_empty() => b.add(&def.id, &q),
                Ok(_) => {}
                Err(e) => errors.push(CompileError {
                    rule,
                    id: def.id.clone(),
                    offset: e.offset,
                    column: e.column,
                    message: e.message,
                }),
            }
        }
        if errors.is_empty() {
            b.finish()
        } else {
            Err(errors)
        }
    }

    /// Number of compiled rules.
    pub fn rule_count(&self) -> usize {
        self.roots.len()
    }

    /// Id of the rule at `index` (compile order).
    pub fn rule_id(&self, index: usize) -> Option<&str> {
        (index < self.ids.len()).then(|| self.ids.get(index as u32))
    }

    /// Index of the rule with id `id`.
    pub(super) fn rule_index(&self, id: &str) -> Option<usize> {
        let i = self
            .by_id
            .binary_search_by(|&r| self.ids.get(r).cmp(id))
            .ok()?;
        Some(self.by_id[i] as usize)
    }

    /// The term ids of phrase `p`.
    pub(super) fn phrase_terms(&self, p: &CompiledPhrase) -> &[TermId] {
        let start = p.start as usize;
        &self.phrase_terms[start..start + p.len as usize]
    }

    /// Whether the normalised word `norm` is term `t`.
    pub(super) fn term_matches(&self, t: TermId, norm: &str) -> bool {
        let text = self.terms.get(t);
        if self.term_prefix.get(t as usize).copied().unwrap_or(false) {
            norm.starts_with(text)
        } else {
            norm == text
        }
    }
}
