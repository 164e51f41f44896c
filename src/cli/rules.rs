//! `newsalert rules stats`: each rule's counters from the stats bucket
//! (see [`crate::stats`]) as a table or JSON lines; and the stale and
//! too-broad warnings `newsalert check` prints from them when NATS is
//! reachable.

use super::load_settings;
use crate::rulebook::{Diagnostic, RuleBook, Severity, rule_positions};
use crate::settings::Settings;
use crate::stats::store::{Snapshot, StatsStore};
use crate::stats::warnings::{self, Policy};
use crate::stats::{Counters, now_ms};
use serde::Serialize;
use std::path::Path;
use std::process::ExitCode;

/// How long `check` waits for NATS before skipping the stats warnings.
const CHECK_CONNECT_SECS: u64 = 1;
/// How long `rules stats` waits for NATS when `nats.connect_timeout_secs`
/// says forever.
const STATS_CONNECT_SECS: u64 = 10;

/// The stats bucket's content; `None` if it does not exist yet. Waits at
/// most `connect_secs` for NATS.
///
/// # Errors
/// NATS unreachable, or the bucket cannot be read.
async fn snapshot(settings: &mut Settings, connect_secs: u64) -> Result<Option<Snapshot>, String> {
    let n = &mut settings.nats;
    if n.connect_timeout_secs == 0 || n.connect_timeout_secs > connect_secs {
        n.connect_timeout_secs = connect_secs;
    }
    let client = crate::nats::connect(n, &crate::observe::Health::default())
        .await
        .map_err(|e| e.to_string())?;
    let js = async_nats::jetstream::new(client);
    match StatsStore::existing(&js, &settings.stats.bucket).await {
        Some(store) => store.read().await.map(Some),
        None => Ok(None),
    }
}

/// One rule's line of `rules stats --json`.
#[derive(Serialize)]
struct StatsLine<'a> {
    rule: &'a str,
    #[serde(flatten)]
    counters: &'a Counters,
}

/// `newsalert rules stats` on config directory `dir`.
///
/// # Errors
/// Invalid settings or rules, NATS unreachable.
pub async fn stats(dir: &Path, json: bool) -> Result<ExitCode, String> {
    let mut settings = load_settings(dir)?;
    let book = super::load_rules(&settings)?;
    let Some(snapshot) = snapshot(&mut settings, STATS_CONNECT_SECS).await? else {
        eprintln!(
            "no rule stats yet (bucket {} does not exist: has `newsalert run` run with stats.enabled?)",
            settings.stats.bucket
        );
        return Ok(ExitCode::SUCCESS);
    };
    let none = Counters::default();
    let counters = |id: &str| snapshot.rules.get(id).unwrap_or(&none);
    if json {
        for r in &book.rules {
            let line = StatsLine {
                rule: &r.id,
                counters: counters(&r.id),
            };
            println!(
                "{}",
                serde_json::to_string(&line).map_err(|e| e.to_string())?
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let a = &snapshot.articles;
    println!(
        "{} article(s) counted since {}",
        a.matched,
        a.first_seen_ms.map_or_else(|| "-".to_string(), minute)
    );
    let width = book
        .rules
        .iter()
        .map(|r| r.id.len())
        .max()
        .unwrap_or(4)
        .max(4);
    println!(
        "{:<width$}  {:>8}  {:>8}  {:>10}  {:>6}  {:<16}  {:<10}  suppressed by reason",
        "rule", "matched", "alerted", "suppressed", "failed", "last match", "first seen"
    );
    for r in &book.rules {
        let c = counters(&r.id);
        let reasons: Vec<String> = c
            .suppressed
            .iter()
            .map(|(k, n)| format!("{k}={n}"))
            .collect();
        let line = format!(
            "{:<width$}  {:>8}  {:>8}  {:>10}  {:>6}  {:<16}  {:<10}  {}",
            r.id,
            c.matched,
            c.alerted,
            c.suppressed_total(),
            c.failed,
            c.last_match_ms.map_or_else(|| "never".to_string(), minute),
            c.first_seen_ms
                .map_or_else(|| "-".to_string(), warnings::date),
            reasons.join(" ")
        );
        println!("{}", line.trim_end());
    }
    Ok(ExitCode::SUCCESS)
}

/// `YYYY-MM-DD HH:MM` (UTC) of Unix milliseconds.
fn minute(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000).map_or_else(
        |_| String::new(),
        |t| format!("{} {:02}:{:02}", warnings::date(ms), t.hour(), t.minute()),
    )
}

/// `check`'s warnings from the counters for `book` (loaded from `path`),
/// or the one line saying why there are none (NATS unreachable).
pub async fn check_warnings(mut settings: Settings, path: &Path, book: &RuleBook) -> Vec<String> {
    let snapshot = match snapshot(&mut settings, CHECK_CONNECT_SECS).await {
        Ok(Some(s)) => s,
        Ok(None) => return Vec::new(),
        Err(e) => return vec![format!("note: rule stats not checked: {e}")],
    };
    let s = &settings.stats;
    let policy = Policy {
        stale_after_days: s.stale_after_days,
        too_broad_share: s.too_broad_share,
        too_broad_min_articles: s.too_broad_min_articles,
    };
    let ids: Vec<&str> = book.rules.iter().map(|r| r.id.as_str()).collect();
    let found = warnings::warnings(&ids, &snapshot, now_ms(), policy);
    let positions = std::fs::read_to_string(path)
        .map(|text| rule_positions(&text))
        .unwrap_or_default();
    found
        .into_iter()
        .map(|(id, message)| {
            let (line, col) = positions.get(&id).copied().unwrap_or((1, 1));
            Diagnostic {
                file: path.to_path_buf(),
                line,
                col,
                severity: Severity::Warning,
                message,
            }
            .to_string()
        })
        .collect()
}
