//! Query parser: lexemes → [`Expr`]. Precedence, loosest first: `OR`,
//! `AND` (or juxtaposition), `NOT` / `-`, `NEAR/n`, then terms and groups.

use super::domain::normalize_host;
use super::error::{QueryError, Span};
use super::lexer::{FieldKind, Lexeme, Tok, lex};
use super::query::{Expr, Phrase, Query, Scope};
use crate::text::FieldName;

/// Parse a query string.
///
/// # Errors
/// A [`QueryError`] with the byte offset and column of the first problem.
pub fn parse(src: &str) -> Result<Query, QueryError> {
    let toks = lex(src)?;
    if toks.is_empty() {
        return Err(QueryError::at(src, 0, "empty query"));
    }
    let mut p = Parser {
        src,
        toks,
        pos: 0,
        depth: 0,
    };
    let root = p.parse_or()?;
    if let Some(l) = p.peek() {
        // Only an unmatched ')' can stop the top-level OR early.
        return Err(p.err(l.start, "unmatched ')'"));
    }
    Ok(Query {
        source: src.to_string(),
        root,
    })
}

impl std::str::FromStr for Query {
    type Err = QueryError;
    fn from_str(s: &str) -> Result<Query, QueryError> {
        parse(s)
    }
}

/// Deepest nesting of groups and NOTs accepted (keeps recursion bounded).
const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Lexeme<'a>>,
    pos: usize,
    /// Current nesting of groups and NOTs.
    depth: usize,
}

fn op_name(tok: Tok<'_>) -> &'static str {
    match tok {
        Tok::And => "AND",
        Tok::Or => "OR",
        Tok::Not => "NOT",
        Tok::Minus => "'-'",
        _ => "NEAR",
    }
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Lexeme<'a>> {
        self.toks.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<Lexeme<'a>> {
        let l = self.peek();
        self.pos += usize::from(l.is_some());
        l
    }

    fn err(&self, offset: usize, msg: impl Into<String>) -> QueryError {
        QueryError::at(self.src, offset, msg)
    }

    /// Error unless a term can start at the current position; `op` is the
    /// operator that needs it.
    fn expect_operand(&self, op: Lexeme<'a>) -> Result<(), QueryError> {
        match self.peek().map(|l| l.tok) {
            None | Some(Tok::Or | Tok::And | Tok::RParen | Tok::Near(_)) => Err(self.err(
                op.start,
                format!("{} needs a term after it", op_name(op.tok)),
            )),
            _ => Ok(()),
        }
    }

    fn parse_or(&mut self) -> Result<Expr, QueryError> {
        let mut items = vec![self.parse_and()?];
        while let Some(op) = self.peek().filter(|l| l.tok == Tok::Or) {
            self.next();
            self.expect_operand(op)?;
            items.push(self.parse_and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn parse_and(&mut self) -> Result<Expr, QueryError> {
        let mut items = vec![self.parse_unary()?];
        loop {
            match self.peek() {
                Some(op) if op.tok == Tok::And => {
                    self.next();
                    self.expect_operand(op)?;
                }
                None
                | Some(Lexeme {
                    tok: Tok::Or | Tok::RParen,
                    ..
                }) => break,
                Some(_) => {}
            }
            items.push(self.parse_unary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn parse_unary(&mut self) -> Result<Expr, QueryError> {
        match self.peek() {
            Some(op) if matches!(op.tok, Tok::Not | Tok::Minus) => {
                self.next();
                self.expect_operand(op)?;
                self.enter(op.start)?;
                let inner = self.parse_unary()?;
                self.depth -= 1;
                let span = Span {
                    start: op.start,
                    end: inner.span().end,
                };
                Ok(Expr::Not(Box::new(inner), span))
            }
            _ => self.parse_near(),
        }
    }

    fn parse_near(&mut self) -> Result<Expr, QueryError> {
        let left = self.parse_primary()?;
        let Some(op) = self.peek().filter(|l| matches!(l.tok, Tok::Near(_))) else {
            return Ok(left);
        };
        let Tok::Near(distance) = op.tok else {
            return Ok(left);
        };
        self.next();
        self.expect_operand(op)?;
        let right = self.parse_primary()?;
        if let Some(again) = self.peek().filter(|l| matches!(l.tok, Tok::Near(_))) {
            return Err(self.err(
                again.start,
                "NEAR cannot be chained; combine pairs with AND",
            ));
        }
        let (
            Expr::Text {
                phrase: lp,
                scope: ls,
                span: lspan,
            },
            Expr::Text {
                phrase: rp,
                scope: rs,
                span: rspan,
            },
        ) = (&left, &right)
        else {
            let bad = if matches!(left, Expr::Text { .. }) {
                &right
            } else {
                &left
            };
            return Err(self.err(
                bad.span().start,
                "NEAR operands must be words, prefixes or phrases",
            ));
        };
        let scope = ls
            .intersect(*rs)
            .ok_or_else(|| self.err(op.start, "NEAR operands are in different fields"))?;
        Ok(Expr::Near {
            left: lp.clone(),
            right: rp.clone(),
            distance,
            scope,
            span: Span {
                start: lspan.start,
                end: rspan.end,
            },
        })
    }

    fn parse_primary(&mut self) -> Result<Expr, QueryError> {
        let Some(l) = self.next() else {
            return Err(self.err(self.src.len(), "expected a term at the end of the query"));
        };
        let span = Span {
            start: l.start,
            end: l.end,
        };
        match l.tok {
            Tok::LParen => self.parse_group(l),
            Tok::RParen => Err(self.err(l.start, "unmatched ')'")),
            Tok::Word { text, prefix } => self.text_term(text, l.start, prefix, false, span),
            Tok::Quoted { text, prefix } => self.text_term(text, l.start + 1, prefix, false, span),
            Tok::Field(kind) => self.parse_field(kind, l),
            Tok::And | Tok::Or | Tok::Near(_) => Err(self.err(
                l.start,
                format!("{} needs a term before it", op_name(l.tok)),
            )),
            Tok::Not | Tok::Minus => Err(self.err(l.start, "NOT cannot be used here")),
        }
    }

    fn enter(&mut self, at: usize) -> Result<(), QueryError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(at, format!("nested more than {MAX_DEPTH} levels deep")));
        }
        Ok(())
    }

    fn parse_group(&mut self, open: Lexeme<'a>) -> Result<Expr, QueryError> {
        if self.peek().is_some_and(|l| l.tok == Tok::RParen) {
            return Err(self.err(open.start, "empty parentheses"));
        }
        if self.peek().is_none() {
            return Err(self.err(open.start, "unclosed '('"));
        }
        self.enter(open.start)?;
        let inner = self.parse_or()?;
        self.depth -= 1;
        match self.next() {
            Some(l) if l.tok == Tok::RParen => Ok(inner),
            _ => Err(self.err(open.start, "unclosed '(': add a matching ')'")),
        }
    }

    /// A word or phrase (`text` starts at byte `at`) as a text term.
    fn text_term(
        &self,
        text: &str,
        at: usize,
        prefix: bool,
        exact: bool,
        span: Span,
    ) -> Result<Expr, QueryError> {
        if exact && prefix {
            return Err(self.err(at, "case: does not support prefixes ('*')"));
        }
        let Some(phrase) = Phrase::of_text(text, exact, prefix) else {
            return Err(self.err(
                at,
                format!("'{text}' has no letters or digits to search for"),
            ));
        };
        Ok(Expr::Text {
            phrase,
            scope: Scope::All,
            span,
        })
    }

    fn parse_field(&mut self, kind: FieldKind, field: Lexeme<'a>) -> Result<Expr, QueryError> {
        let name = &self.src[field.start..field.end];
        let value = self.peek().filter(|l| l.start == field.end);
        let Some(v) = value else {
            return Err(self.err(
                field.start,
                format!("'{name}' needs a value directly after it"),
            ));
        };
        let span = Span {
            start: field.start,
            end: v.end,
        };
        let raw = match v.tok {
            Tok::Word { text, prefix } | Tok::Quoted { text, prefix } => Some((text, prefix)),
            _ => None,
        };
        let value_at = if matches!(v.tok, Tok::Quoted { .. }) {
            v.start + 1
        } else {
            v.start
        };
        let scope = match kind {
            FieldKind::Title => FieldName::Title,
            FieldKind::Summary => FieldName::Summary,
            FieldKind::Body => FieldName::Body,
            FieldKind::Case => {
                let Some((text, prefix)) = raw else {
                    return Err(self.err(v.start, "case: applies to a word or a quoted phrase"));
                };
                self.next();
                return self.text_term(text, value_at, prefix, true, span);
            }
            FieldKind::Region | FieldKind::Lang | FieldKind::Source => {
                let Some((text, prefix)) = raw.filter(|(t, _)| !t.trim().is_empty()) else {
                    return Err(
                        self.err(v.start, format!("'{name}' needs a value directly after it"))
                    );
                };
                if prefix {
                    return Err(
                        self.err(v.start, format!("'{name}' does not support prefixes ('*')"))
                    );
                }
                self.next();
                return self.meta_term(kind, text.trim(), value_at, span);
            }
        };
        let inner = self.parse_primary()?;
        let span = Span {
            start: field.start,
            end: inner.span().end,
        };
        let e = inner
            .scoped(Scope::Only(scope))
            .map_err(|at| self.err(at, format!("conflicting field scopes inside '{name}'")))?;
        Ok(match e {
            Expr::Text { phrase, scope, .. } => Expr::Text {
                phrase,
                scope,
                span,
            },
            Expr::Region { name, scope, .. } => Expr::Region { name, scope, span },
            other => other,
        })
    }

    fn meta_term(
        &self,
        kind: FieldKind,
        text: &str,
        at: usize,
        span: Span,
    ) -> Result<Expr, QueryError> {
        match kind {
            FieldKind::Lang => {
                let code = text.to_ascii_lowercase().replace('_', "-");
                let ok = code
                    .split('-')
                    .all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()))
                    && code
                        .split('-')
                        .next()
                        .is_some_and(|p| (2..=8).contains(&p.len()));
                if !ok {
                    return Err(self.err(
                        at,
                        format!("'{text}' is not a language code like ru or pt-BR"),
                    ));
                }
                Ok(Expr::Lang { code, span })
            }
            FieldKind::Source => match normalize_host(text) {
                Some(domain) => Ok(Expr::Source { domain, span }),
                None => Err(self.err(at, format!("'{text}' is not a domain like example.com"))),
            },
            _ => Ok(Expr::Region {
                name: text.to_string(),
                scope: Scope::All,
                span,
            }),
        }
    }
}
