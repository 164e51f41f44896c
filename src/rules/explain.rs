//! Why a rule did or did not match an article: the rule's clause tree with
//! each clause's outcome and hits (`newsalert match --explain --rule ID`).

use std::fmt;

use super::doc_index::DocIndex;
use super::layout::{Matcher, Node};
use super::{Document, Hit};

/// One rule evaluated against one article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub rule: String,
    /// Whether the presearcher selected the rule (a matching rule always is).
    pub candidate: bool,
    pub matched: bool,
    pub root: Clause,
}

/// One clause of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// `AND`, `OR`, `NOT`, or the condition as a query (`title:armen*`).
    pub label: String,
    pub matched: bool,
    /// Occurrences found for a text or region condition (even when the
    /// clause is under `NOT`).
    pub hits: Vec<ExplainedHit>,
    pub children: Vec<Clause>,
}

/// A hit with the text it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplainedHit {
    pub hit: Hit,
    pub text: String,
}

impl Matcher {
    /// Evaluate rule `rule_id` on `doc` clause by clause; `None` if there
    /// is no such rule.
    pub fn explain(&self, rule_id: &str, doc: &Document<'_>) -> Option<Explanation> {
        let index = self.rule_index(rule_id)?;
        let root = self.roots.get(index)?;
        let mut ix = DocIndex::new(self, doc);
        let candidate = ix.candidates().binary_search(&(index as u32)).is_ok();
        let root = clause(self, &mut ix, root);
        Some(Explanation {
            rule: rule_id.to_string(),
            candidate,
            matched: root.matched,
            root,
        })
    }
}

fn clause<'m>(m: &'m Matcher, ix: &mut DocIndex<'m, '_>, node: &'m Node) -> Clause {
    let matched = ix.eval(node);
    let (label, children) = match node {
        Node::And(items) => (
            "AND".to_string(),
            items.iter().map(|n| clause(m, ix, n)).collect(),
        ),
        Node::Or(items) => (
            "OR".to_string(),
            items.iter().map(|n| clause(m, ix, n)).collect(),
        ),
        Node::Not(inner) => ("NOT".to_string(), vec![clause(m, ix, inner)]),
        Node::Lang { code } => (format!("lang:{code}"), Vec::new()),
        Node::Source { domain } => (format!("source:{domain}"), Vec::new()),
        Node::Phrase { label, .. } | Node::Near { label, .. } | Node::Region { label, .. } => {
            (m.labels.get(*label).to_string(), Vec::new())
        }
    };
    let hits = if children.is_empty() {
        let (_, occs) = ix.leaf(node);
        occs.into_iter()
            .map(|o| {
                let hit = ix.hit(o);
                ExplainedHit {
                    hit,
                    text: ix.hit_text(hit).to_string(),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    Clause {
        label,
        matched,
        hits,
        children,
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let outcome = if self.matched {
            "matched"
        } else {
            "did not match"
        };
        let pre = if self.candidate {
            "candidate"
        } else {
            "not a candidate"
        };
        writeln!(f, "rule {}: {outcome} (presearch: {pre})", self.rule)?;
        write_clause(f, &self.root, 1)
    }
}

fn write_clause(f: &mut fmt::Formatter<'_>, c: &Clause, depth: usize) -> fmt::Result {
    let mark = if c.matched { "yes" } else { "no" };
    write!(f, "{:indent$}{}: {mark}", "", c.label, indent = depth * 2)?;
    for h in &c.hits {
        write!(
            f,
            " [{} {}..{} {:?}]",
            h.hit.field.as_str(),
            h.hit.start,
            h.hit.end,
            h.text
        )?;
    }
    writeln!(f)?;
    for child in &c.children {
        write_clause(f, child, depth + 1)?;
    }
    Ok(())
}
