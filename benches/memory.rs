//! Compile time and resident memory of the matcher for 1k, 10k and 100k
//! generated rules (`cargo bench --bench memory`).
//!
//! Each size runs in a fresh child process (this binary with `--child N`)
//! so one size's freed memory cannot hide another's. The child reads
//! `VmRSS` from `/proc/self/status` after parsing the rules and again after
//! `Matcher::compile`; the difference is the matcher's resident memory.
//! Results are printed and written to `target/criterion/memory.json` for
//! `scripts/bench-summary.py`. Without `--bench` (under `cargo test`) it
//! only checks a 100-rule set in-process.

mod common;

use std::process::Command;
use std::time::Instant;

use newsalert::regions::Gazetteer;
use newsalert::rules::{Matcher, parse};

use common::{Vocabulary, peak_resident_bytes, resident_bytes, rules, size_label};

/// One measurement, as printed by a child.
struct Sample {
    rules: usize,
    parse_s: f64,
    compile_s: f64,
    rss_before: u64,
    rss_after: u64,
    peak: u64,
}

fn measure(n: usize) -> Sample {
    let gazetteer = Gazetteer::builtin();
    let vocab = Vocabulary::new(&gazetteer);
    let defs = rules::mixed(&vocab, n);
    let start = Instant::now();
    let parsed: Vec<_> = defs
        .iter()
        .map(|d| {
            (
                d.id.clone(),
                parse(&d.query).expect("benchmark rules parse"),
            )
        })
        .collect();
    let parse_s = start.elapsed().as_secs_f64();
    drop(defs);
    let rss_before = resident_bytes().unwrap_or(0);
    let start = Instant::now();
    let matcher = Matcher::compile(&parsed, &gazetteer).expect("benchmark rules compile");
    let compile_s = start.elapsed().as_secs_f64();
    let rss_after = resident_bytes().unwrap_or(0);
    assert_eq!(matcher.rule_count(), n);
    Sample {
        rules: n,
        parse_s,
        compile_s,
        rss_before,
        rss_after,
        peak: peak_resident_bytes().unwrap_or(0),
    }
}

impl Sample {
    fn to_line(&self) -> String {
        format!(
            "{} {} {} {} {} {}",
            self.rules, self.parse_s, self.compile_s, self.rss_before, self.rss_after, self.peak
        )
    }

    fn from_line(line: &str) -> Option<Sample> {
        let f: Vec<&str> = line.split_whitespace().collect();
        Some(Sample {
            rules: f.first()?.parse().ok()?,
            parse_s: f.get(1)?.parse().ok()?,
            compile_s: f.get(2)?.parse().ok()?,
            rss_before: f.get(3)?.parse().ok()?,
            rss_after: f.get(4)?.parse().ok()?,
            peak: f.get(5)?.parse().ok()?,
        })
    }

    fn matcher_bytes(&self) -> u64 {
        self.rss_after.saturating_sub(self.rss_before)
    }

    fn to_json(&self) -> String {
        format!(
            "{{\"rules\": {}, \"parse_s\": {:.4}, \"compile_s\": {:.4}, \"rss_before\": {}, \
             \"rss_after\": {}, \"peak\": {}, \"matcher_bytes\": {}}}",
            self.rules,
            self.parse_s,
            self.compile_s,
            self.rss_before,
            self.rss_after,
            self.peak,
            self.matcher_bytes()
        )
    }
}

fn mb(b: u64) -> f64 {
    b as f64 / 1_048_576.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let n = args[i + 1].parse().expect("--child N");
        println!("{}", measure(n).to_line());
        return;
    }
    if !args.iter().any(|a| a == "--bench") {
        let s = measure(100);
        println!(
            "memory: 100 rules compiled in {:.3} s (test mode)",
            s.compile_s
        );
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    println!(
        "{:>7} {:>8} {:>10} {:>10} {:>10} {:>11} {:>10}",
        "rules", "parse s", "compile s", "RSS MiB", "matcher MiB", "B/rule", "peak MiB"
    );
    let mut json = Vec::new();
    for n in [1_000, 10_000, 100_000] {
        let out = Command::new(&exe)
            .args(["--child", &n.to_string()])
            .output()
            .expect("child runs");
        let line = String::from_utf8_lossy(&out.stdout);
        let s = Sample::from_line(line.trim()).expect("child prints a sample");
        println!(
            "{:>7} {:>8.3} {:>10.3} {:>10.1} {:>10.1} {:>11.0} {:>10.1}",
            size_label(s.rules),
            s.parse_s,
            s.compile_s,
            mb(s.rss_after),
            mb(s.matcher_bytes()),
            s.matcher_bytes() as f64 / s.rules as f64,
            mb(s.peak)
        );
        json.push(s.to_json());
    }
    let dir = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target").to_string());
    let path = format!("{dir}/criterion/memory.json");
    std::fs::create_dir_all(format!("{dir}/criterion")).expect("target dir");
    std::fs::write(&path, format!("[\n  {}\n]\n", json.join(",\n  "))).expect("write results");
    println!("written to {path}");
}
