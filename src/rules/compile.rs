//! Compiling queries into one immutable [`Matcher`]: deduplicated phrases
//! over a shared term dictionary, resolved regions, and the presearcher
//! index (which keys make a rule a candidate for an article).

use std::collections::HashMap;

use super::hasher::FastMap;
use super::query::{Expr, Phrase, Query, Scope};
use super::{RuleDef, parse};
use crate::regions::{Gazetteer, Strength};

pub(super) type TermId = usize;
pub(super) type PhraseId = usize;

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

/// A phrase over term ids; the last term is a prefix term when the query
/// word was `x*`.
#[derive(Debug)]
pub(super) struct CompiledPhrase {
    pub terms: Vec<TermId>,
    pub exact: Option<Vec<String>>,
    /// Index in `terms` of the anchor: the term whose occurrences the
    /// article index records (the phrase's trigger key). The other words
    /// are checked against the tokens next to it.
    pub anchor: usize,
}

/// A term's normalised text; a prefix term matches words starting with it.
#[derive(Debug)]
pub(super) struct TermText {
    pub text: Box<str>,
    pub prefix: bool,
}

impl TermText {
    /// Whether the normalised word `norm` is this term.
    pub fn matches(&self, norm: &str) -> bool {
        if self.prefix {
            norm.starts_with(&*self.text)
        } else {
            norm == &*self.text
        }
    }
}

#[derive(Debug)]
pub(super) struct CompiledRegion {
    pub tags: Vec<String>,
    pub strong: Vec<PhraseId>,
    pub weak: Vec<PhraseId>,
    pub exclusions: Vec<PhraseId>,
}

/// A compiled boolean tree; leaves keep their query text for explanations.
#[derive(Debug)]
pub(super) enum Node {
    Phrase {
        phrase: PhraseId,
        scope: Scope,
        label: String,
    },
    Near {
        left: PhraseId,
        right: PhraseId,
        distance: usize,
        scope: Scope,
        label: String,
    },
    Region {
        region: usize,
        scope: Scope,
        label: String,
    },
    Lang {
        code: String,
    },
    Source {
        domain: String,
    },
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

#[derive(Debug)]
pub(super) struct CompiledRule {
    pub id: String,
    pub root: Node,
}

/// Why an article can be a candidate for a rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Term(TermId),
    Lang(String),
    Source(String),
    Tag(String),
}

/// Keys of which an article must have one for a node to hold; `None`
/// when the node can hold without any (`NOT x`).
type Trigger = Option<Vec<Key>>;

/// All rules, compiled once; cheap to share between threads.
#[derive(Debug, Default)]
pub struct Matcher {
    pub(super) rules: Vec<CompiledRule>,
    pub(super) by_id: HashMap<String, usize>,
    /// Whole-word terms, by normalised form. After compiling, anchor
    /// terms only (see [`CompiledPhrase::anchor`]): the words worth
    /// looking up for each token of an article.
    pub(super) words: FastMap<String, TermId>,
    /// Prefix terms, by normalised prefix; after compiling, anchors only.
    pub(super) prefixes: FastMap<String, TermId>,
    /// The distinct lengths of `prefixes` keys, in bytes, ascending: the
    /// only token prefixes worth looking up.
    pub(super) prefix_lens: Vec<usize>,
    /// Every term's text, by id.
    pub(super) terms: Vec<TermText>,
    /// Rules triggered by each term.
    pub(super) term_rules: Vec<Vec<usize>>,
    pub(super) lang_rules: HashMap<String, Vec<usize>>,
    pub(super) source_rules: HashMap<String, Vec<usize>>,
    /// By ASCII upper-case tag.
    pub(super) tag_rules: HashMap<String, Vec<usize>>,
    /// Rules that can match without any key.
    pub(super) always: Vec<usize>,
    pub(super) phrases: Vec<CompiledPhrase>,
    phrase_ids: HashMap<(Vec<TermId>, Option<Vec<String>>), PhraseId>,
    pub(super) regions: Vec<CompiledRegion>,
    region_ids: HashMap<String, usize>,
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
        let mut m = Matcher::default();
        let mut errors = Vec::new();
        for (index, (id, query)) in rules.iter().enumerate() {
            let err = |offset: usize, message: String| CompileError {
                rule: index,
                id: id.clone(),
                offset,
                column: query.column(offset),
                message,
            };
            if m.by_id.insert(id.clone(), index).is_some() {
                errors.push(err(0, format!("duplicate rule id '{id}'")));
            }
            match m.node(query.root(), gazetteer) {
                Ok((root, trigger)) => {
                    m.register(index, trigger);
                    m.rules.push(CompiledRule {
                        id: id.clone(),
                        root,
                    });
                }
                Err((offset, message)) => errors.push(err(offset, message)),
            }
        }
        if errors.is_empty() {
            m.index_anchors();
            Ok(m)
        } else {
            Err(errors)
        }
    }

    /// Parse and compile rule definitions.
    ///
    /// # Errors
    /// Every parse and compile error, each with its rule and position.
    pub fn build(defs: &[RuleDef], gazetteer: &Gazetteer) -> Result<Matcher, Vec<CompileError>> {
        let mut parsed = Vec::new();
        let mut errors = Vec::new();
        for (rule, def) in defs.iter().enumerate() {
            match parse(&def.query) {
                Ok(q) => parsed.push((def.id.clone(), q)),
                Err(e) => errors.push(CompileError {
                    rule,
                    id: def.id.clone(),
                    offset: e.offset,
                    column: e.column,
                    message: e.message,
                }),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Matcher::compile(&parsed, gazetteer)
    }

    /// Number of compiled rules.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Id of the rule at `index` (compile order).
    pub fn rule_id(&self, index: usize) -> Option<&str> {
        self.rules.get(index).map(|r| r.id.as_str())
    }

    fn term(&mut self, word: &str, prefix: bool) -> TermId {
        let next = self.term_rules.len();
        let map = if prefix {
            &mut self.prefixes
        } else {
            &mut self.words
        };
        let id = *map.entry(word.to_string()).or_insert(next);
        if id == next {
            self.term_rules.push(Vec::new());
        }
        id
    }

    /// After the last rule: keep only anchor terms in the lookup maps,
    /// move every term's text to `terms`, and drop the interning tables.
    fn index_anchors(&mut self) {
        let mut anchor = vec![false; self.term_rules.len()];
        for p in &self.phrases {
            if let Some(&t) = p.terms.get(p.anchor) {
                anchor[t] = true;
            }
        }
        let mut texts: Vec<Option<TermText>> = (0..anchor.len()).map(|_| None).collect();
        for prefix in [false, true] {
            let map = if prefix {
                &mut self.prefixes
            } else {
                &mut self.words
            };
            let mut kept = FastMap::default();
            for (text, id) in map.drain() {
                if anchor[id] {
                    kept.insert(text.clone(), id);
                    if prefix && let Err(at) = self.prefix_lens.binary_search(&text.len()) {
                        self.prefix_lens.insert(at, text.len());
                    }
                }
                texts[id] = Some(TermText {
                    text: text.into_boxed_str(),
                    prefix,
                });
            }
            kept.shrink_to_fit();
            *map = kept;
        }
        self.terms = texts
            .into_iter()
            .map(|t| {
                t.unwrap_or(TermText {
                    text: "".into(),
                    prefix: false,
                })
            })
            .collect();
        self.phrase_ids = HashMap::new();
        self.region_ids = HashMap::new();
    }

    /// Intern `p`; returns its id and its trigger key (the longest whole
    /// word, else the prefix).
    fn phrase(&mut self, p: &Phrase) -> (PhraseId, Key) {
        let last = p.words.len().saturating_sub(1);
        let terms: Vec<TermId> = p
            .words
            .iter()
            .enumerate()
            .map(|(i, w)| self.term(w, p.prefix_last && i == last))
            .collect();
        let best = (0..p.words.len())
            .max_by_key(|&i| (!(p.prefix_last && i == last), p.words[i].chars().count()))
            .unwrap_or(0);
        let key = Key::Term(terms.get(best).copied().unwrap_or(0));
        let next = self.phrases.len();
        let id = *self
            .phrase_ids
            .entry((terms.clone(), p.exact.clone()))
            .or_insert(next);
        if id == next {
            self.phrases.push(CompiledPhrase {
                terms,
                exact: p.exact.clone(),
                anchor: best,
            });
        }
        (id, key)
    }

    /// Phrase of a gazetteer alias or exclusion; `None` if it has no words.
    fn text_phrase(&mut self, text: &str, exact: bool) -> Option<(PhraseId, Key)> {
        let phrase = Phrase::of_text(text, exact, false)?;
        Some(self.phrase(&phrase))
    }

    fn region(&mut self, name: &str, gazetteer: &Gazetteer) -> Option<(usize, Vec<Key>)> {
        let region = gazetteer.resolve(name)?;
        let mut keys: Vec<Key> = region
            .tags
            .iter()
            .map(|t| Key::Tag(t.to_ascii_uppercase()))
            .collect();
        let mut compiled = CompiledRegion {
            tags: region.tags.clone(),
            strong: Vec::new(),
            weak: Vec::new(),
            exclusions: Vec::new(),
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
                Strength::Weak => compiled.weak.push(id),
            }
        }
        for ex in &region.exclusions {
            if let Some((id, _)) = self.text_phrase(ex, false) {
                compiled.exclusions.push(id);
            }
        }
        let next = self.regions.len();
        let id = *self.region_ids.entry(region.key.clone()).or_insert(next);
        if id == next {
            self.regions.push(compiled);
        }
        Some((id, keys))
    }

    /// Compile `e`; also returns its trigger keys (`None`: may match
    /// without any key).
    fn node(&mut self, e: &Expr, gaz: &Gazetteer) -> Result<(Node, Trigger), (usize, String)> {
        let label = e.to_string();
        Ok(match e {
            Expr::Text { phrase, scope, .. } => {
                let (phrase, key) = self.phrase(phrase);
                (
                    Node::Phrase {
                        phrase,
                        scope: *scope,
                        label,
                    },
                    Some(vec![key]),
                )
            }
            Expr::Near {
                left,
                right,
                distance,
                scope,
                ..
            } => {
                let (left, lkey) = self.phrase(left);
                let (right, _) = self.phrase(right);
                let distance = usize::try_from(*distance).unwrap_or(usize::MAX);
                (
                    Node::Near {
                        left,
                        right,
                        distance,
                        scope: *scope,
                        label,
                    },
                    Some(vec![lkey]),
                )
            }
            Expr::Region { name, scope, span } => {
                let (region, keys) = self
                    .region(name, gaz)
                    .ok_or_else(|| (span.start, format!("unknown region '{name}'")))?;
                (
                    Node::Region {
                        region,
                        scope: *scope,
                        label,
                    },
                    Some(keys),
                )
            }
            Expr::Lang { code, .. } => {
                let primary = code.split('-').next().unwrap_or(code).to_string();
                (
                    Node::Lang { code: code.clone() },
                    Some(vec![Key::Lang(primary)]),
                )
            }
            Expr::Source { domain, .. } => (
                Node::Source {
                    domain: domain.clone(),
                },
                Some(vec![Key::Source(domain.clone())]),
            ),
            Expr::Not(inner, _) => (Node::Not(Box::new(self.node(inner, gaz)?.0)), None),
            Expr::And(items) | Expr::Or(items) => {
                let mut nodes = Vec::new();
                let mut triggers = Vec::new();
                for item in items {
                    let (n, t) = self.node(item, gaz)?;
                    nodes.push(n);
                    triggers.push(t);
                }
                if matches!(e, Expr::And(_)) {
                    // Any one child's keys suffice: take the fewest.
                    let best = triggers.into_iter().flatten().min_by_key(Vec::len);
                    (Node::And(nodes), best)
                } else {
                    let all: Option<Vec<Vec<Key>>> = triggers.into_iter().collect();
                    (Node::Or(nodes), all.map(|k| k.concat()))
                }
            }
        })
    }

    fn register(&mut self, rule: usize, trigger: Trigger) {
        let Some(mut keys) = trigger else {
            self.always.push(rule);
            return;
        };
        keys.sort();
        keys.dedup();
        for key in keys {
            let list = match key {
                Key::Term(t) => match self.term_rules.get_mut(t) {
                    Some(list) => list,
                    None => &mut self.always,
                },
                Key::Lang(l) => self.lang_rules.entry(l).or_default(),
                Key::Source(s) => self.source_rules.entry(s).or_default(),
                Key::Tag(t) => self.tag_rules.entry(t).or_default(),
            };
            list.push(rule);
        }
    }
}
