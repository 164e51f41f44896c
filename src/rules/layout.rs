//! The compiled, immutable [`Matcher`] as data: deduplicated phrases over
//! a shared term dictionary, resolved regions, and the presearcher index
//! (which keys make a rule a candidate for an article). Laid out in a few
//! flat arrays (u32 ids, shared string arenas) so that 100k rules take
//! little memory. Built by [`super::compiler`]; read by [`super::eval`].

use std::collections::HashMap;

use super::filter::{Bloom, Heads};
use super::hasher::FastMap;
use super::prefix_index::PrefixIndex;
use super::query::Scope;

pub(super) type TermId = u32;
pub(super) type PhraseId = u32;
pub(super) type RuleId = u32;

/// See [`Node::Phrase`].
pub(super) const NO_TERM: TermId = TermId::MAX;

/// A phrase: `len` term ids from `start` in [`Matcher::phrase_terms`]; the
/// last is a prefix term when the query word was `x*`.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
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
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
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

    /// Push `v` as it displays, written straight into the arena.
    pub fn push_display(&mut self, v: &impl std::fmt::Display) -> u32 {
        use std::fmt::Write as _;
        let _ = write!(self.text, "{v}");
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

/// Lists of rules by a dense key (compressed rows).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
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

#[derive(Debug, serde::Serialize, serde::Deserialize)]
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
#[derive(Debug, serde::Serialize, serde::Deserialize)]
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
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
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
    pub(super) prefixes: PrefixIndex<TermId>,
    /// The first two bytes of the `words` keys (see [`Heads`]): most
    /// tokens are rejected without hashing.
    pub(super) word_heads: Heads,
    /// The `words` keys, for rejecting a token with one probe of a small
    /// bitmap instead of the big map.
    pub(super) word_bloom: Bloom,
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
    /// The gazetteer's tables for weak names in context (not stored in
    /// a rules cache: [`Matcher::with_context`] puts them back).
    #[serde(skip)]
    pub(super) context: std::sync::Arc<crate::regions::Context>,
    /// Query text of leaves.
    pub(super) labels: StrArena,
}

impl Matcher {
    /// This matcher with the gazetteer's context tables (those of the
    /// gazetteer it was compiled against), after it was read back from a
    /// rules cache, which does not store them.
    pub fn with_context(mut self, context: std::sync::Arc<crate::regions::Context>) -> Matcher {
        self.context = context;
        self
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
