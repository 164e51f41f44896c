//! A deliberately simple evaluator for tests: walks the AST and scans every
//! token of every field for every condition, with no index and no
//! presearch. The matcher must agree with it on every input.

use super::domain::{normalize_host, within};
use super::query::{Expr, Phrase, Scope};
use super::{Document, Hit};
use crate::regions::{Gazetteer, Strength};
use crate::text::FieldName;

type Occ = (FieldName, usize, usize);

/// Whether `e` holds for `doc`, and its hits (empty when it does not hold).
pub(super) fn eval(e: &Expr, doc: &Document<'_>, gaz: &Gazetteer) -> (bool, Vec<Hit>) {
    let ok = holds(e, doc, gaz);
    let mut hits = Vec::new();
    if ok {
        collect(e, doc, gaz, &mut hits);
    }
    hits.sort_unstable();
    hits.dedup();
    (ok, hits)
}

fn holds(e: &Expr, doc: &Document<'_>, gaz: &Gazetteer) -> bool {
    match e {
        Expr::And(items) => items.iter().all(|i| holds(i, doc, gaz)),
        Expr::Or(items) => items.iter().any(|i| holds(i, doc, gaz)),
        Expr::Not(inner, _) => !holds(inner, doc, gaz),
        Expr::Lang { code, .. } => doc.language.is_some_and(|l| {
            let l = l.trim().to_ascii_lowercase().replace('_', "-");
            l == *code || l.starts_with(&format!("{code}-"))
        }),
        Expr::Source { domain, .. } => [doc.source, doc.url]
            .into_iter()
            .flatten()
            .filter_map(normalize_host)
            .any(|h| within(&h, domain)),
        leaf => leaf_occs(leaf, doc, gaz).0,
    }
}

fn collect(e: &Expr, doc: &Document<'_>, gaz: &Gazetteer, out: &mut Vec<Hit>) {
    match e {
        Expr::And(items) | Expr::Or(items) => {
            for i in items.iter().filter(|i| holds(i, doc, gaz)) {
                collect(i, doc, gaz, out);
            }
        }
        Expr::Not(..) | Expr::Lang { .. } | Expr::Source { .. } => {}
        leaf => {
            for (field, first, last) in leaf_occs(leaf, doc, gaz).1 {
                let tokens = &doc.field(field).tokens;
                out.push(Hit {
                    field,
                    start: tokens[first].start,
                    end: tokens[last].end,
                });
            }
        }
    }
}

fn leaf_occs(e: &Expr, doc: &Document<'_>, gaz: &Gazetteer) -> (bool, Vec<Occ>) {
    match e {
        Expr::Text { phrase, scope, .. } => {
            let occs = occurrences(phrase, doc, *scope);
            (!occs.is_empty(), occs)
        }
        Expr::Near {
            left,
            right,
            distance,
            scope,
            ..
        } => {
            let (a, b) = (
                occurrences(left, doc, *scope),
                occurrences(right, doc, *scope),
            );
            let d = *distance as usize;
            let close = |x: &Occ, y: &Occ| {
                x.0 == y.0 && ((y.1 > x.2 && y.1 - x.2 <= d) || (x.1 > y.2 && x.1 - y.2 <= d))
            };
            let mut occs: Vec<Occ> = a
                .iter()
                .filter(|x| b.iter().any(|y| close(x, y)))
                .copied()
                .collect();
            occs.extend(b.iter().filter(|y| a.iter().any(|x| close(x, y))));
            (!occs.is_empty(), occs)
        }
        Expr::Region { name, scope, .. } => {
            let Some(r) = gaz.resolve(name) else {
                return (false, Vec::new());
            };
            let tagged = doc
                .regions
                .iter()
                .any(|t| r.tags.iter().any(|rt| rt.eq_ignore_ascii_case(t.trim())));
            let excl: Vec<Occ> = r
                .exclusions
                .iter()
                .flat_map(|x| occurrences(&phrase_of(x, false), doc, Scope::All))
                .collect();
            let alive = |strength: Strength, scope: Scope| -> Vec<Occ> {
                r.aliases
                    .iter()
                    .filter(|a| {
                        a.strength == strength && !phrase_of(&a.text, false).words.is_empty()
                    })
                    .flat_map(|a| {
                        let p = phrase_of(&a.text, a.exact_case);
                        occurrences_caps(&p, doc, scope, a.exact_case)
                    })
                    .filter(|o| !excl.iter().any(|x| x.0 == o.0 && x.1 <= o.1 && o.2 <= x.2))
                    .collect()
            };
            let mut occs = alive(Strength::Strong, *scope);
            let weak = alive(Strength::Weak, *scope);
            let ctx = gaz.context();
            let in_context = !weak.is_empty()
                && ctx.id(&r.key).is_some_and(|id| {
                    let named = ctx.scan([doc.title, doc.summary, doc.body]);
                    ctx.judge(id, &named)
                        .unwrap_or_else(|| !alive(Strength::Strong, Scope::All).is_empty())
                });
            if !tagged && occs.is_empty() && !in_context {
                return (false, Vec::new());
            }
            occs.extend(weak);
            (true, occs)
        }
        _ => (false, Vec::new()),
    }
}

fn phrase_of(text: &str, exact: bool) -> Phrase {
    Phrase::of_text(text, exact, false).unwrap_or(Phrase {
        words: Vec::new(),
        exact: None,
        prefix_last: false,
    })
}

/// Every (field, first, last) where `p` occurs within `scope`.
fn occurrences(p: &Phrase, doc: &Document<'_>, scope: Scope) -> Vec<Occ> {
    occurrences_caps(p, doc, scope, false)
}

/// [`occurrences`]; with `caps`, an exact-case phrase also matches in upper
/// case in an all-caps title.
fn occurrences_caps(p: &Phrase, doc: &Document<'_>, scope: Scope, caps: bool) -> Vec<Occ> {
    let mut out = Vec::new();
    for field in FieldName::ALL.into_iter().filter(|f| scope.contains(*f)) {
        let f = doc.field(field);
        let n = p.words.len();
        for start in 0..f.tokens.len() {
            let fits = (0..n).all(|i| {
                let Some(tok) = f.tokens.get(start + i) else {
                    return false;
                };
                let word_ok = if p.prefix_last && i + 1 == n {
                    tok.norm.starts_with(&p.words[i])
                } else {
                    tok.norm == p.words[i]
                };
                let written = &f.clean[tok.start..tok.end];
                let shouting =
                    caps && field == FieldName::Title && crate::regions::all_caps(&f.clean);
                let case_ok = p.exact.as_ref().is_none_or(|ex| {
                    written == ex[i] || (shouting && written == ex[i].to_uppercase())
                });
                word_ok && case_ok
            });
            if fits && n > 0 {
                out.push((field, start, start + n - 1));
            }
        }
    }
    out
}
