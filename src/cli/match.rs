//! `newsalert match`: match articles from a file or stdin against the
//! rules without NATS, one JSON line per article; with `--explain` or
//! `--rule ID`, also which clauses matched (see [`super::explain`]).

use super::{exit_code, render_explanation};
use crate::article::{self, Article};
use crate::input::{self, InputItem};
use crate::location::join_lines;
use crate::pipeline::{self, PreparedArticle};
use crate::regions::Gazetteer;
use crate::rulebook::RuleBook;
use crate::settings::Settings;
use crate::text::CleanOptions;
use serde_json::json;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Match the articles in `file` (stdin for `None` / `-`) against the
/// rules in config directory `dir`.
///
/// # Errors
/// Unloadable settings or rules, an unknown `--rule`, unreadable input,
/// or stdout closed. A bad article is reported and skipped (exit 1).
pub fn match_articles(
    dir: &Path,
    file: Option<&Path>,
    explain: bool,
    rule: Option<&str>,
) -> Result<ExitCode, String> {
    let settings = Settings::load(dir).map_err(|e| e.to_string())?;
    let book = RuleBook::load(&settings.rules_path(), &Gazetteer::builtin()).map_err(join_lines)?;
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
    let (name, text) = input::read(file)?;
    let clean = CleanOptions {
        enabled: settings.pipeline.clean_text,
    };
    let mut failed = false;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for item in input::items(&text) {
        let article = match item.and_then(|i| decode_item(i, settings.pipeline.max_event_bytes)) {
            Ok(a) => a,
            Err((line, e)) => {
                eprintln!("{name}:{line}: {e}");
                failed = true;
                continue;
            }
        };
        let prepared = PreparedArticle::new(&article, clean);
        let line = match_line(&book, &prepared);
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
        if explain || rule.is_some() {
            let doc = prepared.document();
            let ids: Vec<&str> = match rule {
                Some(r) => vec![r],
                None => {
                    let matches = pipeline::evaluate(&book, &prepared);
                    matches
                        .iter()
                        .map(|m| book.rules[m.rule].id.as_str())
                        .collect()
                }
            };
            for id in ids {
                let e = book
                    .matcher
                    .explain(id, &doc)
                    .ok_or_else(|| format!("no rule {id:?}"))?;
                write!(out, "{}", render_explanation(&e, &prepared)).map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(exit_code(failed))
}

fn decode_item(item: InputItem, max_bytes: usize) -> Result<Article, (usize, String)> {
    article::decode(item.bytes.as_bytes(), max_bytes).map_err(|e| (item.line, e.to_string()))
}

/// The `match` output line for one article.
pub fn match_line(book: &RuleBook, prepared: &PreparedArticle<'_>) -> serde_json::Value {
    let matches = pipeline::evaluate(book, prepared);
    let matches: Vec<serde_json::Value> = matches
        .iter()
        .map(|m| {
            let rule = &book.rules[m.rule];
            let hits: Vec<serde_json::Value> = m
                .hits
                .iter()
                .map(|h| {
                    let (start, end) = prepared.original_span(h);
                    let text = prepared
                        .original(h.field)
                        .get(start..end)
                        .unwrap_or_default();
                    json!({"field": h.field.as_str(), "start": start, "end": end, "text": text})
                })
                .collect();
            let subscribers: Vec<&str> = rule
                .notify
                .iter()
                .map(|&s| book.subscribers[s].id.as_str())
                .collect();
            json!({"rule": rule.id, "subscribers": subscribers, "hits": hits})
        })
        .collect();
    json!({"id": prepared.article.id, "matches": matches})
}
