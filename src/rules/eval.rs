//! Per-article evaluation: one pass over each field's tokens records where
//! the matcher's indexed terms occur and which rules they trigger; phrase,
//! NEAR and region conditions are then checked from those positions only.

use super::compile::{Matcher, Node, PhraseId, TermId};
use super::domain::{normalize_host, suffixes, within};
use super::hasher::FastMap;
use super::query::Scope;
use super::{Document, Hit, RuleMatch};
use crate::text::FieldName;

/// An occurrence of a phrase: field index (in [`FieldName::ALL`] order)
/// and its first and last token positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Occ {
    pub field: usize,
    pub first: usize,
    pub last: usize,
}

fn field_at(index: usize) -> FieldName {
    FieldName::ALL
        .get(index)
        .copied()
        .unwrap_or(FieldName::Body)
}

impl Matcher {
    /// Rules matching `doc`, sorted by rule index.
    pub fn find(&self, doc: &Document<'_>) -> Vec<RuleMatch> {
        let mut index = DocIndex::new(self, doc);
        let candidates = index.candidates();
        let mut out = Vec::new();
        for rule in candidates {
            let root = &self.rules[rule].root;
            if index.eval(root) {
                let mut hits = Vec::new();
                index.collect_hits(root, &mut hits);
                hits.sort_unstable();
                hits.dedup();
                out.push(RuleMatch { rule, hits });
            }
        }
        out
    }
}

/// What one article offers the matcher; built once per article.
pub(super) struct DocIndex<'m, 'd> {
    m: &'m Matcher,
    doc: Document<'d>,
    /// (field index, token position) of each anchor term, sorted.
    occ: FastMap<TermId, Vec<(usize, usize)>>,
    phrase_occ: FastMap<PhraseId, Vec<Occ>>,
    hosts: Vec<String>,
    candidates: Vec<usize>,
}

impl<'m, 'd> DocIndex<'m, 'd> {
    pub(super) fn new(m: &'m Matcher, doc: &Document<'d>) -> DocIndex<'m, 'd> {
        let mut ix = DocIndex {
            m,
            doc: *doc,
            occ: FastMap::default(),
            phrase_occ: FastMap::default(),
            hosts: Vec::new(),
            candidates: m.always.clone(),
        };
        for (fi, field) in FieldName::ALL.iter().enumerate() {
            for (pos, tok) in doc.field(*field).tokens.iter().enumerate() {
                if let Some(&t) = m.words.get(tok.norm.as_str()) {
                    ix.add(t, fi, pos);
                }
                for &len in &m.prefix_lens {
                    let Some(head) = tok.norm.get(..len) else {
                        if len > tok.norm.len() {
                            break;
                        }
                        continue; // not a char boundary
                    };
                    if let Some(&t) = m.prefixes.get(head) {
                        ix.add(t, fi, pos);
                    }
                }
            }
        }
        if let Some(lang) = doc.language {
            let primary = lang
                .trim()
                .split(['-', '_'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            ix.candidates
                .extend(m.lang_rules.get(&primary).into_iter().flatten());
        }
        ix.hosts = [doc.source, doc.url]
            .into_iter()
            .flatten()
            .filter_map(normalize_host)
            .collect();
        for host in &ix.hosts {
            for suffix in suffixes(host) {
                ix.candidates
                    .extend(m.source_rules.get(suffix).into_iter().flatten());
            }
        }
        for tag in doc.regions {
            let tag = tag.trim().to_ascii_uppercase();
            ix.candidates
                .extend(m.tag_rules.get(&tag).into_iter().flatten());
        }
        ix
    }

    fn add(&mut self, term: TermId, field: usize, pos: usize) {
        let list = self.occ.entry(term).or_default();
        if list.is_empty() {
            let rules = self.m.term_rules.get(term).map_or(&[][..], Vec::as_slice);
            self.candidates.extend_from_slice(rules);
        }
        list.push((field, pos));
    }

    /// Rules the presearcher selected, sorted and deduplicated.
    pub(super) fn candidates(&mut self) -> Vec<usize> {
        let mut c = std::mem::take(&mut self.candidates);
        c.sort_unstable();
        c.dedup();
        self.candidates.clone_from(&c);
        c
    }

    /// Whether `node` holds for this article.
    pub(super) fn eval(&mut self, node: &'m Node) -> bool {
        match node {
            Node::And(items) => items.iter().all(|n| self.eval(n)),
            Node::Or(items) => items.iter().any(|n| self.eval(n)),
            Node::Not(inner) => !self.eval(inner),
            Node::Lang { code } => self.doc.language.is_some_and(|l| lang_matches(l, code)),
            Node::Source { domain } => self.hosts.iter().any(|h| within(h, domain)),
            Node::Region { .. } => self.leaf(node).0,
            Node::Phrase { phrase, scope, .. } => {
                let scope = *scope;
                self.phrase(*phrase)
                    .iter()
                    .any(|o| scope.contains(field_at(o.field)))
            }
            Node::Near { .. } => !self.leaf(node).1.is_empty(),
        }
    }

    /// Hits of the positive leaves that hold, below a node that holds.
    pub(super) fn collect_hits(&mut self, node: &'m Node, out: &mut Vec<Hit>) {
        match node {
            Node::And(items) | Node::Or(items) => {
                for item in items {
                    if self.eval(item) {
                        self.collect_hits(item, out);
                    }
                }
            }
            Node::Not(_) | Node::Lang { .. } | Node::Source { .. } => {}
            _ => {
                let (_, occs) = self.leaf(node);
                out.extend(occs.into_iter().map(|o| self.hit(o)));
            }
        }
    }

    /// For a text or region leaf: whether it holds and its occurrences.
    pub(super) fn leaf(&mut self, node: &'m Node) -> (bool, Vec<Occ>) {
        match node {
            Node::Phrase { phrase, scope, .. } => {
                let scope = *scope;
                let occs: Vec<Occ> = self
                    .phrase(*phrase)
                    .iter()
                    .copied()
                    .filter(|o| scope.contains(field_at(o.field)))
                    .collect();
                (!occs.is_empty(), occs)
            }
            Node::Near {
                left,
                right,
                distance,
                scope,
                ..
            } => {
                let occs = self.near(*left, *right, *distance, *scope);
                (!occs.is_empty(), occs)
            }
            Node::Region { region, scope, .. } => self.region(*region, *scope),
            other => (self.eval(other), Vec::new()),
        }
    }

    pub(super) fn hit(&self, o: Occ) -> Hit {
        let field = field_at(o.field);
        let tokens = &self.doc.field(field).tokens;
        let start = tokens.get(o.first).map_or(0, |t| t.start);
        let end = tokens.get(o.last).map_or(start, |t| t.end);
        Hit { field, start, end }
    }

    /// The clean text of a hit (for explanations).
    pub(super) fn hit_text(&self, h: Hit) -> &str {
        self.doc
            .field(h.field)
            .clean
            .get(h.start..h.end)
            .unwrap_or("")
    }

    /// Occurrences of a phrase in any field, sorted.
    fn phrase(&mut self, id: PhraseId) -> &[Occ] {
        if !self.phrase_occ.contains_key(&id) {
            let found = self.find_phrase(id);
            self.phrase_occ.insert(id, found);
        }
        self.phrase_occ.get(&id).map_or(&[], Vec::as_slice)
    }

    /// Occurrences of the phrase's anchor term whose neighbouring tokens
    /// are the phrase's other words.
    fn find_phrase(&self, id: PhraseId) -> Vec<Occ> {
        let Some(p) = self.m.phrases.get(id) else {
            return Vec::new();
        };
        let Some(anchors) = p.terms.get(p.anchor).and_then(|t| self.occ.get(t)) else {
            return Vec::new();
        };
        let at = |field: usize, pos: usize| -> Option<Occ> {
            let first = pos.checked_sub(p.anchor)?;
            let f = self.doc.field(field_at(field));
            for (i, &t) in p.terms.iter().enumerate() {
                if i != p.anchor {
                    let tok = f.tokens.get(first + i)?;
                    self.m.terms.get(t)?.matches(&tok.norm).then_some(())?;
                }
            }
            if let Some(exact) = &p.exact {
                for (i, w) in exact.iter().enumerate() {
                    let tok = f.tokens.get(first + i)?;
                    (f.clean.get(tok.start..tok.end)? == w).then_some(())?;
                }
            }
            Some(Occ {
                field,
                first,
                last: first + p.terms.len() - 1,
            })
        };
        anchors.iter().filter_map(|&(f, pos)| at(f, pos)).collect()
    }

    /// Occurrences of either side that have a non-overlapping partner at
    /// most `distance` positions away in the same field.
    fn near(&mut self, left: PhraseId, right: PhraseId, distance: usize, scope: Scope) -> Vec<Occ> {
        self.phrase(left);
        self.phrase(right);
        let (Some(a), Some(b)) = (self.phrase_occ.get(&left), self.phrase_occ.get(&right)) else {
            return Vec::new();
        };
        let len_b = self
            .m
            .phrases
            .get(right)
            .map_or(1, |p| p.terms.len().max(1));
        let mut used_b = vec![false; b.len()];
        let mut out = Vec::new();
        let first_at =
            |field: usize, pos: usize| b.partition_point(|y| (y.field, y.first) < (field, pos));
        for x in a.iter().filter(|x| scope.contains(field_at(x.field))) {
            let before =
                x.first.saturating_sub(distance + len_b - 1)..x.first.saturating_sub(len_b - 1);
            let after = x.last + 1..x.last.saturating_add(distance).saturating_add(1);
            let mut found = false;
            for range in [before, after] {
                for j in first_at(x.field, range.start)..first_at(x.field, range.end) {
                    let y = b[j];
                    let apart = y.last < x.first || y.first > x.last;
                    let gap = if y.first > x.last {
                        y.first - x.last
                    } else {
                        x.first.saturating_sub(y.last)
                    };
                    if apart && gap <= distance {
                        used_b[j] = true;
                        found = true;
                    }
                }
            }
            if found {
                out.push(*x);
            }
        }
        out.extend(b.iter().zip(used_b).filter(|(_, u)| *u).map(|(y, _)| *y));
        out.sort_unstable();
        out.dedup();
        out
    }

    /// A region holds when the producer tagged it or a strong alias occurs
    /// outside every exclusion; weak aliases then add hits.
    fn region(&mut self, id: usize, scope: Scope) -> (bool, Vec<Occ>) {
        let m = self.m;
        let Some(r) = m.regions.get(id) else {
            return (false, Vec::new());
        };
        let tagged = self
            .doc
            .regions
            .iter()
            .any(|t| r.tags.iter().any(|rt| rt.eq_ignore_ascii_case(t.trim())));
        let mut excluded = Vec::new();
        for &e in &r.exclusions {
            excluded.extend_from_slice(self.phrase(e));
        }
        let alive = |ids: &[PhraseId], ix: &mut Self| -> Vec<Occ> {
            let mut out = Vec::new();
            for &p in ids {
                out.extend(ix.phrase(p).iter().copied().filter(|o| {
                    scope.contains(field_at(o.field))
                        && !excluded
                            .iter()
                            .any(|x| x.field == o.field && x.first <= o.first && o.last <= x.last)
                }));
            }
            out
        };
        let mut occs = alive(&r.strong, self);
        if !tagged && occs.is_empty() {
            return (false, Vec::new());
        }
        occs.extend(alive(&r.weak, self));
        (true, occs)
    }
}

/// `ru` matches `ru` and `ru-RU`; `pt-br` matches `pt-BR` but not `pt`.
fn lang_matches(doc: &str, code: &str) -> bool {
    let doc = doc.trim().to_ascii_lowercase().replace('_', "-");
    doc == code
        || doc
            .strip_prefix(code)
            .is_some_and(|rest| rest.starts_with('-'))
}
