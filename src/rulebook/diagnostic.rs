//! Diagnostics for the rules file: [`Diagnostic`] (`file:line:col:
//! message`), positions inside TOML strings, and the collector the parser
//! reports into.

use super::chunks::Rest;
use crate::location::line_col;
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// How serious a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Severity {
    /// The file is rejected.
    Error,
    /// The file loads, but something is probably wrong.
    Warning,
}

/// One problem in the rules file, with its position.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
    pub severity: Severity,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "",
            Severity::Warning => "warning: ",
        };
        write!(
            f,
            "{}:{}:{}: {level}{}",
            self.file.display(),
            self.line,
            self.col,
            self.message
        )
    }
}

/// Collects diagnostics against one file's text.
pub(super) struct Report<'a> {
    pub(super) file: &'a Path,
    /// The text the offsets given are in.
    pub(super) text: &'a str,
    /// When `text` is a [`Rest`] of the file: the file's text, in which
    /// lines and columns are counted after mapping offsets to it.
    file_text: Option<(&'a str, &'a Rest<'a>)>,
    pub(super) out: Vec<Diagnostic>,
    /// Byte offset and number of the line of the last diagnostic: lines
    /// are counted on from there, so diagnostics in file order cost one
    /// pass over the text in all, not one each.
    mark: (usize, usize),
}

impl<'a> Report<'a> {
    pub(super) fn new(file: &'a Path, text: &'a str) -> Report<'a> {
        Report {
            file,
            text,
            file_text: None,
            out: Vec::new(),
            mark: (0, 1),
        }
    }

    /// A report on `rest` (offsets in its text), placed in `file_text`.
    pub(super) fn on_rest(file: &'a Path, file_text: &'a str, rest: &'a Rest<'a>) -> Report<'a> {
        Report {
            file_text: Some((file_text, rest)),
            ..Report::new(file, &rest.text)
        }
    }

    pub(super) fn at(&mut self, offset: usize, severity: Severity, message: impl Into<String>) {
        let (text, offset) = match self.file_text {
            Some((text, rest)) => (text, rest.to_file(offset..offset).start.min(text.len())),
            None => (self.text, offset),
        };
        let (start, first) = if offset >= self.mark.0 {
            self.mark
        } else {
            (0, 1)
        };
        // `start` is a line start: the column is the same as in the file.
        let (lines, col) = line_col(&text[start..], offset - start);
        let line = first + lines - 1;
        let line_start = text.as_bytes()[..offset.min(text.len())]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        self.mark = (line_start.max(start), line);
        self.out.push(Diagnostic {
            file: self.file.to_path_buf(),
            line,
            col,
            severity,
            message: message.into(),
        });
    }

    pub(super) fn error<T>(&mut self, span: &Spanned<T>, message: impl Into<String>) {
        self.at(span.span().start, Severity::Error, message);
    }

    pub(super) fn has_errors(&self) -> bool {
        self.out.iter().any(|d| d.severity == Severity::Error)
    }
}

/// Byte offset in the file of byte `offset` inside the string value at
/// `span`, for every TOML string form: basic strings are decoded escape by
/// escape, and a multi-line string's leading newline is skipped. Falls
/// back to the start of the string if the text does not decode to `value`.
pub(super) fn offset_in_string(
    text: &str,
    span: std::ops::Range<usize>,
    value: &str,
    offset: usize,
) -> usize {
    let raw = text.get(span.clone()).unwrap_or_default();
    let (quote, literal) = if raw.starts_with("\"\"\"") {
        (3, false)
    } else if raw.starts_with("'''") {
        (3, true)
    } else {
        (1, raw.starts_with('\''))
    };
    let Some(mut inner) = raw.get(quote..raw.len().saturating_sub(quote)) else {
        return span.start;
    };
    let mut skipped = 0;
    if quote == 3 {
        for newline in ["\r\n", "\n"] {
            if let Some(rest) = inner.strip_prefix(newline) {
                (inner, skipped) = (rest, newline.len());
                break;
            }
        }
    }
    match string_offsets(inner, literal, quote == 3) {
        Some((decoded, map)) if decoded == value => {
            span.start + quote + skipped + map[offset.min(map.len() - 1)]
        }
        _ => span.start,
    }
}

/// Decode the inside of a TOML string: the value, and for each byte of it
/// (plus its end) the offset in `inner` of the character or escape it
/// came from. `None` for an invalid escape.
pub(super) fn string_offsets(
    inner: &str,
    literal: bool,
    multiline: bool,
) -> Option<(String, Vec<usize>)> {
    let mut value = String::new();
    let mut map = Vec::new();
    let mut chars = inner.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let c = if c != '\\' || literal {
            c
        } else {
            let (_, e) = chars.next()?;
            match e {
                'b' => '\u{8}',
                't' => '\t',
                'n' => '\n',
                'f' => '\u{c}',
                'r' => '\r',
                'e' => '\u{1b}',
                '"' => '"',
                '\\' => '\\',
                'u' | 'U' => {
                    let n = if e == 'u' { 4 } else { 8 };
                    let hex: String = (0..n)
                        .filter_map(|_| chars.next().map(|(_, h)| h))
                        .collect();
                    char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
                }
                w if multiline && w.is_whitespace() => {
                    // Line-ending backslash: drop all whitespace that follows.
                    while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
                    continue;
                }
                _ => return None,
            }
        };
        value.push(c);
        map.extend(std::iter::repeat_n(at, c.len_utf8()));
    }
    map.push(inner.len());
    Some((value, map))
}
