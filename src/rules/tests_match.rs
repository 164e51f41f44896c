//! Matcher tests: one table of (query, article, expected), run both one
//! rule at a time and with every rule compiled into a single matcher.

use super::tests_support::{TestDoc, gazetteer, prepare};
use super::{Hit, Matcher, parse};
use crate::text::FieldName;

fn t(title: &'static str, body: &'static str) -> TestDoc {
    TestDoc {
        title,
        body,
        ..TestDoc::default()
    }
}

fn cases() -> Vec<(&'static str, TestDoc, bool)> {
    let meta = |language, source, url, regions| TestDoc {
        language,
        source,
        url,
        regions,
        ..t("", "")
    };
    vec![
        ("Oman", t("", "A woman said"), false),
        ("Oman", t("", "Oman's oil"), true),
        ("Azerbaijan", t("", "Azerbaijan's army"), true),
        ("Azerbaijan's", t("", "AZERBAIJAN"), true),
        ("Turkiye", t("", "Türkiye said"), true),
        ("Türkiye", t("", "Turkiye said"), true),
        ("Азербайджан", t("", "АЗЕРБАЙДЖАН заявил"), true),
        ("азербайджан*", t("", "в Азербайджане"), true),
        (
            "\"Nagorno Karabakh\"",
            t("", "the Nagorno-Karabakh region"),
            true,
        ),
        ("Nagorno-Karabakh", t("", "Nagorno\nKarabakh"), true),
        ("\"south caucasus\"", t("", "south, Caucasus"), true),
        ("\"peace talks\"", t("", "talks peace"), false),
        ("\"peace tal*\"", t("", "peace talking"), true),
        ("baku NEAR/3 talks", t("", "Baku a b talks"), true),
        ("baku NEAR/3 talks", t("", "Baku a b c talks"), false),
        ("baku NEAR/3 talks", t("", "talks a b Baku"), true),
        ("baku NEAR/3 talks", t("Baku", "talks"), false),
        (
            "\"peace deal\" NEAR/2 armenia",
            t("", "peace deal x armenia"),
            true,
        ),
        (
            "\"peace deal\" NEAR/2 armenia",
            t("", "armenia x y peace deal"),
            false,
        ),
        (
            "\"peace deal\" NEAR/3 armenia",
            t("", "armenia x y peace deal"),
            true,
        ),
        ("armen* NEAR/1 armenia", t("", "Armenia"), false),
        ("armen* NEAR/1 armenia", t("", "Armenia armenian"), true),
        ("title:baku", t("x", "Baku"), false),
        ("body:baku", t("x", "Baku"), true),
        ("summary:baku", t("Baku", "Baku"), false),
        ("title:(baku OR yerevan)", t("Yerevan", ""), true),
        ("baku -sport", t("", "Baku sport"), false),
        ("baku -sport", t("", "Baku news"), true),
        ("NOT sport", t("", "news"), true),
        ("NOT sport", t("Sport", ""), false),
        ("armen*", t("", "Armenians"), true),
        ("armen*", t("", "Armen"), true),
        ("armen*", t("", "arm"), false),
        ("case:US", t("", "US troops"), true),
        ("case:US", t("", "us troops"), false),
        ("case:\"US Army\"", t("", "US Army"), true),
        ("case:\"US Army\"", t("", "US army"), false),
        ("and", t("", "salt and pepper"), true),
        ("region:AZ", t("", "Baku talks"), true),
        ("region:Azerbaijan", t("", "talks in Азербайджан"), true),
        ("region:AZ", t("", "Armenia"), false),
        ("region:AZ", meta(None, None, None, &["aze"]), true),
        ("region:BY", t("", "the OSCE Minsk Group met"), false),
        ("region:BY", t("", "Minsk Group met in Minsk"), true),
        ("region:BY", t("Belarus", "Minsk Group"), true),
        ("region:GE", t("", "Georgia"), false),
        ("region:GE", t("Georgia", "Tbilisi"), true),
        ("region:GE", meta(None, None, None, &["GE"]), true),
        ("region:US", t("", "us and them"), false),
        ("region:US", t("", "the US said"), true),
        (
            "region:south-caucasus",
            meta(None, None, None, &["AM"]),
            true,
        ),
        (
            "region:south-caucasus",
            t("", "across the South Caucasus"),
            true,
        ),
        ("title:region:AZ", t("", "Baku"), false),
        ("lang:ru", meta(Some("ru-RU"), None, None, &[]), true),
        ("lang:ru", meta(Some("RU"), None, None, &[]), true),
        ("lang:ru", meta(Some("en"), None, None, &[]), false),
        ("lang:ru", meta(None, None, None, &[]), false),
        ("lang:pt-BR", meta(Some("pt"), None, None, &[]), false),
        ("lang:pt-BR", meta(Some("pt_br"), None, None, &[]), true),
        (
            "source:example.com",
            meta(None, Some("news.example.com"), None, &[]),
            true,
        ),
        (
            "source:example.com",
            meta(None, None, Some("https://www.example.com/x"), &[]),
            true,
        ),
        (
            "source:example.com",
            meta(None, Some("badexample.com"), None, &[]),
            false,
        ),
        (
            "source:news.example.com",
            meta(None, Some("example.com"), None, &[]),
            false,
        ),
        (
            "source:bbc.co.uk",
            meta(None, Some("BBC"), Some("http://www.bbc.co.uk/news"), &[]),
            true,
        ),
        (
            "source:bücher.example",
            meta(None, None, Some("https://shop.xn--bcher-kva.example/"), &[]),
            true,
        ),
        (
            "source:xn--bcher-kva.example",
            meta(None, Some("Bücher.Example."), None, &[]),
            true,
        ),
        (
            "source:[2001:db8::1]",
            meta(None, None, Some("http://[2001:DB8:0::1]:8080/feed"), &[]),
            true,
        ),
        ("lang:en OR baku", meta(Some("en"), None, None, &[]), true),
        ("lang:en baku", meta(Some("en"), None, None, &[]), false),
    ]
}

#[test]
fn each_rule_alone() {
    let gaz = gazetteer();
    for (query, doc, want) in cases() {
        let q = parse(query).expect(query);
        let m = Matcher::compile(&[("r".into(), q)], &gaz).expect(query);
        let p = doc.prepare();
        let got = !m.find(&p.doc()).is_empty();
        assert_eq!(got, want, "query {query:?} on {:?}", (doc.title, doc.body));
        let e = m.explain("r", &p.doc()).expect("rule exists");
        assert_eq!(e.matched, want, "explain {query:?}\n{e}");
        assert!(e.candidate || !want, "presearch missed {query:?}");
    }
}

#[test]
fn all_rules_in_one_matcher() {
    let gaz = gazetteer();
    let cases = cases();
    let rules: Vec<_> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("r{i}"), parse(c.0).expect(c.0)))
        .collect();
    let m = Matcher::compile(&rules, &gaz).expect("compiles");
    assert_eq!(m.rule_count(), cases.len());
    for (i, (query, doc, want)) in cases.iter().enumerate() {
        let p = doc.prepare();
        let found = m.find(&p.doc());
        assert!(found.windows(2).all(|w| w[0].rule < w[1].rule));
        assert_eq!(found.iter().any(|r| r.rule == i), *want, "query {query:?}");
    }
}

#[test]
fn hits_cover_positive_terms_only() {
    let m = Matcher::compile(
        &[(
            "r".into(),
            parse("\"peace talks\" OR baku* -sport region:AZ").unwrap(),
        )],
        &gazetteer(),
    )
    .unwrap();
    let p = prepare(
        "",
        "",
        "Bakuvians host peace talks on Baku's future; sportsmen",
    );
    let found = m.find(&p.doc());
    let spans: Vec<_> = found[0]
        .hits
        .iter()
        .map(|h| (h.field, &p.fields[2].clean[h.start..h.end]))
        .collect();
    assert_eq!(
        spans,
        [
            (FieldName::Body, "Bakuvians"),
            (FieldName::Body, "peace talks"),
            (FieldName::Body, "Baku")
        ]
    );
    let near = Matcher::compile(
        &[("n".into(), parse("baku NEAR/1 talks").unwrap())],
        &gazetteer(),
    )
    .unwrap();
    let p = prepare("talks Baku x talks", "", "");
    let hits = &near.find(&p.doc())[0].hits;
    let want = [
        Hit {
            field: FieldName::Title,
            start: 0,
            end: 5,
        },
        Hit {
            field: FieldName::Title,
            start: 6,
            end: 10,
        },
    ];
    assert_eq!(hits, &want);
}

#[test]
fn presearch_skips_rules_without_their_terms() {
    let rules: Vec<_> = [
        "baku",
        "\"peace talks\"",
        "NOT sport",
        "lang:ru",
        "region:AZ",
        "armen*",
    ]
    .iter()
    .enumerate()
    .map(|(i, q)| (format!("r{i}"), parse(q).unwrap()))
    .collect();
    let m = Matcher::compile(&rules, &gazetteer()).unwrap();
    let p = prepare("Armenia", "", "peace");
    let doc = p.doc();
    let cand: Vec<bool> = (0..6)
        .map(|i| m.explain(&format!("r{i}"), &doc).unwrap().candidate)
        .collect();
    assert_eq!(cand, [false, false, true, false, false, true]);
    let found: Vec<usize> = m.find(&doc).iter().map(|r| r.rule).collect();
    assert_eq!(found, [2, 5]);
}

#[test]
fn compile_errors_name_rule_and_position() {
    let rules = vec![
        ("ok".to_string(), parse("baku").unwrap()),
        ("bad".to_string(), parse("baku OR region:Atlantis").unwrap()),
        ("ok".to_string(), parse("x").unwrap()),
    ];
    let errs = Matcher::compile(&rules, &gazetteer()).unwrap_err();
    assert_eq!(errs.len(), 2);
    assert_eq!(
        (
            errs[0].rule,
            errs[0].id.as_str(),
            errs[0].offset,
            errs[0].column
        ),
        (1, "bad", 8, 9)
    );
    assert!(errs[0].message.contains("unknown region 'Atlantis'"));
    assert!(errs[1].message.contains("duplicate rule id"));
    let defs = [super::RuleDef {
        id: "p".into(),
        query: "a AND".into(),
    }];
    let errs = Matcher::build(&defs, &gazetteer()).unwrap_err();
    assert_eq!((errs[0].offset, errs[0].column), (2, 3));
}

#[test]
fn explanation_renders_the_clause_tree() {
    let m = Matcher::compile(
        &[("az".into(), parse("title:baku -sport").unwrap())],
        &gazetteer(),
    )
    .unwrap();
    let p = prepare("Baku talks", "", "no sport");
    let text = m.explain("az", &p.doc()).unwrap().to_string();
    let want = "\
rule az: did not match (presearch: candidate)
  AND: no
    title:baku: yes [title 0..4 \"Baku\"]
    NOT: no
      sport: yes [body 3..8 \"sport\"]
";
    assert_eq!(text, want);
    assert!(m.explain("missing", &p.doc()).is_none());
}

#[test]
fn candidates_do_not_grow_with_rule_count() {
    let mut rules: Vec<_> = (0..5000)
        .map(|i| {
            (
                format!("w{i}"),
                parse(&format!("word{i} OR pre{i}x*")).unwrap(),
            )
        })
        .collect();
    rules.push(("not".into(), parse("NOT sport").unwrap()));
    let m = Matcher::compile(&rules, &gazetteer()).unwrap();
    let p = prepare("word7 and pre12xyz", "", "nothing else");
    let mut ix = super::doc_index::DocIndex::new(&m, &p.doc());
    assert_eq!(ix.candidates(), [7, 12, 5000]);
    let found: Vec<usize> = m.find(&p.doc()).iter().map(|r| r.rule).collect();
    assert_eq!(found, [7, 12, 5000]);
}

/// Many candidates for the rule count go through a bitmap: the same
/// sorted, deduplicated list as sorting gives.
#[test]
fn many_candidates_come_sorted_and_once() {
    let rules: Vec<_> = (0..600)
        .map(|i| {
            let q = format!(
                "word{} OR word{} OR pre{}x*",
                i % 200,
                (i * 7) % 200,
                i % 50
            );
            (format!("r{i}"), parse(&q).unwrap())
        })
        .collect();
    let m = Matcher::compile(&rules, &gazetteer()).unwrap();
    let body: Vec<String> = (0..200)
        .rev()
        .map(|i| format!("word{i} pre{}xy", i % 50))
        .collect();
    let p = prepare("", "", &body.join(" "));
    let mut ix = super::doc_index::DocIndex::new(&m, &p.doc());
    assert_eq!(ix.candidates(), (0..600).collect::<Vec<u32>>());
    let p = prepare("word3 word5", "", "");
    let mut ix = super::doc_index::DocIndex::new(&m, &p.doc());
    let mut want: Vec<u32> = (0..600u32)
        .filter(|i| [3, 5].contains(&(i % 200)) || [3, 5].contains(&((i * 7) % 200)))
        .collect();
    want.sort_unstable();
    assert_eq!(ix.candidates(), want);
}

#[test]
fn matcher_is_shareable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Matcher>();
}
