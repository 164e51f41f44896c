//! From the terms an engine found to the rules that match, the same for
//! every engine: each term lists rules it occurs in (its postings);
//! the found terms' rules are the candidates, and only candidates (plus
//! the few rules that can match without any term, such as `NOT x` or
//! `lang:en` alone) have their trees evaluated.

use crate::doc::Doc;
use crate::rules::{Kind, Node, RuleSet};

/// Postings and per-article scratch state.
pub struct Evaluator {
    /// `post_rules[post_start[t]..post_start[t + 1]]`: the rules term `t` occurs in.
    post_start: Vec<u32>,
    post_rules: Vec<u32>,
    /// Rules evaluated for every article.
    always: Vec<u32>,
    /// `found[t] == stamp`: term `t` occurs in the current article.
    found: Vec<u32>,
    /// `seen[r] == stamp`: rule `r` is already a candidate.
    seen: Vec<u32>,
    stamp: u32,
    candidates: Vec<u32>,
}

impl Evaluator {
    pub fn new(rules: &RuleSet) -> Evaluator {
        let mut lists: Vec<Vec<u32>> = vec![Vec::new(); rules.terms.len()];
        let mut always = Vec::new();
        for (rule, &root) in rules.roots.iter().enumerate() {
            match keys(&rules.nodes, root as usize) {
                None => always.push(rule as u32),
                Some(mut keys) => {
                    keys.sort_unstable();
                    keys.dedup();
                    for t in keys {
                        lists[t as usize].push(rule as u32);
                    }
                }
            }
        }
        let mut post_start = Vec::with_capacity(lists.len() + 1);
        let mut post_rules = Vec::new();
        for list in lists {
            post_start.push(post_rules.len() as u32);
            post_rules.extend(list);
        }
        post_start.push(post_rules.len() as u32);
        Evaluator {
            post_start,
            post_rules,
            always,
            found: vec![0; rules.terms.len()],
            seen: vec![0; rules.roots.len()],
            stamp: 0,
            candidates: Vec::new(),
        }
    }

    /// The rules (indices, ascending) that match `doc`, given the terms
    /// found in it (`hits`, in any order, repeats allowed), into `out`.
    pub fn run(&mut self, rules: &RuleSet, doc: &Doc, hits: &[u32], out: &mut Vec<u32>) {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.found.fill(0);
            self.seen.fill(0);
            self.stamp = 1;
        }
        let stamp = self.stamp;
        self.candidates.clear();
        for &t in hits {
            let t = t as usize;
            if self.found[t] == stamp {
                continue;
            }
            self.found[t] = stamp;
            let posts = self.post_start[t] as usize..self.post_start[t + 1] as usize;
            for &r in &self.post_rules[posts] {
                if self.seen[r as usize] != stamp {
                    self.seen[r as usize] = stamp;
                    self.candidates.push(r);
                }
            }
        }
        self.candidates.extend_from_slice(&self.always);
        self.candidates.sort_unstable();
        out.clear();
        let ctx = Ctx {
            rules,
            doc,
            found: &self.found,
            stamp,
        };
        out.extend(
            self.candidates
                .iter()
                .copied()
                .filter(|&r| ctx.eval(rules.roots[r as usize] as usize)),
        );
    }
}

/// Terms the tree at `i` cannot be true without (one of them must
/// occur), or `None` if it may be true with no term at all (a region tag,
/// a language, a source or a `NOT` may satisfy it). An `AND` takes the
/// operand with the fewest such terms, so `region:XX AND word` is a
/// candidate only where `word` occurs, not wherever the region's aliases do.
fn keys(nodes: &[Node], i: usize) -> Option<Vec<u32>> {
    let children = Children::of(nodes, i);
    match nodes[i].kind {
        Kind::Term(t) => Some(vec![t]),
        Kind::Region(_) | Kind::Lang(_) | Kind::Source(_) | Kind::Not => None,
        Kind::And => children.filter_map(|j| keys(nodes, j)).min_by_key(Vec::len),
        Kind::Or => children
            .map(|j| keys(nodes, j))
            .collect::<Option<Vec<_>>>()
            .map(|all| all.concat()),
    }
}

struct Ctx<'a> {
    rules: &'a RuleSet,
    doc: &'a Doc,
    found: &'a [u32],
    stamp: u32,
}

impl Ctx<'_> {
    fn has(&self, t: u32) -> bool {
        self.found[t as usize] == self.stamp
    }

    fn eval(&self, i: usize) -> bool {
        let nodes = &self.rules.nodes;
        let mut children = Children::of(nodes, i);
        match nodes[i].kind {
            Kind::Term(t) => self.has(t),
            Kind::Region(r) => {
                let r = &self.rules.regions[r as usize];
                r.terms.iter().any(|&t| self.has(t))
                    || r.tags.iter().any(|t| self.doc.tags.contains(t))
            }
            Kind::Lang(s) => {
                let code = &self.rules.strings[s as usize];
                self.doc.language.as_deref().is_some_and(|l| {
                    l == code
                        || l.strip_prefix(code.as_str())
                            .is_some_and(|r| r.starts_with('-'))
                })
            }
            Kind::Source(s) => {
                let domain = &self.rules.strings[s as usize];
                self.doc.hosts.iter().any(|h| {
                    h == domain
                        || h.strip_suffix(domain.as_str())
                            .is_some_and(|r| r.ends_with('.'))
                })
            }
            Kind::And => children.all(|j| self.eval(j)),
            Kind::Or => children.any(|j| self.eval(j)),
            Kind::Not => !self.eval(i + 1),
        }
    }
}

/// Indices of a node's children in `nodes`.
struct Children<'a> {
    nodes: &'a [Node],
    next: usize,
    end: usize,
}

impl<'a> Children<'a> {
    fn of(nodes: &'a [Node], i: usize) -> Children<'a> {
        Children {
            nodes,
            next: i + 1,
            end: i + nodes[i].size as usize,
        }
    }
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
