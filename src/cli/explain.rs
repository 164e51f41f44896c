//! `newsalert match --explain` output: per article and rule the outcome,
//! the clauses that failed, and the clause tree with each hit's field,
//! offsets into the original field and a snippet.

use crate::pipeline::PreparedArticle;
use crate::rules::{Clause, ExplainedHit, Explanation};

/// Characters of context on each side of a hit in `--explain` snippets.
const EXPLAIN_CONTEXT: usize = 30;

/// `match --explain` text for one article and rule: the outcome, the
/// clauses that failed if it did not match, then the clause tree with
/// each hit's field, offsets into the original field and a snippet of
/// the clean text with the hit in brackets.
pub fn render_explanation(e: &Explanation, prepared: &PreparedArticle<'_>) -> String {
    let outcome = if e.matched {
        "matched"
    } else {
        "did not match"
    };
    let presearch = if e.candidate {
        "candidate"
    } else {
        "not a candidate"
    };
    let mut out = format!(
        "  {}: rule {}: {outcome} (presearch: {presearch})\n",
        prepared.article.id, e.rule
    );
    if !e.matched {
        let mut failed = Vec::new();
        failed_clauses(&e.root, &mut failed);
        out.push_str(&format!("    failed: {}\n", failed.join(", ")));
    }
    render_clause(&e.root, prepared, 2, &mut out);
    out
}

/// The conditions that made `c` false: the failing parts of an AND, every
/// part of an OR, the excluded term present under a NOT.
fn failed_clauses(c: &Clause, out: &mut Vec<String>) {
    if c.matched {
        return;
    }
    match c.label.as_str() {
        "AND" | "OR" => c.children.iter().for_each(|ch| failed_clauses(ch, out)),
        "NOT" => out.extend(
            c.children
                .iter()
                .map(|ch| format!("NOT {} (present)", ch.label)),
        ),
        _ => out.push(c.label.clone()),
    }
}

fn render_clause(c: &Clause, prepared: &PreparedArticle<'_>, depth: usize, out: &mut String) {
    let mark = if c.matched { "yes" } else { "no" };
    out.push_str(&format!("{:w$}{}: {mark}\n", "", c.label, w = depth * 2));
    let mut hits: Vec<&ExplainedHit> = c.hits.iter().collect();
    hits.sort_by_key(|h| h.hit);
    hits.dedup_by_key(|h| h.hit);
    for h in hits {
        let (start, end) = prepared.original_span(&h.hit);
        let clean = &prepared.field(h.hit.field).clean;
        out.push_str(&format!(
            "{:w$}{} {start}..{end}: {}\n",
            "",
            h.hit.field.as_str(),
            snippet(clean, h.hit.start, h.hit.end),
            w = depth * 2 + 2
        ));
    }
    for child in &c.children {
        render_clause(child, prepared, depth + 1, out);
    }
}

/// `…context [hit] context…` from `text`, whitespace collapsed.
fn snippet(text: &str, start: usize, end: usize) -> String {
    let (Some(before), Some(hit), Some(after)) =
        (text.get(..start), text.get(start..end), text.get(end..))
    else {
        return String::new();
    };
    let lead: Vec<char> = before.chars().rev().take(EXPLAIN_CONTEXT).collect();
    let tail: String = after.chars().take(EXPLAIN_CONTEXT).collect();
    let mut s = String::new();
    if lead.len() < before.chars().count() {
        s.push('…');
    }
    s.extend(lead.iter().rev());
    s.push('[');
    s.push_str(hit);
    s.push(']');
    s.push_str(&tail);
    if tail.len() < after.len() {
        s.push('…');
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::snippet;

    #[test]
    fn snippets_bracket_the_hit_with_context_and_ellipses() {
        assert_eq!(snippet("Baku news", 0, 4), "[Baku] news");
        let long = format!("{} Baku\n\n talks {}", "x".repeat(40), "y".repeat(40));
        assert_eq!(
            snippet(&long, 41, 45),
            format!("…{} [Baku] talks {}…", "x".repeat(29), "y".repeat(21))
        );
        assert_eq!(snippet("Café Баку", 6, 14), "Café [Баку]");
        assert_eq!(snippet("abc", 2, 9), "");
    }
}
