//! Progress of a long command on stderr: an `indicatif` bar when stderr
//! is a terminal, else a plain line at most every [`PROGRESS_EVERY`]
//! (logs and CI stay readable). Used by `backtest`.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Plain progress lines at most this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// A progress bar on a terminal, plain lines on stderr otherwise.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    done: u64,
    last_line: Instant,
}

impl Progress {
    /// About `estimate` messages to go.
    pub fn new(estimate: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(estimate);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} messages, {per_sec}, eta {eta}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            bar,
            done: 0,
            last_line: Instant::now(),
        }
    }

    /// One more message done, `pending` still to come.
    /// One more message done, `pending` still to come.
    pub fn step(&mut self, pending: u64) {
        self.done += 1;
        let total = self.done + pending;
        match &self.bar {
            Some(bar) => {
                bar.set_length(total);
                bar.set_position(self.done);
            }
            None if self.last_line.elapsed() >= PROGRESS_EVERY => {
                eprintln!("backtest: {}/{total} messages", self.done);
                self.last_line = Instant::now();
            }
            None => {}
        }
    }

    /// A line of its own, above the bar.
    /// A line of its own (above the bar).
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Done: clear the bar, or say how much was read.
    /// Done: clear the bar, or say how much was read.
    pub fn finish(&self, articles: u64) {
        match &self.bar {
            Some(bar) => bar.finish_and_clear(),
            None => eprintln!("backtest: {} messages, {articles} articles", self.done),
        }
    }
}
