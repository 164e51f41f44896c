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
                 hourly, \"every Nh\" (N in 1..=24), \"daily HH:MM\" or \"weekly mon HH:MM\"",
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
