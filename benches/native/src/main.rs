//! `native-match`: the native baselines of the end-to-end benchmark
//! (`scripts/bench-match.py`, benches/README.md). Reads the rules of a
//! newsalert `rules.toml` and a JSONL file of articles, and writes what
//! `newsalert match` writes, minus the hits: one JSON line per article,
//! `{"id": ..., "matches": [rule ids]}`, in input order.
//!
//! ```text
//! native-match --engine hyperscan|tokenhash|aho RULES_TOML ARTICLES_JSONL
//! ```
//!
//! Single-threaded, streaming (one line in memory at a time). Per article:
//! decode the line (serde_json), normalise title, summary and body
//! (`doc`), find the terms (`engine`), evaluate the candidate rules
//! (`eval`), write the line. No HTML cleaning, no boilerplate removal, no
//! scopes, NEAR distances or weak region aliases (see `rules`).

mod doc;
mod engine;
mod eval;
mod rules;

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::process::ExitCode;

use doc::{Article, Doc};
use newsalert::regions::Gazetteer;

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const USAGE: &str =
    "usage: native-match --engine hyperscan|tokenhash|aho RULES_TOML ARTICLES_JSONL";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (engine, rules, articles) = match args.as_slice() {
        [flag, engine, rules, articles] if flag == "--engine" => (engine, rules, articles),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(engine, rules, articles) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("native-match: {e}");
            ExitCode::from(2)
        }
    }
}

/// Match every article; `Ok(false)` if some line was skipped as bad.
fn run(engine: &str, rules_path: &str, articles: &str) -> Result<bool, String> {
    let rules = rules::load(rules_path, &Gazetteer::builtin())?;
    let mut engine = engine::build(engine, &rules.terms)?;
    let mut evaluator = eval::Evaluator::new(&rules);
    let file = std::fs::File::open(articles).map_err(|e| format!("{articles}: {e}"))?;
    let mut input = BufReader::with_capacity(1 << 16, file);
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let (mut line, mut doc, mut hits, mut matched) =
        (Vec::new(), Doc::default(), Vec::new(), Vec::new());
    let mut ok = true;
    for number in 1.. {
        line.clear();
        let n = input
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("{articles}:{number}: {e}"))?;
        if n == 0 {
            break;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let article: Article<'_> = match serde_json::from_slice(&line) {
            Ok(a) => a,
            Err(e) => {
                out.flush().map_err(|e| e.to_string())?;
                eprintln!("{articles}:{number}: {e}");
                ok = false;
                continue;
            }
        };
        doc.fill(&article);
        hits.clear();
        engine.scan(&doc.text, &mut hits);
        evaluator.run(&rules, &doc, &hits, &mut matched);
        write_line(&mut out, &article.id, &rules.ids_json, &matched)
            .map_err(|e| format!("stdout: {e}"))?;
    }
    out.flush().map_err(|e| format!("stdout: {e}"))?;
    Ok(ok)
}

fn write_line(
    out: &mut impl Write,
    id: &str,
    ids_json: &[String],
    matched: &[u32],
) -> std::io::Result<()> {
    out.write_all(b"{\"id\":")?;
    serde_json::to_writer(&mut *out, id)?;
    out.write_all(b",\"matches\":[")?;
    for (i, &r) in matched.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(ids_json[r as usize].as_bytes())?;
    }
    out.write_all(b"]}\n")
}
