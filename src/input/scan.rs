//! The scanner behind [`super::Items`]: finds where each JSON value ends
//! in a stream of chunks by tracking brace/bracket depth, strings and
//! escapes, counting lines as it goes; checks each value with serde_json
//! ([`check`]), or leaves single-line values to the consumer to check when
//! it cannot decode one (`deferred`: `match` decodes every value anyway,
//! and a second full parse per article cost as much as the decoding). See
//! the parent module for the input shapes and limits.

use super::{InputItem, ItemResult};
use serde::de::IgnoredAny;
use std::collections::VecDeque;

/// serde_json's message without its " at line L column C" (relative to
/// the value, so misleading here).
fn without_position(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    }
}

/// Whether `bytes` (one value, as [`Scanner`] found it) is JSON: `Err`
/// with the message a bad value is reported with.
///
/// # Errors
/// The value is not JSON.
pub(super) fn check(bytes: &[u8]) -> Result<(), String> {
    serde_json::from_slice::<IgnoredAny>(bytes)
        .map(|_| ())
        .map_err(|e| format!("invalid JSON: {}", without_position(&e)))
}

/// Where the scanner is between values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Array {
    /// Nothing but whitespace read yet.
    Unknown,
    /// Inside a top-level array.
    Open,
    /// Not in an array (never was, or it closed).
    No,
}

/// What the value being read is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    None,
    /// An object or array, `depth` levels deep.
    Container {
        depth: usize,
    },
    /// Anything else (a number, `true`, garbage …).
    Scalar,
}

/// The scanner's state between chunks.
pub(super) struct Scanner {
    limit: usize,
    /// Single-line values are queued unchecked (see the module docs).
    deferred: bool,
    /// The line of the next byte (1-based).
    line: usize,
    /// Only whitespace since the last line break.
    line_blank: bool,
    array: Array,
    value: Value,
    in_string: bool,
    escaped: bool,
    /// The current value's bytes (empty once it grew past `limit`).
    buf: Vec<u8>,
    /// The line the current value starts on.
    start: usize,
    multiline: bool,
    oversize: bool,
    ready: VecDeque<ItemResult>,
}

impl Scanner {
    pub(super) fn new(limit: usize, deferred: bool) -> Scanner {
        Scanner {
            limit,
            deferred,
            line: 1,
            line_blank: true,
            array: Array::Unknown,
            value: Value::None,
            in_string: false,
            escaped: false,
            buf: Vec::new(),
            start: 1,
            multiline: false,
            oversize: false,
            ready: VecDeque::new(),
        }
    }

    pub(super) fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    pub(super) fn pop_ready(&mut self) -> Option<ItemResult> {
        self.ready.pop_front()
    }

    /// Reading failed: report it at the current line.
    pub(super) fn read_error(&mut self, e: &std::io::Error) {
        let line = self.line;
        self.ready
            .push_back(Err((line, format!("cannot read input: {e}"))));
    }

    /// Scan one chunk of input, queueing every value that ends in it.
    pub(super) fn feed(&mut self, chunk: &[u8]) {
        let mut i = 0;
        while i < chunk.len() {
            if self.in_string && !self.escaped {
                // The bulk of the input: string contents, up to the next
                // quote, backslash or line break.
                let rest = &chunk[i..];
                let n = memchr::memchr3(b'"', b'\\', b'\n', rest).unwrap_or(rest.len());
                self.push(&rest[..n]);
                i += n;
                if i == chunk.len() {
                    break;
                }
            }
            self.byte(chunk[i]);
            i += 1;
        }
    }

    /// Append to the current value, unless it is already too long.
    fn push(&mut self, bytes: &[u8]) {
        if self.oversize {
            return;
        }
        if self.buf.len() + bytes.len() > self.limit {
            self.oversize = true;
            self.buf = Vec::new();
        } else {
            self.buf.extend_from_slice(bytes);
        }
    }

    fn byte(&mut self, b: u8) {
        let at_line_start = self.line_blank;
        if b == b'\n' {
            self.line += 1;
            self.line_blank = true;
        } else if !b.is_ascii_whitespace() {
            self.line_blank = false;
        }
        match self.value {
            Value::None => self.between_values(b),
            Value::Scalar => self.in_scalar(b),
            Value::Container { depth } => self.in_container(b, depth, at_line_start),
        }
    }

    fn between_values(&mut self, b: u8) {
        if b.is_ascii_whitespace() {
            return;
        }
        if self.array == Array::Unknown {
            self.array = Array::No;
            if b == b'[' {
                self.array = Array::Open;
                return;
            }
        }
        if self.array == Array::Open && matches!(b, b',' | b']') {
            if b == b']' {
                self.array = Array::No;
            }
            return;
        }
        self.buf.clear();
        self.start = self.line;
        self.multiline = false;
        self.oversize = false;
        self.value = match b {
            b'{' | b'[' => Value::Container { depth: 1 },
            _ => Value::Scalar,
        };
        self.in_string = b == b'"';
        self.push(&[b]);
    }

    fn in_scalar(&mut self, b: u8) {
        let ends_element = self.array == Array::Open && matches!(b, b',' | b']');
        if b == b'\n' || (!self.in_string && ends_element) {
            self.complete();
            if b == b']' {
                self.array = Array::No;
            }
            return;
        }
        self.string_byte(b);
        self.push(&[b]);
    }

    fn in_container(&mut self, b: u8, depth: usize, at_line_start: bool) {
        if b == b'\n' {
            if self.in_string {
                self.fail("invalid JSON: a line ends inside a string".into());
                return;
            }
            self.multiline = true;
        } else if self.in_string {
            self.string_byte(b);
        } else {
            match b {
                b'"' => self.in_string = true,
                b'{' if depth == 1 && at_line_start && self.buf.first() == Some(&b'{') => {
                    self.fail("invalid JSON: unterminated object".into());
                    self.between_values(b);
                    return;
                }
                b'{' | b'[' => self.value = Value::Container { depth: depth + 1 },
                b'}' | b']' => {
                    self.push(&[b]);
                    if depth == 1 {
                        self.complete();
                    } else {
                        self.value = Value::Container { depth: depth - 1 };
                    }
                    return;
                }
                _ => {}
            }
        }
        self.push(&[b]);
    }

    /// Track the end of a string and escapes inside it.
    fn string_byte(&mut self, b: u8) {
        if !self.in_string {
            if b == b'"' {
                self.in_string = true;
            }
        } else if self.escaped {
            self.escaped = false;
        } else if b == b'\\' {
            self.escaped = true;
        } else if b == b'"' {
            self.in_string = false;
        }
    }

    /// The current value ended: queue it, checked.
    fn complete(&mut self) {
        self.value = Value::None;
        self.in_string = false;
        self.escaped = false;
        let line = self.start;
        if self.oversize {
            let limit = self.limit;
            self.ready.push_back(Err((
                line,
                format!("value larger than {limit} bytes; skipped"),
            )));
            return;
        }
        let mut bytes = std::mem::take(&mut self.buf);
        let trimmed = bytes.trim_ascii_end().len();
        bytes.truncate(trimmed);
        let checked = if self.multiline {
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .map(|v| v.to_string().into_bytes())
                .map_err(|e| format!("invalid JSON: {}", without_position(&e)))
        } else if self.deferred {
            Ok(bytes)
        } else {
            check(&bytes).map(|()| bytes)
        };
        self.ready.push_back(
            checked
                .map(|bytes| InputItem { line, bytes })
                .map_err(|e| (line, e)),
        );
    }

    /// The current value is bad: report it and look for the next one.
    fn fail(&mut self, message: String) {
        self.ready.push_back(Err((self.start, message)));
        self.value = Value::None;
        self.in_string = false;
        self.escaped = false;
        self.buf.clear();
    }

    pub(super) fn end_of_input(&mut self) {
        match self.value {
            Value::None => {}
            Value::Scalar => self.complete(),
            Value::Container { .. } => {
                self.fail("invalid JSON: the input ends inside this value".into())
            }
        }
        if self.array == Array::Open {
            let line = self.line;
            self.ready.push_back(Err((
                line,
                "invalid JSON array: the input ends before its `]`".into(),
            )));
        }
    }
}
