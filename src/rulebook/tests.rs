//! Every problem `newsalert check` reports, as the exact
//! `file:line:col: message` lines, the column on the offending character.

use super::*;

/// Lines 1-4 of every case; the case's own text starts on line 5.
const HEADER: &str = "[[subscriber]]\nid = \"desk\"\ntelegram_chat_id = 1\n\n";

fn diagnostics(body: &str) -> Vec<String> {
    let text = format!("{HEADER}{body}");
    let out = match RuleBook::parse(Path::new("rules.toml"), &text, &Gazetteer::builtin()) {
        Ok(book) => book.warnings,
        Err(d) => d,
    };
    out.iter().map(ToString::to_string).collect()
}

#[test]
fn every_problem_is_reported_at_its_place() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "valid",
            "[[rule]]\nid = \"r\"\nquery = 'baku'\nnotify = [\"desk\"]\n",
            &[],
        ),
        (
            "unknown subscriber",
            "[[rule]]\nid = \"r\"\nquery = 'baku'\nnotify = [\"nobody\"]\n",
            &["rules.toml:8:11: rule \"r\": unknown subscriber \"nobody\""],
        ),
        (
            "unknown region",
            "[[rule]]\nid = \"r\"\nquery = 'baku AND region:atlantis'\nnotify = [\"desk\"]\n",
            &["rules.toml:7:19: rule \"r\": unknown region 'atlantis'"],
        ),
        (
            "duplicate rule id, reported once",
            "[[rule]]\nid = \"r\"\nquery = 'baku'\nnotify = [\"desk\"]\n\n\
             [[rule]]\nid = \"r\"\nquery = 'gas'\nnotify = [\"desk\"]\n",
            &["rules.toml:11:6: duplicate rule id \"r\""],
        ),
        (
            "duplicate subscriber id",
            "[[subscriber]]\nid = \"desk\"\nemail = \"desk@example.org\"\n",
            &["rules.toml:6:6: duplicate subscriber id \"desk\""],
        ),
        (
            "invalid time zone",
            "[[subscriber]]\nid = \"x\"\ntelegram_chat_id = 2\ntimezone = \"Mars/Olympus\"\n",
            &[
                "rules.toml:8:12: subscriber \"x\": unknown time zone \"Mars/Olympus\" \
                 (use an IANA name such as \"Asia/Baku\")",
            ],
        ),
        (
            "can never match",
            "[[rule]]\nid = \"r\"\nquery = 'gas AND NOT gas'\nnotify = [\"desk\"]\n",
            &["rules.toml:7:18: rule \"r\": can never match: 'gas' is both required and excluded"],
        ),
        (
            "only stop words",
            "[[rule]]\nid = \"r\"\nquery = 'the OR of'\nnotify = [\"desk\"]\n",
            &[
                "rules.toml:7:10: warning: rule \"r\": made only of stop words: \
                 matches almost every article",
            ],
        ),
        (
            "custom region with an unknown member",
            "[region.caucasus]\ninclude = [\"AZ\", \"Narnia\"]\n",
            &[
                "rules.toml:6:18: region `caucasus`: unknown member `Narnia` \
                 (not a country code or name)",
            ],
        ),
        (
            "bad channel",
            "[[rule]]\nid = \"r\"\nquery = 'baku'\nnotify = [\"desk\"]\nchannels = [\"pigeon\"]\n",
            &[
                "rules.toml:9:13: rule \"r\": unknown channel \"pigeon\"; expected \"telegram\" or \"email\"",
            ],
        ),
        (
            "bad digest",
            "[[subscriber]]\nid = \"x\"\nemail = \"x@example.org\"\ndigest = \"fortnightly\"\n",
            &[
                "rules.toml:8:10: subscriber \"x\": invalid digest \"fortnightly\": expected off, \
                 hourly, \"every <duration>\" (e.g. \"every 4h\", 1s to 7d), \"daily HH:MM\" or \"weekly mon HH:MM\"",
            ],
        ),
        (
            "bad quiet hours",
            "[[subscriber]]\nid = \"x\"\ntelegram_chat_id = 2\nquiet_hours = \"22:00-7\"\n",
            &[
                "rules.toml:8:15: subscriber \"x\": invalid quiet_hours \"22:00-7\": expected \"HH:MM-HH:MM\", e.g. \"22:00-07:00\"",
            ],
        ),
        (
            "bad cap",
            "[[subscriber]]\nid = \"x\"\ntelegram_chat_id = 2\nmax_telegram_per_hour = 0\n",
            &[
                "rules.toml:8:25: subscriber \"x\": max_telegram_per_hour must be a positive number, not 0",
            ],
        ),
        (
            "bad email",
            "[[subscriber]]\nid = \"x\"\nemail = \"not an email\"\n",
            &[
                "rules.toml:7:9: subscriber \"x\": invalid email \"not an email\": Missing domain or user",
            ],
        ),
        (
            "TOML syntax error",
            "[[rule]\nid = \"r\"\n",
            &["rules.toml:5:8: unclosed array table, expected `]`"],
        ),
        (
            "unknown key",
            "[[rule]]\nid = \"r\"\nquer = 'baku'\nnotify = [\"desk\"]\n",
            &[
                "rules.toml:7:1: unknown field `quer`, expected one of `id`, `query`, `notify`, \
                 `channels`, `description`",
            ],
        ),
        (
            "query error in a literal string: at the '('",
            "[[rule]]\nid = \"r\"\nquery = 'baku AND (gas'\nnotify = [\"desk\"]\n",
            &["rules.toml:7:19: rule \"r\": unclosed '(': add a matching ')'"],
        ),
        (
            "query error in a multi-line string: on its own line",
            "[[rule]]\nid = \"r\"\nquery = \"\"\"\nbaku AND\n  (gas\"\"\"\nnotify = [\"desk\"]\n",
            &["rules.toml:9:3: rule \"r\": unclosed '(': add a matching ')'"],
        ),
        (
            "query error after escapes: still at the '('",
            "[[rule]]\nid = \"r\"\nquery = \"\\\"Minsk Group\\\" caf\\u00e9 AND (gas\"\nnotify = [\"desk\"]\n",
            &["rules.toml:7:40: rule \"r\": unclosed '(': add a matching ')'"],
        ),
        (
            "several problems, in file order",
            "[[rule]]\nid = \"r\"\nquery = 'gas AND'\nnotify = [\"nobody\", \"desk\", \"desk\"]\n",
            &[
                "rules.toml:7:14: rule \"r\": AND needs a term after it",
                "rules.toml:8:11: rule \"r\": unknown subscriber \"nobody\"",
                "rules.toml:8:29: rule \"r\": subscriber \"desk\" listed twice",
            ],
        ),
    ];
    for (name, body, want) in cases {
        assert_eq!(diagnostics(body), *want, "{name}");
    }
}

#[test]
fn a_rule_that_can_never_match_rejects_the_file() {
    let text = format!("{HEADER}[[rule]]\nid = \"r\"\nquery = 'x -x'\nnotify = [\"desk\"]\n");
    let result = RuleBook::parse(Path::new("rules.toml"), &text, &Gazetteer::builtin());
    assert!(result.is_err());
}

#[test]
fn string_offsets_map_every_value_byte_back_to_its_source() {
    let (value, map) = string_offsets(r#"a\"é\u00e9\\b"#, false, false).unwrap();
    assert_eq!(value, "a\"éé\\b");
    // a, ", é (2 bytes), é from \u00e9 (2 bytes), \, b, end
    assert_eq!(map, [0, 1, 3, 3, 5, 5, 11, 13, 14]);
    let (value, map) = string_offsets("x \\\n   y", false, true).unwrap();
    assert_eq!((value.as_str(), map[2]), ("x y", 7));
    assert!(string_offsets(r"\q", false, false).is_none());
    assert_eq!(string_offsets(r"\n", true, false).unwrap().0, r"\n");
}

/// The first TOML error of parsing `text` as one document, as
/// `line:col: message` (what the loader reported before it cut the file).
fn whole_document_error(text: &str) -> Option<String> {
    let e = toml::from_str::<toml::Table>(text).err()?;
    let (line, col) = crate::location::line_col(text, e.span().map_or(0, |s| s.start));
    Some(format!(
        "rules.toml:{line}:{col}: {}",
        e.message().trim_end()
    ))
}

#[test]
fn toml_errors_are_those_of_the_whole_document() {
    let rule = "[[rule]]\nid = \"r\"\nquery = 'baku'\nnotify = [\"desk\"]\n";
    let cases = [
        format!("{rule}[[rule]]\nid = \"s\"\nquery = 'gas\nnotify = [\"desk\"]\n"),
        format!("{rule}[[rule]]\nid = \"s\"\nid = \"t\"\n"),
        format!("{rule}[[rule]\nid = \"s\"\n"),
        format!("[region.x]\ninclude = [\"AZ\"\n{rule}"),
        format!("{rule}query = \"\"\"\nnever closed\n"),
        format!("{rule}[[rule]]\nid = \"s\"\nquery = \"a\\qb\"\nnotify = []\n"),
    ];
    for text in cases {
        let want = whole_document_error(&format!("{HEADER}{text}")).expect("a TOML error");
        assert_eq!(diagnostics(&text), [want], "{text}");
    }
}

#[test]
fn rules_load_in_every_form_in_file_order() {
    let text = "[[rule]]\nid = \"b\"\nquery = 'gas'\nnotify = [\"desk\"]\n\n\
         [region.caucasus]\ninclude = [\"AZ\"]\n\n\
         [[ rule ]] # spaced\nid = \"c\"\nquery = '''\nregion:caucasus\n'''\nnotify = [\"desk\"]\n\n\
         [[subscriber]]\nid = \"late\"\nemail = \"late@example.org\"\n\n\
         [[\"rule\"]]\nid = \"d\"\nquery = \"oil\"\nnotify = [\"late\"]\n";
    let book = RuleBook::parse(
        Path::new("rules.toml"),
        &format!("{HEADER}{text}"),
        &Gazetteer::builtin(),
    )
    .unwrap();
    let ids: Vec<&str> = book.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["b", "c", "d"]);
    assert_eq!(book.rules[2].notify, [1]);
    assert_eq!(book.matcher.rule_count(), 3);

    let inline = "rule = [{ id = \"a\", query = 'baku', notify = [\"desk\"] }]\n";
    let book = RuleBook::parse(
        Path::new("rules.toml"),
        &format!("{inline}{HEADER}"),
        &Gazetteer::builtin(),
    )
    .unwrap();
    assert_eq!(book.rules[0].id, "a");
}

#[test]
fn keys_under_a_rule_are_rejected_with_it() {
    let text = "[[rule]]\nid = \"r\"\nquery = 'baku'\nnotify = [\"desk\"]\n[rule.extra]\nx = 1\n";
    assert_eq!(
        diagnostics(text),
        [
            "rules.toml:9:7: unknown field `extra`, expected one of `id`, `query`, `notify`, \
          `channels`, `description`"
        ]
    );
    let both = "rule = []\n[[subscriber]]\nid = \"desk\"\n[[rule]]\nid = \"r\"\n";
    let want = whole_document_error(both).unwrap();
    let got = RuleBook::parse(Path::new("rules.toml"), both, &Gazetteer::builtin()).unwrap_err();
    assert_eq!(got[0].to_string(), want);
}

#[test]
fn later_problems_are_placed_after_earlier_ones_and_before() {
    // Warnings in file order, then a compile error of the first rule.
    let mut text =
        String::from("[[rule]]\nid = \"first\"\nquery = 'region:atlantis'\nnotify = [\"desk\"]\n");
    for i in 0..3 {
        text.push_str(&format!(
            "[[rule]]\nid = \"r{i}\"\nquery = 'x'\nnotify = []\n"
        ));
    }
    assert_eq!(
        diagnostics(&text),
        [
            "rules.toml:7:10: rule \"first\": unknown region 'atlantis'",
            "rules.toml:10:6: warning: rule \"r0\" notifies nobody",
            "rules.toml:14:6: warning: rule \"r1\" notifies nobody",
            "rules.toml:18:6: warning: rule \"r2\" notifies nobody",
        ]
    );
}

#[test]
fn places_stay_right_around_cut_out_rules() {
    let inline = "rule = [{ id = \"a\", query = 'x AND region:atlantis', notify = [\"desk\"] }]\n";
    let got = RuleBook::parse(
        Path::new("rules.toml"),
        &format!("{inline}{HEADER}"),
        &Gazetteer::builtin(),
    )
    .unwrap_err();
    assert_eq!(
        got[0].to_string(),
        "rules.toml:1:36: rule \"a\": unknown region 'atlantis'"
    );
    let text = "[[rule]]\nid = \"r\"\nquery = 'baku'\nnotify = [\"desk\"]\n\n  \
                [region.caucasus]\ninclude = [\"AZ\", \"Narnia\"]\n";
    assert_eq!(
        diagnostics(text),
        [
            "rules.toml:11:18: region `caucasus`: unknown member `Narnia` \
          (not a country code or name)"
        ]
    );
}

#[test]
fn a_byte_order_mark_before_the_first_rule_is_no_duplicate() {
    let rule = "[[rule]]\nid = \"a\"\nquery = 'baku'\nnotify = [\"desk\"]\n";
    let text = format!("\u{feff}{rule}{HEADER}{}", rule.replace("\"a\"", "\"b\""));
    let book = RuleBook::parse(Path::new("rules.toml"), &text, &Gazetteer::builtin()).unwrap();
    assert_eq!(book.rules.len(), 2);
}
