//! The `match` output line written by hand: the same bytes as
//! `serde_json::to_writer` on [`MatchLine`] (a test holds them equal), at
//! a fraction of the cost. At 100k rules an article matches ~2 000 rules
//! with several hits each (~450 KB of JSON per article), and serde's
//! generic map serialisation took more than half of `match`'s time.

use super::r#match::{LineHit, LineMatch, MatchLine};

impl MatchLine<'_> {
    /// Append the line as JSON (no newline) to `out`: field order `id`,
    /// `matches`; per match `rule`, `subscribers`, `hits`; per hit
    /// `field`, `start`, `end`, `text`; no spaces.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"id\":");
        string(out, self.id);
        out.extend_from_slice(b",\"matches\":[");
        for (i, m) in self.matches.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_match(out, m);
        }
        out.extend_from_slice(b"]}");
    }
}

fn write_match(out: &mut Vec<u8>, m: &LineMatch<'_>) {
    out.extend_from_slice(b"{\"rule\":");
    string(out, m.rule);
    out.extend_from_slice(b",\"subscribers\":[");
    for (i, s) in m.subscribers.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, s);
    }
    out.extend_from_slice(b"],\"hits\":[");
    for (i, h) in m.hits.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_hit(out, h);
    }
    out.extend_from_slice(b"]}");
}

fn write_hit(out: &mut Vec<u8>, h: &LineHit<'_>) {
    let mut num = itoa::Buffer::new();
    out.extend_from_slice(b"{\"field\":");
    string(out, h.field);
    out.extend_from_slice(b",\"start\":");
    out.extend_from_slice(num.format(h.start).as_bytes());
    out.extend_from_slice(b",\"end\":");
    out.extend_from_slice(num.format(h.end).as_bytes());
    out.extend_from_slice(b",\"text\":");
    string(out, h.text);
    out.push(b'}');
}

/// `s` as a JSON string, escaped as serde_json does: `"` and `\` with a
/// backslash, `\b \t \n \f \r` by name, other control characters as
/// `\u00XX` (lower-case hex); everything else, non-ASCII included, as is.
pub(super) fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        out.extend_from_slice(&bytes[from..i]);
        from = i + 1;
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
    }
    out.extend_from_slice(&bytes[from..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line<'a>(id: &'a str, texts: &[&'a str]) -> MatchLine<'a> {
        MatchLine {
            id,
            matches: texts
                .iter()
                .enumerate()
                .map(|(i, t)| LineMatch {
                    rule: t,
                    subscribers: texts[..i].to_vec(),
                    hits: texts[i..]
                        .iter()
                        .enumerate()
                        .map(|(j, t)| LineHit {
                            field: ["title", "summary", "body"][j % 3],
                            start: j * 1_000_003,
                            end: usize::MAX - j,
                            text: t,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    fn both(l: &MatchLine<'_>) -> (String, String) {
        let mut ours = Vec::new();
        l.write_to(&mut ours);
        let serde = serde_json::to_string(l).unwrap_or_default();
        (String::from_utf8(ours).unwrap_or_default(), serde)
    }

    #[test]
    fn same_bytes_as_serde_json() {
        let texts = [
            "Minsk Group",
            "",
            "quote \" backslash \\ slash /",
            "\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f}\u{7f}",
            "Türkiye’s «élan» 日本 🙂",
        ];
        let (ours, serde) = both(&line("a\"1\n", &texts));
        assert_eq!(ours, serde);
        let (ours, serde) = both(&line("empty", &[]));
        assert_eq!(ours, serde);
    }

    proptest! {
        #[test]
        fn any_strings_as_serde_json(id in any::<String>(), texts in prop::collection::vec(any::<String>(), 0..5)) {
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            let (ours, serde) = both(&line(&id, &texts));
            prop_assert_eq!(ours, serde);
        }
    }
}
