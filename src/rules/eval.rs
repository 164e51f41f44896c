//! Per-article evaluation: one pass over each field's tokens records where
//! the matcher's indexed terms occur and which rules they trigger; phrase,
//! NEAR and region conditions are then checked from those positions only.

use super::compile::{CompiledRegion, Matcher, NO_TERM, Node, PhraseId, RuleId, TermId};
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
        let mut out = Vec::new();
        for rule in index.candidates() {
            let root = &self.roots[rule as usize];
            if let Node::Phrase { .. } = root {
                let (holds, occs) = index.leaf(root);
                if holds {
                    let mut hits: Vec<Hit> = occs.into_iter().map(|o| index.hit(o)).collect();
                    hits.sort_unstable();
                    hits.dedup();
                    out.push(RuleMatch {
                        rule: rule as usize,
                        hits,
                    });
                }
                continue;
            }
            // Cheap existence checks first; hits only for rules that hold.
            if index.eval(root) {
                let mut hits = Vec::new();
                index.collect_hits(root, &mut hits);
                hits.sort_unstable();
                hits.dedup();
                out.push(RuleMatch {
                    rule: rule as usize,
                    hits,
                });
            }
        }
        out
    }
}

/// What one article offers the matcher; built once per article.
pub(super) struct DocIndex<'m, 'd> {
    m: &'m Matcher,
    doc: Document<'d>,
    /// (term, field index, token position) of each anchor term, sorted.
    occ: Vec<(TermId, u32, u32)>,
    /// The range of `occ` of each term that occurs.
    term_occ: FastMap<TermId, (u32, u32)>,
    /// Occurrences of the phrases looked up so far: a range of `occs`.
    memo: FastMap<PhraseId, (u32, u32)>,
    occs: Vec<Occ>,
    hosts: Vec<String>,
    candidates: Vec<RuleId>,
    /// What the article names for weak names in context; scanned the first
    /// time a context region's weak alias is found.
    named: Option<crate::regions::Named>,
}

impl<'m, 'd> DocIndex<'m, 'd> {
    pub(super) fn new(m: &'m Matcher, doc: &Document<'d>) -> DocIndex<'m, 'd> {
        let mut ix = DocIndex {
            m,
            doc: *doc,
            occ: Vec::new(),
            term_occ: FastMap::default(),
            memo: FastMap::default(),
            occs: Vec::new(),
            hosts: Vec::new(),
            candidates: m.always.clone(),
            named: None,
        };
        for (fi, field) in FieldName::ALL.iter().enumerate() {
            for (pos, tok) in doc.field(*field).tokens.iter().enumerate() {
                let at = (fi as u32, pos as u32);
                if m.word_heads.may_contain(&tok.norm)
                    && m.word_bloom.may_contain(&tok.norm)
                    && let Some(&t) = m.words.get(tok.norm.as_str())
                {
                    ix.occ.push((t, at.0, at.1));
                }
                if !m.prefix_heads.may_contain(&tok.norm) {
                    continue;
                }
                for &len in &m.prefix_lens {
                    let Some(head) = tok.norm.get(..len) else {
                        if len > tok.norm.len() {
                            break;
                        }
                        continue; // not a char boundary
                    };
                    if m.prefix_bloom.may_contain(head)
                        && let Some(&t) = m.prefixes.get(head)
                    {
                        ix.occ.push((t, at.0, at.1));
                    }
                }
            }
        }
        ix.occ.sort_unstable();
        let mut from = 0;
        while let Some(&(t, _, _)) = ix.occ.get(from) {
            let to = from + ix.occ[from..].partition_point(|o| o.0 == t);
            ix.term_occ.insert(t, (from as u32, to as u32));
            ix.candidates.extend_from_slice(m.term_rules.get(t));
            from = to;
        }
        if let Some(lang) = doc.language {
            let primary = lang
                .trim()
                .split(['-', '_'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            ix.candidates
                .extend(m.lang_rules.get(primary.as_str()).into_iter().flatten());
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
                .extend(m.tag_rules.get(tag.as_str()).into_iter().flatten());
        }
        ix
    }

    /// Rules the presearcher selected, sorted and deduplicated.
    pub(super) fn candidates(&mut self) -> Vec<RuleId> {
        let mut c = std::mem::take(&mut self.candidates);
        c.sort_unstable();
        c.dedup();
        c
    }

    /// (field, position) of each occurrence of anchor term `t`.
    fn anchor_occ(&self, t: TermId) -> &[(TermId, u32, u32)] {
        match self.term_occ.get(&t) {
            Some(&(from, to)) => &self.occ[from as usize..to as usize],
            None => &[],
        }
    }

    /// Whether `node` holds for this article.
    pub(super) fn eval(&mut self, node: &'m Node) -> bool {
        match node {
            Node::And(items) => items.iter().all(|n| self.eval(n)),
            Node::Or(items) => items.iter().any(|n| self.eval(n)),
            Node::Not(inner) => !self.eval(inner),
            Node::Lang { code } => self.doc.language.is_some_and(|l| lang_matches(l, code)),
            Node::Source { domain } => self.hosts.iter().any(|h| within(h, domain)),
            Node::Region { region, scope, .. } => self.region_holds(*region, *scope),
            Node::Phrase { word, scope, .. } if *word != NO_TERM => self
                .anchor_occ(*word)
                .iter()
                .any(|&(_, f, _)| scope.contains(field_at(f as usize))),
            Node::Phrase { phrase, scope, .. } => self.phrase_in(*phrase, *scope),
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
            Node::Phrase { word, scope, .. } if *word != NO_TERM => {
                let occs: Vec<Occ> = self
                    .anchor_occ(*word)
                    .iter()
                    .filter(|&&(_, f, _)| scope.contains(field_at(f as usize)))
                    .map(|&(_, f, pos)| Occ {
                        field: f as usize,
                        first: pos as usize,
                        last: pos as usize,
                    })
                    .collect();
                (!occs.is_empty(), occs)
            }
            Node::Phrase { phrase, scope, .. } => {
                let scope = *scope;
                let range = self.phrase(*phrase);
                let occs: Vec<Occ> = self
                    .slice(range)
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
                let occs = self.near(*left, *right, *distance as usize, *scope);
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

    fn slice(&self, (from, to): (u32, u32)) -> &[Occ] {
        &self.occs[from as usize..to as usize]
    }

    /// Whether phrase `id` occurs in a field of `scope`. A plain word is
    /// its anchor's occurrences: no neighbours to check, nothing to store.
    fn phrase_in(&mut self, id: PhraseId, scope: Scope) -> bool {
        let m = self.m;
        if let Some(p) = m.phrases.get(id as usize)
            && p.len == 1
            && !p.exact
        {
            let t = m.phrase_terms(p)[0];
            return self
                .anchor_occ(t)
                .iter()
                .any(|&(_, f, _)| scope.contains(field_at(f as usize)));
        }
        let range = self.phrase(id);
        self.slice(range)
            .iter()
            .any(|o| scope.contains(field_at(o.field)))
    }

    /// Occurrences of a phrase in any field, sorted: looked up once per
    /// article, kept in `occs`.
    fn phrase(&mut self, id: PhraseId) -> (u32, u32) {
        if let Some(&range) = self.memo.get(&id) {
            return range;
        }
        let from = self.occs.len() as u32;
        self.find_phrase(id);
        let range = (from, self.occs.len() as u32);
        self.memo.insert(id, range);
        range
    }

    /// Append the occurrences of the phrase's anchor term whose
    /// neighbouring tokens are the phrase's other words to `occs`.
    fn find_phrase(&mut self, id: PhraseId) {
        let m = self.m;
        let Some(p) = m.phrases.get(id as usize) else {
            return;
        };
        let terms = m.phrase_terms(p);
        let anchor = p.anchor as usize;
        let exact = if p.exact { m.exact.get(&id) } else { None };
        let doc = self.doc;
        let (from, to) = self.term_occ.get(&terms[anchor]).copied().unwrap_or((0, 0));
        for &(_, field, pos) in &self.occ[from as usize..to as usize] {
            let field = field as usize;
            let Some(first) = (pos as usize).checked_sub(anchor) else {
                continue;
            };
            let f = doc.field(field_at(field));
            let Some(window) = f.tokens.get(first..first + terms.len()) else {
                continue;
            };
            let words_match = terms
                .iter()
                .zip(window)
                .enumerate()
                .all(|(i, (&t, tok))| i == anchor || m.term_matches(t, &tok.norm));
            let case_matches = exact.is_none_or(|words| {
                let headline = p.caps && field == 0;
                crate::regions::exact_case_matches(f, headline, window, words.iter().map(|w| &**w))
            });
            if words_match && case_matches {
                self.occs.push(Occ {
                    field,
                    first,
                    last: first + terms.len() - 1,
                });
            }
        }
    }

    /// Occurrences of either side that have a non-overlapping partner at
    /// most `distance` positions away in the same field.
    fn near(&mut self, left: PhraseId, right: PhraseId, distance: usize, scope: Scope) -> Vec<Occ> {
        let (a, b) = (self.phrase(left), self.phrase(right));
        let (a, b) = (self.slice(a), self.slice(b));
        if a.is_empty() || b.is_empty() {
            return Vec::new();
        }
        let len_b = self
            .m
            .phrases
            .get(right as usize)
            .map_or(1, |p| usize::from(p.len).max(1));
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

    fn tagged(&self, r: &CompiledRegion) -> bool {
        self.doc
            .regions
            .iter()
            .any(|t| r.tags.iter().any(|rt| rt.eq_ignore_ascii_case(t.trim())))
    }

    /// Occurrences of `ids` in `scope` outside every exclusion of `r`.
    fn alive(&mut self, r: &CompiledRegion, ids: &[PhraseId], scope: Scope) -> Vec<Occ> {
        let mut found = Vec::new();
        for &p in ids {
            let range = self.phrase(p);
            let occs = self.slice(range).iter();
            found.extend(occs.filter(|o| scope.contains(field_at(o.field))));
        }
        if found.is_empty() || r.exclusions.is_empty() {
            return found;
        }
        let mut excluded = Vec::new();
        for &e in &r.exclusions {
            let range = self.phrase(e);
            excluded.extend_from_slice(self.slice(range));
        }
        found.retain(|o| {
            !excluded
                .iter()
                .any(|x| x.field == o.field && x.first <= o.first && o.last <= x.last)
        });
        found
    }

    /// Whether a region holds: the producer tagged it, or a strong alias
    /// occurs outside every exclusion.
    fn region_holds(&mut self, id: u32, scope: Scope) -> bool {
        let m = self.m;
        let Some(r) = m.regions.get(id as usize) else {
            return false;
        };
        self.tagged(r)
            || r.strong
                .iter()
                .any(|&p| self.phrase_in(p, scope) && !self.alive(r, &[p], scope).is_empty())
            || self.in_context(r, scope)
    }

    /// Whether a weak alias of `r` in `scope` counts in context (see
    /// [`crate::regions::Context`]): the article names no competing sense,
    /// and names a subdivision, city or neighbour, or a strong alias in any
    /// field.
    fn in_context(&mut self, r: &CompiledRegion, scope: Scope) -> bool {
        let Some(id) = r.context else {
            return false;
        };
        if self.alive(r, &r.weak, scope).is_empty() {
            return false;
        }
        let doc = self.doc;
        let m = self.m;
        let named = self
            .named
            .get_or_insert_with(|| m.context.scan([doc.title, doc.summary, doc.body]));
        match m.context.judge(id, named) {
            Some(verdict) => verdict,
            None => !self.alive(r, &r.strong, Scope::All).is_empty(),
        }
    }

    /// A region's hits when it holds: its strong aliases outside every
    /// exclusion, then its weak ones.
    fn region(&mut self, id: u32, scope: Scope) -> (bool, Vec<Occ>) {
        let m = self.m;
        let Some(r) = m.regions.get(id as usize) else {
            return (false, Vec::new());
        };
        let mut occs = self.alive(r, &r.strong, scope);
        if !self.tagged(r) && occs.is_empty() && !self.in_context(r, scope) {
            return (false, Vec::new());
        }
        occs.extend(self.alive(r, &r.weak, scope));
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
