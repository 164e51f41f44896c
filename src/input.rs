//! Reading article files for `match` and `publish`: JSON lines, a JSON
//! array, or concatenated (pretty-printed) JSON objects. A bad item is
//! reported with its line and reading goes on with the next line.

use crate::location::line_col;
use std::io::Read;
use std::path::Path;

/// One JSON value from an input file and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputItem {
    pub line: usize,
    /// The value's JSON text.
    pub bytes: String,
}

/// Read `file`, or stdin for `None` / `-`; returns (name, text).
///
/// # Errors
/// The file cannot be read.
pub fn read(file: Option<&Path>) -> Result<(String, String), String> {
    match file {
        None => read_stdin(),
        Some(p) if p == Path::new("-") => read_stdin(),
        Some(p) => std::fs::read_to_string(p)
            .map(|t| (p.display().to_string(), t))
            .map_err(|e| format!("{}: {e}", p.display())),
    }
}

fn read_stdin() -> Result<(String, String), String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| format!("<stdin>: {e}"))?;
    Ok(("<stdin>".into(), text))
}

/// serde_json's message without its " at line L column C" (relative to a
/// slice, so misleading here).
fn without_position(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    }
}

/// Every JSON value in `text`, or `(line, message)` for each bad one.
pub fn items(text: &str) -> Vec<Result<InputItem, (usize, String)>> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let base = text.len() - trimmed.len();
        return match serde_json::from_str::<Vec<serde_json::Value>>(text) {
            Ok(values) => values
                .into_iter()
                .map(|v| {
                    Ok(InputItem {
                        line: line_col(text, base).0,
                        bytes: v.to_string(),
                    })
                })
                .collect(),
            Err(e) => vec![Err((e.line(), format!("invalid JSON array: {e}")))],
        };
    }
    let mut out = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let mut stream =
            serde_json::Deserializer::from_str(&text[at..]).into_iter::<serde_json::Value>();
        match stream.next() {
            None => break,
            Some(Ok(v)) => {
                let start = at + text[at..].len() - text[at..].trim_start().len();
                out.push(Ok(InputItem {
                    line: line_col(text, start).0,
                    bytes: v.to_string(),
                }));
                at += stream.byte_offset();
            }
            Some(Err(e)) => {
                let start = at + text[at..].len() - text[at..].trim_start().len();
                out.push(Err((
                    line_col(text, start).0,
                    format!("invalid JSON: {}", without_position(&e)),
                )));
                // Skip to the line after the error and go on.
                let err_line_end = text[at..]
                    .split_inclusive('\n')
                    .take(e.line().max(1))
                    .map(str::len)
                    .sum::<usize>();
                at += err_line_end.max(1);
            }
        }
    }
    out
}

/// Every non-empty line of `text`, unparsed (for `publish --raw`).
pub fn raw_lines(text: &str) -> Vec<Result<InputItem, (usize, String)>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            Ok(InputItem {
                line: i + 1,
                bytes: l.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_pretty_array_and_errors() {
        let lines = |t: &str| -> Vec<Result<usize, usize>> {
            items(t)
                .into_iter()
                .map(|r| r.map(|i| i.line).map_err(|e| e.0))
                .collect()
        };
        assert_eq!(lines("{\"a\":1}\n{\"b\":2}\n"), vec![Ok(1), Ok(2)]);
        assert_eq!(
            lines("{\n  \"a\": 1\n}\n{\n \"b\": 2\n}"),
            vec![Ok(1), Ok(4)]
        );
        assert_eq!(lines("[{\"a\":1},{\"b\":2}]"), vec![Ok(1), Ok(1)]);
        assert_eq!(
            lines("{\"a\":1}\nnot json\n{\"c\":3}\n"),
            vec![Ok(1), Err(2), Ok(3)]
        );
        assert_eq!(lines("\n\n"), vec![]);
    }
}
