//! The rules as every engine sees them: read from `rules.toml`, parsed
//! with `newsalert::rules::parse`, and flattened into distinct literal
//! *terms* (what an engine looks for) and one boolean tree per rule over
//! them (what [`crate::eval`] evaluates).
//!
//! Simplifications (the same as `benches/common/baseline.rs`):
//! - `NEAR/n` is `AND` (no distance), scopes (`title:`) and `case:` are
//!   ignored: every term is looked for in the whole article;
//! - a phrase is its words in a row; a prefix phrase's last word is a prefix;
//! - `region:XX` is "tagged XX, or one of its strong aliases occurs" (no
//!   weak aliases, exclusions or exact-case aliases);
//! - `lang:` and `source:` are plain string checks.
//!
//! `rules.toml` is read one `[[rule]]` table at a time (each table parsed
//! as a TOML document of its own, as newsalert does); only `id` and
//! `query` are used, and nothing before the first `[[rule]]` is read.

use std::collections::HashMap;

use newsalert::regions::{Gazetteer, Strength};
use newsalert::rules::{Expr, Phrase, parse};
use newsalert::text::tokenize;
use serde::Deserialize;

/// A literal to find: words in a row; with `prefix`, the last one is a
/// prefix of a word of the text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Term {
    pub words: Vec<String>,
    pub prefix: bool,
}

/// A node of a rule tree in pre-order; `size` is the number of nodes in
/// its subtree (itself included), so children can be skipped.
#[derive(Clone, Copy)]
pub struct Node {
    pub kind: Kind,
    pub size: u32,
}

#[derive(Clone, Copy)]
pub enum Kind {
    Term(u32),
    Region(u32),
    Lang(u32),
    Source(u32),
    And,
    Or,
    Not,
}

/// `region:XX`: the article's tags that satisfy it, or its strong aliases.
pub struct Region {
    pub tags: Vec<String>,
    pub terms: Vec<u32>,
}

/// Every rule, compiled.
pub struct RuleSet {
    pub terms: Vec<Term>,
    pub nodes: Vec<Node>,
    /// Index of each rule's root in `nodes`.
    pub roots: Vec<u32>,
    /// Each rule's id, JSON-encoded (quotes included) for the output.
    pub ids_json: Vec<String>,
    pub regions: Vec<Region>,
    pub strings: Vec<String>,
}

#[derive(Deserialize)]
struct Chunk {
    rule: Vec<RuleDoc>,
}

#[derive(Deserialize)]
struct RuleDoc {
    id: String,
    query: String,
}

/// Read and compile the rules of `path`.
///
/// # Errors
/// An unreadable file, a `[[rule]]` table that is not valid TOML or has
/// no `id`/`query`, a query that does not parse, or an unknown region;
/// each names the file, line and rule id.
pub fn load(path: &str, gazetteer: &Gazetteer) -> Result<RuleSet, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut b = Builder::default();
    for (line, chunk) in chunks(&text) {
        let doc: Chunk = toml::from_str(chunk).map_err(|e| format!("{path}:{line}: {e}"))?;
        for rule in doc.rule {
            let query = parse(&rule.query)
                .map_err(|e| format!("{path}:{line}: rule {:?}: {e}", rule.id))?;
            b.roots.push(b.nodes.len() as u32);
            b.node(query.root(), gazetteer)
                .map_err(|e| format!("{path}:{line}: rule {:?}: {e}", rule.id))?;
            b.ids_json
                .push(serde_json::to_string(&rule.id).expect("a string serializes"));
        }
    }
    Ok(RuleSet {
        terms: b.terms,
        nodes: b.nodes,
        roots: b.roots,
        ids_json: b.ids_json,
        regions: b.regions,
        strings: b.strings,
    })
}

/// Each `[[rule]]` table of `text` with its first line number.
fn chunks(text: &str) -> Vec<(usize, &str)> {
    let mut starts = Vec::new();
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if line.trim() == "[[rule]]" {
            starts.push((i + 1, offset));
        }
        offset += line.len();
    }
    let ends = starts.iter().skip(1).map(|&(_, at)| at).chain([text.len()]);
    starts
        .iter()
        .zip(ends)
        .map(|(&(line, start), end)| (line, &text[start..end]))
        .collect()
}

#[derive(Default)]
struct Builder {
    term_ids: HashMap<Term, u32>,
    terms: Vec<Term>,
    nodes: Vec<Node>,
    roots: Vec<u32>,
    ids_json: Vec<String>,
    regions: Vec<Region>,
    region_ids: HashMap<String, u32>,
    strings: Vec<String>,
}

impl Builder {
    /// Append `e` in pre-order.
    fn node(&mut self, e: &Expr, gazetteer: &Gazetteer) -> Result<(), String> {
        let at = self.nodes.len();
        let leaf = |kind| Node { kind, size: 1 };
        match e {
            Expr::Text { phrase, .. } => {
                let t = self.phrase(phrase);
                self.nodes.push(leaf(Kind::Term(t)));
            }
            Expr::Near { left, right, .. } => {
                let (l, r) = (self.phrase(left), self.phrase(right));
                self.nodes.push(leaf(Kind::And));
                self.nodes.push(leaf(Kind::Term(l)));
                self.nodes.push(leaf(Kind::Term(r)));
            }
            Expr::Region { name, .. } => {
                let r = self.region(name, gazetteer)?;
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
                self.node(inner, gazetteer)?;
            }
            Expr::And(items) | Expr::Or(items) => {
                let kind = if matches!(e, Expr::And(_)) {
                    Kind::And
                } else {
                    Kind::Or
                };
                self.nodes.push(leaf(kind));
                for item in items {
                    self.node(item, gazetteer)?;
                }
            }
        }
        self.nodes[at].size = (self.nodes.len() - at) as u32;
        Ok(())
    }

    fn phrase(&mut self, p: &Phrase) -> u32 {
        self.term(Term {
            words: p.words.clone(),
            prefix: p.prefix_last,
        })
    }

    fn term(&mut self, term: Term) -> u32 {
        let next = self.terms.len() as u32;
        *self.term_ids.entry(term).or_insert_with_key(|t| {
            self.terms.push(t.clone());
            next
        })
    }

    fn region(&mut self, name: &str, gazetteer: &Gazetteer) -> Result<u32, String> {
        let region = gazetteer
            .resolve(name)
            .ok_or_else(|| format!("unknown region {name:?}"))?;
        if let Some(&id) = self.region_ids.get(&region.key) {
            return Ok(id);
        }
        let terms = region
            .aliases
            .iter()
            .filter(|a| a.strength == Strength::Strong)
            .filter_map(|a| {
                let words: Vec<String> = tokenize(&a.text).into_iter().map(|t| t.norm).collect();
                (!words.is_empty()).then(|| {
                    self.term(Term {
                        words,
                        prefix: false,
                    })
                })
            })
            .collect();
        self.regions.push(Region {
            tags: region.tags.iter().map(|t| t.to_ascii_uppercase()).collect(),
            terms,
        });
        let id = self.regions.len() as u32 - 1;
        self.region_ids.insert(region.key.clone(), id);
        Ok(id)
    }
}
