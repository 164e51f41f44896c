//! The compiler: parsed queries → the [`Matcher`] laid out in
//! [`super::layout`]. Rules are added one at a time: terms and phrases are
//! interned (shared between rules), regions resolved against the
//! gazetteer, and each rule indexed under its presearcher keys
//! ([`super::presearch`]); [`MatcherBuilder::finish`] then keeps only the
//! anchor terms, builds the token filters and compacts the tables. Adding
//! rules one at a time lets a caller drop each parsed query as soon as it
//! is compiled (the rules file loader does).

use std::collections::HashMap;

use super::error::CompileError;
use super::filter::Bloom;
use super::hasher::FastMap;
use super::layout::{
    CompiledPhrase, CompiledRegion, Matcher, NO_TERM, Node, PhraseId, RuleId, RuleLists, TermId,
};
use super::prefix_index::PrefixIndex;
use super::presearch::{self, Key, Trigger};
use super::query::{Expr, Phrase, Query};
use super::weight::{self, Cost};
use crate::regions::{Gazetteer, Strength};

/// A matcher under construction: [`MatcherBuilder::add`] each rule in
/// order, then [`MatcherBuilder::finish`].
pub struct MatcherBuilder<'g> {
    gaz: &'g Gazetteer,
    m: Matcher,
    words: FastMap<Box<str>, TermId>,
    prefixes: FastMap<Box<str>, TermId>,
    term_cost: Vec<Cost>,
    /// The one-word, not exact-case phrase of each term, if any.
    single: Vec<Option<PhraseId>>,
    multi: FastMap<Box<[TermId]>, PhraseId>,
    /// Region id and trigger keys by region key.
    region_ids: HashMap<String, (u32, Vec<Key>)>,
    term_pairs: Vec<(TermId, RuleId)>,
    errors: Vec<CompileError>,
}

impl<'g> MatcherBuilder<'g> {
    /// An empty matcher whose `region:` names resolve in `gaz`.
    pub fn new(gaz: &'g Gazetteer) -> MatcherBuilder<'g> {
        MatcherBuilder {
            gaz,
            m: Matcher {
                context: gaz.context().clone(),
                ..Matcher::default()
            },
            words: FastMap::default(),
            prefixes: FastMap::default(),
            term_cost: Vec::new(),
            single: Vec::new(),
            multi: FastMap::default(),
            region_ids: HashMap::new(),
            term_pairs: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Compile the next rule (its index is the number added before it);
    /// errors are reported by [`MatcherBuilder::finish`].
    pub fn add(&mut self, id: &str, query: &Query) {
        let rule = self.m.ids.push(id);
        match self.node(query.root()) {
            Ok((root, trigger)) => {
                presearch::register(&mut self.m, &mut self.term_pairs, rule, trigger);
                self.m.roots.push(root);
            }
            Err((offset, message)) => self.errors.push(CompileError {
                rule: rule as usize,
                id: id.to_string(),
                offset,
                column: query.column(offset),
                message,
            }),
        }
    }

    /// The matcher, or every unknown region and duplicate id, each with
    /// its rule and position.
    ///
    /// # Errors
    /// Every compile error of the rules added.
    pub fn finish(mut self) -> Result<Matcher, Vec<CompileError>> {
        let m = &mut self.m;
        let mut by_id: Vec<RuleId> = (0..m.ids.len() as u32).collect();
        by_id.sort_by(|&a, &b| m.ids.get(a).cmp(m.ids.get(b)));
        for pair in by_id.windows(2) {
            let (first, dup) = (m.ids.get(pair[0]), pair[1]);
            if first == m.ids.get(dup) {
                self.errors.push(CompileError {
                    rule: dup as usize,
                    id: first.to_string(),
                    offset: 0,
                    column: 1,
                    message: format!("duplicate rule id '{first}'"),
                });
            }
        }
        if !self.errors.is_empty() {
            let mut errors = self.errors;
            // Stable: a rule's duplicate-id error comes before its others.
            errors.sort_by_key(|e| (e.rule, !e.message.starts_with("duplicate")));
            return Err(errors);
        }
        m.by_id = by_id;
        let mut anchor = vec![false; m.terms.len()];
        for p in &m.phrases {
            let start = p.start as usize + p.anchor as usize;
            if let Some(&t) = m.phrase_terms.get(start) {
                anchor[t as usize] = true;
            }
        }
        m.words = keep_anchors(std::mem::take(&mut self.words), &anchor);
        m.prefixes = PrefixIndex::new(keep_anchors(std::mem::take(&mut self.prefixes), &anchor));
        for k in m.words.keys() {
            m.word_heads.insert(k, false);
        }
        m.word_bloom = Bloom::new(m.words.keys().map(|k| &**k));
        m.term_rules = RuleLists::from_pairs(m.terms.len(), std::mem::take(&mut self.term_pairs));
        m.ids.shrink_to_fit();
        m.terms.shrink_to_fit();
        m.labels.shrink_to_fit();
        m.term_prefix.shrink_to_fit();
        m.roots.shrink_to_fit();
        m.phrases.shrink_to_fit();
        m.phrase_terms.shrink_to_fit();
        m.always.shrink_to_fit();
        Ok(self.m)
    }

    fn term(&mut self, word: &str, prefix: bool) -> TermId {
        let map = if prefix {
            &mut self.prefixes
        } else {
            &mut self.words
        };
        if let Some(&id) = map.get(word) {
            return id;
        }
        let id = self.m.terms.push(word);
        map.insert(word.into(), id);
        self.m.term_prefix.push(prefix);
        self.term_cost.push(weight::term_cost(word, prefix));
        self.single.push(None);
        id
    }

    /// Intern `p`; returns its id and its trigger key (its rarest term).
    fn phrase(&mut self, p: &Phrase) -> (PhraseId, Key) {
        let last = p.words.len().saturating_sub(1);
        let terms: Vec<TermId> = p
            .words
            .iter()
            .enumerate()
            .map(|(i, w)| self.term(w, p.prefix_last && i == last))
            .collect();
        let anchor = (0..terms.len())
            .min_by_key(|&i| {
                let len = p.words[i].chars().count();
                // Ties: the longer word, then the later one.
                let cost = self.term_cost[terms[i] as usize];
                (cost, std::cmp::Reverse(len), std::cmp::Reverse(i))
            })
            .unwrap_or(0);
        let key = Key::Term(terms.get(anchor).copied().unwrap_or(0));
        let exact = p.exact.is_some();
        let known = match terms.as_slice() {
            _ if exact => None,
            &[t] => self.single[t as usize],
            many => self.multi.get(many).copied(),
        };
        if let Some(id) = known {
            return (id, key);
        }
        let id = self.m.phrases.len() as PhraseId;
        self.m.phrases.push(CompiledPhrase {
            start: self.m.phrase_terms.len() as u32,
            len: terms.len() as u16,
            anchor: anchor as u16,
            exact,
            caps: false,
        });
        self.m.phrase_terms.extend_from_slice(&terms);
        if let Some(words) = &p.exact {
            let words = words.iter().map(|w| w.as_str().into()).collect();
            self.m.exact.insert(id, words);
        } else if let &[t] = terms.as_slice() {
            self.single[t as usize] = Some(id);
        } else {
            self.multi.insert(terms.into_boxed_slice(), id);
        }
        (id, key)
    }

    /// Phrase of a gazetteer alias or exclusion; `None` if it has no words.
    fn text_phrase(&mut self, text: &str, exact: bool) -> Option<(PhraseId, Key)> {
        let phrase = Phrase::of_text(text, exact, false)?;
        let (id, key) = self.phrase(&phrase);
        if exact && let Some(p) = self.m.phrases.get_mut(id as usize) {
            p.caps = true; // exact phrases are never shared with `case:` ones
        }
        Some((id, key))
    }

    fn region(&mut self, name: &str) -> Option<(u32, Vec<Key>)> {
        let region = self.gaz.resolve(name)?;
        if let Some((id, keys)) = self.region_ids.get(&region.key) {
            return Some((*id, keys.clone()));
        }
        let mut keys: Vec<Key> = region
            .tags
            .iter()
            .map(|t| Key::Tag(t.to_ascii_uppercase().into()))
            .collect();
        let mut compiled = CompiledRegion {
            tags: region.tags.clone(),
            strong: Vec::new(),
            weak: Vec::new(),
            exclusions: Vec::new(),
            context: self.gaz.context().id(&region.key),
        };
        for alias in &region.aliases {
            let Some((id, key)) = self.text_phrase(&alias.text, alias.exact_case) else {
                continue;
            };
            match alias.strength {
                Strength::Strong => {
                    compiled.strong.push(id);
                    keys.push(key);
                }
                Strength::Weak => {
                    compiled.weak.push(id);
                    keys.extend(compiled.context.map(|_| key)); // may hold in context
                }
            }
        }
        for ex in &region.exclusions {
            if let Some((id, _)) = self.text_phrase(ex, false) {
                compiled.exclusions.push(id);
            }
        }
        keys.sort();
        keys.dedup();
        let id = self.m.regions.len() as u32;
        self.m.regions.push(compiled);
        self.region_ids
            .insert(region.key.clone(), (id, keys.clone()));
        Some((id, keys))
    }

    /// Compile `e`; also returns its trigger keys (`None`: may match
    /// without any key).
    fn node(&mut self, e: &Expr) -> Result<(Node, Trigger), (usize, String)> {
        Ok(match e {
            Expr::Text { phrase, scope, .. } => {
                let (id, key) = self.phrase(phrase);
                let word = match (&key, phrase.words.len(), &phrase.exact) {
                    (Key::Term(t), 1, None) => *t,
                    _ => NO_TERM,
                };
                let phrase = id;
                let label = self.m.labels.push_display(e);
                let scope = *scope;
                let node = Node::Phrase {
                    phrase,
                    word,
                    scope,
                    label,
                };
                (node, Some(vec![key]))
            }
            Expr::Near {
                left,
                right,
                distance,
                scope,
                ..
            } => {
                let (left, lkey) = self.phrase(left);
                let (right, rkey) = self.phrase(right);
                // Both sides must occur: either one's key will do.
                let key = presearch::cheaper(lkey, rkey, &self.term_cost);
                let label = self.m.labels.push_display(e);
                let node = Node::Near {
                    left,
                    right,
                    distance: *distance,
                    scope: *scope,
                    label,
                };
                (node, Some(vec![key]))
            }
            Expr::Region { name, scope, span } => {
                let (region, keys) = self
                    .region(name)
                    .ok_or_else(|| (span.start, format!("unknown region '{name}'")))?;
                let label = self.m.labels.push_display(e);
                let scope = *scope;
                let node = Node::Region {
                    region,
                    scope,
                    label,
                };
                (node, Some(keys))
            }
            Expr::Lang { code, .. } => {
                let primary = code.split('-').next().unwrap_or(code);
                let node = Node::Lang {
                    code: code.as_str().into(),
                };
                (node, Some(vec![Key::Lang(primary.into())]))
            }
            Expr::Source { domain, .. } => {
                let node = Node::Source {
                    domain: domain.as_str().into(),
                };
                (node, Some(vec![Key::Source(domain.as_str().into())]))
            }
            Expr::Not(inner, _) => (Node::Not(Box::new(self.node(inner)?.0)), None),
            Expr::And(items) | Expr::Or(items) => {
                let mut nodes = Vec::with_capacity(items.len());
                let mut triggers = Vec::with_capacity(items.len());
                for item in items {
                    let (n, t) = self.node(item)?;
                    nodes.push(n);
                    triggers.push(t);
                }
                let nodes = nodes.into_boxed_slice();
                if matches!(e, Expr::And(_)) {
                    let trigger = presearch::all_of(triggers, &self.term_cost);
                    (Node::And(nodes), trigger)
                } else {
                    (Node::Or(nodes), presearch::any_of(triggers))
                }
            }
        })
    }
}

/// The entries of `map` whose term is an anchor.
fn keep_anchors(map: FastMap<Box<str>, TermId>, anchor: &[bool]) -> FastMap<Box<str>, TermId> {
    let mut kept: FastMap<Box<str>, TermId> = map
        .into_iter()
        .filter(|(_, id)| anchor.get(*id as usize).copied().unwrap_or(false))
        .collect();
    kept.shrink_to_fit();
    kept
}
