//! Short snippets of an article around its matched terms, for alerts:
//! a window of the clean text with whitespace collapsed and the hits
//! marked for highlighting.

use crate::alert::Snippet;

/// Longest snippet, in characters (ellipses excluded).
pub const MAX_CHARS: usize = 240;
/// Context kept before the first hit, in characters.
const LEAD_CHARS: usize = 60;

/// A snippet of `text` around `hits` (sorted byte spans into `text`), or
/// `None` when there are no hits.
pub fn around(text: &str, hits: &[(usize, usize)]) -> Option<Snippet> {
    let &(first, _) = hits.first()?;
    let start = back_chars(text, first, LEAD_CHARS);
    let start = word_start(text, start);
    let end = forward_chars(text, start, MAX_CHARS);
    let end = if end < text.len() {
        word_end_before(text, start, end)
    } else {
        end
    };

    let mut out = String::new();
    let mut highlights = Vec::new();
    if start > 0 {
        out.push('…');
    }
    let mut open: Option<usize> = None;
    let mut last_space = true;
    for (i, c) in text[start..end].char_indices() {
        let at = start + i;
        if hits.iter().any(|&(s, e)| s == at && e <= end) {
            open = Some(out.len());
        }
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(c);
            last_space = false;
        }
        let next = at + c.len_utf8();
        if let Some(o) = open
            && hits
                .iter()
                .any(|(s, e)| *e == next && *s >= start && o <= out.len())
        {
            highlights.push((o, out.len()));
            open = None;
        }
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    if end < text.len() {
        out.push('…');
    }
    highlights.retain(|&(s, e)| s < e && e <= out.len());
    Some(Snippet {
        text: out,
        highlights,
    })
}

fn back_chars(text: &str, from: usize, n: usize) -> usize {
    text[..from]
        .char_indices()
        .rev()
        .nth(n.saturating_sub(1))
        .map_or(0, |(i, _)| i)
}

fn forward_chars(text: &str, from: usize, n: usize) -> usize {
    text[from..]
        .char_indices()
        .nth(n)
        .map_or(text.len(), |(i, _)| from + i)
}

/// Move `at` forward to the start of a word unless already at one.
fn word_start(text: &str, at: usize) -> usize {
    if at == 0 || !text[..at].contains(char::is_whitespace) {
        return 0;
    }
    match text[at..].find(char::is_whitespace) {
        Some(ws) if !text[..at].ends_with(char::is_whitespace) => {
            let after = at + ws;
            after + text[after..].len() - text[after..].trim_start().len()
        }
        _ => at,
    }
}

/// Move `end` back to the last whitespace after `start`, if any.
fn word_end_before(text: &str, start: usize, end: usize) -> usize {
    text[start..end]
        .rfind(char::is_whitespace)
        .map_or(end, |i| start + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(s: &Snippet) -> String {
        let mut out = s.text.clone();
        for &(a, b) in s.highlights.iter().rev() {
            out.insert(b, ']');
            out.insert(a, '[');
        }
        out
    }

    #[test]
    fn windows_and_highlights() {
        let text = "Moscow doubts the sincerity of the US statements on the OSCE Minsk Group.";
        let s = around(text, &[(61, 72)]).unwrap();
        assert_eq!(
            marked(&s),
            "Moscow doubts the sincerity of the US statements on the OSCE [Minsk Group]."
        );

        let long = format!(
            "{} Baku  and\nYerevan met. {}",
            "word ".repeat(40),
            "tail ".repeat(80)
        );
        let b = long.find("Baku").unwrap();
        let y = long.find("Yerevan").unwrap();
        let s = around(&long, &[(b, b + 4), (y, y + 7)]).unwrap();
        assert!(
            s.text.starts_with('…') && s.text.ends_with('…'),
            "{}",
            s.text
        );
        assert!(
            marked(&s).contains("[Baku] and [Yerevan] met."),
            "{}",
            marked(&s)
        );
        assert!(s.text.chars().count() <= MAX_CHARS + 2);
        assert_eq!(around(text, &[]), None);
    }

    #[test]
    fn multibyte_text_never_panics() {
        let text =
            "Захарова: Россия заинтересована в нормализации отношений Азербайджана и Армении";
        let at = text.find("Азербайджана").unwrap();
        let s = around(text, &[(at, at + "Азербайджана".len())]).unwrap();
        assert!(marked(&s).contains("[Азербайджана]"));
    }
}
