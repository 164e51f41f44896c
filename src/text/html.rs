//! HTML (and entity-escaped text) → the text a browser shows, with an
//! offset map back to the source. A small forgiving tokenizer, not a full
//! HTML5 parser: it never fails, and anything it cannot read as markup is
//! kept as text.

use super::entities::{EntityValue, parse_entity};
use super::lexer::{Event, lexer};
use super::offsets::{CleanBuilder, OffsetMap};
use super::tags;
use std::ops::Range;

/// What kind of markup a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Markup {
    /// Nothing to decode.
    Plain,
    /// No tags, but character references (`&amp;`) to decode.
    Entities,
    /// HTML tags or comments.
    Html,
}

/// Cheaply decide whether `s` is HTML: a known tag, an end tag, a comment
/// or a doctype. A stray `<` (`a < b`) does not count.
pub(crate) fn detect(s: &str) -> Markup {
    let mut found = Markup::Plain;
    for i in memchr::memchr2_iter(b'<', b'&', s.as_bytes()) {
        if s.as_bytes()[i] == b'<' {
            if looks_like_tag(&s[i + 1..]) {
                return Markup::Html;
            }
        } else if found == Markup::Plain && parse_entity(&s[i..]).is_some() {
            found = Markup::Entities;
        }
    }
    found
}

/// How to read `s` known to be plain text: `Entities` if it holds a
/// character reference, else `Plain`. A `<` is never markup here.
pub(crate) fn detect_entities(s: &str) -> Markup {
    let has_entity = s
        .match_indices('&')
        .any(|(i, _)| parse_entity(&s[i..]).is_some());
    if has_entity {
        Markup::Entities
    } else {
        Markup::Plain
    }
}

/// Whether the text after a `<` reads as markup: a comment, doctype or
/// CDATA; a known tag closed right away (`<p>`, `</b>`, `<br/>`); or a
/// known tag with an attribute (`<a href=…>`), but not `a<b and c>d`.
fn looks_like_tag(rest: &str) -> bool {
    if rest.starts_with("!--") || rest.starts_with("![CDATA[") {
        return true;
    }
    if rest
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("!doctype"))
    {
        return true;
    }
    let name_part = rest.strip_prefix('/').unwrap_or(rest);
    let name_len = name_part
        .bytes()
        .take_while(u8::is_ascii_alphanumeric)
        .count();
    let name = name_part[..name_len].to_ascii_lowercase();
    if !tags::is_known(&name) {
        return false;
    }
    let after = &name_part[name_len..];
    let Some(gt) = after.find('>') else {
        return false;
    };
    let inside = after[..gt].trim();
    inside.is_empty()
        || inside == "/"
        || (after.starts_with(char::is_whitespace) && inside.contains('='))
}

/// Convert `original` to its visible text. `Plain` input is copied.
pub(crate) fn to_text(original: &str, markup: Markup) -> (String, OffsetMap) {
    match markup {
        Markup::Plain => (original.to_string(), OffsetMap::identity(original.len())),
        Markup::Entities => Walker::new(original, false, false).run(),
        Markup::Html => {
            let result = Walker::new(original, true, true).run();
            if result.0.trim().is_empty() {
                // Class-based hiding ate everything: it was wrong here.
                let fallback = Walker::new(original, true, false).run();
                if !fallback.0.trim().is_empty() {
                    return fallback;
                }
            }
            result
        }
    }
}

/// Whitespace waiting to be written until the next visible text.
#[derive(Debug, Clone)]
enum Pending {
    Space(Range<usize>),
    Break(Range<usize>),
}

/// Walks the events, tracks open elements and writes the visible text.
struct Walker<'a> {
    src: &'a str,
    html: bool,
    class_rules: bool,
    /// Source newlines break lines (HTML without any block elements).
    newline_breaks: bool,
    out: CleanBuilder,
    pending: Option<Pending>,
    /// Open elements and whether each hides its content.
    stack: Vec<(String, bool)>,
    hidden: usize,
    pre: usize,
}

impl<'a> Walker<'a> {
    fn new(src: &'a str, html: bool, class_rules: bool) -> Self {
        let newline_breaks = html
            && !lexer(src, html).any(|e| match e {
                Event::Start { name, .. } | Event::End { name, .. } => tags::is_block(&name),
                _ => false,
            });
        Walker {
            src,
            html,
            class_rules,
            newline_breaks,
            out: CleanBuilder::new(src.len()),
            pending: None,
            stack: Vec::new(),
            hidden: 0,
            pre: 0,
        }
    }

    fn run(mut self) -> (String, OffsetMap) {
        let src = self.src;
        for event in lexer(src, self.html) {
            match event {
                Event::Text(range) if self.hidden == 0 => self.text(range),
                Event::Text(_) | Event::Skip => {}
                Event::Start {
                    name,
                    attrs,
                    self_closing,
                    span,
                } => self.start(name, &src[attrs], self_closing, span),
                Event::End { name, span } => self.end(&name, span),
            }
        }
        self.out.finish()
    }

    fn start(&mut self, name: String, attrs: &str, self_closing: bool, span: Range<usize>) {
        while self
            .stack
            .last()
            .is_some_and(|(open, _)| tags::closes(open, &name))
        {
            self.pop();
        }
        if tags::is_block(&name) {
            self.line_break(span);
        }
        if tags::is_void(&name) || self_closing {
            return;
        }
        let hidden = tags::is_hidden(&name)
            || (self.class_rules && tags::is_boilerplate_element(&name, attrs));
        self.hidden += usize::from(hidden);
        self.pre += usize::from(name == "pre");
        self.stack.push((name, hidden));
    }

    fn end(&mut self, name: &str, span: Range<usize>) {
        if tags::is_block(name) {
            self.line_break(span);
        }
        if let Some(i) = self.stack.iter().rposition(|(open, _)| open == name) {
            while self.stack.len() > i {
                self.pop();
            }
        }
    }

    fn pop(&mut self) {
        if let Some((name, hidden)) = self.stack.pop() {
            self.hidden -= usize::from(hidden);
            self.pre -= usize::from(name == "pre");
        }
    }

    fn line_break(&mut self, span: Range<usize>) {
        if self.hidden == 0
            && !self.out.text().is_empty()
            && !matches!(self.pending, Some(Pending::Break(_)))
        {
            self.pending = Some(Pending::Break(span));
        }
    }

    fn space(&mut self, span: Range<usize>) {
        if self.pending.is_none() && !self.out.text().is_empty() {
            self.pending = Some(Pending::Space(span));
        }
    }

    fn flush(&mut self) {
        match self.pending.take() {
            Some(Pending::Break(span)) => self.out.replace('\n', span),
            Some(Pending::Space(span)) if &self.src[span.clone()] == " " => {
                self.out.copy(" ", span.start);
            }
            Some(Pending::Space(span)) => self.out.replace(' ', span),
            None => {}
        }
    }

    /// Write the visible text of the source range `range`.
    fn text(&mut self, range: Range<usize>) {
        let collapse = self.html;
        let s = &self.src[range.clone()];
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let at = range.start + i;
            if b[i] == b'&'
                && let Some(entity) = parse_entity(&s[i..])
            {
                self.entity(entity.value, at..at + entity.len, collapse);
                i += entity.len;
            } else if collapse && b[i].is_ascii_whitespace() {
                let len = b[i..]
                    .iter()
                    .take_while(|c| c.is_ascii_whitespace())
                    .count();
                let has_newline = b[i..i + len].contains(&b'\n');
                if has_newline && (self.pre > 0 || self.newline_breaks) {
                    self.line_break(at..at + len);
                } else {
                    self.space(at..at + len);
                }
                i += len;
            } else {
                let len = 1 + b[i + 1..]
                    .iter()
                    .take_while(|&&c| c != b'&' && !(collapse && c.is_ascii_whitespace()))
                    .count();
                self.flush();
                self.out.copy(&s[i..i + len], at);
                i += len;
            }
        }
    }

    fn entity(&mut self, value: EntityValue, span: Range<usize>, collapse: bool) {
        let mut one = [0u8; 4];
        let text = match value {
            EntityValue::Char(c) => &*c.encode_utf8(&mut one),
            EntityValue::Str(s) => s,
        };
        for c in text.chars() {
            if collapse && c.is_whitespace() {
                self.space(span.clone());
            } else {
                let c = if c == '\u{a0}' { ' ' } else { c };
                self.flush();
                self.out.replace(c, span.clone());
            }
        }
    }
}
