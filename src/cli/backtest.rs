//! `newsalert backtest`: replay the articles stream's retained history
//! through a candidate rules file and print, per rule, how many articles
//! it matches, per day, with sample titles and their hits; with `--diff`
//! (the default when `--rules` is not the rules in force), the articles
//! each rule newly matches and no longer matches. Nothing in NATS
//! changes (see [`crate::backtest::replay`]); matching runs on
//! `pipeline.match_threads` threads through [`super::ordered`], with a
//! progress bar on a terminal and plain progress lines otherwise.

use super::load_settings;
use super::ordered::{self, Sink};
use super::progress::Progress;
use crate::article;
use crate::backtest::replay::{self, Retention, Window};
use crate::backtest::{ArticleResult, Books, Report, RuleTally};
use crate::ingest::header;
use crate::location::join_lines;
use crate::regions::Gazetteer;
use crate::rulebook::{RuleBook, RuleCache};
use crate::text::CleanOptions;
use async_nats::jetstream;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use time::OffsetDateTime;

/// Bad events reported one by one; the rest are only counted.
const BAD_REPORTED: u64 = 20;

/// The command's options.
#[derive(Debug, clap::Args)]
pub struct BacktestArgs {
    /// Replay what arrived in the last DURATION ("7d", "24h", "1h30m").
    #[arg(long, value_name = "DURATION", conflicts_with = "from")]
    pub since: Option<String>,
    /// Replay from this time (RFC 3339, or a date YYYY-MM-DD, UTC).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Replay up to this time (RFC 3339, or a date: up to its end).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Candidate rules: a rules file, or a config directory's rules.toml
    /// (default: the rules in force).
    #[arg(long, value_name = "DIR|FILE")]
    pub rules: Option<PathBuf>,
    /// Only this rule's figures.
    #[arg(long, value_name = "ID")]
    pub rule: Option<String>,
    /// One JSON object per rule per line.
    #[arg(long)]
    pub json: bool,
    /// Compare with the rules in force (default when --rules differs).
    #[arg(long)]
    pub diff: bool,
}

/// Run `backtest` on config directory `dir`.
///
/// # Errors
/// Invalid settings, options or rules; NATS unreachable; the stream
/// cannot be read. An undecodable event is reported and skipped (exit 1).
pub async fn backtest(dir: &Path, args: BacktestArgs) -> Result<ExitCode, String> {
    let settings = load_settings(dir)?;
    let window = window(&args, OffsetDateTime::now_utc())?;
    let gazetteer = Gazetteer::builtin();
    let configured = settings.rules_path();
    let cache = RuleCache::from_settings(&settings.rules);
    let load = |p: &Path| RuleBook::load_cached(p, &gazetteer, cache.as_ref()).map_err(join_lines);
    let candidate_path = match &args.rules {
        Some(p) if p.is_dir() => p.join("rules.toml"),
        Some(p) => p.clone(),
        None => configured.clone(),
    };
    let candidate = Arc::new(load(&candidate_path)?);
    let differs = std::fs::read(&candidate_path).ok() != std::fs::read(&configured).ok();
    let current = if args.diff || differs {
        Some(Arc::new(load(&configured)?))
    } else {
        None
    };
    let report = Report::new(&candidate, current.as_deref());
    if let Some(id) = &args.rule
        && !report.has_rule(id)
    {
        return Err(format!(
            "--rule {id:?}: no such rule in {}",
            candidate_path.display()
        ));
    }
    let client = crate::nats::connect(&settings.nats, &crate::observe::Health::default())
        .await
        .map_err(|e| e.to_string())?;
    let js = jetstream::new(client);
    let replay = replay::start(&js, &settings.nats.stream, window).await?;
    eprintln!("{}", describe(&replay.retention, &window));
    let books = Books {
        candidate,
        current,
        clean: CleanOptions {
            enabled: settings.pipeline.clean_text,
        },
    };
    let threads = settings.pipeline.match_threads();
    let max_bytes = settings.pipeline.max_event_bytes;
    let mut progress = Progress::new(replay.retention.messages);
    let mut messages = replay.messages;
    let matched = tokio::task::spawn_blocking(move || {
        let input = std::iter::from_fn(move || messages.blocking_recv());
        let mut sink = Tally {
            report,
            bad: 0,
            progress: &mut progress,
        };
        let work = move |m| match_message(&books, m, max_bytes);
        let result = ordered::ordered_map(input, threads, threads * 8, work, &mut sink);
        sink.progress.finish(sink.report.articles);
        result.map(|()| (sink.report, sink.bad))
    })
    .await
    .map_err(|e| format!("matching stopped: {e}"))?;
    // The reader removes its consumer before it ends.
    let _ = replay.done.await;
    let (report, bad) = matched?;
    print_report(&report, &args)?;
    eprintln!(
        "backtest: {} article(s) matched against {} rule(s){}",
        report.articles,
        report.rules.len(),
        match bad {
            0 => String::new(),
            n => format!("; {n} undecodable event(s) skipped"),
        }
    );
    // Undecodable events are history (dead-lettered when they came):
    // reported, not a failure of the backtest.
    Ok(ExitCode::SUCCESS)
}

/// The replay window the options ask for.
fn window(args: &BacktestArgs, now: OffsetDateTime) -> Result<Window, String> {
    let from = match (&args.since, &args.from) {
        (Some(since), _) => {
            let d =
                crate::feeds::list::parse_interval(since).map_err(|e| format!("--since: {e}"))?;
            Some(now - d)
        }
        (None, Some(from)) => Some(parse_time(from, false).map_err(|e| format!("--from: {e}"))?),
        (None, None) => None,
    };
    let to = match &args.to {
        Some(to) => Some(parse_time(to, true).map_err(|e| format!("--to: {e}"))?),
        None => None,
    };
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err("--from is after --to".into());
    }
    Ok(Window { from, to })
}

/// RFC 3339, or a date (UTC): its start, or with `end_of_day` its end.
fn parse_time(s: &str, end_of_day: bool) -> Result<OffsetDateTime, String> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let bad = || format!("{s:?} is neither RFC 3339 nor a date YYYY-MM-DD");
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts[..] else {
        return Err(bad());
    };
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u8>(), d.parse::<u8>()) else {
        return Err(bad());
    };
    let month = time::Month::try_from(m).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(y, month, d).map_err(|_| bad())?;
    let t = date.midnight().assume_utc();
    Ok(if end_of_day {
        t + time::Duration::days(1) - time::Duration::nanoseconds(1)
    } else {
        t
    })
}

/// `YYYY-MM-DD` of `t` in UTC.
fn day(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// What one stream message gives.
struct Matched {
    /// Messages still in the stream after this one.
    pending: u64,
    results: Vec<ArticleResult>,
    /// `seq N: reason` of each event that could not be decoded.
    bad: Vec<String>,
}

fn match_message(
    books: &Books,
    msg: Result<jetstream::Message, String>,
    max_bytes: usize,
) -> Result<Matched, String> {
    let msg = msg?;
    let info = msg.info().map_err(|e| e.to_string())?;
    let (seq, pending, day) = (info.stream_sequence, info.pending, day(info.published));
    let mut out = Matched {
        pending,
        results: Vec::new(),
        bad: Vec::new(),
    };
    let lookup = |name: &str| header(&msg, name);
    for event in article::decode_message(&msg.payload, &lookup, max_bytes) {
        match event.article {
            Ok(article) => out.results.push(books.evaluate(&article, day.clone())),
            Err(e) => {
                let payload = event.element.as_ref().map_or(&msg.payload[..], |(_, b)| b);
                let id = article::peek_id(payload)
                    .map(|id| format!(" article {id:?}:"))
                    .unwrap_or_default();
                let element = event
                    .element
                    .map(|(i, _)| format!(" batch element {i}:"))
                    .unwrap_or_default();
                out.bad
                    .push(format!("stream sequence {seq}:{element}{id} {e}"));
            }
        }
    }
    Ok(out)
}

/// Adds the results up, in stream order.
struct Tally<'p> {
    report: Report,
    bad: u64,
    progress: &'p mut Progress,
}

impl Sink<Result<Matched, String>> for Tally<'_> {
    fn write(&mut self, out: Result<Matched, String>) -> Result<(), String> {
        let out = out?;
        for reason in out.bad {
            self.bad += 1;
            if self.bad <= BAD_REPORTED {
                self.progress.println(&format!("skipped: {reason}"));
            }
        }
        for r in out.results {
            self.report.add(r);
        }
        self.progress.step(out.pending);
        Ok(())
    }

    fn idle(&mut self) -> Result<(), String> {
        Ok(())
    }
}

/// Where the stream starts and what it keeps.
fn describe(r: &Retention, w: &Window) -> String {
    let when = |t: Option<OffsetDateTime>| t.map_or_else(|| "…".to_string(), rfc3339);
    let age = match r.max_age.as_secs() {
        0 => "no age limit".to_string(),
        s if s % 86_400 == 0 => format!("max_age {}d", s / 86_400),
        s => format!("max_age {s}s"),
    };
    let bytes = match r.max_bytes {
        b if b < 0 => "no size limit".to_string(),
        b => format!("max_bytes {b}"),
    };
    format!(
        "backtest: stream {} holds {} message(s) since {} ({age}, {bytes}); replaying {} to {}",
        r.stream,
        r.messages,
        when(r.first),
        when(w.from),
        when(w.to)
    )
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// The report on stdout: a table per rule, or JSON lines.
fn print_report(report: &Report, args: &BacktestArgs) -> Result<(), String> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let chosen = report
        .rules
        .iter()
        .filter(|t| args.rule.as_ref().is_none_or(|id| *id == t.rule));
    for t in chosen {
        let text = if args.json {
            serde_json::to_string(t).map_err(|e| e.to_string())? + "\n"
        } else {
            render(t)
        };
        out.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())
}

/// One rule as text.
fn render(t: &RuleTally) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let status = t
        .status
        .map(|st| format!(" ({})", serde_json::to_value(st).unwrap_or_default()))
        .unwrap_or_default()
        .replace('"', "");
    let _ = writeln!(s, "{}{status}: {} matched", t.rule, t.matched);
    if !t.per_day.is_empty() {
        let days: Vec<String> = t.per_day.iter().map(|(d, n)| format!("{d} {n}")).collect();
        let _ = writeln!(s, "  per day: {}", days.join(", "));
    }
    for sample in &t.samples {
        let _ = writeln!(s, "  · {}  [{}]", sample.title, sample.hits.join(", "));
    }
    for (sign, what, d) in [
        ('+', "newly matches", &t.newly_matched),
        ('-', "no longer matches", &t.no_longer_matched),
    ] {
        if let Some(d) = d.as_ref().filter(|d| d.count > 0) {
            let _ = writeln!(s, "  {sign} {what} {}:", d.count);
            for a in &d.samples {
                let _ = writeln!(s, "    {sign} {}  ({})", a.title, a.id);
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_windows() {
        let now = parse_time("2026-12-08T12:00:00Z", false).unwrap();
        assert_eq!(
            parse_time("2026-12-01", true).unwrap(),
            parse_time("2026-12-01T23:59:59.999999999Z", false).unwrap()
        );
        assert!(
            parse_time("yesterday", false)
                .unwrap_err()
                .contains("yesterday")
        );
        let args = |since: Option<&str>, from: Option<&str>, to: Option<&str>| BacktestArgs {
            since: since.map(str::to_string),
            from: from.map(str::to_string),
            to: to.map(str::to_string),
            rules: None,
            rule: None,
            json: false,
            diff: false,
        };
        let w = window(&args(Some("7d"), None, None), now).unwrap();
        assert_eq!(day(w.from.unwrap()), "2026-12-01");
        assert!(w.to.is_none());
        let err = window(&args(None, Some("2026-12-05"), Some("2026-12-01")), now).unwrap_err();
        assert_eq!(err, "--from is after --to");
        assert!(
            window(&args(Some("7x"), None, None), now)
                .unwrap_err()
                .starts_with("--since:")
        );
    }
}
