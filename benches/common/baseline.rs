//! The baseline: the same rules on a straightforward matcher built on the
//! `aho-corasick` crate. One automaton over every distinct literal of every
//! rule finds which literals occur in the folded text (word boundaries
//! checked by hand); then EVERY rule's boolean tree is evaluated against
//! that set, so the cost includes all stored rules.
//!
//! Simplifications (it is a yardstick, not a second matcher):
//! - the text is [`fold`]ed (case, diacritics) outside the timed loop and
//!   the three fields are searched as one text (no `title:` scopes);
//! - a phrase is its words joined by one space, so it only matches words
//!   separated by exactly one space in the text;
//! - `NEAR` is `AND` (no distance);
//! - `region:XX` is "tagged XX, or one of its strong aliases occurs" (no
//!   weak aliases, exclusions or exact-case aliases);
//! - `case:` is ignored; `lang:` and `source:` are plain string checks.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};
use newsalert::article::Article;
use newsalert::regions::{Gazetteer, Strength};
use newsalert::rules::{Expr, Phrase, RuleDef, parse};
use newsalert::text::{fold, tokenize};

/// What one literal pattern stands for.
#[derive(Default, Clone, Copy)]
struct PatternTerms {
    /// Term id when the pattern must end at a word boundary.
    word: Option<u32>,
    /// Term id when it may end inside a word (`prefix*`).
    prefix: Option<u32>,
}

/// A node of a rule tree in pre-order; `size` is the number of nodes in
/// its subtree (itself included), so children can be skipped.
#[derive(Clone, Copy)]
struct Node {
    kind: Kind,
    size: u32,
}

#[derive(Clone, Copy)]
enum Kind {
    Term(u32),
    Region(u32),
    Lang(u32),
    Source(u32),
    And,
    Or,
    Not,
}

struct Region {
    tags: Vec<String>,
    terms: Vec<u32>,
}

/// An article as the baseline sees it, built outside the timed loop.
pub struct BaselineDoc {
    text: String,
    language: Option<String>,
    hosts: Vec<String>,
    tags: Vec<String>,
}

impl BaselineDoc {
    pub fn new(a: &Article) -> BaselineDoc {
        let text = [&a.title, &a.summary, &a.body]
            .iter()
            .map(|f| fold(f))
            .collect::<Vec<_>>()
            .join("\n");
        let hosts = [a.source.as_deref(), a.url.as_deref()]
            .into_iter()
            .flatten()
            .map(|s| {
                let s = s.split("://").last().unwrap_or(s);
                s.split('/').next().unwrap_or(s).to_ascii_lowercase()
            })
            .collect();
        BaselineDoc {
            text,
            language: a.language.as_ref().map(|l| l.to_ascii_lowercase()),
            hosts,
            tags: a.regions.iter().map(|t| t.to_ascii_uppercase()).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.text.len()
    }
}

/// The compiled baseline.
pub struct Baseline {
    ac: AhoCorasick,
    patterns: Vec<PatternTerms>,
    terms: usize,
    nodes: Vec<Node>,
    /// Index of each rule's root in `nodes`.
    roots: Vec<u32>,
    regions: Vec<Region>,
    strings: Vec<String>,
}

#[derive(Default)]
struct Builder {
    pattern_ids: HashMap<String, usize>,
    patterns: Vec<PatternTerms>,
    texts: Vec<String>,
    terms: u32,
    nodes: Vec<Node>,
    regions: Vec<Region>,
    region_ids: HashMap<String, u32>,
    strings: Vec<String>,
}

impl Baseline {
    /// # Panics
    /// On a rule that does not parse or names an unknown region.
    pub fn build(defs: &[RuleDef], gazetteer: &Gazetteer) -> Baseline {
        let mut b = Builder::default();
        let mut roots = Vec::with_capacity(defs.len());
        for def in defs {
            let query = parse(&def.query).expect("benchmark rules parse");
            roots.push(b.nodes.len() as u32);
            b.node(query.root(), gazetteer);
        }
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&b.texts)
            .expect("automaton builds");
        Baseline {
            ac,
            patterns: b.patterns,
            terms: b.terms as usize,
            nodes: b.nodes,
            roots,
            regions: b.regions,
            strings: b.strings,
        }
    }

    /// Indices of the rules that match `doc`.
    pub fn find(&self, doc: &BaselineDoc) -> Vec<usize> {
        let text = doc.text.as_str();
        let mut found = vec![false; self.terms];
        for m in self.ac.find_overlapping_iter(text) {
            if !boundary_before(text, m.start()) {
                continue;
            }
            let p = self.patterns[m.pattern().as_usize()];
            if let Some(t) = p.prefix {
                found[t as usize] = true;
            }
            if let Some(t) = p.word
                && boundary_after(text, m.end())
            {
                found[t as usize] = true;
            }
        }
        self.roots
            .iter()
            .enumerate()
            .filter(|&(_, &root)| self.eval(root as usize, doc, &found))
            .map(|(rule, _)| rule)
            .collect()
    }

    fn eval(&self, i: usize, doc: &BaselineDoc, found: &[bool]) -> bool {
        let node = self.nodes[i];
        let end = i + node.size as usize;
        let mut children = Children {
            nodes: &self.nodes,
            next: i + 1,
            end,
        };
        match node.kind {
            Kind::Term(t) => found[t as usize],
            Kind::Region(r) => {
                let r = &self.regions[r as usize];
                r.terms.iter().any(|&t| found[t as usize])
                    || r.tags.iter().any(|t| doc.tags.contains(t))
            }
            Kind::Lang(s) => {
                let code = &self.strings[s as usize];
                doc.language.as_deref().is_some_and(|l| {
                    l == code
                        || l.strip_prefix(code.as_str())
                            .is_some_and(|r| r.starts_with('-'))
                })
            }
            Kind::Source(s) => {
                let domain = &self.strings[s as usize];
                doc.hosts.iter().any(|h| {
                    h == domain
                        || h.strip_suffix(domain.as_str())
                            .is_some_and(|r| r.ends_with('.'))
                })
            }
            Kind::And => children.all(|j| self.eval(j, doc, found)),
            Kind::Or => children.any(|j| self.eval(j, doc, found)),
            Kind::Not => !self.eval(i + 1, doc, found),
        }
    }
}

/// Indices of a node's children in `nodes`.
struct Children<'a> {
    nodes: &'a [Node],
    next: usize,
    end: usize,
}

impl Iterator for Children<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let j = self.next;
        if j >= self.end {
            return None;
        }
        self.next += self.nodes[j].size as usize;
        Some(j)
    }
}

impl Builder {
    /// Append `e` in pre-order.
    fn node(&mut self, e: &Expr, gazetteer: &Gazetteer) {
        let at = self.nodes.len();
        let leaf = |kind| Node { kind, size: 1 };
        match e {
            Expr::Text { phrase, .. } => {
                let t = self.term(phrase);
                self.nodes.push(leaf(Kind::Term(t)));
            }
            Expr::Near { left, right, .. } => {
                let (l, r) = (self.term(left), self.term(right));
                self.nodes.push(Node {
                    kind: Kind::And,
                    size: 3,
                });
                self.nodes.push(leaf(Kind::Term(l)));
                self.nodes.push(leaf(Kind::Term(r)));
            }
            Expr::Region { name, .. } => {
                let r = self.region(name, gazetteer);
                self.nodes.push(leaf(Kind::Region(r)));
            }
            Expr::Lang { code, .. } => {
                self.strings.push(code.clone());
                self.nodes
                    .push(leaf(Kind::Lang(self.strings.len() as u32 - 1)));
            }
            Expr::Source { domain, .. } => {
                self.strings.push(domain.clone());
                self.nodes
                    .push(leaf(Kind::Source(self.strings.len() as u32 - 1)));
            }
            Expr::Not(inner, _) => {
                self.nodes.push(leaf(Kind::Not));
                self.node(inner, gazetteer);
            }
            Expr::And(items) | Expr::Or(items) => {
                let kind = if matches!(e, Expr::And(_)) {
                    Kind::And
                } else {
                    Kind::Or
                };
                self.nodes.push(leaf(kind));
                for item in items {
                    self.node(item, gazetteer);
                }
            }
        }
        self.nodes[at].size = (self.nodes.len() - at) as u32;
    }

    /// Term id of a phrase: its words joined by one space.
    fn term(&mut self, p: &Phrase) -> u32 {
        self.literal(p.words.join(" "), p.prefix_last)
    }

    fn literal(&mut self, text: String, prefix: bool) -> u32 {
        let next = self.patterns.len();
        let id = *self.pattern_ids.entry(text.clone()).or_insert(next);
        if id == next {
            self.patterns.push(PatternTerms::default());
            self.texts.push(text);
        }
        let slot = if prefix {
            &mut self.patterns[id].prefix
        } else {
            &mut self.patterns[id].word
        };
        *slot.get_or_insert_with(|| {
            self.terms += 1;
            self.terms - 1
        })
    }

    fn region(&mut self, name: &str, gazetteer: &Gazetteer) -> u32 {
        let region = gazetteer.resolve(name).expect("benchmark regions exist");
        if let Some(&id) = self.region_ids.get(&region.key) {
            return id;
        }
        let terms = region
            .aliases
            .iter()
            .filter(|a| a.strength == Strength::Strong)
            .map(|a| {
                let words: Vec<String> = tokenize(&a.text).into_iter().map(|t| t.norm).collect();
                self.literal(words.join(" "), false)
            })
            .collect();
        self.regions.push(Region {
            tags: region.tags.iter().map(|t| t.to_ascii_uppercase()).collect(),
            terms,
        });
        let id = self.regions.len() as u32 - 1;
        self.region_ids.insert(region.key.clone(), id);
        id
    }
}

fn boundary_before(text: &str, at: usize) -> bool {
    !text[..at]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric)
}

fn boundary_after(text: &str, at: usize) -> bool {
    !text[at..].chars().next().is_some_and(char::is_alphanumeric)
}
