//! The `match` output lines written by hand, straight from the matcher:
//! the same bytes as `serde_json` on [`super::r#match::MatchLine`] (tests
//! hold them equal, on the example articles and on arbitrary strings), at
//! a fraction of the cost. At 100k rules an article matches ~2 000 rules
//! with ~6 000 hits, ~350 of them distinct: each distinct hit is written
//! once per line and the matches refer to it by index, and the matches are
//! one object keyed by rule id, the subscribers they notify listed once
//! (~64 KB of JSON per article; ~450 KB with every hit and subscriber
//! inline, whose writing was most of `match`'s time and all of its disk
//! traffic). What does not change between articles (a rule's id as a
//! string and as a key) is rendered once ([`RuleJson`]).

use super::r#match::Format;
use crate::pipeline::PreparedArticle;
use crate::rulebook::RuleBook;
use crate::rules::{Hit, Matcher};
use rustc_hash::FxHashMap;
use std::cell::RefCell;

/// What a line says about each rule, rendered once for all articles: its
/// id as a JSON string (`--format ids`), and its record for a full line:
/// the start of its entry in `matches` (`"id":[`) and whom it notifies,
/// side by side. At 100k rules an article matches ~2 000 of them, whose
/// records are out of cache: one record is one or two cache misses where
/// separate lists were four (and escaping each id again per match was a
/// tenth of the output's cost).
pub(super) struct RuleJson {
    ids: Pieces,
    /// Per rule: the head's length (`u32` LE), the head, then the
    /// subscribers it notifies (`u32` LE each).
    records: Pieces,
    /// Each subscriber's id as a JSON string.
    subscribers: Pieces,
}

/// A rule's record: its head and the subscribers it notifies.
fn record(bytes: &[u8]) -> (&[u8], impl Iterator<Item = u32> + '_) {
    let (len, rest) = bytes.split_at_checked(4).unwrap_or_default();
    let len = len.try_into().map_or(0, u32::from_le_bytes) as usize;
    let (head, notify) = rest.split_at_checked(len).unwrap_or_default();
    let notify = notify
        .chunks_exact(4)
        .map(|c| c.try_into().map_or(0, u32::from_le_bytes));
    (head, notify)
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

    /// Append pieces `indices` to `out`, comma-separated.
    fn join(&self, out: &mut Vec<u8>, indices: impl Iterator<Item = usize>) {
        for (i, piece) in indices.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(self.get(piece));
        }
    }

    /// Pieces `indices`, fetched before they are written: at 100k rules
    /// the pieces (~5 MB) are out of cache and each is a miss or two.
    /// Looked up in one tight loop, then touched in another, the misses
    /// overlap (the addresses do not depend on each other) instead of
    /// each waiting its turn between writes (r100k, 2 000 articles: user
    /// time 2.1 → 1.9 s).
    fn gather(&self, indices: impl Iterator<Item = usize>) -> Vec<&[u8]> {
        let pieces: Vec<&[u8]> = indices.map(|i| self.get(i)).collect();
        let touched = pieces
            .iter()
            .fold(0u8, |acc, p| acc ^ p.first().copied().unwrap_or_default());
        std::hint::black_box(touched);
        pieces
    }
}

impl RuleJson {
    /// The pieces of every rule of `book` that lines in `format` use.
    pub(super) fn new(book: &RuleBook, format: Format) -> RuleJson {
        let mut json = RuleJson {
            ids: Pieces::default(),
            records: Pieces::default(),
            subscribers: Pieces::default(),
        };
        let mut head = Vec::new();
        if format == Format::Ids {
            for rule in &book.rules {
                string(&mut json.ids.bytes, &rule.id);
                json.ids.close();
            }
            return json;
        }
        for rule in &book.rules {
            head.clear();
            string(&mut head, &rule.id);
            head.extend_from_slice(b":[");
            let out = &mut json.records.bytes;
            out.extend_from_slice(&(head.len() as u32).to_le_bytes());
            out.extend_from_slice(&head);
            for &s in &rule.notify {
                out.extend_from_slice(&(s as u32).to_le_bytes());
            }
            json.records.close();
        }
        for s in &book.subscribers {
            string(&mut json.subscribers.bytes, &s.id);
            json.subscribers.close();
        }
        json
    }
}

/// Append `--format full`'s line for one article (no newline) to `out`:
/// field order
/// `id`, `subscribers` (whom the matching rules notify, in the rules
/// file's order), `matches` (rule id → indices into the line's `hits`, in
/// the rules file's order), `hits`; per hit `field`, `start`, `end` (byte
/// offsets into the original field), `text`; no spaces. The line's `hits`
/// are the article's distinct hits in the order the matches first refer to
/// them (rule order, then text order; sorting them by position cost 2.5 %
/// of `match`'s instructions at 1k rules): many rules share their words' occurrences (at 100k rules ~6 000 hits
/// of ~2 000 matching rules are ~350 distinct spans), so each is written
/// once. Written as the matcher finds each rule: nothing is built per
/// match.
pub(super) fn write_line(
    out: &mut Vec<u8>,
    rules: &RuleJson,
    matcher: &Matcher,
    prepared: &PreparedArticle<'_>,
) {
    SCRATCH.with_borrow_mut(|scratch| scratch.write(out, rules, matcher, prepared))
}

thread_local! {
    /// Each matching thread's working lists, kept from article to article
    /// (allocating and growing them afresh was ~5 % of `match`'s
    /// instructions at 1k rules).
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

/// [`write_line`]'s working lists.
#[derive(Default)]
struct Scratch {
    /// Matching rules with the end of their hit numbers in `refs`.
    matched: Vec<(usize, usize)>,
    /// Each match's hit numbers as written (`3,17,20`), one after another.
    refs: Vec<u8>,
    /// The distinct hits, first seen first.
    distinct: Vec<Hit>,
    seen: FxHashMap<Hit, u32>,
    /// The subscribers the matching rules notify.
    notified: Vec<u32>,
    /// Where in `refs` each leaf's numbers were first written (`find_each`
    /// numbers the one-phrase rules' leaves): the next rule of the same
    /// leaf copies them (a word many rules share is numbered once).
    leaves: Vec<Option<(usize, usize)>>,
}

impl Scratch {
    fn write(
        &mut self,
        out: &mut Vec<u8>,
        rules: &RuleJson,
        matcher: &Matcher,
        prepared: &PreparedArticle<'_>,
    ) {
        let Scratch {
            matched,
            refs,
            distinct,
            seen,
            notified,
            leaves,
        } = self;
        matched.clear();
        refs.clear();
        distinct.clear();
        seen.clear();
        notified.clear();
        leaves.clear();
        let mut num = itoa::Buffer::new();
        matcher.find_each(&prepared.document(), |rule, hits, leaf| {
            let start = refs.len();
            let written = leaf.and_then(|l| leaves.get(l as usize).copied().flatten());
            if let Some((from, to)) = written {
                refs.extend_from_within(from..to);
            } else {
                for (j, h) in hits.iter().enumerate() {
                    if j > 0 {
                        refs.push(b',');
                    }
                    let next = distinct.len() as u32;
                    let id = *seen.entry(*h).or_insert_with(|| {
                        distinct.push(*h);
                        next
                    });
                    refs.extend_from_slice(num.format(id).as_bytes());
                }
                if let Some(l) = leaf {
                    let l = l as usize;
                    if leaves.len() <= l {
                        leaves.resize(l + 1, None);
                    }
                    leaves[l] = Some((start, refs.len()));
                }
            }
            matched.push((rule, refs.len()));
        });
        let records = rules.records.gather(matched.iter().map(|&(rule, _)| rule));
        for &r in &records {
            notified.extend(record(r).1);
        }
        notified.sort_unstable();
        notified.dedup();
        out.reserve(64 + matched.len() * 16 + refs.len() + distinct.len() * 56);
        out.extend_from_slice(b"{\"id\":");
        string(out, prepared.article.id.as_str());
        out.extend_from_slice(b",\"subscribers\":[");
        rules
            .subscribers
            .join(out, notified.iter().map(|&s| s as usize));
        out.extend_from_slice(b"],\"matches\":{");
        let mut from = 0;
        for (i, (&(_, to), r)) in matched.iter().zip(records).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(record(r).0);
            out.extend_from_slice(&refs[from..to]);
            out.push(b']');
            from = to;
        }
        out.extend_from_slice(b"},\"hits\":[");
        for (i, h) in distinct.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_hit(out, prepared, h);
        }
        out.extend_from_slice(b"]}");
    }
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
    rules.ids.join(out, matching.iter().copied());
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

    /// `write_line` against the reference (serde_json on `match_line`) for
    /// every article of `input`; the number of matches and hit references.
    fn as_serde_json(book: &RuleBook, input: &str) -> (usize, usize) {
        let rules = RuleJson::new(book, Format::Full);
        let ids_only = RuleJson::new(book, Format::Ids);
        let (mut matched, mut refs) = (0, 0);
        for line in input.lines().filter(|l| !l.trim().is_empty()) {
            let a = article::decode(line.as_bytes(), 1 << 20).expect("example article");
            let prepared = PreparedArticle::new(&a, CleanOptions { enabled: true });
            let mut ours = Vec::new();
            write_line(&mut ours, &rules, &book.matcher, &prepared);
            let found = book.matcher.find_rules(&prepared.document());
            let reference = match_line(book, &prepared);
            let expected: Vec<&str> = reference.matches.iter().map(|m| m.rule).collect();
            let got: Vec<&str> = found.iter().map(|&r| book.rules[r].id.as_str()).collect();
            assert_eq!(got, expected);
            matched += reference.matches.len();
            refs += reference
                .matches
                .iter()
                .map(|m| m.hits.len())
                .sum::<usize>();
            let reference = serde_json::to_vec(&reference).unwrap_or_default();
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&reference)
            );
            let mut ids = Vec::new();
            write_ids(&mut ids, &ids_only, &prepared, &found);
            let reference = serde_json::json!({"id": a.id.as_str(), "rules": expected});
            assert_eq!(String::from_utf8_lossy(&ids), reference.to_string());
        }
        (matched, refs)
    }

    /// Every example article against the example rules: the streaming
    /// writers give serde_json's bytes for the reference structs.
    #[test]
    fn example_lines_as_serde_json() {
        let (book, input) = examples();
        let (matched, _) = as_serde_json(&book, &input);
        assert!(matched > 0, "the examples match something");
        // The seed article alerts two subscribers, each listed once.
        let line = input.lines().next().expect("an article");
        let a = article::decode(line.as_bytes(), 1 << 20).expect("example article");
        let prepared = PreparedArticle::new(&a, CleanOptions { enabled: true });
        let subscribers = match_line(&book, &prepared).subscribers;
        assert_eq!(subscribers, ["caucasus-desk", "osce-analyst"]);
    }

    /// Many rules sharing their words' occurrences (words, prefixes,
    /// phrases, `OR`, `NEAR`, in every field): each distinct hit is in
    /// the line once, numbered as first referred to, and every match's indices point at
    /// its own hits (the reference resolves them independently); the same
    /// bytes as serde_json.
    #[test]
    fn shared_hits_are_written_once_and_referred_to() {
        let (_, input) = examples();
        let mut toml = String::from("[[subscriber]]\nid = \"desk\"\ntelegram_chat_id = 1\n");
        let words = [
            "minsk",
            "group",
            "azerbaijan",
            "armenia",
            "russia",
            "baku",
            "gas",
        ];
        let mut n = 0;
        let mut rule = |query: String| {
            n += 1;
            toml += &format!("[[rule]]\nid = \"r{n}\"\nquery = '{query}'\nnotify = [\"desk\"]\n");
        };
        for (i, w) in words.iter().enumerate() {
            let next = words[(i + 1) % words.len()];
            rule(w.to_string());
            // The same word again: its hit numbers are copied, not redone.
            rule(w.to_string());
            rule(format!("{}*", &w[..3]));
            rule(format!("{w} OR {next}"));
            rule(format!("{w} NEAR/20 {next}"));
            rule(format!("title:{w}"));
        }
        rule("\"Minsk Group\"".to_string());
        rule("\"Minsk Group\" AND minsk".to_string());
        let book = RuleBook::parse(Path::new("shared.toml"), &toml, &Gazetteer::builtin())
            .expect("generated rules load");
        let (matched, refs) = as_serde_json(&book, &input);
        assert!(
            matched > 20 && refs > 2 * matched,
            "{matched} matches, {refs} hits"
        );
        let line = input.lines().next().expect("an article");
        let a = article::decode(line.as_bytes(), 1 << 20).expect("example article");
        let prepared = PreparedArticle::new(&a, CleanOptions { enabled: true });
        let reference = match_line(&book, &prepared);
        let spans: Vec<(&str, usize, usize)> = reference
            .hits
            .iter()
            .map(|h| (h.field, h.start, h.end))
            .collect();
        let mut unique = spans.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), spans.len(), "each hit once: {spans:?}");
        // Numbered as the matches first refer to them.
        let mut next = 0;
        for i in reference.matches.iter().flat_map(|m| m.hits.iter()) {
            assert!(*i <= next, "hit {i} before hit {next}");
            next = next.max(i + 1);
        }
        assert_eq!(next, spans.len(), "every hit referred to");
        let total: usize = reference.matches.iter().map(|m| m.hits.len()).sum();
        assert!(spans.len() < total, "{} distinct of {total}", spans.len());
        for (m, found) in reference
            .matches
            .iter()
            .zip(pipeline::evaluate(&book, &prepared))
        {
            let resolved: Vec<(usize, usize)> = m
                .hits
                .iter()
                .map(|&i| (reference.hits[i].start, reference.hits[i].end))
                .collect();
            let own: Vec<(usize, usize)> = found
                .hits
                .iter()
                .map(|h| prepared.original_span(h))
                .collect();
            assert_eq!(resolved, own, "rule {}", m.rule);
        }
    }

    fn reference(id: &str, texts: &[&str]) -> String {
        let line = MatchLine {
            id,
            subscribers: texts.to_vec(),
            matches: texts
                .iter()
                .enumerate()
                .map(|(i, t)| LineMatch {
                    rule: t,
                    hits: vec![i],
                })
                .collect(),
            hits: texts
                .iter()
                .map(|t| LineHit {
                    field: "body",
                    start: 0,
                    end: usize::MAX,
                    text: t,
                })
                .collect(),
        };
        serde_json::to_string(&line).unwrap_or_default()
    }

    fn ours(id: &str, texts: &[&str]) -> String {
        let mut out = b"{\"id\":".to_vec();
        string(&mut out, id);
        out.extend_from_slice(b",\"subscribers\":[");
        for (i, s) in texts.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            string(&mut out, s);
        }
        out.extend_from_slice(b"],\"matches\":{");
        for (i, t) in texts.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            string(&mut out, t);
            out.extend_from_slice(format!(":[{i}]").as_bytes());
        }
        out.extend_from_slice(b"},\"hits\":[");
        for (i, t) in texts.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"field\":\"body\",\"start\":0,\"end\":");
            out.extend_from_slice(usize::MAX.to_string().as_bytes());
            out.extend_from_slice(b",\"text\":");
            string(&mut out, t);
            out.push(b'}');
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
