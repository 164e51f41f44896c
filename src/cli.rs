//! The command line: `run`, `check`, `match` and `publish`. Each command
//! is a small function over the library; `main` only parses and dispatches.

use crate::app::App;
use crate::article::{self, Article};
use crate::input::{self, InputItem};
use crate::nats::Broker;
use crate::pipeline::{self, PreparedArticle};
use crate::regions::Gazetteer;
use crate::rulebook::{RuleBook, Severity};
use crate::settings::Settings;
use crate::text::CleanOptions;
use clap::{Parser, Subcommand};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod explain;
pub use explain::render_explanation;

/// newsalert: news alerts from NATS JetStream to Telegram and email.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
pub struct Cli {
    /// Config directory (default.toml, local.toml, rules.toml).
    #[arg(
        long,
        global = true,
        default_value = "config",
        env = "NEWSALERT_CONFIG"
    )]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Consume article events and send alerts until SIGTERM / Ctrl-C.
    Run,
    /// Validate settings and rules; print every problem as file:line:col.
    Check,
    /// Match articles (JSON lines, a JSON array or concatenated JSON) from
    /// FILE or stdin against the rules, without NATS; one JSON line each.
    Match {
        /// Input file; `-` or nothing reads stdin.
        file: Option<PathBuf>,
        /// Print, per article and rule, the clauses that matched.
        #[arg(long)]
        explain: bool,
        /// Explain this rule for every article, matched or not.
        #[arg(long, value_name = "ID")]
        rule: Option<String>,
    },
    /// Inspect and replay the dead-letter stream.
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
    },
    /// Publish JSON / JSONL articles to the stream (Nats-Msg-Id = article id).
    Publish {
        /// Files with one or more articles.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Subject to publish on (default: the first of nats.subjects with
        /// wildcards replaced by `cli`).
        #[arg(long)]
        subject: Option<String>,
        /// Publish each non-empty line as it is, without parsing or validating
        /// it (for testing producers and the dead-letter stream).
        #[arg(long)]
        raw: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// List dead letters: id, time, kind, original subject, deliveries, reason.
    List {
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Re-publish dead letters to their original subject (and remove them).
    Replay {
        /// Ids from `dlq list`.
        #[arg(required_unless_present = "all")]
        ids: Vec<u64>,
        /// Replay every entry.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
    },
}

/// Run the parsed command.
pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Run => cmd_run(&cli.config).await,
        Command::Check => cmd_check(&cli.config),
        Command::Dlq { command } => cmd_dlq(&cli.config, command).await,
        Command::Match {
            file,
            explain,
            rule,
        } => cmd_match(&cli.config, file.as_deref(), explain, rule.as_deref()),
        Command::Publish {
            files,
            subject,
            raw,
        } => cmd_publish(&cli.config, &files, subject, raw).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn load_settings(dir: &Path) -> Result<Settings, String> {
    let settings = Settings::load(dir).map_err(|e| e.to_string())?;
    let problems = settings.validate();
    if problems.is_empty() {
        Ok(settings)
    } else {
        Err(problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"))
    }
}

/// Set up logging to stderr (stdout carries alerts and match output).
pub fn init_logging(dir: &Path) {
    let (filter, json) = Settings::load(dir)
        .map(|s| (s.log.filter, s.log.format == "json"))
        .unwrap_or_else(|_| ("info".into(), false));
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn cmd_run(dir: &Path) -> Result<ExitCode, String> {
    let settings = load_settings(dir)?;
    let app = App::build(settings).await.map_err(|e| e.to_string())?;
    app.run_until_stopped(shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = term => {},
    }
    tracing::info!("shutdown requested");
}

fn cmd_check(dir: &Path) -> Result<ExitCode, String> {
    let mut errors = 0;
    let settings = match Settings::load(dir) {
        Ok(s) => s,
        Err(e) => {
            println!("{e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let env: Vec<(String, String)> = std::env::vars().collect();
    for p in settings.validate() {
        println!(
            "{}: {}: {}",
            crate::settings::locate(dir, &p.place, &env),
            p.place,
            p.message
        );
        errors += 1;
    }
    let path = settings.rules_path();
    let diagnostics = match RuleBook::load(&path, &Gazetteer::builtin()) {
        Ok(book) => book.warnings,
        Err(d) => d,
    };
    for d in &diagnostics {
        println!("{d}");
        errors += usize::from(d.severity == Severity::Error);
    }
    if errors == 0 {
        println!("{}: OK", path.display());
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{errors} error(s)");
        Ok(ExitCode::FAILURE)
    }
}

fn cmd_match(
    dir: &Path,
    file: Option<&Path>,
    explain: bool,
    rule: Option<&str>,
) -> Result<ExitCode, String> {
    let settings = Settings::load(dir).map_err(|e| e.to_string())?;
    let book = RuleBook::load(&settings.rules_path(), &Gazetteer::builtin()).map_err(|d| {
        d.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })?;
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
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
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

async fn cmd_publish(
    dir: &Path,
    files: &[PathBuf],
    subject: Option<String>,
    raw: bool,
) -> Result<ExitCode, String> {
    let settings = load_settings(dir)?;
    let subject = subject.unwrap_or_else(|| default_subject(&settings.nats.subjects));
    let broker = Broker::connect(&settings.nats)
        .await
        .map_err(|e| e.to_string())?;
    let (mut published, mut failed) = (0, 0);
    for file in files {
        let (name, text) = input::read(Some(file))?;
        let items = if raw {
            input::raw_lines(&text)
        } else {
            input::items(&text)
        };
        for item in items {
            let item = match item {
                Ok(i) => i,
                Err((line, e)) => {
                    eprintln!("{name}:{line}: {e}");
                    failed += 1;
                    continue;
                }
            };
            let id = match article::decode(item.bytes.as_bytes(), settings.pipeline.max_event_bytes)
            {
                Ok(a) => a.id.to_string(),
                Err(e) if !raw => {
                    eprintln!("{name}:{}: {e}", item.line);
                    failed += 1;
                    continue;
                }
                Err(_) => format!("raw-{name}-{}", item.line),
            };
            broker
                .publish(subject.clone(), &id, None, item.bytes.into_bytes().into())
                .await
                .map_err(|e| format!("{name}:{}: {e}", item.line))?;
            published += 1;
        }
    }
    eprintln!("published {published} article(s) to {subject}; {failed} rejected");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// First configured subject with wildcards replaced by `cli`.
fn default_subject(subjects: &[String]) -> String {
    let first = subjects.first().map_or("news.articles.>", String::as_str);
    first
        .split('.')
        .map(|t| if t == "*" || t == ">" { "cli" } else { t })
        .collect::<Vec<_>>()
        .join(".")
}

async fn cmd_dlq(dir: &Path, command: DlqCommand) -> Result<ExitCode, String> {
    let settings = load_settings(dir)?;
    let n = &settings.nats;
    let broker = Broker::connect(n).await.map_err(|e| e.to_string())?;
    let entries = crate::dlq::list(&broker, &n.dead_letter_stream).await?;
    match command {
        DlqCommand::List { json } => {
            for e in &entries {
                if json {
                    println!("{}", serde_json::to_string(e).map_err(|e| e.to_string())?);
                } else {
                    println!(
                        "{:>6}  {}  {:<18}  {:<28}  deliveries={}  {}",
                        e.id, e.time, e.kind, e.original_subject, e.deliveries, e.reason
                    );
                }
            }
            if !json {
                eprintln!(
                    "{} dead letter(s) in {}",
                    entries.len(),
                    n.dead_letter_stream
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        DlqCommand::Replay { ids, all } => {
            let sent = broker.bucket(
                &n.sent_bucket,
                std::time::Duration::from_secs(n.sent_retention_days.max(1) * 86_400),
            );
            let targets = broker.bucket(&n.targets_bucket, std::time::Duration::ZERO);
            let ledger = crate::deliver::ledger::Ledger::new(
                sent.await.map_err(|e| e.to_string())?,
                targets.await.map_err(|e| e.to_string())?,
            );
            let mut failed = false;
            for id in ids
                .iter()
                .filter(|id| !entries.iter().any(|e| e.id == **id))
            {
                eprintln!("dead letter {id}: not found");
                failed = true;
            }
            let chosen = entries.iter().filter(|e| all || ids.contains(&e.id));
            let mut replayed = 0;
            for e in chosen {
                match crate::dlq::replay(&broker, &n.dead_letter_stream, e, &ledger).await {
                    Ok(()) => replayed += 1,
                    Err(err) => {
                        eprintln!("{err}");
                        failed = true;
                    }
                }
            }
            eprintln!("replayed {replayed} dead letter(s)");
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
