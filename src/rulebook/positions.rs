//! Where each rule is in the rules file (its `id` key), for messages
//! about rules that are not load diagnostics (`check`'s stale and
//! too-broad warnings).

use super::chunks;
use crate::location::line_col;
use serde::Deserialize;
use std::collections::HashMap;
use toml::Spanned;

#[derive(Deserialize)]
struct IdOnly {
    id: Spanned<String>,
}

#[derive(Deserialize)]
struct Chunk {
    rule: Vec<IdOnly>,
}

/// `(line, col)` of each `[[rule]]`'s id in `text`; a rule whose table
/// cannot be read is left out.
pub fn rule_positions(text: &str) -> HashMap<String, (usize, usize)> {
    let mut out = HashMap::new();
    for range in chunks::split(text).rules {
        let Ok(chunk) = toml::from_str::<Chunk>(&text[range.clone()]) else {
            continue;
        };
        for r in chunk.rule {
            let at = range.start + r.id.span().start;
            out.insert(r.id.into_inner(), line_col(text, at));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_found_where_written() {
        let text = "[[subscriber]]\nid = \"s\"\n\n[[rule]]\nid = \"a\"\nquery = 'x'\n\n\
                    [[rule]]\nquery = 'y'\n  id = \"b\"\n[[rule]]\nid = 3\n";
        let got = rule_positions(text);
        assert_eq!(got["a"], (5, 6));
        assert_eq!(got["b"], (10, 8));
        assert_eq!(got.len(), 2);
    }
}
