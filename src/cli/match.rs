//! `newsalert match`: match articles from a file or stdin against the
//! rules without NATS, one JSON line per article; with `--explain` or
//! `--rule ID`, also which clauses matched (see [`super::explain`]).
//! Input values are checked as JSON by the worker that decodes them, not
//! parsed a second time on the reading thread (`input::items_deferred`).
//! Articles travel between the threads in batches of those read together
//! (`input::Items::batches`, at most [`BATCH`]): one wake-up of a thread
//! per batch, not per article, which on 20 000 articles cut the system
//! time from ~0.4 s to ~0.15 s and the wall time by a fifth; a live stream
//! still gets each result as soon as its article is complete.

use super::match_json;
use super::ordered::{self, Sink};
use super::{exit_code, render_explanation};
use crate::article;
use crate::input::{self, InputItem, ItemResult};
use crate::pipeline::{self, PreparedArticle};
use crate::rulebook::RuleBook;
use crate::rules::Hit;
use crate::settings::Settings;
use crate::text::CleanOptions;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

/// Batches in flight per matching thread (read, matched or waiting to be
/// written in order).
const IN_FLIGHT_PER_THREAD: usize = 2;
/// Articles per batch at most: those read together ([`input::Items::batches`]).
const BATCH: usize = 8;

/// Match the articles in `file` (stdin for `None` / `-`) against the
/// rules in config directory `dir`, streaming: articles are read as they
/// come, matched on `pipeline.match_threads` threads, and each result is
/// written (in input order) as soon as it and those before it are ready;
/// stdout is flushed whenever no further result is ready.
///
/// # Errors
/// Unloadable settings or rules, an unknown `--rule`, unreadable input,
/// or stdout closed. A bad article is reported and skipped (exit 1).
pub fn match_articles(
    dir: &Path,
    file: Option<&Path>,
    explain: bool,
    rule: Option<&str>,
    format: Format,
) -> Result<ExitCode, String> {
    let settings = Settings::load(dir).map_err(|e| e.to_string())?;
    let book = super::load_rules(&settings)?;
    if let Some(id) = rule
        && !book.rules.iter().any(|r| r.id == id)
    {
        let known: Vec<&str> = book.rules.iter().map(|r| r.id.as_str()).collect();
        return Err(format!(
            "--rule {id:?}: no such rule in {} (rules: {})",
            settings.rules_path().display(),
            known.join(", ")
        ));
    }
    let (name, reader) = input::open(file)?;
    let max_bytes = settings.pipeline.max_event_bytes;
    // Every value is decoded by a worker, which checks it is JSON then.
    let items = input::items_deferred(reader, input::item_limit(max_bytes)).batches(BATCH);
    let book = Arc::new(book);
    let job = Job {
        json: match_json::RuleJson::new(&book, format),
        book: Arc::clone(&book),
        clean: CleanOptions {
            enabled: settings.pipeline.clean_text,
        },
        max_bytes,
        explain,
        rule: rule.map(str::to_string),
        format,
    };
    let threads = settings.pipeline.match_threads();
    let mut out = Output {
        name,
        stdout: BufWriter::with_capacity(1 << 16, std::io::stdout().lock()),
        failed: false,
    };
    ordered::ordered_map(
        items,
        threads,
        threads * IN_FLIGHT_PER_THREAD,
        move |batch: Vec<ItemResult>| batch.into_iter().map(|item| job.run(item)).collect(),
        &mut out,
    )?;
    // The process ends here: freeing a 100k-rule book piece by piece
    // would take ~20 ms for nothing.
    std::mem::forget(book);
    Ok(exit_code(out.failed))
}

/// What one article gives: its output lines, or why it was skipped.
enum Outcome {
    Text(Vec<u8>),
    Bad { line: usize, message: String },
}

/// Matching one input item; shared by the worker threads.
struct Job {
    book: Arc<RuleBook>,
    /// The rules' output pieces, rendered once.
    json: match_json::RuleJson,
    clean: CleanOptions,
    max_bytes: usize,
    explain: bool,
    rule: Option<String>,
    format: Format,
}

/// What each output line holds (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The subscribers notified, every matching rule with its hits, and
    /// the article's distinct hits (field, offsets into the original text,
    /// the text) once, which the matches refer to by index.
    Full,
    /// Only the ids of the matching rules: `{"id": …, "rules": [...]}`.
    Ids,
}

impl Job {
    fn run(&self, item: ItemResult) -> Outcome {
        let (line, bytes) = match item {
            Ok(InputItem { line, bytes }) => (line, bytes),
            Err((line, message)) => return Outcome::Bad { line, message },
        };
        let article = match article::decode(&bytes, self.max_bytes) {
            Ok(a) => a,
            Err(e) => {
                // Not checked on the way in: invalid JSON is reported as
                // reading reports it, before any other problem.
                let message = input::check(&bytes).err().unwrap_or_else(|| e.to_string());
                return Outcome::Bad { line, message };
            }
        };
        drop(bytes);
        let book = &*self.book;
        let prepared = PreparedArticle::new(&article, self.clean);
        // About as long as the article when it matches many rules.
        let mut line = Vec::with_capacity(4096);
        let explaining = self.explain || self.rule.is_some();
        match self.format {
            Format::Full => match_json::write_line(&mut line, &self.json, &book.matcher, &prepared),
            Format::Ids => {
                let rules = book.matcher.find_rules(&prepared.document());
                match_json::write_ids(&mut line, &self.json, &prepared, &rules);
            }
        }
        line.push(b'\n');
        if explaining {
            let doc = prepared.document();
            let ids: Vec<&str> = match &self.rule {
                Some(r) => vec![r.as_str()],
                None => (book.matcher.find_rules(&doc).iter())
                    .map(|&r| book.rules[r].id.as_str())
                    .collect(),
            };
            for id in ids {
                // Every id comes from the book (`--rule` was checked).
                if let Some(e) = book.matcher.explain(id, &doc) {
                    line.extend_from_slice(render_explanation(&e, &prepared).as_bytes());
                }
            }
        }
        Outcome::Text(line)
    }
}

/// Results to stdout, problems to stderr as `name:line: message`.
struct Output<W: Write> {
    name: String,
    stdout: W,
    failed: bool,
}

impl<W: Write> Sink<Vec<Outcome>> for Output<W> {
    fn write(&mut self, batch: Vec<Outcome>) -> Result<(), String> {
        batch.into_iter().try_for_each(|out| self.write_one(out))
    }

    fn idle(&mut self) -> Result<(), String> {
        self.stdout.flush().map_err(|e| e.to_string())
    }
}

impl<W: Write> Output<W> {
    fn write_one(&mut self, out: Outcome) -> Result<(), String> {
        match out {
            Outcome::Text(text) => self.stdout.write_all(&text).map_err(|e| e.to_string()),
            Outcome::Bad { line, message } => {
                // Keep stdout and stderr in step for a reader of both.
                self.stdout.flush().map_err(|e| e.to_string())?;
                eprintln!("{}:{line}: {message}", self.name);
                self.failed = true;
                Ok(())
            }
        }
    }
}

/// The `match` output for one article, as written: field order `id`,
/// `subscribers` (whom the matching rules notify, in the rules file's
/// order), `matches` (an object: rule id → indices into the line's `hits`,
/// in the rules file's order), `hits` (per hit `field`, `start`, `end`,
/// `text`): the article's distinct hits in the order the matches first
/// refer to them (rule order, then text order). `match` writes it with
/// [`match_json`](super::match_json) straight from the matcher; this
/// struct and its `Serialize` impl are the reference the tests compare it
/// with.
#[derive(Serialize)]
pub struct MatchLine<'a> {
    pub(super) id: &'a str,
    pub(super) subscribers: Vec<&'a str>,
    #[serde(serialize_with = "by_rule")]
    pub(super) matches: Vec<LineMatch<'a>>,
    pub(super) hits: Vec<LineHit<'a>>,
}

/// One match: written as `"rule": [hits]` (rule ids are unique in a book).
pub(super) struct LineMatch<'a> {
    pub(super) rule: &'a str,
    pub(super) hits: Vec<usize>,
}

fn by_rule<S: serde::Serializer>(matches: &[LineMatch<'_>], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(matches.iter().map(|m| (m.rule, &m.hits)))
}

#[derive(Serialize)]
pub(super) struct LineHit<'a> {
    pub(super) field: &'static str,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) text: &'a str,
}

/// The `match` output line for one article.
pub fn match_line<'a>(book: &'a RuleBook, prepared: &'a PreparedArticle<'_>) -> MatchLine<'a> {
    let found = pipeline::evaluate(book, prepared);
    // Each distinct hit numbered as the matches first name it.
    let mut distinct: Vec<Hit> = Vec::new();
    let mut index: BTreeMap<Hit, usize> = BTreeMap::new();
    for h in found.iter().flat_map(|m| m.hits.iter()) {
        index.entry(*h).or_insert_with(|| {
            distinct.push(*h);
            distinct.len() - 1
        });
    }
    let place = |h: &Hit| index.get(h).copied().unwrap_or_default();
    let matches = found
        .iter()
        .map(|m| LineMatch {
            rule: &book.rules[m.rule].id,
            hits: m.hits.iter().map(place).collect(),
        })
        .collect();
    let notified: BTreeSet<usize> = found
        .iter()
        .flat_map(|m| book.rules[m.rule].notify.iter().copied())
        .collect();
    let subscribers = notified
        .into_iter()
        .map(|s| book.subscribers[s].id.as_str())
        .collect();
    let hits = distinct
        .iter()
        .map(|h| {
            let (start, end) = prepared.original_span(h);
            let text = prepared
                .original(h.field)
                .get(start..end)
                .unwrap_or_default();
            LineHit {
                field: h.field.as_str(),
                start,
                end,
                text,
            }
        })
        .collect();
    MatchLine {
        id: prepared.article.id.as_str(),
        subscribers,
        matches,
        hits,
    }
}
