//! The cache gives the rule book a fresh compile gives, misses on any
//! change, and never fails a load.

use super::*;
use crate::article::{Article, DEFAULT_MAX_BYTES, decode};
use crate::pipeline::{PreparedArticle, evaluate};
use crate::regions::Gazetteer;
use crate::rulebook::{RuleBook, Severity};
use crate::text::CleanOptions;

/// The example rules file (custom region, NEAR, prefixes, phrases,
/// scopes, Cyrillic) plus generated rules of every other kind, one of
/// them with a lint warning.
fn rules_text() -> String {
    let mut text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/rules.toml"))
            .unwrap();
    let queries = [
        "case:\"EU\" AND sanctions",
        "region:GE AND tourism",
        "lang:ru AND газ",
        "source:example.org AND (oil OR gas)",
        "pipeline -(sport OR football)",
        "\"South Caucasus\" NEAR/3 railway*",
    ];
    for (i, q) in queries.iter().cycle().take(60).enumerate() {
        text.push_str(&format!(
            "\n[[rule]]\nid = \"gen-{i}\"\nquery = '{q} OR word{i}'\nnotify = [\"caucasus-desk\"]\n"
        ));
    }
    text.push_str("\n[[rule]]\nid = \"broad\"\nquery = 'the OR и'\nnotify = [\"caucasus-desk\"]\n");
    text
}

fn articles() -> Vec<Article> {
    let events = [
        serde_json::json!({"id": "1", "title": "Minsk Group talks resume", "body": "Azerbaijan and Armenia met in Baku. word7 and word12."}),
        serde_json::json!({"id": "2", "title": "Bakuriani ski season", "body": "The Georgian mountain resort of Bakuriani in the Borjomi district expects visitors from Armenia; tourism grows."}),
        serde_json::json!({"id": "3", "title": "EU sanctions", "body": "The EU agreed new sanctions; a pipeline deal, not football.", "url": "https://example.org/a"}),
        serde_json::json!({"id": "4", "title": "Газ", "body": "Поставки газ через Грузию", "language": "ru"}),
        serde_json::json!({"id": "5", "title": "South Caucasus railways", "body": "The South Caucasus railway link normalization with Armenia is near."}),
    ];
    events
        .iter()
        .map(|e| decode(e.to_string().as_bytes(), DEFAULT_MAX_BYTES).unwrap())
        .collect()
}

/// What a rule book says of each article, for comparing two books.
fn verdicts(book: &RuleBook) -> Vec<String> {
    articles()
        .iter()
        .map(|a| {
            let prepared = PreparedArticle::new(a, CleanOptions::default());
            let matches = evaluate(book, &prepared);
            let ids: Vec<(&str, &[crate::rules::Hit])> = matches
                .iter()
                .map(|m| (book.rules[m.rule].id.as_str(), m.hits.as_slice()))
                .collect();
            format!("{ids:?}")
        })
        .collect()
}

fn load(path: &Path, cache: &RuleCache) -> RuleBook {
    RuleBook::load_cached(path, &Gazetteer::builtin(), Some(cache)).unwrap()
}

#[test]
fn a_cached_rule_book_is_the_compiled_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    let text = rules_text();
    std::fs::write(&path, &text).unwrap();
    let cache = RuleCache::new(dir.path().join("cache"), 0);
    let fresh = RuleBook::load(&path, &Gazetteer::builtin()).unwrap();
    assert!(
        fresh
            .warnings
            .iter()
            .any(|w| w.severity == Severity::Warning),
        "the file has a warning to keep"
    );

    let first = load(&path, &cache); // compiles and stores
    let key = RuleCache::key(&text);
    assert!(cache.read(&path, key).is_some(), "stored");
    let second = load(&path, &cache); // read back
    for book in [&first, &second] {
        assert_eq!(book.rules, fresh.rules);
        assert_eq!(book.subscribers.len(), fresh.subscribers.len());
        assert_eq!(book.warnings, fresh.warnings);
        assert_eq!(book.matcher.rule_count(), fresh.matcher.rule_count());
        assert_eq!(verdicts(book), verdicts(&fresh));
    }
    assert!(
        verdicts(&second)
            .iter()
            .filter(|v| v.contains("gen-"))
            .count()
            >= 4,
        "the articles match something: {:?}",
        verdicts(&second)
    );

    // The load really reads the entry: one stored under this text's key
    // from another rule book (its last rule dropped) is what comes back.
    let cut = text[..text.rfind("[[rule]]").unwrap()].to_string();
    let other = RuleBook::parse(&path, &cut, &Gazetteer::builtin()).unwrap();
    cache.write(&path, key, &other.rules, &other.matcher, &[]);
    let third = load(&path, &cache);
    assert_eq!(third.rules, other.rules);
    assert_eq!(third.rules.len() + 1, fresh.rules.len());
}

#[test]
fn any_change_misses_and_small_books_are_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    let cache = RuleCache::new(dir.path().join("cache"), 0);
    let text = rules_text();
    std::fs::write(&path, &text).unwrap();
    load(&path, &cache);
    let edited = text.replace("word7'", "word7 OR tourism'");
    std::fs::write(&path, &edited).unwrap();
    assert!(cache.read(&path, RuleCache::key(&edited)).is_none());
    let book = load(&path, &cache);
    let fresh = RuleBook::load(&path, &Gazetteer::builtin()).unwrap();
    assert_eq!(verdicts(&book), verdicts(&fresh));
    assert!(
        verdicts(&book)[1].contains("gen-7"),
        "the edit is in effect"
    );
    // One entry per rules file: the edited text replaced the first.
    assert_eq!(
        std::fs::read_dir(dir.path().join("cache")).unwrap().count(),
        1
    );

    let small = RuleCache::new(dir.path().join("small"), 1_000);
    load(&path, &small);
    assert!(!dir.path().join("small").exists(), "under cache_min_rules");
}

#[test]
fn a_damaged_or_unwritable_cache_only_costs_a_compile() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    let text = rules_text();
    std::fs::write(&path, &text).unwrap();
    let fresh = verdicts(&RuleBook::load(&path, &Gazetteer::builtin()).unwrap());
    let cache = RuleCache::new(dir.path().join("cache"), 0);
    load(&path, &cache);
    let entry = std::fs::read_dir(dir.path().join("cache"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let whole = std::fs::read(&entry).unwrap();
    let key = RuleCache::key(&text);

    let mut flipped = whole.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    for damaged in [
        flipped,
        whole[..whole.len() - 7].to_vec(),
        whole[..20].to_vec(),
    ] {
        std::fs::write(&entry, &damaged).unwrap();
        assert!(cache.read(&path, key).is_none(), "damaged entry refused");
        assert_eq!(verdicts(&load(&path, &cache)), fresh);
        assert!(cache.read(&path, key).is_some(), "and written again");
    }

    // A file where the directory should be: nothing stored, still loads.
    let blocked = dir.path().join("blocked");
    std::fs::write(&blocked, "").unwrap();
    assert_eq!(verdicts(&load(&path, &RuleCache::new(&blocked, 0))), fresh);
}

#[test]
fn errors_are_never_cached_and_rest_problems_keep_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    let cache = RuleCache::new(dir.path().join("cache"), 0);
    let bad = format!(
        "{}\n[[rule]]\nid = \"x\"\nquery = 'region:atlantis'\nnotify = [\"caucasus-desk\"]\n",
        rules_text()
    );
    std::fs::write(&path, &bad).unwrap();
    assert!(RuleBook::load_cached(&path, &Gazetteer::builtin(), Some(&cache)).is_err());
    assert!(!dir.path().join("cache").exists(), "nothing stored");

    // A subscriber problem after 67 rule chunks (the rest the TOML parser
    // reads has one line per chunk): still placed on its line in the file.
    let text = format!(
        "{}\n[[subscriber]]\nid = \"late\"\nemail = \"not an address\"\n",
        rules_text()
    );
    std::fs::write(&path, &text).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("not an address"))
        .unwrap()
        + 1;
    {
        let e = RuleBook::load_cached(&path, &Gazetteer::builtin(), Some(&cache)).unwrap_err();
        assert!(
            e.iter()
                .any(|d| d.line == line && d.message.contains("email")),
            "{e:?}"
        );
    }
}

#[test]
fn a_directory_keeps_the_newest_entries_only() {
    let dir = tempfile::tempdir().unwrap();
    let cache = RuleCache::new(dir.path().join("cache"), 0);
    let text = rules_text();
    let mut paths = Vec::new();
    for i in 0..MAX_ENTRIES + 3 {
        let path = dir.path().join(format!("candidate-{i}.toml"));
        std::fs::write(&path, &text).unwrap();
        load(&path, &cache);
        paths.push(path);
        // Distinct modification times, oldest first.
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let entries = std::fs::read_dir(dir.path().join("cache")).unwrap().count();
    assert_eq!(entries, MAX_ENTRIES);
    let key = RuleCache::key(&text);
    assert!(cache.read(&paths[0], key).is_none(), "the oldest went");
    assert!(
        cache.read(paths.last().unwrap(), key).is_some(),
        "the newest stays"
    );
}
