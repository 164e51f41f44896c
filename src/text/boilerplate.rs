//! Page furniture in the text of an article: trailing link lists ("Latest
//! news" + headlines + dates), unheaded trailing headline/date lists, and
//! "Read more: …" lines. Works on lines and errs on the side of keeping
//! text: a line that reads like prose is never removed.

use super::dates::is_date_line;
use std::ops::Range;

/// Longest line (in chars) that can be an item of a link list.
const MAX_ITEM_CHARS: usize = 160;

/// A heading that introduces a block of links.
struct Phrase {
    /// Lower case; a space matches any whitespace.
    text: &'static str,
    /// Also removed as a single line in the middle of the text.
    read_more: bool,
    /// May be followed by a short name (`More from Reuters`).
    takes_object: bool,
}

const fn phrase(text: &'static str, read_more: bool, takes_object: bool) -> Phrase {
    Phrase {
        text,
        read_more,
        takes_object,
    }
}

const PHRASES: &[Phrase] = &[
    phrase("latest news", false, false),
    phrase("latest stories", false, false),
    phrase("related articles", true, false),
    phrase("related news", true, false),
    phrase("related stories", true, false),
    phrase("related posts", true, false),
    phrase("related", true, false),
    phrase("read more", true, false),
    phrase("read also", true, false),
    phrase("also read", true, false),
    phrase("see also", true, false),
    phrase("more from", false, true),
    phrase("more on", false, true),
    phrase("more news", false, false),
    phrase("more stories", false, false),
    phrase("most read", false, false),
    phrase("most popular", false, false),
    phrase("top stories", false, false),
    phrase("recommended", false, false),
    phrase("recommended for you", false, false),
    phrase("you may also like", false, false),
    phrase("you might also like", false, false),
    phrase("trending", false, false),
    phrase("trending now", false, false),
    phrase("читайте также", true, false),
    phrase("смотрите также", true, false),
    phrase("по теме", true, false),
    phrase("новости по теме", true, false),
    phrase("последние новости", false, false),
    phrase("похожие новости", false, false),
    phrase("другие новости", false, false),
    phrase("популярное", false, false),
    phrase("самое читаемое", false, false),
];

/// Lines that are page furniture wherever they stand, alone on a line.
const STANDALONE: &[&str] = &["advertisement", "реклама"];

/// How a line starts with a heading phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heading {
    /// Only the heading (and punctuation).
    Alone,
    /// The heading and the first item: `Read more: X`, `Latest newsX`.
    WithItem,
}

#[derive(Debug)]
struct Line<'a> {
    /// Byte range of the line, without its `\n`.
    range: Range<usize>,
    /// The line trimmed.
    text: &'a str,
}

/// The byte ranges of `text` to keep, in order; `None` to keep it all.
pub(crate) fn keep_ranges(text: &str) -> Option<Vec<Range<usize>>> {
    let lines = split_lines(text);
    let first_content = lines.iter().position(|l| !l.text.is_empty())?;
    let cut = tail_start(&lines, first_content);
    let mut keep: Vec<Range<usize>> = Vec::new();
    let mut i = 0;
    while i < cut {
        let skip = if i > first_content {
            middle_furniture(&lines[i..cut])
        } else {
            0
        };
        if skip > 0 {
            i += skip;
            continue;
        }
        // Keep the line with its newline.
        let end = (lines[i].range.end + 1).min(text.len());
        match keep.last_mut() {
            Some(last) if last.end == lines[i].range.start => last.end = end,
            _ => keep.push(lines[i].range.start..end),
        }
        i += 1;
    }
    if let Some(last) = keep.last_mut() {
        last.end = last.start + text[last.clone()].trim_end().len();
    }
    keep.retain(|r| !r.is_empty());
    let kept_words = keep
        .iter()
        .any(|r| text[r.clone()].chars().any(char::is_alphanumeric));
    let changed = keep.len() != 1 || keep[0] != (0..text.len());
    (kept_words && changed).then_some(keep)
}

fn split_lines(text: &str) -> Vec<Line<'_>> {
    let mut lines = Vec::new();
    let mut start = 0;
    for part in text.split('\n') {
        let range = start..start + part.len();
        start = range.end + 1;
        lines.push(Line {
            range,
            text: part.trim(),
        });
    }
    lines
}

/// Index of the first line of the trailing furniture (`lines.len()` if
/// none). Lines up to `first_content` are always kept.
fn tail_start(lines: &[Line<'_>], first_content: usize) -> usize {
    // Lines from `list_from` on could all be items of a link list.
    let list_from = lines
        .iter()
        .rposition(|l| !is_list_item(l.text))
        .map_or(0, |i| i + 1);
    let headed = (list_from.saturating_sub(1).max(first_content + 1)..lines.len()).find(|&i| {
        heading(lines[i].text).is_some() && lines[i].text.chars().count() <= MAX_ITEM_CHARS + 40
    });
    let mut cut = headed.unwrap_or_else(|| unheaded_list_start(lines, first_content));
    // Dates and blank lines left at the very end: publication stamps.
    while cut > first_content + 1 {
        let l = lines[cut - 1].text;
        if !(l.is_empty() || is_date_line(l)) {
            break;
        }
        cut -= 1;
    }
    cut
}

/// Start of a trailing run of ≥ 3 headline and date lines with no heading,
/// if it looks like a link list rather than the end of the article.
fn unheaded_list_start(lines: &[Line<'_>], first_content: usize) -> usize {
    let (mut dates, mut headlines, mut start) = (0, 0, lines.len());
    for i in (first_content + 1..lines.len()).rev() {
        let l = lines[i].text;
        match () {
            _ if l.is_empty() => {}
            _ if is_date_line(l) => dates += 1,
            _ if is_headline(l) => headlines += 1,
            _ => break,
        }
        start = i;
    }
    let Some(before) = lines[..start].iter().rev().find(|l| !l.text.is_empty()) else {
        return lines.len();
    };
    let introduced = before.text.ends_with(':');
    let after_prose = ends_sentence(before.text);
    let dated_list = dates >= 2 && headlines >= 1 && !introduced;
    let headline_list = headlines >= 4 && dates == 0 && after_prose;
    if dated_list || headline_list {
        // Don't start the cut at blank lines.
        (start..lines.len())
            .find(|&i| !lines[i].text.is_empty())
            .unwrap_or(lines.len())
    } else {
        lines.len()
    }
}

/// How many lines at the start of `lines` are a "Read more: …" link (or a
/// "Read also" heading and the headline under it, or an "Advertisement").
fn middle_furniture(lines: &[Line<'_>]) -> usize {
    let text = lines[0].text;
    if STANDALONE.contains(&text.to_lowercase().as_str()) {
        return 1;
    }
    match heading(text) {
        Some((p, Heading::WithItem)) if p.read_more && text.chars().count() <= MAX_ITEM_CHARS => 1,
        Some((p, Heading::Alone)) if p.read_more => {
            match lines.get(1) {
                // The linked headline, when it is followed by more text.
                Some(next) if is_headline(next.text) && lines.len() > 2 => 2,
                _ => 1,
            }
        }
        _ => 0,
    }
}

/// Whether `line` starts with a heading phrase, and how.
fn heading(line: &str) -> Option<(&'static Phrase, Heading)> {
    let line = line.trim_start_matches(|c: char| !c.is_alphanumeric());
    let first = line.chars().next()?;
    PHRASES.iter().find_map(|p| {
        // Most lines begin like no phrase: their first char tells.
        if !same_char(first, p.text.chars().next()?) {
            return None;
        }
        let rest = strip_prefix_ci(line, p.text)?;
        let bare = rest.trim_matches(|c: char| c.is_whitespace() || is_heading_punct(c));
        let first = rest.chars().next();
        let kind = if bare.is_empty() {
            Heading::Alone
        } else if first.is_some_and(|c| c.is_uppercase() || c.is_ascii_digit() || is_quote(c))
            || rest.trim_start().starts_with(is_heading_punct)
        {
            // Glued ("Latest newsSerbia's …") or "Read more: …".
            Heading::WithItem
        } else if p.takes_object && is_headline(line) && line.chars().count() <= 60 {
            Heading::Alone // "More from Reuters"
        } else {
            return None;
        };
        Some((p, kind))
    })
}

/// `s` without `prefix`, compared case-insensitively; a space in the
/// prefix matches any whitespace.
fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let mut off = 0;
    for p in prefix.chars() {
        let c = s[off..].chars().next()?;
        if !same_char(c, p) {
            return None;
        }
        off += c.len_utf8();
    }
    Some(&s[off..])
}

/// Whether text char `c` matches phrase char `p` (lower case; a space
/// matches any whitespace). ASCII first: no case tables.
fn same_char(c: char, p: char) -> bool {
    if p == ' ' {
        c.is_whitespace()
    } else if c.is_ascii() && p.is_ascii() {
        c.eq_ignore_ascii_case(&p)
    } else {
        c.to_lowercase().eq(p.to_lowercase())
    }
}

fn is_heading_punct(c: char) -> bool {
    matches!(
        c,
        ':' | '-' | '–' | '—' | '|' | '»' | '›' | '>' | '→' | '…' | '.' | '!'
    )
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '\'' | '“' | '‘' | '«' | '„')
}

/// Whether `line` can be an item of a link list: short, and not a
/// sentence of prose (headlines rarely end with a full stop).
fn is_list_item(line: &str) -> bool {
    line.chars().count() <= MAX_ITEM_CHARS && !is_prose(line)
}

/// A line ending with a full stop (not `...`, not a date like `21.10.`).
fn is_prose(line: &str) -> bool {
    line.ends_with('.') && !line.ends_with("..") && !is_date_line(line)
}

/// A short line that reads like a headline, not like a sentence of prose.
fn is_headline(line: &str) -> bool {
    let words = line.split_whitespace().count();
    (2..=30).contains(&words)
        && line.chars().count() <= MAX_ITEM_CHARS
        && !line.ends_with(['.', ':', ';', ','])
}

/// Whether `line` ends like the last sentence of a paragraph.
fn ends_sentence(line: &str) -> bool {
    let line = line.trim_end_matches(|c: char| is_quote(c) || matches!(c, '”' | '’' | '»' | ')'));
    line.ends_with(['.', '!', '?', '…'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(text: &str) -> String {
        match keep_ranges(text) {
            Some(keep) => keep.into_iter().map(|r| &text[r]).collect(),
            None => text.to_string(),
        }
    }

    #[test]
    fn finds_headings() {
        let cases = [
            ("Latest news", Some(Heading::Alone)),
            ("LATEST NEWS:", Some(Heading::Alone)),
            (
                "Latest newsSerbia’s European Integration",
                Some(Heading::WithItem),
            ),
            ("Read more: Talks in Baku", Some(Heading::WithItem)),
            ("Related articles", Some(Heading::Alone)),
            ("• Related", Some(Heading::Alone)),
            ("Читайте также:", Some(Heading::Alone)),
            ("ЧИТАЙТЕ ТАКЖЕ: Переговоры в Баку", Some(Heading::WithItem)),
            ("More from Reuters", Some(Heading::Alone)),
            ("Read more about this at the ministry's site.", None),
            ("Related talks were held in Baku.", None),
            ("Recommendations followed", None),
            ("Trendingly", None),
        ];
        for (line, want) in cases {
            assert_eq!(heading(line).map(|(_, k)| k), want, "{line:?}");
        }
    }

    #[test]
    fn keeps_prose_and_cuts_lists() {
        let cases = [
            ("One.\nTwo.", "One.\nTwo."),
            ("Body text.\nRead more\n", "Body text."),
            (
                "Body.\nRead more: Other story\nMore body.",
                "Body.\nMore body.",
            ),
            ("Body.\n\n25 Oct 2025\n", "Body."),
            ("Body.\nAdvertisement\nMore body.", "Body.\nMore body."),
            ("Latest news", "Latest news"),
            ("Read more: X", "Read more: X"),
        ];
        for (text, want) in cases {
            assert_eq!(clean(text), want, "{text:?}");
        }
    }
}
