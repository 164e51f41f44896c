//! Per-article evaluation: [`Matcher::find`] evaluates the candidate rules
//! of a [`DocIndex`] (existence first, hits only for rules that hold), and
//! the boolean, `NEAR` and region conditions are checked from the
//! article's phrase occurrences only.

use super::doc_index::{DocIndex, Occ, field_at};
use super::domain::within;
use super::hasher::FastMap;
use super::layout::{CompiledRegion, Matcher, NO_TERM, Node, PhraseId};
use super::query::Scope;
use super::{Document, Hit, RuleMatch};

impl Matcher {
    /// Rules matching `doc`, sorted by rule index.
    pub fn find(&self, doc: &Document<'_>) -> Vec<RuleMatch> {
        let mut out = Vec::new();
        self.find_each(doc, |rule, hits, _| {
            out.push(RuleMatch {
                rule,
                hits: hits.to_vec(),
            })
        });
        out
    }

    /// The rules matching `doc`, in compile order, as [`Matcher::find`]
    /// finds them but without their hits (cheaper when ~2 000 rules match
    /// an article: only whether each candidate holds is evaluated; no
    /// occurrence list is built, no hit collected).
    pub fn find_rules(&self, doc: &Document<'_>) -> Vec<usize> {
        let mut index = DocIndex::new(self, doc);
        let mut out = Vec::new();
        for rule in index.candidates() {
            if index.eval(&self.roots[rule as usize]) {
                out.push(rule as usize);
            }
        }
        out
    }

    /// [`Matcher::find`] without building its result: `each(rule, hits,
    /// leaf)` for every matching rule in compile order, its hits sorted and
    /// deduplicated (at 100k rules an article matches ~2 000 rules: `match`
    /// writes them as they come instead of allocating a hit list for
    /// each). A rule that is one phrase (a word, a prefix, a phrase) gets
    /// that phrase's hits, worked out once per article and shared by the
    /// rules naming it, and `leaf` numbers it (from 0, per article): the
    /// same `leaf`, the same hits, so a caller may render them once too.
    pub fn find_each(&self, doc: &Document<'_>, mut each: impl FnMut(usize, &[Hit], Option<u32>)) {
        // Taken, not borrowed: an `each` that matched again on this
        // thread would get fresh lists instead of a panic.
        let mut scratch = SCRATCH.take();
        {
            let Scratch {
                hits,
                leaf_hits,
                leaves,
            } = &mut scratch;
            leaf_hits.clear();
            leaves.clear();
            let mut index = DocIndex::new(self, doc);
            for rule in index.candidates() {
                let root = &self.roots[rule as usize];
                hits.clear();
                if let Node::Phrase { phrase, scope, .. } = root {
                    let known = leaf_hits.len() as u32;
                    let (from, to, leaf) =
                        *leaf_hits.entry((*phrase, *scope)).or_insert_with(|| {
                            let from = leaves.len() as u32;
                            index.phrase_hits(root, leaves);
                            (from, leaves.len() as u32, known)
                        });
                    if from < to {
                        each(
                            rule as usize,
                            &leaves[from as usize..to as usize],
                            Some(leaf),
                        );
                    }
                    continue;
                }
                // Cheap existence checks first; hits only for rules that hold.
                if !index.eval(root) {
                    continue;
                }
                index.collect_hits(root, hits);
                hits.sort_unstable();
                hits.dedup();
                each(rule as usize, hits, None);
            }
        }
        SCRATCH.set(scratch);
    }
}

thread_local! {
    /// Each matching thread's working lists for [`Matcher::find_each`],
    /// kept from article to article (a table sized for ~2 500 candidates
    /// allocated afresh per article cost page faults at 100k rules).
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// [`Matcher::find_each`]'s working lists.
#[derive(Default)]
struct Scratch {
    hits: Vec<Hit>,
    /// Each one-phrase root's hits in its scope: a range of `leaves`
    /// (empty when it does not occur) and its number.
    leaf_hits: FastMap<(PhraseId, Scope), (u32, u32, u32)>,
    leaves: Vec<Hit>,
}

impl<'m> DocIndex<'m, '_> {
    /// Whether `node` holds for this article.
    pub(super) fn eval(&mut self, node: &'m Node) -> bool {
        match node {
            Node::And(items) => items.iter().all(|n| self.eval(n)),
            Node::Or(items) => items.iter().any(|n| self.eval(n)),
            Node::Not(inner) => !self.eval(inner),
            Node::Lang { code } => self.doc.language.is_some_and(|l| lang_matches(l, code)),
            Node::Source { domain } => self.hosts.iter().any(|h| within(h, domain)),
            Node::Region { region, scope, .. } => self.region(*region, *scope).0,
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
            Node::Phrase { .. } => self.phrase_hits(node, out),
            Node::Region { region, scope, .. } => {
                let (_, from, to) = self.region(*region, *scope);
                for &o in self.slice((from, to)) {
                    out.push(self.hit(o));
                }
            }
            _ => {
                let (_, occs) = self.leaf(node);
                out.extend(occs.into_iter().map(|o| self.hit(o)));
            }
        }
    }

    /// Each occurrence of a phrase leaf (a word, a prefix, a phrase) in its
    /// scope, in text order, to `f`; nothing for other nodes.
    fn phrase_occs(&mut self, node: &'m Node, mut f: impl FnMut(&Self, Occ)) {
        match node {
            Node::Phrase { word, scope, .. } if *word != NO_TERM => {
                for &(_, field, pos) in self.anchor_occ(*word) {
                    if scope.contains(field_at(field as usize)) {
                        let (first, last) = (pos as usize, pos as usize);
                        let field = field as usize;
                        f(self, Occ { field, first, last });
                    }
                }
            }
            Node::Phrase { phrase, scope, .. } => {
                let range = self.phrase(*phrase);
                for &o in self.slice(range) {
                    if scope.contains(field_at(o.field)) {
                        f(self, o);
                    }
                }
            }
            _ => {}
        }
    }

    /// Append the hits of a phrase leaf to `out`: already sorted and
    /// distinct (its occurrences are found in text order, one per
    /// position), so nothing to sort.
    pub(super) fn phrase_hits(&mut self, node: &'m Node, out: &mut Vec<Hit>) {
        let from = out.len();
        self.phrase_occs(node, |ix, o| out.push(ix.hit(o)));
        debug_assert!(out[from..].windows(2).all(|w| w[0] < w[1]));
    }

    /// For a text or region leaf: whether it holds and its occurrences.
    pub(super) fn leaf(&mut self, node: &'m Node) -> (bool, Vec<Occ>) {
        match node {
            Node::Phrase { .. } => {
                let mut occs = Vec::new();
                self.phrase_occs(node, |_, o| occs.push(o));
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
            Node::Region { region, scope, .. } => {
                let (holds, from, to) = self.region(*region, *scope);
                (holds, self.slice((from, to)).to_vec())
            }
            other => (self.eval(other), Vec::new()),
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

    /// Whether a region holds (the producer tagged it, a strong alias
    /// occurs outside every exclusion, or a weak one counts in context)
    /// and, when it does, its occurrences: its strong aliases outside
    /// every exclusion, then its weak ones (a range of `occs`). Worked out
    /// once per article for each region and scope.
    fn region(&mut self, id: u32, scope: Scope) -> (bool, u32, u32) {
        if let Some(&known) = self.regions.get(&(id, scope)) {
            return known;
        }
        let m = self.m;
        let found = match m.regions.get(id as usize) {
            None => None,
            Some(r) => {
                let mut occs = self.alive(r, &r.strong, scope);
                if self.tagged(r) || !occs.is_empty() || self.in_context(r, scope) {
                    occs.extend(self.alive(r, &r.weak, scope));
                    Some(occs)
                } else {
                    None
                }
            }
        };
        let from = self.occs.len() as u32;
        if let Some(occs) = &found {
            self.occs.extend_from_slice(occs);
        }
        let known = (found.is_some(), from, self.occs.len() as u32);
        self.regions.insert((id, scope), known);
        known
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
