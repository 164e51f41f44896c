//! Places in a text: byte offset → 1-based line and column (columns in
//! characters, as editors show them), and one message from many
//! diagnostics. Every "file:line:col" the service prints comes from here.

use std::fmt::Display;

/// 1-based line and column (in characters) of byte `offset` in `text`.
/// An offset past the end or inside a character is clamped back.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Every item on a line of its own: the message of an error that carries
/// several diagnostics.
pub fn join_lines<T: Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let text = "ab\nçd\n\nx";
        let cases = [
            (0, (1, 1)),
            (2, (1, 3)),
            (3, (2, 1)),
            (5, (2, 2)), // after the two-byte ç
            (4, (2, 1)), // inside ç: clamped back to its start
            (7, (3, 1)),
            (8, (4, 1)),
            (99, (4, 2)),
        ];
        for (offset, want) in cases {
            assert_eq!(line_col(text, offset), want, "offset {offset}");
        }
    }

    #[test]
    fn joins_one_per_line() {
        assert_eq!(join_lines(["a", "b"]), "a\nb");
        assert_eq!(join_lines(Vec::<String>::new()), "");
    }
}
