//! Reading article input for `match` and `publish`, as a stream: JSON
//! lines, a JSON array, or concatenated (pretty-printed) JSON values, read
//! incrementally from any [`BufRead`] with line numbers counted on the way
//! (one pass, O(n) in total). Memory is bounded whatever the input size:
//! one read buffer plus the value being read, itself capped (a larger
//! value is skipped and reported). A bad value is reported with the line
//! it starts on and reading goes on with the next value.
//!
//! How values are found: a small scanner tracks brace/bracket depth and
//! strings (with escapes), so a value ends where its outermost `}` or `]`
//! closes, whatever its layout. Limits, all reported as errors for the
//! value concerned, never silently:
//! - a JSON string cannot hold a raw line break, so a line that ends inside
//!   a string ends its value (invalid);
//! - an object still open at depth 1 when a line starts with `{` is taken
//!   as unterminated, and the `{` starts the next value (so a JSON-lines
//!   file with one truncated line loses only that line);
//! - a top-level array (the input's first character is `[`) gives its
//!   elements one by one, each with the line it starts on; a non-container
//!   element ends at `,`, `]` or the end of its line;
//! - outside an array, a value that is not an object or array runs to the
//!   end of its line.

use std::io::{BufRead, BufReader};
use std::path::Path;

mod scan;
use scan::Scanner;

/// One JSON value from the input and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputItem {
    pub line: usize,
    /// The value's JSON text (compacted when it spanned several lines).
    pub bytes: Vec<u8>,
}

/// An item, or the line a bad one starts on and what is wrong with it.
pub type ItemResult = Result<InputItem, (usize, String)>;

/// The largest value [`Items`] keeps, given the largest accepted event:
/// room for pretty-printing, and never less than 1 MiB.
pub fn item_limit(max_event_bytes: usize) -> usize {
    max_event_bytes.saturating_mul(4).max(1 << 20)
}

/// Open `file`, or stdin for `None` / `-`, for streaming; returns (name,
/// reader).
///
/// # Errors
/// The file cannot be opened.
pub fn open(file: Option<&Path>) -> Result<(String, Box<dyn BufRead + Send>), String> {
    const CAPACITY: usize = 1 << 16;
    match file {
        Some(p) if p != Path::new("-") => std::fs::File::open(p)
            .map(|f| {
                let r: Box<dyn BufRead + Send> = Box::new(BufReader::with_capacity(CAPACITY, f));
                (p.display().to_string(), r)
            })
            .map_err(|e| format!("{}: {e}", p.display())),
        _ => Ok((
            "<stdin>".into(),
            Box::new(BufReader::with_capacity(CAPACITY, std::io::stdin())),
        )),
    }
}

/// The JSON values in a stream, one [`ItemResult`] each; see the module
/// docs. Create with [`items`].
pub struct Items<R> {
    reader: R,
    scan: Scanner,
    done: bool,
}

/// The values in `reader`; a value longer than `limit` bytes is reported
/// and skipped (see [`item_limit`]).
pub fn items<R: BufRead>(reader: R, limit: usize) -> Items<R> {
    scanned(reader, Scanner::new(limit, false))
}

/// As [`items`], but a value on one line is not checked as JSON: the
/// caller parses it anyway, and when that fails asks [`check`] whether it
/// is JSON at all (the message [`items`] would have given).
pub fn items_deferred<R: BufRead>(reader: R, limit: usize) -> Items<R> {
    scanned(reader, Scanner::new(limit, true))
}

fn scanned<R: BufRead>(reader: R, scan: Scanner) -> Items<R> {
    Items {
        reader,
        scan,
        done: false,
    }
}

/// Whether a value of [`items_deferred`] is JSON; `Err` with the message
/// [`items`] reports an invalid value with.
///
/// # Errors
/// The value is not JSON.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    scan::check(bytes)
}

impl<R: BufRead> Items<R> {
    /// The items in batches of at most `max`: the next item (waiting for
    /// input if need be), then those already read with it, without waiting
    /// for more. A file gives full batches; a live stream gives each item
    /// as soon as it is complete. Handing batches between threads costs one
    /// wake-up per batch instead of one per item.
    pub fn batches(mut self, max: usize) -> impl Iterator<Item = Vec<ItemResult>> {
        std::iter::from_fn(move || {
            let first = self.next()?;
            let mut batch = vec![first];
            while batch.len() < max.max(1)
                && let Some(item) = self.scan.pop_ready()
            {
                batch.push(item);
            }
            Some(batch)
        })
    }
}

impl<R: BufRead> Iterator for Items<R> {
    type Item = ItemResult;

    fn next(&mut self) -> Option<ItemResult> {
        while !self.scan.has_ready() && !self.done {
            match self.reader.fill_buf() {
                Ok([]) => {
                    self.scan.end_of_input();
                    self.done = true;
                }
                Ok(chunk) => {
                    let n = chunk.len();
                    self.scan.feed(chunk);
                    self.reader.consume(n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.scan.read_error(&e);
                    self.done = true;
                }
            }
        }
        self.scan.pop_ready()
    }
}

/// Every non-empty line of `reader`, unparsed (for `publish --raw`); a
/// line is read whole, so memory is bounded by the longest line.
pub fn raw_lines<R: BufRead>(reader: R) -> impl Iterator<Item = ItemResult> {
    let mut reader = reader;
    let mut line = 0;
    let mut failed = false;
    std::iter::from_fn(move || {
        while !failed {
            let mut bytes = Vec::new();
            line += 1;
            match reader.read_until(b'\n', &mut bytes) {
                Ok(0) => return None,
                Ok(_) => {
                    if bytes.ends_with(b"\n") {
                        bytes.pop();
                        if bytes.ends_with(b"\r") {
                            bytes.pop();
                        }
                    }
                    if !bytes.trim_ascii().is_empty() {
                        return Some(Ok(InputItem { line, bytes }));
                    }
                }
                Err(e) => {
                    failed = true;
                    return Some(Err((line, format!("cannot read input: {e}"))));
                }
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, Ok(compact JSON) | Err(message)) for every value in `text`,
    /// read in chunks of `chunk` bytes.
    fn scan(text: &str, chunk: usize) -> Vec<(usize, Result<String, String>)> {
        let reader = BufReader::with_capacity(chunk, text.as_bytes());
        items(reader, 1 << 20)
            .map(|r| match r {
                Ok(i) => (i.line, Ok(String::from_utf8(i.bytes).unwrap())),
                Err((line, e)) => (line, Err(e)),
            })
            .collect()
    }

    /// Only the lines, `Ok` or `Err`; every chunk size gives the same.
    fn lines(text: &str) -> Vec<Result<usize, usize>> {
        let whole = scan(text, 1 << 16);
        for chunk in [1, 2, 3, 7, 64] {
            assert_eq!(scan(text, chunk), whole, "chunk size {chunk}: {text:?}");
        }
        whole
            .into_iter()
            .map(|(line, r)| r.map(|_| line).map_err(|_| line))
            .collect()
    }

    #[test]
    fn jsonl_pretty_array_and_errors() {
        assert_eq!(lines("{\"a\":1}\n{\"b\":2}\n"), vec![Ok(1), Ok(2)]);
        assert_eq!(lines("{\"a\":1}\r\n{\"b\":2}"), vec![Ok(1), Ok(2)]);
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
        assert_eq!(lines(""), vec![]);
    }

    #[test]
    fn values_keep_their_text_and_multi_line_ones_are_compacted() {
        let got = scan(
            "{\"a\": 1, \"s\": \"x}\\\"{\"}\n{\n  \"b\": [1,\n 2]\n}\n",
            4,
        );
        assert_eq!(
            got,
            vec![
                (1, Ok("{\"a\": 1, \"s\": \"x}\\\"{\"}".into())),
                (2, Ok("{\"b\":[1,2]}".into())),
            ]
        );
    }

    #[test]
    fn concatenated_values_on_one_line() {
        assert_eq!(
            lines("{\"a\":1}{\"b\":2} {\"c\":3}"),
            vec![Ok(1), Ok(1), Ok(1)]
        );
    }

    #[test]
    fn array_elements_carry_their_own_lines() {
        let text = "[\n  {\"a\": 1},\n  {\n    \"b\": 2\n  },\n  7, \"s,]\"\n]\n{\"after\": 1}\n";
        let got = scan(text, 5);
        assert_eq!(
            got,
            vec![
                (2, Ok("{\"a\": 1}".into())),
                (3, Ok("{\"b\":2}".into())),
                (6, Ok("7".into())),
                (6, Ok("\"s,]\"".into())),
                (8, Ok("{\"after\": 1}".into())),
            ]
        );
        assert_eq!(lines("[ ]"), vec![]);
        assert_eq!(lines("[{\"a\":1},\n{\"b\":"), vec![Ok(1), Err(2), Err(2)]);
    }

    #[test]
    fn bad_values_are_reported_and_reading_goes_on() {
        // Truncated line: a line ending inside a string.
        assert_eq!(lines("{\"a\":\"cut\n{\"b\":2}\n"), vec![Err(1), Ok(2)]);
        // Truncated line ending outside a string: the next `{` at the
        // start of a line starts the next value.
        assert_eq!(
            lines("{\"a\":1,\n{\"b\":2}\n{\"c\":3}"),
            vec![Err(1), Ok(2), Ok(3)]
        );
        // Balanced but invalid; trailing garbage; unterminated at the end.
        assert_eq!(
            lines("{\"a\" 1}\n{\"b\":2} x\n{\"c\":"),
            vec![Err(1), Ok(2), Err(2), Err(3)]
        );
        let got = scan("{\"a\" 1}\n", 64);
        assert!(
            got[0].1.as_ref().unwrap_err().starts_with("invalid JSON: "),
            "{got:?}"
        );
        assert!(
            !got[0].1.as_ref().unwrap_err().contains(" at line "),
            "{got:?}"
        );
    }

    #[test]
    fn oversized_values_are_skipped_with_bounded_memory() {
        let big = format!("{{\"body\":\"{}\"}}", "x".repeat(5000));
        let text = format!("{{\"a\":1}}\n{big}\n{{\"b\":2}}\n");
        let got: Vec<_> = items(text.as_bytes(), 1000)
            .map(|r| r.map(|i| i.line))
            .collect();
        assert_eq!(got[0], Ok(1));
        assert_eq!(
            got[1],
            Err((2, "value larger than 1000 bytes; skipped".into()))
        );
        assert_eq!(got[2], Ok(3));
    }

    #[test]
    fn line_numbers_stay_right_deep_into_a_large_input() {
        let mut text = String::new();
        for i in 1..=20_000 {
            if i == 10_001 {
                text.push_str("{\"broken\": \n");
            } else {
                text.push_str(&format!(
                    "{{\"id\":\"a{i}\",\"n\":\"multi\\nline {{}}\"}}\n"
                ));
            }
        }
        let errors: Vec<usize> = items(text.as_bytes(), 1 << 20)
            .filter_map(|r| r.err().map(|e| e.0))
            .collect();
        assert_eq!(errors, vec![10_001]);
        assert_eq!(
            items(text.as_bytes(), 1 << 20)
                .filter(Result::is_ok)
                .count(),
            19_999
        );
    }

    #[test]
    fn batches_hold_what_was_read_together_and_never_wait_to_fill() {
        let text: String = (1..=20).map(|i| format!("{{\"n\":{i}}}\n")).collect();
        let sizes = |capacity: usize| -> Vec<usize> {
            let reader = BufReader::with_capacity(capacity, text.as_bytes());
            let batches: Vec<Vec<ItemResult>> =
                items_deferred(reader, 1 << 20).batches(8).collect();
            let lines: Vec<usize> = batches
                .iter()
                .flatten()
                .map(|i| i.as_ref().unwrap().line)
                .collect();
            assert_eq!(lines, (1..=20).collect::<Vec<_>>(), "every item, in order");
            batches.iter().map(Vec::len).collect()
        };
        // A file read in large chunks: full batches.
        assert_eq!(sizes(1 << 16), [8, 8, 4]);
        // A stream that delivers one line per read (each line here is 8 or
        // 9 bytes): each item as soon as it is complete, never held back
        // waiting for the next read.
        assert!(sizes(9).iter().all(|&n| n <= 2), "{:?}", sizes(9));
    }

    #[test]
    fn raw_lines_skip_blank_lines() {
        let got: Vec<(usize, Vec<u8>)> = raw_lines("a\n\n  \nb c\r\nd".as_bytes())
            .map(|r| r.map(|i| (i.line, i.bytes)).unwrap())
            .collect();
        assert_eq!(
            got,
            vec![(1, b"a".to_vec()), (4, b"b c".to_vec()), (5, b"d".to_vec())]
        );
    }
}
