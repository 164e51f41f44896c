//! Parser tests: canonical forms (precedence, juxtaposition, fields) and
//! errors with their positions.

use super::parse;

#[test]
fn parses_to_canonical_form() {
    let cases = [
        ("Azerbaijan", "azerbaijan"),
        ("a b", "a AND b"),
        ("a AND b OR c", "(a AND b) OR c"),
        ("a OR b c", "a OR (b AND c)"),
        ("a OR b AND c", "a OR (b AND c)"),
        ("NOT a b", "NOT a AND b"),
        ("-a b", "NOT a AND b"),
        ("-(a OR b) c", "NOT (a OR b) AND c"),
        ("(a OR b) (c OR d)", "(a OR b) AND (c OR d)"),
        ("a and b or not c", "a AND and AND b AND or AND not AND c"),
        ("Nagorno-Karabakh", "\"nagorno karabakh\""),
        ("O'Brien", "\"o brien\""),
        ("Côte d'Ivoire", "cote AND \"d ivoire\""),
        ("\"Côte d’Ivoire\"", "\"cote d ivoire\""),
        ("“South Caucasus”", "\"south caucasus\""),
        ("armen*", "armen*"),
        ("\"south cauc*\"", "\"south cauc*\""),
        ("a NEAR/3 b", "a NEAR/3 b"),
        ("a NEAR \"b c\"", "a NEAR/10 \"b c\""),
        ("NOT a NEAR/2 b", "NOT a NEAR/2 b"),
        ("title:a NEAR/2 b", "title:a NEAR/2 title:b"),
        ("title:x", "title:x"),
        ("Title:x", "title:x"),
        ("body:\"a b\"", "body:\"a b\""),
        ("summary:(a OR b*) c", "(summary:a OR summary:b*) AND c"),
        ("title:(a -b)", "title:a AND NOT title:b"),
        ("case:US", "case:US"),
        ("case:\"US Army\"", "case:\"US Army\""),
        ("case:AND", "case:AND"),
        ("region:AZ", "region:\"AZ\""),
        ("region:south-caucasus", "region:\"south-caucasus\""),
        ("region:\"South Caucasus\"", "region:\"South Caucasus\""),
        ("title:region:AZ", "title:region:\"AZ\""),
        ("lang:ru-RU", "lang:ru-ru"),
        ("lang:pt_BR", "lang:pt-br"),
        ("source:WWW.Example.com", "source:example.com"),
        (
            "source:https://news.example.com/x",
            "source:news.example.com",
        ),
        ("source:bücher.example.", "source:xn--bcher-kva.example"),
        ("source:[2001:DB8::1]", "source:[2001:db8::1]"),
        ("https://example.com/a", "\"https example com a\""),
        ("10:30", "\"10 30\""),
        ("Azerbaijan's", "azerbaijan"),
        ("Türkiye", "turkiye"),
        ("НАТО", "нато"),
        ("NEARLY ANDROID", "nearly AND android"),
    ];
    for (query, want) in cases {
        match parse(query) {
            Ok(q) => assert_eq!(q.to_string(), want, "query {query:?}"),
            Err(e) => panic!("query {query:?}: {e}"),
        }
    }
}

#[test]
fn canonical_form_parses_back_to_itself() {
    for q in [
        "a OR b c -(d NEAR/2 \"e f\")",
        "title:(a OR case:\"B C\") region:AZ lang:ru",
    ] {
        let once = parse(q).expect(q).to_string();
        let twice = parse(&once).expect(&once).to_string();
        assert_eq!(once, twice);
    }
}

#[test]
fn errors_carry_positions() {
    let deep_parens = format!("{}x{}", "(".repeat(100), ")".repeat(100));
    let deep_nots = format!("{}x", "NOT ".repeat(100));
    let cases = [
        ("", 0, "empty query"),
        ("   ", 0, "empty query"),
        ("\"open phrase", 0, "unclosed quote"),
        ("a \"open", 2, "unclosed quote"),
        ("(a OR b", 0, "unclosed '('"),
        ("a (b (c)", 2, "unclosed '('"),
        ("a)", 1, "unmatched ')'"),
        ("()", 0, "empty parentheses"),
        ("a AND", 2, "AND needs a term after it"),
        ("a OR", 2, "OR needs a term after it"),
        ("OR a", 0, "OR needs a term before it"),
        ("a AND OR b", 2, "AND needs a term after it"),
        ("NOT", 0, "NOT needs a term after it"),
        ("a -", 2, "'-' must be directly before a term"),
        ("a NEAR/x b", 2, "bad NEAR distance"),
        ("a NEAR/0 b", 2, "bad NEAR distance"),
        ("a NEAR/3", 2, "NEAR needs a term after it"),
        ("NEAR/3 b", 0, "NEAR needs a term before it"),
        ("a NEAR b NEAR c", 9, "cannot be chained"),
        ("(a OR b) NEAR c", 1, "NEAR operands"),
        ("title:a NEAR body:b", 8, "different fields"),
        ("title:", 0, "needs a value"),
        ("title: x", 0, "needs a value"),
        ("title:(body:x)", 7, "conflicting field scopes"),
        ("title:-x", 6, "put '-' before the field"),
        ("title:body:x", 6, "conflicting field scopes"),
        ("case:US*", 5, "does not support prefixes"),
        ("region:", 0, "needs a value"),
        ("lang:x", 5, "not a language code"),
        ("source:a..b", 7, "not a domain"),
        ("a*b", 1, "only allowed at the end"),
        ("foo-*", 4, "directly follow a letter"),
        ("&", 0, "no letters or digits"),
        ("\"  \"", 1, "no letters or digits"),
        ("é \"x", 3, "unclosed quote"),
        (deep_parens.as_str(), 64, "nested more than 64"),
        (deep_nots.as_str(), 256, "nested more than 64"),
    ];
    for (query, offset, msg) in cases {
        match parse(query) {
            Ok(q) => panic!("query {query:?} parsed as {q}"),
            Err(e) => {
                assert_eq!(e.offset, offset, "query {query:?}: {e}");
                assert!(e.message.contains(msg), "query {query:?}: {e}");
                let column = query[..offset].chars().count() + 1;
                assert_eq!(e.column, column, "query {query:?}");
                assert!(e.to_string().starts_with(&format!("col {column}: ")));
            }
        }
    }
}
