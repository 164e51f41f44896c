//! The command line: `run`, `feeds`, `check`, `match`, `backtest`,
//! `rules stats`, `publish` and `dlq list` / `dlq replay`, one file per command, each a small function over the
//! library; plus [`logging`] and [`signals`]. `main` only parses and
//! dispatches.

use crate::settings::Settings;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod backtest;
mod check;
mod dlq;
mod explain;
mod feeds;
pub mod logging;
mod r#match;
mod match_json;
mod ordered;
mod progress;
mod publish;
mod rules;
mod run;
pub mod signals;

pub use explain::render_explanation;
pub use logging::init_logging;
pub use r#match::match_line;
pub use signals::shutdown_signal;

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
    /// Poll the RSS / Atom / JSON feeds in feeds.toml and publish their new
    /// items as article events until SIGTERM / Ctrl-C.
    Feeds,
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
        /// `full`: every matching rule with subscribers and hits; `ids`:
        /// only the matching rules' ids (much less output at 100k rules).
        #[arg(long, value_enum, default_value = "full")]
        format: r#match::Format,
    },
    /// Replay the articles stream's history through a (candidate) rules
    /// file: per rule, matches, per day, samples; --diff against the
    /// rules in force. Read-only.
    Backtest(backtest::BacktestArgs),
    /// What the rules do: `rules stats`.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
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
pub enum RulesCommand {
    /// Each rule's counters (matched, alerted, suppressed, failed) and
    /// last match time, shared by every instance.
    Stats {
        /// One JSON object per rule per line instead of a table.
        #[arg(long)]
        json: bool,
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
        Command::Run => run::run(&cli.config).await,
        Command::Feeds => feeds::feeds(&cli.config).await,
        Command::Check => check::check(&cli.config).await,
        Command::Rules {
            command: RulesCommand::Stats { json },
        } => rules::stats(&cli.config, json).await,
        Command::Backtest(args) => backtest::backtest(&cli.config, args).await,
        Command::Dlq { command } => dlq::dlq(&cli.config, command).await,
        Command::Match {
            file,
            explain,
            rule,
            format,
        } => r#match::match_articles(
            &cli.config,
            file.as_deref(),
            explain,
            rule.as_deref(),
            format,
        ),
        Command::Publish {
            files,
            subject,
            raw,
        } => publish::publish(&cli.config, &files, subject, raw).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Load and validate the settings; every problem on a line of its own.
/// The configured rules file, compiled (or read back from the rules cache
/// `settings` name), against the built-in gazetteer.
fn load_rules(settings: &Settings) -> Result<crate::rulebook::RuleBook, String> {
    let cache = crate::rulebook::RuleCache::from_settings(&settings.rules);
    let gazetteer = crate::regions::Gazetteer::builtin();
    crate::rulebook::RuleBook::load_cached(&settings.rules_path(), &gazetteer, cache.as_ref())
        .map_err(crate::location::join_lines)
}

fn load_settings(dir: &Path) -> Result<Settings, String> {
    let settings = Settings::load(dir).map_err(|e| e.to_string())?;
    let problems = settings.validate();
    if problems.is_empty() {
        return Ok(settings);
    }
    // Each problem where it was set, as `check` prints it.
    let env: Vec<(String, String)> = std::env::vars().collect();
    Err(crate::location::join_lines(problems.iter().map(|p| {
        format!(
            "{}: {p}",
            crate::settings::position::locate(dir, &p.place, &env)
        )
    })))
}

/// `SUCCESS`, or `FAILURE` if anything `failed`.
fn exit_code(failed: bool) -> ExitCode {
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
