//! What one article offers the matcher, built once per article: one pass
//! over each field's tokens records where the matcher's anchor terms occur
//! and which rules they (and the article's language, source and region
//! tags) make candidates; phrases are then looked up from those anchor
//! occurrences, once per article.

use super::domain::{normalize_host, suffixes};
use super::hasher::FastMap;
use super::layout::{Matcher, PhraseId, RuleId, TermId};
use super::query::Scope;
use super::{Document, Hit};
use crate::text::FieldName;

/// An occurrence of a phrase: field index (in [`FieldName::ALL`] order)
/// and its first and last token positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Occ {
    pub field: usize,
    pub first: usize,
    pub last: usize,
}

/// The field at `index` in [`FieldName::ALL`] order.
pub(super) fn field_at(index: usize) -> FieldName {
    FieldName::ALL
        .get(index)
        .copied()
        .unwrap_or(FieldName::Body)
}

/// What one article offers the matcher; built once per article.
pub(super) struct DocIndex<'m, 'd> {
    pub(super) m: &'m Matcher,
    pub(super) doc: Document<'d>,
    /// (term, field index, token position) of each anchor term, sorted.
    occ: Vec<(TermId, u32, u32)>,
    /// The range of `occ` of each term that occurs.
    term_occ: FastMap<TermId, (u32, u32)>,
    /// Occurrences of the phrases looked up so far: a range of `occs`.
    memo: FastMap<PhraseId, (u32, u32)>,
    /// Each region looked up so far, per scope: whether it holds and its
    /// occurrences (a range of `occs`). Many rules name the same region,
    /// whose aliases are dozens of phrases: worked out once per article
    /// (at 100k rules, redoing it per rule was a third of `match`'s
    /// instructions).
    pub(super) regions: FastMap<(u32, Scope), (bool, u32, u32)>,
    pub(super) occs: Vec<Occ>,
    pub(super) hosts: Vec<String>,
    candidates: Vec<RuleId>,
    /// What the article names for weak names in context; scanned the first
    /// time a context region's weak alias is found.
    pub(super) named: Option<crate::regions::Named>,
}

/// A [`DocIndex`]'s lists, kept per thread from article to article
/// (emptied, their capacity and the tables' buckets kept): allocating and
/// growing them afresh for each article was ~3 % of `match`'s time.
#[derive(Default)]
struct Lists {
    occ: Vec<(TermId, u32, u32)>,
    term_occ: FastMap<TermId, (u32, u32)>,
    memo: FastMap<PhraseId, (u32, u32)>,
    regions: FastMap<(u32, Scope), (bool, u32, u32)>,
    occs: Vec<Occ>,
}

/// Lists longer than this (an unusually large article) are not kept.
const KEEP_AT_MOST: usize = 1 << 16;

thread_local! {
    static LISTS: std::cell::RefCell<Option<Lists>> = const { std::cell::RefCell::new(None) };
}

impl Drop for DocIndex<'_, '_> {
    fn drop(&mut self) {
        if self.occ.capacity() > KEEP_AT_MOST || self.occs.capacity() > KEEP_AT_MOST {
            return;
        }
        let mut lists = Lists {
            occ: std::mem::take(&mut self.occ),
            term_occ: std::mem::take(&mut self.term_occ),
            memo: std::mem::take(&mut self.memo),
            regions: std::mem::take(&mut self.regions),
            occs: std::mem::take(&mut self.occs),
        };
        lists.occ.clear();
        lists.term_occ.clear();
        lists.memo.clear();
        lists.regions.clear();
        lists.occs.clear();
        // Not at all while the thread is being torn down.
        let _ = LISTS.try_with(|l| *l.borrow_mut() = Some(lists));
    }
}

impl<'m, 'd> DocIndex<'m, 'd> {
    pub(super) fn new(m: &'m Matcher, doc: &Document<'d>) -> DocIndex<'m, 'd> {
        let lists = LISTS
            .try_with(|l| l.borrow_mut().take())
            .ok()
            .flatten()
            .unwrap_or_default();
        let mut ix = DocIndex {
            m,
            doc: *doc,
            occ: lists.occ,
            term_occ: lists.term_occ,
            memo: lists.memo,
            regions: lists.regions,
            occs: lists.occs,
            hosts: Vec::new(),
            candidates: m.always.clone(),
            named: None,
        };
        for (fi, field) in FieldName::ALL.iter().enumerate() {
            for (pos, tok) in doc.field(*field).tokens.iter().enumerate() {
                let at = (fi as u32, pos as u32);
                if m.word_heads.may_contain(tok.norm)
                    && m.word_bloom.may_contain(tok.norm)
                    && let Some(&t) = m.words.get(tok.norm)
                {
                    ix.occ.push((t, at.0, at.1));
                }
                let occ = &mut ix.occ;
                m.prefixes
                    .each_match(tok.norm, |t| occ.push((t, at.0, at.1)));
            }
        }
        ix.occ.sort_unstable();
        // Sized once (no rehash while filling): a term's run is short, so
        // it is walked rather than searched.
        let distinct = 1 + ix.occ.windows(2).filter(|w| w[0].0 != w[1].0).count();
        ix.term_occ.reserve(distinct);
        ix.memo.reserve(distinct);
        let mut from = 0;
        while let Some(&(t, _, _)) = ix.occ.get(from) {
            let to = from + ix.occ[from..].iter().take_while(|o| o.0 == t).count();
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

    /// Rules the presearcher selected, sorted and deduplicated: by
    /// sorting when they are few; through a bitmap of all rules when they
    /// are many for the rule count (100k rules: thousands, with repeats,
    /// where sorting was a tenth of the matching).
    pub(super) fn candidates(&mut self) -> Vec<RuleId> {
        let mut c = std::mem::take(&mut self.candidates);
        let words = self.m.rule_count().div_ceil(64);
        if c.len() < 64 || words > c.len() * 4 {
            c.sort_unstable();
            c.dedup();
            return c;
        }
        let mut bits = vec![0u64; words];
        for &r in &c {
            if let Some(w) = bits.get_mut(r as usize / 64) {
                *w |= 1 << (r % 64);
            }
        }
        c.clear();
        for (i, &w) in bits.iter().enumerate() {
            let mut w = w;
            while w != 0 {
                c.push((i * 64) as RuleId + w.trailing_zeros());
                w &= w - 1;
            }
        }
        c
    }

    /// (field, position) of each occurrence of anchor term `t`.
    pub(super) fn anchor_occ(&self, t: TermId) -> &[(TermId, u32, u32)] {
        match self.term_occ.get(&t) {
            Some(&(from, to)) => &self.occ[from as usize..to as usize],
            None => &[],
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

    pub(super) fn slice(&self, (from, to): (u32, u32)) -> &[Occ] {
        &self.occs[from as usize..to as usize]
    }

    /// Whether phrase `id` occurs in a field of `scope`. A plain word is
    /// its anchor's occurrences: no neighbours to check, nothing to store.
    pub(super) fn phrase_in(&mut self, id: PhraseId, scope: Scope) -> bool {
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
    pub(super) fn phrase(&mut self, id: PhraseId) -> (u32, u32) {
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
                .all(|(i, (&t, tok))| i == anchor || m.term_matches(t, tok.norm));
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
}
