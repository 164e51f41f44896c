//! `newsalert match --explain` and `--rule ID`: per article and rule, the
//! clauses with their outcome, and per hit the field, offsets into the
//! original field and a snippet.

use crate::repo_path;
use std::collections::HashMap;
use std::process::{Command, Output};

fn newsalert_match(extra: &[&str]) -> Output {
    let config = repo_path("config");
    let input = repo_path("config/examples/articles.jsonl");
    Command::new(env!("CARGO_BIN_EXE_newsalert"))
        .args(["match", "--config", config.to_str().unwrap()])
        .args(extra)
        .arg(input)
        .env_remove("RUST_LOG")
        .output()
        .expect("run newsalert")
}

fn articles() -> HashMap<String, serde_json::Value> {
    let text = std::fs::read_to_string(repo_path("config/examples/articles.jsonl")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|a| (a["id"].as_str().unwrap().to_string(), a))
        .collect()
}

/// One hit line: `field start..end: …context [hit] context…`.
struct HitLine {
    article: String,
    field: String,
    start: usize,
    end: usize,
    marked: String,
}

/// The explanation lines (not the JSON ones), and every hit line parsed.
fn explained(out: &Output) -> (Vec<String>, Vec<HitLine>) {
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with('{'))
        .map(str::to_string)
        .collect();
    let mut hits = Vec::new();
    let mut article = String::new();
    for line in &lines {
        if let Some(rest) = line.strip_prefix("  ")
            && !rest.starts_with(' ')
        {
            article = rest.split(": rule ").next().unwrap().to_string();
            continue;
        }
        let trimmed = line.trim_start();
        let Some((field, rest)) = trimmed.split_once(' ') else {
            continue;
        };
        if !["title", "summary", "body"].contains(&field) {
            continue;
        }
        let (span, snippet) = rest.split_once(": ").expect(line);
        let (start, end) = span.split_once("..").expect(line);
        let marked = snippet.split_once('[').expect(line).1;
        hits.push(HitLine {
            article: article.clone(),
            field: field.to_string(),
            start: start.parse().expect(line),
            end: end.parse().expect(line),
            marked: marked.split_once(']').expect(line).0.to_string(),
        });
    }
    (lines, hits)
}

/// `s` without HTML tags.
fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[test]
fn explain_shows_each_matched_rule_with_original_offsets_and_snippets() {
    let out = newsalert_match(&["--explain"]);
    assert!(out.status.success(), "{out:?}");
    let (lines, hits) = explained(&out);
    let text = lines.join("\n");
    assert!(
        text.contains("  caucasus-2025-10-25-zakharova: rule minsk-group: matched"),
        "{text}"
    );
    assert!(
        text.contains(
            "body 107..118: …hin the framework of the OSCE [Minsk Group] Co-Chairs. This was stated by…"
        ),
        "{text}"
    );
    // Only matching rules are explained without --rule.
    assert!(!text.contains("did not match"), "{text}");
    assert!(!text.contains("misc-2025-10-29-woman"), "{text}");

    // Offsets are into the original field (HTML included), and cover the
    // bracketed text of the snippet.
    let articles = articles();
    assert!(hits.len() > 20, "{text}");
    for h in &hits {
        let field = articles[&h.article][&h.field].as_str().unwrap();
        let original = field.get(h.start..h.end).expect("offsets in the original");
        assert_eq!(strip_tags(original), h.marked, "{}/{}", h.article, h.field);
    }
    // The pipeline article's body starts with markup: clean and original
    // offsets differ there.
    assert!(
        hits.iter()
            .any(|h| h.article == "caucasus-2025-10-26-pipeline"
                && h.field == "body"
                && (h.start, h.end) == (3, 13)),
        "{text}"
    );
}

#[test]
fn explain_rule_says_which_clauses_failed() {
    let out = newsalert_match(&["--rule", "minsk-group"]);
    assert!(out.status.success(), "{out:?}");
    let (lines, _) = explained(&out);
    let text = lines.join("\n");
    let at = |prefix: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in\n{text}"))
    };
    // Every article is explained, matched or not.
    for id in articles().keys() {
        at(&format!("  {id}: rule minsk-group: "));
    }
    let i = at("  caucasus-2025-10-26-pipeline: rule minsk-group: ");
    assert_eq!(
        lines[i..i + 9].join("\n"),
        [
            "  caucasus-2025-10-26-pipeline: rule minsk-group: did not match (presearch: candidate)",
            "    failed: \"minsk group\", armenia, talks",
            "    OR: no",
            "      \"minsk group\": no",
            "      AND: no",
            "        azerbaijan: yes",
            "          body 3..13: [Azerbaijan]'s state energy company SOCAR …",
            "        armenia: no",
            "        talks: no",
        ]
        .join("\n")
    );
}

#[test]
fn explain_with_an_excluded_term_names_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.toml"),
        "[[subscriber]]\nid = \"s\"\ntelegram_chat_id = 1\n\n\
         [[rule]]\nid = \"no-sport\"\nquery = 'Baku -football'\nnotify = [\"s\"]\n",
    )
    .unwrap();
    let input = dir.path().join("a.jsonl");
    std::fs::write(
        &input,
        r#"{"id":"a1","title":"Baku football derby","body":"Baku"}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_newsalert"))
        .args(["match", "--config"])
        .arg(dir.path())
        .args(["--rule", "no-sport"])
        .arg(&input)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let (lines, _) = explained(&out);
    assert_eq!(lines[1], "    failed: NOT football (present)", "{lines:#?}");
    assert!(
        lines.contains(&"          title 5..13: Baku [football] derby".to_string()),
        "{lines:#?}"
    );
}

#[test]
fn explain_unknown_rule_is_an_error_naming_it() {
    let out = newsalert_match(&["--rule", "no-such-rule"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"no-such-rule\""), "{err}");
    assert!(err.contains("minsk-group"), "lists the known rules: {err}");
    assert!(out.stdout.is_empty(), "{out:?}");
}
