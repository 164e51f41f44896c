//! Query lexer: splits a query string into operators, parentheses, field
//! prefixes, bare words and quoted phrases, each with its byte span.
//!
//! A bare word runs until whitespace, a parenthesis or a quote, so `-` and
//! `'` inside it belong to it (`Nagorno-Karabakh`, `Côte d'Ivoire`). Only a
//! `-` at the start of a term means NOT. `name:value` is a field prefix only
//! for the known names (ASCII case-insensitive); any other `x:y` (a URL, a
//! time `10:30`) is an ordinary word.

use super::error::QueryError;

/// Field prefixes a query may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FieldKind {
    Title,
    Summary,
    Body,
    Case,
    Region,
    Lang,
    Source,
}

impl FieldKind {
    fn from_name(name: &str) -> Option<FieldKind> {
        const NAMES: [(&str, FieldKind); 7] = [
            ("title", FieldKind::Title),
            ("summary", FieldKind::Summary),
            ("body", FieldKind::Body),
            ("case", FieldKind::Case),
            ("region", FieldKind::Region),
            ("lang", FieldKind::Lang),
            ("source", FieldKind::Source),
        ];
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, k)| k)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok<'a> {
    LParen,
    RParen,
    And,
    Or,
    Not,
    /// `-` directly before a term.
    Minus,
    Near(u32),
    /// `title:` etc.; the value follows as the next lexeme.
    Field(FieldKind),
    /// A bare word; `prefix` when it ended in `*` (not included in `text`).
    Word {
        text: &'a str,
        prefix: bool,
    },
    /// The inside of a quoted phrase; `prefix` when it ended in `*`.
    Quoted {
        text: &'a str,
        prefix: bool,
    },
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Lexeme<'a> {
    pub tok: Tok<'a>,
    pub start: usize,
    pub end: usize,
}

/// Default distance for a bare `NEAR`.
pub(super) const DEFAULT_NEAR: u32 = 10;

fn is_open_quote(c: char) -> bool {
    matches!(c, '"' | '“' | '”' | '„')
}

fn is_close_quote(c: char) -> bool {
    matches!(c, '"' | '“' | '”')
}

fn ends_bare(c: char) -> bool {
    c.is_whitespace() || c == '(' || c == ')' || is_open_quote(c)
}

/// Split `src` into lexemes.
///
/// # Errors
/// Unclosed quotes, misplaced `*` or `-`, and malformed `NEAR/n`.
pub(super) fn lex(src: &str) -> Result<Vec<Lexeme<'_>>, QueryError> {
    let mut out = Vec::new();
    let mut i = 0;
    // Whether the next bare run is a field value (never a keyword).
    let mut value_next = false;
    while let Some(c) = src[i..].chars().next() {
        let start = i;
        let after = i + c.len_utf8();
        let was_value = std::mem::take(&mut value_next);
        if c.is_whitespace() {
            i = after;
        } else if c == '(' || c == ')' {
            let tok = if c == '(' { Tok::LParen } else { Tok::RParen };
            out.push(Lexeme {
                tok,
                start,
                end: after,
            });
            i = after;
        } else if is_open_quote(c) {
            let rel = src[after..]
                .find(is_close_quote)
                .ok_or_else(|| QueryError::at(src, start, "unclosed quote: add a closing \""))?;
            let inner = &src[after..after + rel];
            let close = &src[after + rel..];
            let end = after + rel + close.chars().next().map_or(1, char::len_utf8);
            let (text, prefix) = split_star(src, inner, after)?;
            out.push(Lexeme {
                tok: Tok::Quoted { text, prefix },
                start,
                end,
            });
            i = end;
        } else if c == '-' && !was_value {
            match src[after..].chars().next() {
                Some(n) if !n.is_whitespace() && n != ')' => {
                    out.push(Lexeme {
                        tok: Tok::Minus,
                        start,
                        end: after,
                    });
                    i = after;
                }
                _ => {
                    return Err(QueryError::at(
                        src,
                        start,
                        "'-' must be directly before a term",
                    ));
                }
            }
        } else {
            let len = src[i..].find(ends_bare).unwrap_or(src.len() - i);
            let run = &src[i..i + len];
            i += len;
            if was_value && run.starts_with('-') {
                return Err(QueryError::at(
                    src,
                    start,
                    "put '-' before the field name (-title:x)",
                ));
            }
            if let Some((name, rest)) = run.split_once(':')
                && let Some(kind) = FieldKind::from_name(name)
            {
                let colon = start + name.len() + 1;
                out.push(Lexeme {
                    tok: Tok::Field(kind),
                    start,
                    end: colon,
                });
                if rest.is_empty() {
                    value_next = true;
                } else if matches!(
                    kind,
                    FieldKind::Title | FieldKind::Summary | FieldKind::Body
                ) {
                    // The value may itself be a field (`title:region:AZ`).
                    i = colon;
                    value_next = true;
                } else {
                    let (text, prefix) = split_star(src, rest, colon)?;
                    out.push(Lexeme {
                        tok: Tok::Word { text, prefix },
                        start: colon,
                        end: i,
                    });
                }
                continue;
            }
            let tok = if was_value {
                None
            } else {
                keyword(src, run, start)?
            };
            let tok = match tok {
                Some(t) => t,
                None => {
                    let (text, prefix) = split_star(src, run, start)?;
                    Tok::Word { text, prefix }
                }
            };
            out.push(Lexeme { tok, start, end: i });
        }
    }
    Ok(out)
}

fn keyword<'a>(src: &str, run: &str, start: usize) -> Result<Option<Tok<'a>>, QueryError> {
    Ok(Some(match run {
        "AND" => Tok::And,
        "OR" => Tok::Or,
        "NOT" => Tok::Not,
        "NEAR" => Tok::Near(DEFAULT_NEAR),
        _ => match run.strip_prefix("NEAR/") {
            Some(n) => match n.parse::<u32>() {
                Ok(d) if (1..=10_000).contains(&d) => Tok::Near(d),
                _ => {
                    return Err(QueryError::at(
                        src,
                        start,
                        format!("bad NEAR distance '{n}': write NEAR/n with n from 1 to 10000"),
                    ));
                }
            },
            None => return Ok(None),
        },
    }))
}

/// Strip a trailing `*` from `text` (which starts at byte `offset` of
/// `src`); reject `*` anywhere else.
fn split_star<'a>(src: &str, text: &'a str, offset: usize) -> Result<(&'a str, bool), QueryError> {
    let trimmed = text.trim_end();
    let (body, prefix) = match trimmed.strip_suffix('*') {
        Some(b) => (b, true),
        None => (text, false),
    };
    if let Some(pos) = body.find('*') {
        return Err(QueryError::at(
            src,
            offset + pos,
            "'*' is only allowed at the end of a word (prefix search)",
        ));
    }
    if prefix && !body.chars().next_back().is_some_and(char::is_alphanumeric) {
        return Err(QueryError::at(
            src,
            offset + body.len(),
            "'*' must directly follow a letter or digit",
        ));
    }
    Ok((body, prefix))
}
