//! The `[[rule]]` tables: each is deserialized from its own chunk of the
//! file ([`super::chunks`]; the common shape by [`super::simple_chunk`]),
//! parsed as a query and linted, then checked and added to the
//! [`MatcherBuilder`] in file order. Reading and parsing is done a batch of
//! chunks at a time on every core, so that only a batch's TOML trees and
//! query ASTs are alive at a time whatever the size of the file.

use super::Rule;
use super::diagnostic::{Report, Severity, offset_in_string};
use super::simple_chunk::{self, SimpleRule};
use crate::rules::{self, Matcher, MatcherBuilder};
use crate::subscriber::{Channel, Subscriber};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    id: Spanned<String>,
    query: Spanned<String>,
    notify: Vec<Spanned<String>>,
    channels: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    #[allow(dead_code)]
    description: String,
}

impl RawRule {
    /// Where the query string is, in the text this was parsed from.
    pub(super) fn query_span(&self) -> Range<usize> {
        self.query.span()
    }
}

/// One `[[rule]]` chunk, parsed as a document of its own.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChunk {
    rule: Vec<RawRule>,
}

/// Chunks read at a time by [`RuleLoader::add_chunks`]: enough to share
/// out, few enough that their query trees take little memory.
const CHUNK_BATCH: usize = 4096;

/// A rule with its query parsed and linted (or why it does not parse).
pub(super) struct ParsedRule {
    raw: RawRule,
    query: Result<(rules::Query, Vec<rules::Lint>), rules::QueryError>,
}

impl ParsedRule {
    fn new(raw: RawRule) -> ParsedRule {
        let query = rules::parse(raw.query.get_ref()).map(|q| {
            let lints = rules::lint(&q);
            (q, lints)
        });
        ParsedRule { raw, query }
    }
}

/// A chunk's rules (spans in the file), or where and why it is not TOML.
type ReadChunk = Result<Vec<ParsedRule>, (usize, String)>;

/// Read the `[[rule]]` chunk at `range` of `text` (the simple reader
/// first, then the TOML parser) and parse its queries.
fn read_chunk(text: &str, range: Range<usize>) -> ReadChunk {
    let base = range.start;
    let chunk = &text[range];
    if let Some(r) = simple_chunk::read(chunk) {
        return Ok(vec![ParsedRule::new(shifted(RawRule::from(r), base))]);
    }
    match toml::from_str::<RawChunk>(chunk) {
        Ok(chunk) => Ok(chunk
            .rule
            .into_iter()
            .map(|r| ParsedRule::new(shifted(r, base)))
            .collect()),
        Err(e) => {
            let offset = e.span().map_or(0, |s| s.start);
            Err((base + offset, e.message().trim_end().to_string()))
        }
    }
}

/// Rules checked and compiled so far.
pub(super) struct RuleLoader<'a> {
    subscribers: &'a [Subscriber],
    index: HashMap<&'a str, usize>,
    seen: HashSet<Box<str>>,
    builder: MatcherBuilder<'a>,
    rules: Vec<Rule>,
    /// Span of each rule's query string, for compile errors.
    spans: Vec<Range<usize>>,
}

impl<'a> RuleLoader<'a> {
    /// A loader for about `rules` rules (sized once: growing by doubling
    /// would hold the old and the new table at once).
    pub(super) fn new(
        subscribers: &'a [Subscriber],
        builder: MatcherBuilder<'a>,
        rules: usize,
    ) -> Self {
        RuleLoader {
            subscribers,
            index: subscribers
                .iter()
                .enumerate()
                .map(|(i, s)| (s.id.as_str(), i))
                .collect(),
            seen: HashSet::with_capacity(rules),
            builder,
            rules: Vec::with_capacity(rules),
            spans: Vec::with_capacity(rules),
        }
    }

    /// Parse the `[[rule]]` chunks at `ranges` of the report's text and
    /// add their rules, in order. Reading a chunk and parsing and linting
    /// its query need nothing from the other rules: that is done for a
    /// batch of chunks at a time on every core ([`read_chunk`]); adding
    /// to the matcher and reporting follow in file order.
    pub(super) fn add_chunks(&mut self, ranges: Vec<Range<usize>>, report: &mut Report<'_>) {
        let text = report.text;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        for batch in ranges.chunks(CHUNK_BATCH) {
            let read: Vec<ReadChunk> = if threads < 2 || batch.len() < 64 {
                batch.iter().map(|r| read_chunk(text, r.clone())).collect()
            } else {
                let per = batch.len().div_ceil(threads);
                std::thread::scope(|scope| {
                    let parts: Vec<_> = batch
                        .chunks(per)
                        .skip(1)
                        .map(|part| {
                            scope.spawn(move || {
                                part.iter()
                                    .map(|r| read_chunk(text, r.clone()))
                                    .collect::<Vec<_>>()
                            })
                        })
                        .collect();
                    let mut all: Vec<ReadChunk> = batch[..per]
                        .iter()
                        .map(|r| read_chunk(text, r.clone()))
                        .collect();
                    for part in parts {
                        // A panic in a reader is a bug: let it surface.
                        all.extend(part.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
                    }
                    all
                })
            };
            for chunk in read {
                match chunk {
                    Ok(rules) => {
                        for r in rules {
                            let span = r.raw.query.span();
                            self.add_parsed(r, span, report);
                        }
                    }
                    Err((offset, message)) => report.at(offset, Severity::Error, message),
                }
            }
        }
    }

    /// Check, parse, lint and compile `r` (spans in the report's text;
    /// `query_in_file`: its query's span in the file, for compile errors).
    pub(super) fn add(&mut self, r: RawRule, query_in_file: Range<usize>, report: &mut Report<'_>) {
        self.add_parsed(ParsedRule::new(r), query_in_file, report);
    }

    /// Check and compile a rule whose query is parsed and linted.
    fn add_parsed(&mut self, p: ParsedRule, query_in_file: Range<usize>, report: &mut Report<'_>) {
        let r = p.raw;
        let mut duplicate = false;
        if r.id.get_ref().trim().is_empty() {
            report.error(&r.id, "rule id must not be empty");
        } else if !self.seen.insert(r.id.get_ref().as_str().into()) {
            report.error(&r.id, format!("duplicate rule id {:?}", r.id.get_ref()));
            duplicate = true;
        }
        let rule = self.targets(&r, report);
        let id = r.id.get_ref();
        let text = report.text;
        match p.query {
            Ok((q, lints)) => {
                for lint in lints {
                    let at = offset_in_string(text, r.query.span(), r.query.get_ref(), lint.offset);
                    let severity = match lint.severity {
                        rules::Severity::Error => Severity::Error,
                        rules::Severity::Warning => Severity::Warning,
                    };
                    report.at(at, severity, format!("rule {id:?}: {}", lint.message));
                }
                // Reported above; the matcher would report it again.
                if !duplicate {
                    self.builder.add(id, &q);
                    self.rules.push(rule);
                    self.spans.push(query_in_file);
                }
            }
            Err(e) => {
                let at = offset_in_string(text, r.query.span(), r.query.get_ref(), e.offset);
                report.at(at, Severity::Error, format!("rule {id:?}: {}", e.message));
            }
        }
    }

    /// The matcher and the rules in its order, or `None` after reporting
    /// its compile errors.
    pub(super) fn finish(self, report: &mut Report<'_>) -> Option<(Matcher, Vec<Rule>)> {
        match self.builder.finish() {
            Ok(m) => Some((m, self.rules)),
            Err(errors) => {
                for e in errors {
                    let (span, rule) = (&self.spans[e.rule], &self.rules[e.rule]);
                    let at = offset_in_string(report.text, span.clone(), &rule.query, e.offset);
                    let message = format!("rule {:?}: {}", rule.id, e.message);
                    report.at(at, Severity::Error, message);
                }
                None
            }
        }
    }

    /// `r`'s subscribers and channels, checked.
    fn targets(&self, r: &RawRule, report: &mut Report<'_>) -> Rule {
        let id = r.id.get_ref();
        if r.notify.is_empty() {
            report.at(
                r.id.span().start,
                Severity::Warning,
                format!("rule {id:?} notifies nobody"),
            );
        }
        let mut notify = Vec::new();
        for n in &r.notify {
            match self.index.get(n.get_ref().as_str()) {
                Some(&i) if notify.contains(&i) => report.error(
                    n,
                    format!("rule {id:?}: subscriber {:?} listed twice", n.get_ref()),
                ),
                Some(&i) => notify.push(i),
                None => report.error(
                    n,
                    format!("rule {id:?}: unknown subscriber {:?}", n.get_ref()),
                ),
            }
        }
        let channels = r.channels.as_ref().map(|list| {
            let mut out = Vec::new();
            for c in list {
                match Channel::parse(c.get_ref()) {
                    Ok(ch) if !out.contains(&ch) => out.push(ch),
                    Ok(_) => {}
                    Err(e) => report.error(c, format!("rule {id:?}: {e}")),
                }
            }
            for &ch in &out {
                for &i in &notify {
                    if !self.subscribers[i].channels().contains(&ch) {
                        let at = list.first().map_or(r.id.span().start, |c| c.span().start);
                        report.at(
                            at,
                            Severity::Warning,
                            format!(
                                "rule {id:?}: subscriber {:?} has no {ch} channel",
                                self.subscribers[i].id
                            ),
                        );
                    }
                }
            }
            out.shrink_to_fit();
            out
        });
        notify.shrink_to_fit();
        Rule {
            id: id.clone(),
            query: r.query.get_ref().clone(),
            notify,
            channels,
        }
    }
}

impl From<SimpleRule> for RawRule {
    fn from(r: SimpleRule) -> RawRule {
        fn spanned((value, span): simple_chunk::Str) -> Spanned<String> {
            Spanned::new(span, value)
        }
        RawRule {
            id: spanned(r.id),
            query: spanned(r.query),
            notify: r.notify.into_iter().map(spanned).collect(),
            channels: r.channels.map(|c| c.into_iter().map(spanned).collect()),
            description: r.description.unwrap_or_default(),
        }
    }
}

/// `r` with every span moved `base` bytes on (from its chunk to the file).
fn shifted(r: RawRule, base: usize) -> RawRule {
    fn shift<T>(s: Spanned<T>, base: usize) -> Spanned<T> {
        let span = s.span();
        Spanned::new(span.start + base..span.end + base, s.into_inner())
    }
    RawRule {
        id: shift(r.id, base),
        query: shift(r.query, base),
        notify: r.notify.into_iter().map(|n| shift(n, base)).collect(),
        channels: r
            .channels
            .map(|list| list.into_iter().map(|c| shift(c, base)).collect()),
        description: r.description,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each string value read and its span.
    type Values = Vec<(String, Range<usize>)>;

    /// What was read of a rule: id, query and notify; channels;
    /// description.
    fn seen(r: &RawRule) -> (Values, Option<Values>, String) {
        let s = |x: &Spanned<String>| (x.get_ref().clone(), x.span());
        (
            [&r.id, &r.query]
                .into_iter()
                .chain(&r.notify)
                .map(s)
                .collect(),
            r.channels.as_ref().map(|c| c.iter().map(s).collect()),
            r.description.clone(),
        )
    }

    /// The simple reader reads what the TOML parser reads, spans
    /// included, or leaves the chunk to it.
    #[test]
    fn simple_chunks_read_as_toml_reads_them() {
        let chunks = [
            "[[rule]]\nid = \"r0\"\nquery = 'loreks*'\nnotify = [\"desk\"]\n\n",
            "[[rule]] # c\n  id=\"é ü\" # x\n\tquery =  \"a AND 'b'\"\nnotify = [ 'a' , \"b\", ]\n\
             channels = []\ndescription = 'd \"q\"'\n# end\n",
            "[[rule]]\nid = \"\"\nquery = ''\nnotify = []\n",
            "[[rule]]\nid = \"a\\\"b\"\nquery = 'x'\nnotify = []\n",
            "[[rule]]\nid = \"\"\"x\"\"\"\nquery = 'x'\nnotify = []\n",
            "[[rule]]\nid = 'x'\nid = 'y'\nquery = 'x'\nnotify = []\n",
            "[[rule]]\nid = 'x'\nquery = 'x'\n",
            "[[rule]]\nid = 'x'\nquery = 'x'\nnotify = []\nextra = 1\n",
            "[[rule]]\r\nid = 'x'\r\nquery = 'x'\r\nnotify = []\r\n",
            "[[rule]]\nid = 'x'\nquery = 'x'\nnotify = 'desk'\n",
            "[[rule]]\nid.x = 'x'\nquery = 'x'\nnotify = []\n",
            "[[rule]]\nid = 'x' 'y'\nquery = 'x'\nnotify = []\n",
        ];
        let mut read = 0;
        for chunk in chunks {
            let Some(simple) = simple_chunk::read(chunk) else {
                continue;
            };
            read += 1;
            let toml: RawChunk = toml::from_str(chunk).unwrap_or_else(|e| panic!("{chunk:?}: {e}"));
            assert_eq!(toml.rule.len(), 1, "{chunk:?}");
            assert_eq!(
                seen(&RawRule::from(simple)),
                seen(&toml.rule[0]),
                "{chunk:?}"
            );
        }
        assert_eq!(read, 3);
    }
}
