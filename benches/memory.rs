//! Compile time and resident memory for 1k, 10k and 100k generated rules
//! (`cargo bench --bench memory`), measured two ways, each size in a
//! fresh child process (this binary with `--child MODE N`) so that one
//! measurement's freed memory cannot hide another's:
//!
//! - `matcher`: the child parses the rules, reads `VmRSS` from
//!   `/proc/self/status`, runs `Matcher::compile` and reads it again; the
//!   difference is the matcher's own resident memory.
//! - `book`: what the service holds. The parent writes a `rules.toml` with
//!   the rules and a few subscribers to a temporary directory; the child
//!   does nothing but `RuleBook::load` it (TOML, lints, regions, compile),
//!   drops everything else and reports `VmRSS` (resident for N rules) and
//!   `VmHWM` (the peak while loading).
//! - `binary` (with `--bench` only): the real `newsalert` binary on the
//!   same file: `newsalert check` under `/usr/bin/time -v` (wall time and
//!   maximum resident set size, the figure a container limit sees), then
//!   `newsalert match -` idling on an open stdin for its settled RSS.
//!
//! `--write-config N DIR` only writes the `N`-rule `DIR/rules.toml`, for
//! measuring by hand: `/usr/bin/time -v newsalert check --config DIR`.
//!
//! Results are printed and written to `target/criterion/memory.json` for
//! `scripts/bench-summary.py`. Without `--bench` (under `cargo test`) it
//! only checks a 100-rule set of each mode.

mod common;

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use newsalert::regions::Gazetteer;
use newsalert::rulebook::RuleBook;

// The binary's allocator, so this measures what runs.
newsalert::use_binary_allocator!();

/// Resident memory is read once the allocator has returned freed pages
/// (its decay time, `MALLOC_CONF`, plus a margin): the steady state.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(1500);
use newsalert::rules::{Matcher, RuleDef, parse};

use common::{Vocabulary, peak_resident_bytes, resident_bytes, rules, size_label};

/// One measurement, as printed by a child.
struct Sample {
    mode: String,
    rules: usize,
    /// `matcher`: parsing the queries; `book`: 0.
    parse_s: f64,
    /// `matcher`: `Matcher::compile`; `book`: all of `RuleBook::load`.
    compile_s: f64,
    rss_before: u64,
    rss_after: u64,
    peak: u64,
}

fn measure_matcher(n: usize) -> Sample {
    let gazetteer = Gazetteer::builtin();
    let vocab = Vocabulary::new(&gazetteer);
    let defs = rules::mixed(&vocab, n);
    let start = Instant::now();
    let parsed: Vec<_> = defs
        .iter()
        .map(|d| {
            let q = parse(&d.query).expect("benchmark rules parse");
            (d.id.clone(), q)
        })
        .collect();
    let parse_s = start.elapsed().as_secs_f64();
    drop(defs);
    let rss_before = resident_bytes().unwrap_or(0);
    let start = Instant::now();
    let matcher = Matcher::compile(&parsed, &gazetteer).expect("benchmark rules compile");
    let compile_s = start.elapsed().as_secs_f64();
    std::thread::sleep(SETTLE);
    let rss_after = resident_bytes().unwrap_or(0);
    assert_eq!(matcher.rule_count(), n);
    Sample {
        mode: "matcher".into(),
        rules: n,
        parse_s,
        compile_s,
        rss_before,
        rss_after,
        peak: peak_resident_bytes().unwrap_or(0),
    }
}

/// Load the rules file at `path` as the service does and keep only the
/// [`RuleBook`].
fn measure_book(n: usize, path: &Path) -> Sample {
    let rss_before = resident_bytes().unwrap_or(0);
    let start = Instant::now();
    let gazetteer = Gazetteer::builtin();
    let book = RuleBook::load(path, &gazetteer).expect("generated rules file loads");
    drop(gazetteer);
    let compile_s = start.elapsed().as_secs_f64();
    std::thread::sleep(SETTLE);
    let rss_after = resident_bytes().unwrap_or(0);
    assert_eq!(black_box(&book).matcher.rule_count(), n);
    Sample {
        mode: "book".into(),
        rules: n,
        parse_s: 0.0,
        compile_s,
        rss_before,
        rss_after,
        peak: peak_resident_bytes().unwrap_or(0),
    }
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A rules file with four subscribers and `defs`, each rule notifying one
/// or two of them.
fn rules_toml(defs: &[RuleDef]) -> String {
    let mut s = String::new();
    for i in 0..4 {
        let _ = writeln!(
            s,
            "[[subscriber]]\nid = \"desk-{i}\"\ntelegram_chat_id = {}\nemail = \"desk{i}@example.org\"\n",
            -1_001_234_567_000_i64 - i
        );
    }
    for (i, d) in defs.iter().enumerate() {
        let notify = if i % 3 == 0 {
            format!("\"desk-{}\", \"desk-{}\"", i % 4, (i + 1) % 4)
        } else {
            format!("\"desk-{}\"", i % 4)
        };
        let _ = writeln!(
            s,
            "[[rule]]\nid = \"{}\"\nquery = {}\nnotify = [{notify}]\n",
            d.id,
            toml_string(&d.query)
        );
    }
    s
}

/// Write the generated `n`-rule file as `dir/rules.toml` (a config
/// directory for `newsalert --config dir`).
fn write_rules_file(n: usize, dir: &Path) -> PathBuf {
    let gazetteer = Gazetteer::builtin();
    let vocab = Vocabulary::new(&gazetteer);
    std::fs::create_dir_all(dir).expect("config dir");
    let path = dir.join("rules.toml");
    std::fs::write(&path, rules_toml(&rules::mixed(&vocab, n))).expect("write rules.toml");
    path
}

/// The `newsalert` binary, built by `cargo bench` with the bench profile.
const BIN: &str = env!("CARGO_BIN_EXE_newsalert");

/// The real binary on config directory `dir`: `newsalert check` under
/// `/usr/bin/time -v` gives the load time (wall clock) and the peak
/// (maximum resident set size); `newsalert match -` with an open, empty
/// stdin gives the settled RSS once the rules are loaded. `None` without
/// `/usr/bin/time`.
fn measure_binary(n: usize, dir: &Path) -> Option<Sample> {
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(BIN)
        .args(["check", "--config"])
        .arg(dir)
        .output()
        .ok()?;
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "newsalert check failed: {}{report}",
        String::from_utf8_lossy(&out.stdout)
    );
    let field = |name: &str| {
        report
            .lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .map(str::trim)
    };
    let peak_kb: u64 = field("Maximum resident set size (kbytes):")?.parse().ok()?;
    let wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss):")?
        .split(':')
        .try_fold(0.0, |acc, part| {
            Some(acc * 60.0 + part.parse::<f64>().ok()?)
        })?;
    let (rss, match_peak) = settled_binary(dir);
    println!(
        "  binary {}: check {wall:.2} s, max RSS {:.1} MiB; match - idle: RSS {:.1} MiB, VmHWM {:.1} MiB",
        size_label(n),
        mib(peak_kb * 1024),
        mib(rss),
        mib(match_peak)
    );
    Some(Sample {
        mode: "binary".into(),
        rules: n,
        parse_s: 0.0,
        compile_s: wall,
        rss_before: 0,
        rss_after: rss,
        peak: peak_kb * 1024,
    })
}

/// `newsalert match --config dir -` with stdin left open: once its CPU
/// time stops growing (rules loaded, waiting for input) and the allocator
/// has settled, its `VmRSS` and `VmHWM`.
fn settled_binary(dir: &Path) -> (u64, u64) {
    let mut child = Command::new(BIN)
        .args(["match", "--config"])
        .arg(dir)
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("newsalert match starts");
    let status = format!("/proc/{}/status", child.id());
    let stat = format!("/proc/{}/stat", child.id());
    let cpu = || -> Option<u64> {
        let s = std::fs::read_to_string(&stat).ok()?;
        let f: Vec<&str> = s.rsplit_once(')')?.1.split_whitespace().collect();
        Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
    };
    let (mut last, mut idle) = (None, 0);
    while idle < 5 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let now = cpu();
        idle = if now.is_some() && now == last {
            idle + 1
        } else {
            0
        };
        last = now;
    }
    std::thread::sleep(SETTLE);
    let text = std::fs::read_to_string(&status).unwrap_or_default();
    let kb = |field: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    let measured = (kb("VmRSS:") * 1024, kb("VmHWM:") * 1024);
    drop(child.stdin.take());
    let _ = child.wait();
    measured
}

impl Sample {
    fn to_line(&self) -> String {
        format!(
            "{} {} {} {} {} {} {}",
            self.mode,
            self.rules,
            self.parse_s,
            self.compile_s,
            self.rss_before,
            self.rss_after,
            self.peak
        )
    }

    fn from_line(line: &str) -> Option<Sample> {
        let f: Vec<&str> = line.split_whitespace().collect();
        Some(Sample {
            mode: f.first()?.to_string(),
            rules: f.get(1)?.parse().ok()?,
            parse_s: f.get(2)?.parse().ok()?,
            compile_s: f.get(3)?.parse().ok()?,
            rss_before: f.get(4)?.parse().ok()?,
            rss_after: f.get(5)?.parse().ok()?,
            peak: f.get(6)?.parse().ok()?,
        })
    }

    fn added_bytes(&self) -> u64 {
        self.rss_after.saturating_sub(self.rss_before)
    }

    fn to_json(&self) -> String {
        format!(
            "{{\"mode\": \"{}\", \"rules\": {}, \"parse_s\": {:.4}, \"compile_s\": {:.4}, \
             \"rss_before\": {}, \"rss_after\": {}, \"peak\": {}, \"added_bytes\": {}}}",
            self.mode,
            self.rules,
            self.parse_s,
            self.compile_s,
            self.rss_before,
            self.rss_after,
            self.peak,
            self.added_bytes()
        )
    }
}

fn mib(b: u64) -> f64 {
    b as f64 / 1_048_576.0
}

/// Run one measurement in a child process.
fn child(mode: &str, n: usize, path: Option<&Path>) -> Sample {
    let exe = std::env::current_exe().expect("own path");
    let mut cmd = Command::new(exe);
    cmd.args(["--child", mode, &n.to_string()]);
    if let Some(p) = path {
        cmd.arg(p);
    }
    let out = cmd.output().expect("child runs");
    let line = String::from_utf8_lossy(&out.stdout);
    Sample::from_line(line.trim()).unwrap_or_else(|| {
        panic!(
            "child {mode} {n} printed no sample: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--write-config") {
        let n = args[i + 1].parse().expect("--write-config N DIR");
        let path = write_rules_file(n, Path::new(&args[i + 2]));
        println!("{}", path.display());
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let mode = args[i + 1].as_str();
        let n = args[i + 2].parse().expect("--child MODE N");
        let sample = match mode {
            "matcher" => measure_matcher(n),
            _ => measure_book(n, Path::new(&args[i + 3])),
        };
        println!("{}", sample.to_line());
        return;
    }
    let bench = args.iter().any(|a| a == "--bench");
    let sizes: &[usize] = if bench {
        &[1_000, 10_000, 100_000]
    } else {
        &[100]
    };
    println!(
        "{:>8} {:>7} {:>8} {:>9} {:>11} {:>10} {:>11} {:>7} {:>9}",
        "mode",
        "rules",
        "parse s",
        "compile s",
        "before MiB",
        "RSS MiB",
        "added MiB",
        "B/rule",
        "peak MiB"
    );
    let mut json = Vec::new();
    for &n in sizes {
        let dir = std::env::temp_dir().join(format!("newsalert-memory-{}-{n}", std::process::id()));
        let path = write_rules_file(n, &dir);
        let binary = if bench { measure_binary(n, &dir) } else { None };
        let book = child("book", n, Some(&path));
        for s in [child("matcher", n, None), book].into_iter().chain(binary) {
            println!(
                "{:>8} {:>7} {:>8.3} {:>9.3} {:>11.1} {:>10.1} {:>11.1} {:>7.0} {:>9.1}",
                s.mode,
                size_label(s.rules),
                s.parse_s,
                s.compile_s,
                mib(s.rss_before),
                mib(s.rss_after),
                mib(s.added_bytes()),
                s.added_bytes() as f64 / s.rules as f64,
                mib(s.peak)
            );
            json.push(s.to_json());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    if !bench {
        return;
    }
    let dir = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target").to_string());
    let path = format!("{dir}/criterion/memory.json");
    std::fs::create_dir_all(format!("{dir}/criterion")).expect("target dir");
    std::fs::write(&path, format!("[\n  {}\n]\n", json.join(",\n  "))).expect("write results");
    println!("written to {path}");
}
