//! `newsalert match` as a stream: results while the input is still open,
//! in input order whatever the number of threads, and right line numbers
//! deep into a large input.

use crate::repo_path;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The example articles, one JSON line each.
fn examples() -> Vec<serde_json::Value> {
    std::fs::read_to_string(repo_path("config/examples/articles.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `n` articles cycling through the examples, each with its own id.
fn articles(n: usize) -> Vec<String> {
    let examples = examples();
    (0..n)
        .map(|i| {
            let mut a = examples[i % examples.len()].clone();
            a["id"] = format!("a{i}").into();
            a.to_string()
        })
        .collect()
}

fn newsalert_match(threads: usize) -> Command {
    newsalert_match_with(threads, &[])
}

fn newsalert_match_with(threads: usize, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_newsalert"));
    cmd.args([
        "match",
        "--config",
        repo_path("config").to_str().unwrap(),
        "-",
    ])
    .args(extra)
    .env_remove("RUST_LOG")
    .env("NEWSALERT__PIPELINE__MATCH_THREADS", threads.to_string())
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    cmd
}

/// Run `match -` on `input` (written from a thread, so a full pipe cannot
/// block); returns (exit code, stdout, stderr).
fn run_match(threads: usize, input: String) -> (Option<i32>, String, String) {
    run_match_with(threads, &[], input)
}

fn run_match_with(threads: usize, extra: &[&str], input: String) -> (Option<i32>, String, String) {
    let mut child = newsalert_match_with(threads, extra)
        .spawn()
        .expect("run newsalert");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn match_answers_each_article_while_its_input_stays_open() {
    let mut child = newsalert_match(2).spawn().expect("run newsalert");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    let articles = articles(5);
    for (i, article) in articles.iter().enumerate() {
        writeln!(stdin, "{article}").unwrap();
        stdin.flush().unwrap();
        // Generous: loading the rules in a debug build comes first.
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("no result for article {i} with stdin open: {e}"));
        let result: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(result["id"], format!("a{i}"), "{line}");
    }
    // A pretty-printed article split over several writes also comes out
    // once it is complete.
    let pretty = serde_json::to_string_pretty(&serde_json::json!({
        "id": "pretty", "title": "Baku and Tbilisi", "body": "Talks in Baku."
    }))
    .unwrap();
    let (head, tail) = pretty.split_at(pretty.len() / 2);
    write!(stdin, "{head}").unwrap();
    stdin.flush().unwrap();
    writeln!(stdin, "{tail}").unwrap();
    stdin.flush().unwrap();
    let line = rx.recv_timeout(Duration::from_secs(60)).unwrap();
    assert!(line.starts_with(r#"{"id":"pretty","#), "{line}");
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    // Nothing more once the input is closed and the process has ended.
    assert!(rx.recv().is_err());
}

#[test]
fn parallel_match_keeps_input_order_and_equals_sequential() {
    let articles = articles(400);
    let input = articles.join("\n") + "\n";
    let (code, sequential, err) = run_match(1, input.clone());
    assert_eq!(code, Some(0), "{err}");
    let (code, parallel, err) = run_match(4, input);
    assert_eq!(code, Some(0), "{err}");
    let ids: Vec<String> = parallel
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].to_string())
        .collect();
    let expected: Vec<String> = (0..400).map(|i| format!("\"a{i}\"")).collect();
    assert_eq!(ids, expected);
    assert!(parallel.contains("minsk-group"), "{parallel}");
    assert_eq!(parallel, sequential);
}

#[test]
fn bad_lines_deep_in_a_large_input_have_their_line_numbers() {
    let mut lines: Vec<String> = (0..12_000)
        .map(|i| format!(r#"{{"id":"s{i}","title":"Short news {i}","body":"Nothing."}}"#))
        .collect();
    lines[10_000] = "{\"id\": \"cut".into(); // line 10,001
    lines[11_499] = r#"{"id":"no-title","body":"x"}"#.into(); // line 11,500
    let (code, out, err) = run_match(2, lines.join("\n") + "\n");
    assert_eq!(code, Some(1), "{err}");
    let errors: Vec<&str> = err.lines().collect();
    assert_eq!(errors.len(), 2, "{err}");
    assert!(
        errors[0].starts_with("<stdin>:10001: invalid JSON"),
        "{err}"
    );
    assert_eq!(
        errors[1], "<stdin>:11500: missing required field `title`",
        "{err}"
    );
    assert_eq!(out.lines().count(), 11_998);
}

/// `--format ids` lists, per article in input order, exactly the rules of
/// the full format's `matches`.
#[test]
fn ids_format_lists_the_full_formats_rules() {
    let input = articles(60).join("\n") + "\n";
    let (code, full, err) = run_match(2, input.clone());
    assert_eq!(code, Some(0), "{err}");
    let (code, ids, err) = run_match_with(2, &["--format", "ids"], input);
    assert_eq!(code, Some(0), "{err}");
    let from_full: Vec<serde_json::Value> = full
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let rules: Vec<&String> = v["matches"].as_object().unwrap().keys().collect();
            serde_json::json!({"id": v["id"], "rules": rules})
        })
        .collect();
    let got: Vec<serde_json::Value> = ids
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got.len(), 60);
    assert!(
        got.iter()
            .any(|v| v["rules"].as_array().is_some_and(|r| !r.is_empty()))
    );
    assert_eq!(got, from_full);
}
