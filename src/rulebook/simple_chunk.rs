//! A fast reader for the common shape of a `[[rule]]` chunk
//! ([`super::chunks`]), tried before the TOML parser: at 100k rules,
//! parsing each chunk as a TOML document was a third of loading the rules.
//!
//! It reads only this subset, line by line:
//!
//! ```toml
//! [[rule]]
//! id = "r1"                      # a comment
//! query = 'armen* AND "South Caucasus"'
//! notify = ["desk", 'ops']
//! channels = ["telegram"]
//! description = "…"
//! ```
//!
//! bare keys `id`, `query`, `notify`, `channels`, `description`, each at
//! most once, `id`, `query` and `notify` present; one-line basic strings
//! without escapes or literal strings; one-line arrays of those; blank
//! lines and comments. Anything else (escapes, multi-line strings, other
//! keys or types, a duplicate or missing key, a control character) gives
//! `None`, and the chunk goes to the TOML parser, which reads it or says
//! what is wrong in its own words. What it reads it reads as the TOML
//! parser does, spans included (a test holds them equal).

use std::ops::Range;

/// A string value and its span in the chunk (quotes included, as `toml`'s
/// `Spanned` gives it).
pub(super) type Str = (String, Range<usize>);

/// The keys of a rule chunk, read.
pub(super) struct SimpleRule {
    pub id: Str,
    pub query: Str,
    pub notify: Vec<Str>,
    pub channels: Option<Vec<Str>>,
    pub description: Option<String>,
}

/// `chunk` read as a rule of the subset above, or `None`.
pub(super) fn read(chunk: &str) -> Option<SimpleRule> {
    let rest = chunk.strip_prefix("[[rule]]")?;
    let mut at = chunk.len() - rest.len();
    at = end_of_line(chunk, at)?;
    let (mut id, mut query, mut notify, mut channels, mut description) =
        (None, None, None, None, None);
    while at < chunk.len() {
        let line_end = chunk[at..].find('\n').map_or(chunk.len(), |i| at + i);
        let line = &chunk[at..line_end];
        let key_at = at + (line.len() - line.trim_start_matches([' ', '\t']).len());
        let key_len = chunk[key_at..line_end]
            .bytes()
            .take_while(|b| b.is_ascii_lowercase())
            .count();
        let key = &chunk[key_at..key_at + key_len];
        if key.is_empty() {
            // Blank or comment lines only.
            at = end_of_line(chunk, key_at)?;
            continue;
        }
        let mut i = skip_blanks(chunk, key_at + key_len);
        if chunk.as_bytes().get(i) != Some(&b'=') {
            return None;
        }
        i = skip_blanks(chunk, i + 1);
        let end = match key {
            "id" => set(&mut id, string(chunk, i)?)?,
            "query" => set(&mut query, string(chunk, i)?)?,
            "description" => set(&mut description, string(chunk, i)?)?,
            "notify" => set(&mut notify, list(chunk, i)?)?,
            "channels" => set(&mut channels, list(chunk, i)?)?,
            _ => return None,
        };
        at = end_of_line(chunk, end)?;
    }
    Some(SimpleRule {
        id: id?.0,
        query: query?.0,
        notify: notify?.0,
        channels: channels.map(|c| c.0),
        description: description.map(|d| d.0.0),
    })
}

/// Fill an empty `slot` with a value read up to `end`; `None` if it was
/// already set (a duplicate key).
fn set<T>(slot: &mut Option<(T, usize)>, (value, end): (T, usize)) -> Option<usize> {
    if slot.is_some() {
        return None;
    }
    *slot = Some((value, end));
    Some(end)
}

fn skip_blanks(s: &str, mut i: usize) -> usize {
    while matches!(s.as_bytes().get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    i
}

/// From `i`: blanks, an optional comment, then the end of the line; where
/// the next line starts.
fn end_of_line(s: &str, i: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = skip_blanks(s, i);
    if b.get(i) == Some(&b'#') {
        while let Some(&c) = b.get(i) {
            if c == b'\n' {
                break;
            }
            if control(c) {
                return None;
            }
            i += 1;
        }
    }
    match b.get(i) {
        None => Some(i),
        Some(b'\n') => Some(i + 1),
        Some(_) => None,
    }
}

/// Bytes TOML allows in no string or comment (tab aside).
fn control(c: u8) -> bool {
    (c < 0x20 && c != b'\t') || c == 0x7f
}

/// The one-line string at `i` (basic without escapes, or literal) and
/// where it ends.
fn string(s: &str, i: usize) -> Option<(Str, usize)> {
    let quote = *s.as_bytes().get(i)?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let body = i + 1;
    let mut j = body;
    loop {
        let c = *s.as_bytes().get(j)?;
        if c == quote {
            break;
        }
        if control(c) || (quote == b'"' && c == b'\\') {
            return None;
        }
        j += 1;
    }
    // `""` or `''` followed by a third quote opens a multi-line string.
    if j == body && s.as_bytes().get(j + 1) == Some(&quote) {
        return None;
    }
    Some(((s[body..j].to_string(), i..j + 1), j + 1))
}

/// The one-line array of strings at `i` and where it ends.
fn list(s: &str, i: usize) -> Option<(Vec<Str>, usize)> {
    if s.as_bytes().get(i) != Some(&b'[') {
        return None;
    }
    let mut items = Vec::new();
    let mut j = skip_blanks(s, i + 1);
    loop {
        match s.as_bytes().get(j)? {
            b']' => return Some((items, j + 1)),
            _ => {
                let (item, end) = string(s, j)?;
                items.push(item);
                j = skip_blanks(s, end);
                match s.as_bytes().get(j)? {
                    b',' => j = skip_blanks(s, j + 1),
                    b']' => return Some((items, j + 1)),
                    _ => return None,
                }
            }
        }
    }
}
