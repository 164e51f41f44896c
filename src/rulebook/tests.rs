use super::*;

const SUB: &str = "[[subscriber]]\nid = \"desk\"\ntelegram_chat_id = 1\n";

#[test]
fn probe() {
    let cases: &[&str] = &[
        "[[rule]]\nid = \"r\"\nquery = 'baku'\nnotify = [\"nobody\"]\n",
        "[[rule]]\nid = \"r\"\nquery = 'region:atlantis AND baku'\nnotify = [\"desk\"]\n",
        "[[rule]]\nid = \"r\"\nquery = 'baku'\nnotify = [\"desk\"]\n[[rule]]\nid = \"r\"\nquery = 'baku'\nnotify = [\"desk\"]\n",
        "[[subscriber]]\nid = \"desk\"\nemail = \"a@b.c\"\n",
        "[[subscriber]]\nid = \"x\"\ntelegram_chat_id = 2\ntimezone = \"Mars/Olympus\"\n",
        "[[rule]]\nid = \"r\"\nquery = 'baku AND NOT baku'\nnotify = [\"desk\"]\n",
        "[[rule]]\nid = \"r\"\nquery = 'the OR of'\nnotify = [\"desk\"]\n",
        "[region.caucasus]\ninclude = [\"AZ\", \"Narnia\"]\n",
        "[[rule]]\nid = \"r\"\nquery = 'baku'\nnotify = [\"desk\"]\nchannels = [\"pigeon\"]\n",
        "[[subscriber]]\nid = \"x\"\nemail = \"x@example.org\"\ndigest = \"fortnightly\"\n",
        "[[subscriber]]\nid = \"x\"\nemail = \"not an email\"\n",
        "[[rule]\nid = \"r\"\n",
        "[[rule]]\nid = \"r\"\nquer = 'baku'\nnotify = [\"desk\"]\n",
        "[[rule]]\nid = \"r\"\nquery = 'baku AND (gas'\nnotify = [\"desk\"]\n",
        "[[rule]]\nid = \"r\"\nquery = \"\"\"\nbaku AND\n  (gas\"\"\"\nnotify = [\"desk\"]\n",
        "[[rule]]\nid = \"r\"\nquery = \"\\\"Minsk Group\\\" caf\\u00e9 \\\\ AND (gas\"\nnotify = [\"desk\"]\n",
    ];
    let g = Gazetteer::builtin();
    for c in cases {
        let text = format!("{SUB}\n{c}");
        let out = match RuleBook::parse(Path::new("rules.toml"), &text, &g) {
            Ok(b) => b.warnings,
            Err(d) => d,
        };
        eprintln!("=== {c:?}");
        for d in out {
            let line = text.lines().nth(d.line - 1).unwrap_or("");
            eprintln!("{d}\n    | {line}\n    | {:>w$}", "^", w = d.col);
        }
    }
}
