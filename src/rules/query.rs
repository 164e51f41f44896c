//! The query AST: what a parsed rule means, independent of how it was
//! written, and its canonical text form (`Display`). [`Query`] keeps its
//! source text so positions (byte offset and column) can be reported for
//! errors found after parsing.

use std::fmt;

use super::error::{Span, column};
use crate::text::FieldName;

/// Where a text condition is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Scope {
    /// Title, summary and body (the default).
    All,
    /// One field only (`title:x`).
    Only(FieldName),
}

impl Scope {
    /// Whether `field` is searched.
    pub fn contains(self, field: FieldName) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(f) => f == field,
        }
    }

    /// The narrower of two scopes, or `None` when they exclude each other.
    pub fn intersect(self, other: Scope) -> Option<Scope> {
        match (self, other) {
            (Scope::All, s) | (s, Scope::All) => Some(s),
            (Scope::Only(a), Scope::Only(b)) => (a == b).then_some(self),
        }
    }
}

/// Consecutive words; a single word is a one-word phrase.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phrase {
    /// Normalised words ([`crate::text::fold`] of each query word).
    pub words: Vec<String>,
    /// With `case:`, the words as written; the text must match them exactly.
    pub exact: Option<Vec<String>>,
    /// The last word is a prefix (`armen*`).
    pub prefix_last: bool,
}

impl Phrase {
    /// The phrase of `text`'s words (see [`crate::text::tokenize`]); `None`
    /// if it has no words. `exact` keeps the words as written (`case:`);
    /// `prefix_last` makes the last word a prefix.
    pub fn of_text(text: &str, exact: bool, prefix_last: bool) -> Option<Phrase> {
        let tokens = crate::text::tokenize(text);
        if tokens.is_empty() {
            return None;
        }
        Some(Phrase {
            words: tokens.iter().map(|t| t.norm.clone()).collect(),
            exact: exact.then(|| {
                tokens
                    .iter()
                    .map(|t| text[t.start..t.end].to_string())
                    .collect()
            }),
            prefix_last,
        })
    }
}

/// A parsed query expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A word, phrase or prefix in some fields.
    Text {
        phrase: Phrase,
        scope: Scope,
        span: Span,
    },
    /// Two text terms at most `distance` word positions apart, in one field.
    Near {
        left: Phrase,
        right: Phrase,
        distance: u32,
        scope: Scope,
        span: Span,
    },
    /// `region:NAME`, resolved against the gazetteer when compiled.
    Region {
        name: String,
        scope: Scope,
        span: Span,
    },
    /// `lang:CODE`, lower-case with `-` between subtags.
    Lang {
        code: String,
        span: Span,
    },
    /// `source:DOMAIN`, lower-case, without `www.`.
    Source {
        domain: String,
        span: Span,
    },
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>, Span),
}

impl Expr {
    /// Apply a field scope to every text condition; `Err(offset)` when
    /// an inner scope conflicts with it.
    pub(super) fn scoped(self, outer: Scope) -> Result<Expr, usize> {
        let narrow = |s: Scope, at: Span| s.intersect(outer).ok_or(at.start);
        Ok(match self {
            Expr::Text {
                phrase,
                scope,
                span: s,
            } => Expr::Text {
                phrase,
                scope: narrow(scope, s)?,
                span: s,
            },
            Expr::Near {
                left,
                right,
                distance,
                scope,
                span: s,
            } => Expr::Near {
                left,
                right,
                distance,
                scope: narrow(scope, s)?,
                span: s,
            },
            Expr::Region {
                name,
                scope,
                span: s,
            } => Expr::Region {
                name,
                scope: narrow(scope, s)?,
                span: s,
            },
            Expr::And(items) => Expr::And(
                items
                    .into_iter()
                    .map(|i| i.scoped(outer))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Or(items) => Expr::Or(
                items
                    .into_iter()
                    .map(|i| i.scoped(outer))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Not(inner, s) => Expr::Not(Box::new(inner.scoped(outer)?), s),
            other @ (Expr::Lang { .. } | Expr::Source { .. }) => other,
        })
    }

    /// The part of the query source this expression was parsed from.
    pub fn span(&self) -> Span {
        match self {
            Expr::Text { span, .. }
            | Expr::Near { span, .. }
            | Expr::Region { span, .. }
            | Expr::Lang { span, .. }
            | Expr::Source { span, .. }
            | Expr::Not(_, span) => *span,
            Expr::And(items) | Expr::Or(items) => match (items.first(), items.last()) {
                (Some(a), Some(b)) => Span {
                    start: a.span().start,
                    end: b.span().end,
                },
                _ => Span { start: 0, end: 0 },
            },
        }
    }
}

/// A parsed query together with its source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub(super) source: String,
    pub(super) root: Expr,
}

impl Query {
    /// The root expression.
    pub fn root(&self) -> &Expr {
        &self.root
    }

    /// The text the query was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// 1-based column (in characters, counted from the last line break) of
    /// byte `offset` of the source.
    pub fn column(&self, offset: usize) -> usize {
        column(&self.source, offset)
    }
}

impl fmt::Display for Phrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = self.exact.as_ref().unwrap_or(&self.words);
        if self.exact.is_some() {
            f.write_str("case:")?;
        }
        let star = if self.prefix_last { "*" } else { "" };
        match words.as_slice() {
            [w] => write!(f, "{w}{star}"),
            _ => write!(f, "\"{}{star}\"", words.join(" ")),
        }
    }
}

fn scope_prefix(scope: Scope) -> &'static str {
    match scope {
        Scope::All => "",
        Scope::Only(FieldName::Title) => "title:",
        Scope::Only(FieldName::Summary) => "summary:",
        Scope::Only(FieldName::Body) => "body:",
    }
}

/// Canonical form: parses back to an equivalent query.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Text { phrase, scope, .. } => write!(f, "{}{phrase}", scope_prefix(*scope)),
            Expr::Near {
                left,
                right,
                distance,
                scope,
                ..
            } => {
                let p = scope_prefix(*scope);
                write!(f, "{p}{left} NEAR/{distance} {p}{right}")
            }
            Expr::Region { name, scope, .. } => {
                write!(
                    f,
                    "{}region:\"{}\"",
                    scope_prefix(*scope),
                    name.replace('"', "")
                )
            }
            Expr::Lang { code, .. } => write!(f, "lang:{code}"),
            Expr::Source { domain, .. } => write!(f, "source:{domain}"),
            Expr::And(items) | Expr::Or(items) => {
                let op = if matches!(self, Expr::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(op)?;
                    }
                    if matches!(item, Expr::And(_) | Expr::Or(_)) {
                        write!(f, "({item})")?;
                    } else {
                        write!(f, "{item}")?;
                    }
                }
                Ok(())
            }
            Expr::Not(inner, _) => match **inner {
                Expr::And(_) | Expr::Or(_) => write!(f, "NOT ({inner})"),
                _ => write!(f, "NOT {inner}"),
            },
        }
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.root.fmt(f)
    }
}
