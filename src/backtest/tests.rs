//! The report adds up articles as an independent count would: per rule,
//! per day, capped samples, exact diff counts.

use super::*;
use crate::article;
use crate::regions::Gazetteer;
use std::path::Path;

fn book(rules: &[(&str, &str)]) -> Arc<RuleBook> {
    let mut text = String::from("[[subscriber]]\nid = \"desk\"\ntelegram_chat_id = 1\n");
    for (id, query) in rules {
        text.push_str(&format!(
            "\n[[rule]]\nid = \"{id}\"\nquery = '{query}'\nnotify = [\"desk\"]\n"
        ));
    }
    Arc::new(RuleBook::parse(Path::new("rules.toml"), &text, &Gazetteer::builtin()).unwrap())
}

fn art(id: &str, title: &str) -> Article {
    let json = serde_json::json!({"id": id, "title": title}).to_string();
    article::decode(json.as_bytes(), 1 << 20).unwrap()
}

#[test]
fn counts_days_samples_and_diffs() {
    let current = book(&[("baku", "Baku"), ("gas", "gas"), ("gone", "Yerevan")]);
    let candidate = book(&[
        ("baku", "Baku OR Azerbaijan"),
        ("gas", "gas"),
        ("oil", "oil"),
    ]);
    let books = Books {
        candidate: candidate.clone(),
        current: Some(current.clone()),
        clean: CleanOptions { enabled: true },
    };
    let mut report = Report::new(&candidate, Some(&current));
    let titles = [
        "Baku talks",             // baku (both)
        "Azerbaijan gas deal",    // baku new, gas both
        "Oil and gas in Yerevan", // gas, oil new; gone no longer
        "Nothing here",           // none
    ];
    for (i, t) in titles.iter().enumerate().cycle().take(20) {
        let d = if i % 2 == 0 {
            "2026-12-01"
        } else {
            "2026-12-02"
        };
        report.add(books.evaluate(&art(&format!("a{i}"), t), d.to_string()));
    }
    let get = |id: &str| report.rules.iter().find(|t| t.rule == id).unwrap().clone();
    let baku = get("baku");
    assert_eq!(baku.matched, 10);
    assert_eq!(baku.status, Some(RuleStatus::Changed));
    assert_eq!(
        baku.per_day,
        BTreeMap::from([("2026-12-01".into(), 5), ("2026-12-02".into(), 5)])
    );
    assert_eq!(baku.samples.len(), SAMPLES_PER_RULE);
    assert_eq!(baku.samples[1].hits, vec!["Azerbaijan".to_string()]);
    let newly = baku.newly_matched.unwrap();
    assert_eq!((newly.count, newly.samples.len()), (5, 5));
    assert!(
        newly
            .samples
            .iter()
            .all(|s| s.title == "Azerbaijan gas deal")
    );
    assert_eq!(baku.no_longer_matched.unwrap().count, 0);
    let gas = get("gas");
    assert_eq!(
        (gas.matched, gas.status, gas.differs()),
        (10, Some(RuleStatus::Same), false)
    );
    let oil = get("oil");
    assert_eq!(
        (oil.status, oil.newly_matched.unwrap().count),
        (Some(RuleStatus::Added), 5)
    );
    let gone = get("gone");
    assert_eq!((gone.status, gone.matched), (Some(RuleStatus::Removed), 0));
    let lost = gone.no_longer_matched.unwrap();
    assert_eq!(lost.count, 5);
    assert_eq!(lost.samples[0].title, "Oil and gas in Yerevan");
    assert_eq!(report.articles, 20);
    assert!(report.has_rule("gone") && !report.has_rule("nope"));
}

#[test]
fn without_diff_there_is_no_status_and_diff_samples_are_capped() {
    let candidate = book(&[("gas", "gas")]);
    let books = Books {
        candidate: candidate.clone(),
        current: Some(book(&[])),
        clean: CleanOptions { enabled: true },
    };
    let mut report = Report::new(&candidate, None);
    let mut diffed = Report::new(&candidate, Some(&book(&[])));
    for i in 0..50 {
        let r = books.evaluate(&art(&format!("g{i}"), "gas"), "2026-12-01".into());
        report.add(r.clone());
        diffed.add(r);
    }
    let t = &report.rules[0];
    assert_eq!(
        (t.matched, t.status, t.newly_matched.is_none()),
        (50, None, true)
    );
    let json = serde_json::to_value(t).unwrap();
    assert_eq!(json["per_day"]["2026-12-01"], 50);
    assert!(json.get("newly_matched").is_none());
    let d = diffed.rules[0].newly_matched.clone().unwrap();
    assert_eq!((d.count, d.samples.len()), (50, DIFF_SAMPLES_PER_RULE));
}
