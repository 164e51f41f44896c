//! The `match` output lines written by hand, straight from the matcher's
//! result: the same bytes as `serde_json` on [`super::r#match::MatchLine`]
//! (tests hold them equal, on the example articles and on arbitrary
//! strings), at a fraction of the cost. At 100k rules an article matches
//! ~2 000 rules with ~3 hits each (~450 KB of JSON per article); building
//! that line as structs and serialising them with serde took more than
//! half of `match`'s time. What does not change between articles (a
//! rule's id and subscribers) is rendered once ([`RuleJson`]), and with
//! many hits each distinct hit once per article.

use crate::pipeline::PreparedArticle;
use crate::rulebook::RuleBook;
use crate::rules::{Hit, RuleMatch};
use rustc_hash::FxHashMap;

/// What a line says about each rule, rendered once for all articles: its
/// id as a JSON string (`--format ids`), and the start of its entry in a
/// full line, `{"rule":…,"subscribers":[…],"hits":[`. At 100k rules an
/// article matches ~2 000 of them: escaping each id and subscriber again
/// per match was a tenth of the output's cost.
pub(super) struct RuleJson {
    ids: Pieces,
    heads: Pieces,
}

/// Byte strings end to end: piece `i` is `bytes[ends[i - 1]..ends[i]]`.
#[derive(Default)]
struct Pieces {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Pieces {
    fn close(&mut self) {
        self.ends.push(self.bytes.len());
    }

    fn get(&self, i: usize) -> &[u8] {
        let start = i.checked_sub(1).map_or(0, |p| self.ends[p]);
        &self.bytes[start..self.ends[i]]
    }
}

impl RuleJson {
    /// The pieces of every rule of `book`.
    pub(super) fn new(book: &RuleBook) -> RuleJson {
        let mut ids = Pieces::default();
        let mut heads = Pieces::default();
        for rule in &book.rules {
            string(&mut ids.bytes, &rule.id);
            ids.close();
            let out = &mut heads.bytes;
            out.extend_from_slice(b"{\"rule\":");
            string(out, &rule.id);
            out.extend_from_slice(b",\"subscribers\":[");
            for (j, &s) in rule.notify.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                string(out, &book.subscribers[s].id);
            }
            out.extend_from_slice(b"],\"hits\":[");
            heads.close();
        }
        RuleJson { ids, heads }
    }
}

/// From this many hits in an article on, each distinct hit is rendered
/// once and copied.
const HITS_WORTH_CACHING: usize = 256;

/// Append `--format full`'s line for one article (no newline) to `out`:
/// field order `id`, `matches`; per match `rule`, `subscribers`, `hits`;
/// per hit `field`, `start`, `end` (byte offsets into the original
/// field), `text`; no spaces. Written straight from the matcher's result:
/// nothing is built per match, and each distinct hit (many rules share
/// their words' occurrences) is rendered once per article and copied.
pub(super) fn write_line(
    out: &mut Vec<u8>,
    rules: &RuleJson,
    prepared: &PreparedArticle<'_>,
    matches: &[RuleMatch],
) {
    let hits: usize = matches.iter().map(|m| m.hits.len()).sum();
    out.reserve(64 + matches.len() * 48 + hits * 56);
    let mut rendered: Vec<u8> = Vec::new();
    // Few hits (1k rules: ~50 an article) are rendered each time: looking
    // them up would cost more than it saves.
    let cache = hits >= HITS_WORTH_CACHING;
    let mut seen: FxHashMap<Hit, (usize, usize)> =
        FxHashMap::with_capacity_and_hasher(if cache { hits } else { 0 }, Default::default());
    out.extend_from_slice(b"{\"id\":");
    string(out, prepared.article.id.as_str());
    out.extend_from_slice(b",\"matches\":[");
    for (i, m) in matches.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(rules.heads.get(m.rule));
        for (j, h) in m.hits.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            if !cache {
                write_hit(out, prepared, h);
                continue;
            }
            let (from, to) = *seen.entry(*h).or_insert_with(|| {
                let from = rendered.len();
                write_hit(&mut rendered, prepared, h);
                (from, rendered.len())
            });
            out.extend_from_slice(&rendered[from..to]);
        }
        out.extend_from_slice(b"]}");
    }
    out.extend_from_slice(b"]}");
}

/// Append `--format ids`'s line (no newline): `{"id":…,"rules":[…]}`
/// for the matching `rules` (indices into the book).
pub(super) fn write_ids(
    out: &mut Vec<u8>,
    rules: &RuleJson,
    prepared: &PreparedArticle<'_>,
    matching: &[usize],
) {
    out.extend_from_slice(b"{\"id\":");
    string(out, prepared.article.id.as_str());
    out.extend_from_slice(b",\"rules\":[");
    for (i, &r) in matching.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(rules.ids.get(r));
    }
    out.extend_from_slice(b"]}");
}

fn write_hit(out: &mut Vec<u8>, prepared: &PreparedArticle<'_>, h: &Hit) {
    let (start, end) = prepared.original_span(h);
    let text = prepared
        .original(h.field)
        .get(start..end)
        .unwrap_or_default();
    let mut num = itoa::Buffer::new();
    out.extend_from_slice(b"{\"field\":");
    string(out, h.field.as_str());
    out.extend_from_slice(b",\"start\":");
    out.extend_from_slice(num.format(start).as_bytes());
    out.extend_from_slice(b",\"end\":");
    out.extend_from_slice(num.format(end).as_bytes());
    out.extend_from_slice(b",\"text\":");
    string(out, text);
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
    use crate::article;
    use crate::cli::r#match::{LineHit, LineMatch, MatchLine, match_line};
    use crate::pipeline;
    use crate::regions::Gazetteer;
    use crate::text::CleanOptions;
    use proptest::prelude::*;
    use std::path::Path;

    /// The example rules and the example articles (JSONL text).
    fn examples() -> (RuleBook, String) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let book = RuleBook::load(&root.join("config/rules.toml"), &Gazetteer::builtin())
            .expect("example rules load");
        let input = std::fs::read_to_string(root.join("config/examples/articles.jsonl"))
            .expect("example articles");
        (book, input)
    }

    /// Every example article against the example rules: the streaming
    /// writers give serde_json's bytes for the reference structs.
    #[test]
    fn example_lines_as_serde_json() {
        let (book, input) = examples();
        let rules = RuleJson::new(&book);
        let mut matched = 0;
        for line in input.lines().filter(|l| !l.trim().is_empty()) {
            let a = article::decode(line.as_bytes(), 1 << 20).expect("example article");
            let prepared = PreparedArticle::new(&a, CleanOptions { enabled: true });
            let matches = pipeline::evaluate(&book, &prepared);
            matched += matches.len();
            let mut ours = Vec::new();
            write_line(&mut ours, &rules, &prepared, &matches);
            let reference = serde_json::to_vec(&match_line(&book, &prepared)).unwrap_or_default();
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&reference)
            );
            let mut ids = Vec::new();
            let found = book.matcher.find_rules(&prepared.document());
            write_ids(&mut ids, &rules, &prepared, &found);
            let rules: Vec<&str> = matches
                .iter()
                .map(|m| book.rules[m.rule].id.as_str())
                .collect();
            let reference = serde_json::json!({"id": a.id.as_str(), "rules": rules});
            assert_eq!(String::from_utf8_lossy(&ids), reference.to_string());
        }
        assert!(matched > 0, "the examples match something");
    }

    /// An article with enough hits to render each distinct hit once:
    /// the same bytes as serde_json still.
    #[test]
    fn many_hits_as_serde_json() {
        let (book, input) = examples();
        let rules = RuleJson::new(&book);
        let line = input
            .lines()
            .find(|l| !l.trim().is_empty())
            .expect("an article");
        let a = article::decode(line.as_bytes(), 1 << 20).expect("example article");
        let prepared = PreparedArticle::new(&a, CleanOptions { enabled: true });
        let matches = pipeline::evaluate(&book, &prepared);
        let hits: usize = matches.iter().map(|m| m.hits.len()).sum();
        assert!(hits > 0, "the first example has hits");
        let times = HITS_WORTH_CACHING / hits + 1;
        let many: Vec<RuleMatch> = (0..times).flat_map(|_| matches.clone()).collect();
        let mut ours = Vec::new();
        write_line(&mut ours, &rules, &prepared, &many);
        let mut reference = match_line(&book, &prepared);
        for _ in 1..times {
            reference
                .matches
                .extend(match_line(&book, &prepared).matches);
        }
        let reference = serde_json::to_vec(&reference).unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&reference)
        );
    }

    fn reference(id: &str, texts: &[&str]) -> String {
        let line = MatchLine {
            id,
            matches: texts
                .iter()
                .map(|t| LineMatch {
                    rule: t,
                    subscribers: texts.to_vec(),
                    hits: vec![LineHit {
                        field: "body",
                        start: 0,
                        end: usize::MAX,
                        text: t,
                    }],
                })
                .collect(),
        };
        serde_json::to_string(&line).unwrap_or_default()
    }

    fn ours(id: &str, texts: &[&str]) -> String {
        let mut out = b"{\"id\":".to_vec();
        string(&mut out, id);
        out.extend_from_slice(b",\"matches\":[");
        for (i, t) in texts.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"rule\":");
            string(&mut out, t);
            out.extend_from_slice(b",\"subscribers\":[");
            for (j, s) in texts.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                string(&mut out, s);
            }
            out.extend_from_slice(b"],\"hits\":[{\"field\":\"body\",\"start\":0,\"end\":");
            out.extend_from_slice(usize::MAX.to_string().as_bytes());
            out.extend_from_slice(b",\"text\":");
            string(&mut out, t);
            out.extend_from_slice(b"}]}");
        }
        out.extend_from_slice(b"]}");
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn escapes_as_serde_json() {
        let texts = [
            "Minsk Group",
            "",
            "quote \" backslash \\ slash /",
            "\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f}\u{7f}",
            "Türkiye’s «élan» 日本 🙂",
        ];
        assert_eq!(ours("a\"1\n", &texts), reference("a\"1\n", &texts));
        assert_eq!(ours("empty", &[]), reference("empty", &[]));
    }

    proptest! {
        #[test]
        fn any_strings_as_serde_json(id in any::<String>(), texts in prop::collection::vec(any::<String>(), 0..5)) {
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            prop_assert_eq!(ours(&id, &texts), reference(&id, &texts));
        }
    }
}
