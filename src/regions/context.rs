//! Regions in context: when a weak name (`Georgia`, `Jordan`, `Chad`)
//! counts for its country although no strong alias is in the searched
//! fields.
//!
//! A weak name of a country listed in `context.tsv` counts when the same
//! article (any field) also names
//!
//! - a strong alias of the country (checked by the matcher, which has
//!   those phrases compiled already),
//! - one of its first-level subdivisions or cities (evidence only: they
//!   never satisfy `region:` alone): `Borjomi`, `Kakheti`, `Zarqa`, or
//! - a neighbouring country, by any of its strong aliases: `Armenia`,
//!   `Baku`, `Türkiye` for Georgia,
//!
//! and does not when the article names the competing sense: another US
//! state or a city of the US state next to `Georgia` (`Atlanta`,
//! `Savannah`), `Michael` or `NBA` next to `Jordan`. A competitor wins over
//! evidence.
//!
//! Phrases are compared on the matcher's normalised tokens (word
//! boundaries; exact case where the alias demands it). [`Context::scan`]
//! makes one pass over an article's tokens with one hash lookup each; the
//! matcher calls it only for an article in which a weak name was found.

use std::collections::HashMap;

use super::{Gazetteer, Strength};
use crate::text::{PreparedField, TokenRef, TokenSlice, tokenize};

pub(super) const DATA: &str = include_str!("context.tsv");

/// What an article's phrase says about a context country.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Says {
    /// A competing sense of country `.0` is named.
    Against(u16),
    /// A subdivision or city of country `.0` is named.
    Evidence(u16),
    /// Neighbour `.0` (see [`Country::neighbours`]) is named.
    Names(u16),
}

/// A country whose weak names may count in context.
#[derive(Debug, Clone)]
struct Country {
    /// Ids of its neighbours in [`Says::Names`].
    neighbours: Box<[u16]>,
}

/// A phrase after its first word, and what it says.
#[derive(Debug, Clone)]
struct Entry {
    rest: Box<[Box<str>]>,
    /// All words as written, for an exact-case alias.
    exact: Option<Box<[Box<str>]>>,
    says: Says,
}

/// The context tables of the countries in `context.tsv`.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Context id by region key; countries by context id.
    ids: HashMap<Box<str>, u16>,
    countries: Vec<Country>,
    /// Entries by the normalised first word of their phrase (looked up
    /// for every token of an article: the fast hash, not SipHash).
    phrases: rustc_hash::FxHashMap<Box<str>, Vec<Entry>>,
}

/// What one article names, from [`Context::scan`].
#[derive(Debug, Clone, Default)]
pub struct Named(Vec<Says>);

impl Context {
    /// Parse `data` (the `context.tsv` format) against `gaz`, whose regions
    /// supply the neighbours' strong aliases. Unknown neighbours are skipped.
    pub(super) fn parse(data: &str, gaz: &Gazetteer) -> Context {
        let mut ctx = Context::default();
        let mut named: HashMap<&str, u16> = HashMap::new();
        let lines = data
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        for (id, line) in lines.enumerate() {
            let id = id as u16;
            let mut f = line.split('\t');
            let (key, neighbours) = (f.next().unwrap_or(""), f.next().unwrap_or(""));
            let mut ids = Vec::new();
            for code in neighbours.split(' ').filter(|c| !c.is_empty()) {
                let Some(region) = gaz.regions().iter().find(|r| r.key == code) else {
                    continue;
                };
                let next = named.len() as u16;
                let nid = *named.entry(code).or_insert(next);
                if nid == next {
                    for a in region
                        .aliases
                        .iter()
                        .filter(|a| a.strength == Strength::Strong)
                    {
                        ctx.add(&a.text, a.exact_case, Says::Names(nid));
                    }
                }
                ids.push(nid);
            }
            for text in f.next().unwrap_or("").split('|') {
                ctx.add(text, false, Says::Evidence(id));
            }
            for text in f.next().unwrap_or("").split('|') {
                ctx.add(text, false, Says::Against(id));
            }
            let neighbours = ids.into_boxed_slice();
            ctx.ids.insert(key.into(), id);
            ctx.countries.push(Country { neighbours });
        }
        ctx
    }

    fn add(&mut self, text: &str, exact: bool, says: Says) {
        let tokens = tokenize(text);
        let Some((first, rest)) = tokens.split_first() else {
            return;
        };
        let exact = exact.then(|| tokens.iter().map(|t| text[t.start..t.end].into()).collect());
        let rest = rest.iter().map(|t| t.norm.as_str().into()).collect();
        let entries = self.phrases.entry(first.norm.as_str().into()).or_default();
        entries.push(Entry { rest, exact, says });
    }

    /// The context id of region `key`: `None` when its weak names never
    /// count without a strong alias in the searched fields.
    pub fn id(&self, key: &str) -> Option<u16> {
        self.ids.get(key).copied()
    }

    /// One pass over the tokens of an article's title, summary and body:
    /// the phrases of the tables they name.
    pub fn scan(&self, fields: [&PreparedField; 3]) -> Named {
        let mut says = Vec::new();
        if self.phrases.is_empty() {
            return Named(says);
        }
        for (fi, field) in fields.into_iter().enumerate() {
            let tokens = &field.tokens;
            for (i, tok) in tokens.iter().enumerate() {
                let Some(entries) = self.phrases.get(tok.norm) else {
                    continue;
                };
                for e in entries {
                    let Some(window) = tokens.get(i..i + e.rest.len() + 1) else {
                        continue;
                    };
                    let words = e
                        .rest
                        .iter()
                        .zip(window.into_iter().skip(1))
                        .all(|(w, t)| **w == *t.norm);
                    let case = e.exact.as_ref().is_none_or(|exact| {
                        exact_case_matches(field, fi == 0, window, exact.iter().map(|w| &**w))
                    });
                    if words && case {
                        says.push(e.says);
                    }
                }
            }
        }
        says.sort_unstable();
        says.dedup();
        Named(says)
    }

    /// For context country `id` and what an article names: `Some(false)`
    /// when a competing sense is named, `Some(true)` when a subdivision,
    /// city or neighbour is, `None` when neither.
    pub fn judge(&self, id: u16, named: &Named) -> Option<bool> {
        if named.0.contains(&Says::Against(id)) {
            return Some(false);
        }
        let country = self.countries.get(usize::from(id))?;
        let evidence = named.0.iter().any(|s| match *s {
            Says::Evidence(c) => c == id,
            Says::Names(n) => country.neighbours.contains(&n),
            Says::Against(_) => false,
        });
        evidence.then_some(true)
    }
}

/// Whether `window`'s tokens of `field` are written as `words`; in an
/// all-caps `headline` (no lower-case letter at all) upper-case words count
/// too (`JORDAN` for `Jordan`).
pub fn exact_case_matches<'w>(
    field: &PreparedField,
    headline: bool,
    window: TokenSlice<'_>,
    words: impl Iterator<Item = &'w str> + Clone,
) -> bool {
    let text = |t: TokenRef<'_>| field.clean.get(t.start..t.end).unwrap_or("");
    if words.clone().zip(window).all(|(w, t)| text(t) == w) {
        return true;
    }
    headline
        && all_caps(&field.clean)
        && words
            .zip(window)
            .all(|(w, t)| text(t).chars().eq(w.chars().flat_map(char::to_uppercase)))
}

/// A shouting headline: it has letters and none of them is lower case.
pub fn all_caps(text: &str) -> bool {
    text.chars().any(char::is_uppercase) && !text.chars().any(char::is_lowercase)
}
