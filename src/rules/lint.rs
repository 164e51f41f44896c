//! Checks for `newsalert check`: queries that parse but can never match,
//! match almost everything, or probably do not mean what they say.

use std::fmt;

use super::lexer::{Tok, lex};
use super::query::{Expr, Query};

/// How bad a lint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Probably not what was meant, or far too broad.
    Warning,
    /// The rule can never match.
    Error,
}

/// One finding, at a byte offset (and 1-based column) of the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lint {
    pub severity: Severity,
    pub offset: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{sev}: col {}: {}", self.column, self.message)
    }
}

/// Words too common to alert on (English and Russian), normalised.
const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "of", "and", "or", "in", "on", "at", "to", "for", "by", "with", "from", "is",
    "are", "was", "be", "as", "it", "that", "this", "not", "и", "в", "во", "на", "с", "со", "по",
    "к", "о", "об", "не", "что", "это", "а", "но", "из", "у", "за", "для", "от", "или",
];

/// Findings for `query`, in source order.
pub fn lint(query: &Query) -> Vec<Lint> {
    let mut out = Vec::new();
    let mut push = |severity, offset: usize, message: String| {
        out.push(Lint {
            severity,
            offset,
            column: query.column(offset),
            message,
        });
    };
    let root = query.root();
    contradictions(root, &mut |offset, msg| push(Severity::Error, offset, msg));
    if !needs_positive(root) {
        push(
            Severity::Warning,
            root.span().start,
            "no positive condition: matches almost every article".to_string(),
        );
    }
    let mut positives = Vec::new();
    positive_leaves(root, &mut positives);
    let stop_only = !positives.is_empty()
        && positives.iter().all(|e| match e {
            Expr::Text { phrase, .. } => {
                !phrase.prefix_last
                    && phrase
                        .words
                        .iter()
                        .all(|w| STOP_WORDS.contains(&w.as_str()))
            }
            Expr::Near { left, right, .. } => left
                .words
                .iter()
                .chain(&right.words)
                .all(|w| STOP_WORDS.contains(&w.as_str())),
            _ => false,
        });
    if stop_only {
        push(
            Severity::Warning,
            root.span().start,
            "made only of stop words: matches almost every article".into(),
        );
    }
    for e in &positives {
        if let Expr::Text { phrase, span, .. } = e
            && phrase.prefix_last
            && phrase.words.last().is_some_and(|w| w.chars().count() < 2)
        {
            push(
                Severity::Warning,
                span.start,
                format!("prefix '{phrase}' matches very many words"),
            );
        }
    }
    if let Ok(toks) = lex(query.source()) {
        let mut prev_field_end = None;
        for l in toks {
            if let Tok::Word { text, .. } = l.tok
                && prev_field_end != Some(l.start)
                && let Some((name, _)) = text.split_once(':')
                && !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphabetic())
                && !text.contains("://")
            {
                push(
                    Severity::Warning,
                    l.start,
                    format!(
                        "'{name}:' is not a field (title, summary, body, case, region, lang, \
                         source); '{text}' is searched as words"
                    ),
                );
            }
            prev_field_end = matches!(l.tok, Tok::Field(_)).then_some(l.end);
        }
    }
    out.sort_by_key(|l| l.offset);
    out
}

/// `x AND NOT x` anywhere in the tree.
fn contradictions(e: &Expr, report: &mut dyn FnMut(usize, String)) {
    match e {
        Expr::And(items) => {
            for item in items {
                if let Expr::Not(inner, span) = item {
                    let inner_text = inner.to_string();
                    if items.iter().any(|other| other.to_string() == inner_text) {
                        report(
                            span.start,
                            format!(
                                "can never match: '{inner_text}' is both required and excluded"
                            ),
                        );
                    }
                }
                contradictions(item, report);
            }
        }
        Expr::Or(items) => items.iter().for_each(|i| contradictions(i, report)),
        Expr::Not(inner, _) => contradictions(inner, report),
        _ => {}
    }
}

/// Whether every match needs some positive condition to hold.
fn needs_positive(e: &Expr) -> bool {
    match e {
        Expr::And(items) => items.iter().any(needs_positive),
        Expr::Or(items) => items.iter().all(needs_positive),
        Expr::Not(..) => false,
        _ => true,
    }
}

/// Leaves not under NOT.
fn positive_leaves<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match e {
        Expr::And(items) | Expr::Or(items) => items.iter().for_each(|i| positive_leaves(i, out)),
        Expr::Not(..) => {}
        leaf => out.push(leaf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse;

    #[test]
    fn findings() {
        type Want = (Severity, usize, &'static str);
        let cases: &[(&str, &[Want])] = &[
            ("azerbaijan", &[]),
            ("x AND NOT x", &[(Severity::Error, 6, "can never match")]),
            (
                "(x OR y) -(x OR y)",
                &[(Severity::Error, 9, "can never match")],
            ),
            (
                "NOT sport",
                &[(Severity::Warning, 0, "no positive condition")],
            ),
            (
                "x OR -y",
                &[(Severity::Warning, 0, "no positive condition")],
            ),
            ("the OR и", &[(Severity::Warning, 0, "stop words")]),
            ("\"of the\" lang:en", &[]),
            ("a*", &[(Severity::Warning, 0, "very many words")]),
            (
                "foo:bar baku",
                &[(Severity::Warning, 0, "'foo:' is not a field")],
            ),
            ("https://example.com 10:30 source:example.com", &[]),
        ];
        for (q, want) in cases {
            let got = lint(&parse(q).expect(q));
            assert_eq!(got.len(), want.len(), "{q}: {got:?}");
            for (g, (sev, off, msg)) in got.iter().zip(*want) {
                assert_eq!((g.severity, g.offset), (*sev, *off), "{q}: {g:?}");
                assert!(g.message.contains(msg), "{q}: {g:?}");
            }
        }
    }
}
