//! The HTML tokenizer: splits source into text runs, start and end tags
//! and things to skip (comments, doctype, CDATA, the raw text of
//! `script`/`style`). Forgiving: it never fails, and a `<` that starts no
//! markup is text.

use super::tags;
use std::ops::Range;

/// One piece of the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    Text(Range<usize>),
    Start {
        name: String,
        attrs: Range<usize>,
        self_closing: bool,
        span: Range<usize>,
    },
    End {
        name: String,
        span: Range<usize>,
    },
    /// Comments, doctype, CDATA, processing instructions, raw text.
    Skip,
}

/// Splits HTML source into [`Event`]s.
struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    /// Inside a raw-text element (`script`, `style` ...) with this name.
    raw: Option<String>,
}

impl Iterator for Lexer<'_> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        let (src, pos) = (self.src, self.pos);
        if pos >= src.len() {
            return None;
        }
        if let Some(name) = self.raw.take() {
            self.pos = find_end_tag(src, pos, &name);
            return Some(Event::Skip);
        }
        let bytes = src.as_bytes();
        if bytes[pos] == b'<'
            && let Some((event, end)) = self.markup(pos)
        {
            self.pos = end;
            return Some(event);
        }
        let end = bytes[pos + 1..]
            .iter()
            .position(|&b| b == b'<')
            .map_or(src.len(), |i| pos + 1 + i);
        self.pos = end;
        Some(Event::Text(pos..end))
    }
}

impl Lexer<'_> {
    /// Read the markup starting with `<` at `pos`: the event and where it
    /// ends, or `None` if this `<` is plain text.
    fn markup(&mut self, pos: usize) -> Option<(Event, usize)> {
        let src = self.src;
        let rest = &src[pos..];
        let until = |pat: &str, from: usize| {
            rest.get(from..)
                .and_then(|r| r.find(pat))
                .map_or(src.len(), |i| pos + from + i + pat.len())
        };
        if rest.starts_with("<!--") {
            return Some((Event::Skip, until("-->", 2)));
        }
        if rest.starts_with("<![CDATA[") {
            return Some((Event::Skip, until("]]>", 9)));
        }
        if rest.starts_with("<!") || rest.starts_with("<?") {
            return Some((Event::Skip, until(">", 2)));
        }
        if rest.starts_with("</>") {
            return Some((Event::Skip, pos + 3));
        }
        let (closing, name_start) = match rest.as_bytes().get(1) {
            Some(b'/') => (true, 2),
            _ => (false, 1),
        };
        if !rest
            .as_bytes()
            .get(name_start)
            .is_some_and(u8::is_ascii_alphabetic)
        {
            return None;
        }
        let name_len = rest[name_start..]
            .bytes()
            .take_while(|b| !b.is_ascii_whitespace() && !matches!(b, b'/' | b'>'))
            .count();
        let name_end = name_start + name_len;
        let gt = tag_end(&rest[name_end..])? + name_end;
        let name = rest[name_start..name_end].to_ascii_lowercase();
        let span = pos..pos + gt + 1;
        if closing {
            return Some((Event::End { name, span }, pos + gt + 1));
        }
        let self_closing = gt > name_end && rest.as_bytes()[gt - 1] == b'/';
        if tags::is_raw_text(&name) && !self_closing {
            self.raw = Some(name.clone());
        }
        let attrs = pos + name_end..pos + gt;
        let event = Event::Start {
            name,
            attrs,
            self_closing,
            span,
        };
        Some((event, pos + gt + 1))
    }
}

/// Offset of the `>` closing a tag whose attributes start `s`; quoted
/// attribute values may contain `>`. An unterminated quote falls back to
/// the first `>`.
fn tag_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut quote = None;
    let mut after_eq = false;
    for (i, &c) in b.iter().enumerate() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'>') => return Some(i),
            (None, b'"' | b'\'') if after_eq => quote = Some(c),
            _ => {}
        }
        if !c.is_ascii_whitespace() {
            after_eq = c == b'=';
        }
    }
    s.find('>')
}

/// Where the raw text starting at `pos` ends: at `</name` or the end.
fn find_end_tag(src: &str, pos: usize, name: &str) -> usize {
    let bytes = src.as_bytes();
    let mut i = pos;
    while let Some(off) = src[i..].find("</") {
        let at = i + off;
        let name_end = at + 2 + name.len();
        if bytes.len() >= name_end
            && bytes[at + 2..name_end].eq_ignore_ascii_case(name.as_bytes())
            && bytes
                .get(name_end)
                .is_none_or(|b| b.is_ascii_whitespace() || matches!(b, b'/' | b'>'))
        {
            return at;
        }
        i = at + 2;
    }
    src.len()
}

/// The events of `src`: HTML tokens, or (for `html == false`) the whole
/// text as one run.
pub(crate) fn lexer(src: &str, html: bool) -> Box<dyn Iterator<Item = Event> + '_> {
    if html {
        Box::new(Lexer {
            src,
            pos: 0,
            raw: None,
        })
    } else {
        Box::new(std::iter::once(Event::Text(0..src.len())).filter(|_| !src.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Events as short strings: `t:text`, `<name attrs>`, `</name>`, `skip`.
    fn events(src: &str) -> Vec<String> {
        lexer(src, true)
            .map(|e| match e {
                Event::Text(r) => format!("t:{}", &src[r]),
                Event::Start {
                    name,
                    attrs,
                    self_closing,
                    ..
                } => format!(
                    "<{name}{}{}>",
                    &src[attrs],
                    if self_closing { "!" } else { "" }
                ),
                Event::End { name, .. } => format!("</{name}>"),
                Event::Skip => "skip".to_string(),
            })
            .collect()
    }

    #[test]
    fn splits_markup() {
        let cases: &[(&str, &[&str])] = &[
            ("<P Class=x>a</p>", &["<p Class=x>", "t:a", "</p>"]),
            ("a<br/>b", &["t:a", "<br/!>", "t:b"]),
            ("<a title='x>y'>z", &["<a title='x>y'>", "t:z"]),
            ("<!-- c -->x<!DOCTYPE html>", &["skip", "t:x", "skip"]),
            (
                "<script>if (a<b) '</p>'</script>c",
                &["<script>", "skip", "</script>", "t:c"],
            ),
            ("a < b", &["t:a ", "t:< b"]),
            ("<p", &["t:<p"]),
            ("x</ b>", &["t:x", "t:</ b>"]),
        ];
        for (src, want) in cases {
            assert_eq!(events(src), *want, "{src:?}");
        }
    }
}
