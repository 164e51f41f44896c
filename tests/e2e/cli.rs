//! The binary's commands, run as a user would: `check` and `match`.

use crate::repo_path;
use std::process::{Command, Output};

fn newsalert(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_newsalert"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run newsalert")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

#[test]
fn check_accepts_the_example_config() {
    let config = repo_path("config");
    let out = newsalert(&["check", "--config", config.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn check_reports_every_problem_with_file_line_col() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.toml"),
        r#"[[subscriber]]
id = "desk"
telegram_chat_id = 1
timezone = "Mars/Olympus"

[[rule]]
id = "r1"
query = '"Minsk Group" AND (Baku'
notify = ["desk"]

[[rule]]
id = "r2"
query = 'Baku'
notify = ["nobody"]
"#,
    )
    .unwrap();
    let out = newsalert(&["check", "--config", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let file = dir.path().join("rules.toml").display().to_string();
    assert!(
        text.contains(&format!(
            "{file}:4:12: subscriber \"desk\": unknown time zone"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{file}:8:28: rule \"r1\"")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{file}:14:11: rule \"r2\": unknown subscriber \"nobody\""
        )),
        "{text}"
    );
    assert!(text.contains("3 error(s)"), "{text}");

    std::fs::write(dir.path().join("rules.toml"), "[[rule]\nid = 1\n").unwrap();
    let out = newsalert(&["check", "--config", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains(&format!("{file}:1:")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn match_reports_rules_and_original_offsets_on_the_seed_shaped_example() {
    let config = repo_path("config");
    let input = repo_path("config/examples/articles.jsonl");
    let out = newsalert(&[
        "match",
        "--config",
        config.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&input).unwrap();
    let articles: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let results: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), articles.len());
    let seed = &results[0];
    assert_eq!(seed["id"], "caucasus-2025-10-25-zakharova");
    // `matches`: rule id → indices into the line's hits, in file order.
    let matches = seed["matches"].as_object().unwrap();
    let rules: Vec<&str> = matches.keys().map(String::as_str).collect();
    assert!(
        rules.contains(&"minsk-group") && rules.contains(&"azerbaijan"),
        "{rules:?}"
    );
    // Whom they notify, once each.
    let subscribers = seed["subscribers"].as_array().unwrap();
    assert!(
        subscribers.contains(&serde_json::json!("caucasus-desk")),
        "{subscribers:?}"
    );
    // Every hit's offsets point at its text in the original field; the
    // matches refer to the line's hits by index.
    let hits = seed["hits"].as_array().unwrap();
    for (rule, refs) in matches {
        assert!(!refs.as_array().unwrap().is_empty(), "{rule}");
        for i in refs.as_array().unwrap() {
            assert!((i.as_u64().unwrap() as usize) < hits.len(), "{rule}");
        }
    }
    for h in hits {
        let field = articles[0][h["field"].as_str().unwrap()].as_str().unwrap();
        let (s, e) = (
            h["start"].as_u64().unwrap() as usize,
            h["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&field[s..e], h["text"].as_str().unwrap());
    }
    // Terms only in the trailing "Latest news" list do not count.
    let body = articles[0]["body"].as_str().unwrap();
    let latest = body.find("Latest news").unwrap();
    for h in hits {
        if h["field"] == "body" {
            assert!(
                (h["start"].as_u64().unwrap() as usize) < latest,
                "hit in link list: {h}"
            );
        }
    }
    // "Oman" in "woman", "Minsk" without "Group": no alerts.
    assert_eq!(
        results[4]["matches"].as_object().unwrap().len(),
        0,
        "{}",
        results[4]
    );
}

#[test]
fn match_reports_bad_lines_and_goes_on() {
    let config = repo_path("config");
    let input = repo_path("config/examples/invalid.jsonl");
    let out = newsalert(&[
        "match",
        "--config",
        config.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid.jsonl:1: missing required field `title`"),
        "{err}"
    );
    assert!(err.contains("invalid.jsonl:2: invalid JSON"), "{err}");
}

/// `check` validates feeds.toml when there is one, every problem at its
/// place; without one it is not needed.
#[test]
fn check_validates_the_feed_list_when_present() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.toml"), crate::RULES).unwrap();
    let config = dir.path().to_str().unwrap();
    let out = newsalert(&["check", "--config", config]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(!stdout(&out).contains("feeds.toml"), "{}", stdout(&out));

    std::fs::write(
        dir.path().join("feeds.toml"),
        "[[feed]]\nurl = \"https://a.example/feed\"\ninterval = \"often\"\n\n[[feed]]\nurl = \"nope\"\n",
    )
    .unwrap();
    let out = newsalert(&["check", "--config", config]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let file = dir.path().join("feeds.toml").display().to_string();
    for want in [
        format!("{file}:3:12: interval \"often\" is not a duration"),
        format!("{file}:6:7: invalid feed url: relative URL without a base"),
        "2 error(s)".to_string(),
    ] {
        assert!(text.contains(&want), "{want}\n{text}");
    }

    std::fs::write(
        dir.path().join("feeds.toml"),
        "[[feed]]\nurl = \"https://a.example/feed\"\n",
    )
    .unwrap();
    let out = newsalert(&["check", "--config", config]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains(&format!("{file}: OK")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn check_and_run_report_a_bad_dkim_key_where_it_was_set() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.toml"),
        "[[subscriber]]\nid = \"desk\"\nemail = \"desk@example.org\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("dkim.pem"),
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("local.toml"),
        "[smtp]\nhost = \"127.0.0.1\"\n# signing\ndkim_key_file = \"dkim.pem\"\n",
    )
    .unwrap();
    let local = dir.path().join("local.toml").display().to_string();
    let config = dir.path().to_str().unwrap();
    let out = newsalert(&["check", "--config", config]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("{local}:4:1: smtp.dkim_key_file: DKIM key ")),
        "{text}"
    );
    assert!(text.contains("PKCS#8"), "{text}");
    assert!(text.contains("smtp.dkim_selector"), "{text}");
    // `run` refuses to start, saying the same, before connecting anywhere.
    let out = newsalert(&["--config", config, "run"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{local}:4:1: smtp.dkim_key_file")),
        "{err}"
    );
}
