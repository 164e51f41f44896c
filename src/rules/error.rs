//! Where a query went wrong: byte [`Span`]s of the query source, and the
//! two errors with a position in it, [`QueryError`] (the text does not
//! parse) and [`CompileError`] (it parses, but names an unknown region or
//! repeats a rule id). Columns come from [`crate::location::line_col`].

use crate::location::line_col;

/// A byte range of the query source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// Why a query could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("col {column}: {message}")]
pub struct QueryError {
    /// Byte offset into the query.
    pub offset: usize,
    /// 1-based column (characters) of `offset`.
    pub column: usize,
    pub message: String,
}

impl QueryError {
    /// The error at byte `offset` of `source`.
    pub(super) fn at(source: &str, offset: usize, message: impl Into<String>) -> QueryError {
        QueryError {
            offset,
            column: column(source, offset),
            message: message.into(),
        }
    }
}

/// A rule that could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule {id} (#{rule}), col {column}: {message}")]
pub struct CompileError {
    /// Index of the rule in the input.
    pub rule: usize,
    pub id: String,
    /// Byte offset into the rule's query.
    pub offset: usize,
    /// 1-based column of `offset`.
    pub column: usize,
    pub message: String,
}

/// 1-based column (in characters, counted from the last line break) of
/// byte `offset` of `source`.
pub(super) fn column(source: &str, offset: usize) -> usize {
    line_col(source, offset).1
}
