//! Splitting the rules file so that its rules can be parsed one at a time:
//! a 100k-rule file parsed as one TOML document holds ~1.4 KB of span-
//! keeping tree per rule (hundreds of MB) until the last rule is read.
//!
//! [`split`] scans the text once (strings, comments and brackets, not a
//! full TOML parser) and cuts it at every `[[rule]]` header: each rule's
//! chunk runs from its header to the next table header that is not under
//! `rule` (so `[rule.x]` stays with its rule and is rejected there, as in
//! the whole document). Everything else (subscribers, regions, top-level
//! keys) is [`Chunks::rest`]: the text with each rule chunk reduced to one
//! newline, and a map from its offsets back to the file's
//! ([`Rest::to_file`]), through which its problems are placed.

use std::ops::Range;

/// The rules file cut into its `[[rule]]` tables and the rest.
pub(super) struct Chunks {
    /// Byte ranges of the `[[rule]]` chunks, in file order.
    pub(super) rules: Vec<Range<usize>>,
}

/// The file without its rule chunks, each replaced by one newline: the
/// TOML parser (whose token buffers are sized by the input, ~10 bytes per
/// byte) sees only the short rest; [`Rest::to_file`] maps its offsets
/// back (a 100k-rule file kept its ~500 000 newlines before: a sixth of
/// the time to read the rules back from the cache went into lexing them).
pub(super) struct Rest<'t> {
    pub(super) text: std::borrow::Cow<'t, str>,
    /// `(offset in text, offset in the file)` where each copied piece starts.
    pieces: Vec<(usize, usize)>,
}

impl Rest<'_> {
    /// The file's range for `range` of [`Rest::text`] (inside one piece;
    /// a range on a newline that stands for a rule chunk maps into the
    /// chunk).
    pub(super) fn to_file(&self, range: Range<usize>) -> Range<usize> {
        let i = self.pieces.partition_point(|&(at, _)| at <= range.start);
        let (at, file) = self.pieces[i.saturating_sub(1)];
        range.start - at + file..range.end - at + file
    }
}

impl Chunks {
    /// The text without its rule chunks; see [`Rest`].
    pub(super) fn rest<'t>(&self, text: &'t str) -> Rest<'t> {
        if self.rules.is_empty() {
            return Rest {
                text: text.into(),
                pieces: vec![(0, 0)],
            };
        }
        let mut out = String::new();
        let mut pieces = Vec::new();
        let mut copied = 0;
        for range in &self.rules {
            pieces.push((out.len(), copied));
            out.push_str(&text[copied..range.start]);
            out.push('\n');
            copied = range.end;
        }
        pieces.push((out.len(), copied));
        out.push_str(&text[copied..]);
        Rest {
            text: out.into(),
            pieces,
        }
    }
}

/// Find the `[[rule]]` chunks of `text`.
pub(super) fn split(text: &str) -> Chunks {
    let b = text.as_bytes();
    let mut rules: Vec<Range<usize>> = Vec::new();
    let mut open: Option<usize> = None;
    let mut depth = 0usize;
    let mut line_start = true;
    // A byte order mark is not part of the first line.
    let mut i = if text.starts_with('\u{feff}') { 3 } else { 0 };
    while i < b.len() {
        let c = b[i];
        if line_start && (c == b' ' || c == b'\t') {
            i += 1;
            continue;
        }
        if line_start && depth == 0 && c == b'[' {
            let (kind, end) = header(b, i);
            match kind {
                Header::RuleArray => {
                    if let Some(start) = open.replace(i) {
                        rules.push(start..i);
                    }
                }
                Header::UnderRule if open.is_some() => {}
                Header::UnderRule | Header::Other => {
                    if let Some(start) = open.take() {
                        rules.push(start..i);
                    }
                }
            }
            line_start = false;
            i = end;
            continue;
        }
        line_start = false;
        i = match c {
            b'\n' => {
                line_start = depth == 0;
                i + 1
            }
            b'#' => memchr_newline(b, i),
            b'"' | b'\'' => skip_string(b, i),
            b'[' | b'{' => {
                depth += 1;
                i + 1
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i + 1
            }
            _ => plain(b, i + 1),
        };
    }
    if let Some(start) = open {
        rules.push(start..b.len());
    }
    Chunks { rules }
}

/// Whether the scanner in [`split`] looks at byte `b` (else it skips it).
const fn special_bytes() -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = matches!(
            i as u8,
            b'\n' | b'#' | b'"' | b'\'' | b'[' | b'{' | b']' | b'}'
        );
        i += 1;
    }
    t
}
static SPECIAL: [bool; 256] = special_bytes();

/// The first byte from `i` on that [`split`] must look at: most of a rules
/// file is keys and values, skipped here by one table lookup a byte.
fn plain(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && !SPECIAL[usize::from(b[i])] {
        i += 1;
    }
    i
}

/// What a table header names.
#[derive(Debug, PartialEq)]
enum Header {
    /// Exactly `[[rule]]`.
    RuleArray,
    /// Any other header whose first key is `rule`.
    UnderRule,
    /// Anything else, malformed headers included.
    Other,
}

/// The header starting at `b[at] == '['`, and where its line's content
/// ends (before the newline).
fn header(b: &[u8], at: usize) -> (Header, usize) {
    let end = memchr_newline(b, at);
    let line = &b[at..end];
    let array = line.starts_with(b"[[");
    let mut rest = trim_start(&line[if array { 2 } else { 1 }..]);
    let first: &[u8] = match rest.first() {
        Some(&q @ (b'"' | b'\'')) => {
            let Some(close) = rest[1..].iter().position(|&c| c == q) else {
                return (Header::Other, end);
            };
            let key = &rest[1..=close];
            if q == b'"' && key.contains(&b'\\') {
                return (Header::Other, end);
            }
            rest = &rest[close + 2..];
            key
        }
        _ => {
            let len = rest
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'-')
                .count();
            let key = &rest[..len];
            rest = &rest[len..];
            key
        }
    };
    if first != b"rule" {
        return (Header::Other, end);
    }
    let rest = trim_start(rest);
    let close: &[u8] = if array { b"]]" } else { b"]" };
    if array && rest.starts_with(close) {
        (Header::RuleArray, end)
    } else {
        (Header::UnderRule, end)
    }
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| **c == b' ' || **c == b'\t').count();
    &b[n..]
}

/// Index of the next `\n` at or after `from`, or the end.
fn memchr_newline(b: &[u8], from: usize) -> usize {
    b[from..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| from + p)
}

/// Index just past the string starting at `b[at]` (a quote). Single-line
/// strings also end at a newline (a syntax error the TOML parser reports).
fn skip_string(b: &[u8], at: usize) -> usize {
    let q = b[at];
    let basic = q == b'"';
    if b[at..].starts_with(&[q, q, q]) {
        let mut i = at + 3;
        while i < b.len() {
            if basic && b[i] == b'\\' {
                i += 2;
            } else if b[i..].starts_with(&[q, q, q]) {
                // Up to two more quotes belong to the content.
                let mut end = i + 3;
                while end < b.len() && end < i + 5 && b[end] == q {
                    end += 1;
                }
                return end;
            } else {
                i += 1;
            }
        }
        return b.len();
    }
    let mut i = at + 1;
    while i < b.len() {
        match b[i] {
            b'\\' if basic => i += 2,
            c if c == q => return i + 1,
            b'\n' => return i,
            _ => i += 1,
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule_chunks(text: &str) -> Vec<&str> {
        split(text).rules.into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn cuts_at_rule_headers_only() {
        let text = "a = 1\n[[subscriber]]\nid = \"x\"\n\
                    [[rule]]\nid = \"r1\"\nquery = '[[rule]]'\n\
                    [[ rule ]]\nquery = \"\"\"\n[[rule]]\n\"\"\"\n[rule.extra]\nx = 1\n\
                    [region.x]\ninclude = [\n[\"AZ\"]]\n\
                    [[\"rule\"]] # quoted\nid = 'r3'\n";
        assert_eq!(
            rule_chunks(text),
            [
                "[[rule]]\nid = \"r1\"\nquery = '[[rule]]'\n",
                "[[ rule ]]\nquery = \"\"\"\n[[rule]]\n\"\"\"\n[rule.extra]\nx = 1\n",
                "[[\"rule\"]] # quoted\nid = 'r3'\n",
            ]
        );
        let chunks = split(text);
        let rest = chunks.rest(text);
        assert!(rest.text.contains("[region.x]") && !rest.text.contains("rule"));
        assert!(rest.text.lines().count() < text.lines().count());
        let at = rest.text.find("[region.x]").unwrap();
        assert_eq!(&text[rest.to_file(at..at + 10)], "[region.x]");
        assert_eq!(rest.to_file(0..5), 0..5);
    }

    #[test]
    fn headers_need_a_line_start_outside_values() {
        let text = "x = [\n[[rule]]]\n# [[rule]]\ns = '''\n[[rule]]'''''\n";
        assert!(split(text).rules.is_empty());
        let rest = split(text).rest(text);
        assert!(matches!(rest.text, std::borrow::Cow::Borrowed(_)));
        let bom = "\u{feff}[[rule]]\nid = 'a'\n";
        assert_eq!(rule_chunks(bom), ["[[rule]]\nid = 'a'\n"]);
        assert_eq!(header(b"[[rule.x]]", 0).0, Header::UnderRule);
        assert_eq!(header(b"[rules]", 0).0, Header::Other);
        assert_eq!(header(b"[[rule]", 0).0, Header::UnderRule);
    }
}
