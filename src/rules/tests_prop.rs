//! Property tests: the indexed matcher agrees with the naive evaluator on
//! random rule sets and articles; NOT never adds matches; an inserted word
//! is always found.

use proptest::prelude::*;

use super::tests_support::{gazetteer, prepare};
use super::{Matcher, naive, parse};

/// Words the texts are made of: case, diacritic, possessive and Cyrillic
/// variants, and aliases of the test gazetteer.
const TEXT_WORDS: &[&str] = &[
    "baku",
    "Baku's",
    "BAKU",
    "armenia",
    "Armenian",
    "peace",
    "talks",
    "Türkiye",
    "turkiye",
    "Minsk",
    "group",
    "us",
    "US",
    "Tbilisi",
    "Georgia",
    "sport",
    "Азербайджан",
    "the",
    "South",
    "Caucasus",
];
const SEPARATORS: &[&str] = &[" ", " ", "-", ", ", "\n", "'", ". "];

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(TEXT_WORDS),
            prop::sample::select(SEPARATORS),
        ),
        0..14,
    )
    .prop_map(|ws| ws.into_iter().map(|(w, s)| format!("{w}{s}")).collect())
}

fn leaf() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "baku",
        "Baku",
        "armen*",
        "arm*",
        "peace",
        "talks",
        "Turkiye",
        "\"peace talks\"",
        "\"minsk group\"",
        "case:US",
        "case:Baku",
        "us",
        "region:AZ",
        "region:BY",
        "region:GE",
        "region:south-caucasus",
        "lang:ru",
        "source:example.com",
        "the",
        "\"south cauc*\"",
        "азербайджан*",
        "georgia",
    ]);
    let field = prop::sample::select(vec!["", "", "title:", "summary:", "body:"]);
    let near = (
        prop::sample::select(vec!["baku", "armen*", "\"peace talks\"", "us", "the"]),
        1u32..5,
        prop::sample::select(vec!["talks", "minsk", "\"the south\"", "t*", "baku"]),
    )
        .prop_map(|(a, n, b)| format!("{a} NEAR/{n} {b}"));
    prop_oneof![3 => (field, words).prop_map(|(f, w)| format!("{f}{w}")), 1 => near]
}

fn query() -> impl Strategy<Value = String> {
    leaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} AND {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} OR {b})")),
            inner.clone().prop_map(|a| format!("NOT ({a})")),
            inner.prop_map(|a| format!("-{a}")),
        ]
    })
}

#[derive(Debug, Clone)]
struct Meta {
    language: Option<&'static str>,
    source: Option<&'static str>,
    regions: Vec<String>,
}

fn meta() -> impl Strategy<Value = Meta> {
    (
        prop::sample::select(vec![None, Some("ru"), Some("ru-RU"), Some("en")]),
        prop::sample::select(vec![
            None,
            Some("news.example.com"),
            Some("https://other.org/x"),
        ]),
        prop::sample::subsequence(vec!["AZ", "ge", "BY", "AM"], 0..3),
    )
        .prop_map(|(language, source, regions)| Meta {
            language,
            source,
            regions: regions.into_iter().map(String::from).collect(),
        })
}

proptest! {
    // No regression files: they would land outside src/rules.
    #![proptest_config(ProptestConfig {
        cases: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn matcher_agrees_with_naive_evaluator(
        queries in prop::collection::vec(query(), 1..6),
        fields in (text(), text(), text()),
        meta in meta(),
    ) {
        let gaz = gazetteer();
        // Each query twice: rules naming the same phrase share its hits
        // (`find_each` works them out once per article).
        let rules: Vec<_> = queries
            .iter()
            .chain(&queries)
            .enumerate()
            .map(|(i, q)| (format!("r{i}"), parse(q).expect("generated queries parse")))
            .collect();
        let m = Matcher::compile(&rules, &gaz).expect("generated queries compile");
        let mut p = prepare(&fields.0, &fields.1, &fields.2);
        p.set_meta(meta.language, meta.source, meta.regions.clone());
        let doc = p.doc();
        let found = m.find(&doc);
        let ids: Vec<usize> = found.iter().map(|r| r.rule).collect();
        prop_assert_eq!(m.find_rules(&doc), ids, "find_rules = find without hits");
        for (i, (_, q)) in rules.iter().enumerate() {
            let (want, want_hits) = naive::eval(q.root(), &doc, &gaz);
            let got = found.iter().find(|r| r.rule == i);
            prop_assert_eq!(got.is_some(), want, "rule {} on {:?}", q, fields);
            if let Some(got) = got {
                prop_assert_eq!(&got.hits, &want_hits, "hits of {}", q);
            }
        }
    }

    #[test]
    fn not_never_adds_matches(q in query(), x in leaf(), body in text(), meta in meta()) {
        let gaz = gazetteer();
        let plain = parse(&q).expect("parses");
        let narrowed = parse(&format!("({q}) AND NOT ({x})")).expect("parses");
        let rules = [("q".to_string(), plain), ("n".to_string(), narrowed)];
        let m = Matcher::compile(&rules, &gaz).expect("compiles");
        let mut p = prepare("", "", &body);
        p.set_meta(meta.language, meta.source, meta.regions);
        let rules: Vec<usize> = m.find(&p.doc()).iter().map(|r| r.rule).collect();
        prop_assert!(!rules.contains(&1) || rules.contains(&0), "{:?}", rules);
    }

    #[test]
    fn inserted_word_is_found(
        words in prop::collection::vec("[a-zа-я]{1,6}", 0..20),
        term in "[A-Za-zÀ-ÖØ-öø-ÿА-Яа-я0-9]{1,8}",
        at in 0usize..20,
    ) {
        let at = at.min(words.len());
        let mut all = words.clone();
        all.insert(at, term.clone());
        let text = all.join(" ");
        let rule = parse(&format!("\"{term}\"")).expect("parses");
        let m = Matcher::compile(&[("t".into(), rule)], &gazetteer()).expect("compiles");
        let p = prepare("", "", &text);
        let found = m.find(&p.doc());
        prop_assert_eq!(found.len(), 1);
        let start = all[..at].iter().map(|w| w.len() + 1).sum::<usize>();
        prop_assert!(
            found[0].hits.iter().any(|h| h.start == start && h.end == start + term.len()),
            "{:?} in {:?}", term, text
        );
    }

    #[test]
    fn parser_never_panics(q in "\\PC{0,40}") {
        if let Ok(q) = parse(&q) {
            let again = q.to_string();
            prop_assert!(parse(&again).is_ok(), "{} -> {}", q.source(), again);
        }
    }
}
