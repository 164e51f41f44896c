//! Query language and matcher: parse → compile → match (pure, sync, no I/O).
//!
//! A rule is a query such as
//! `(region:AZ OR "South Caucasus") AND title:armen* -sport lang:en`.
//! [`parse`] turns the text into a [`Query`]; [`Matcher::compile`] turns
//! all rules into one immutable [`Matcher`] that finds, per article, the
//! rules that match and where.
//!
//! # Language
//! - `word`: a whole word, compared on normalised tokens
//!   ([`crate::text::tokenize`]): case-, diacritic- and possessive-insensitive.
//!   A word that splits into several (`Nagorno-Karabakh`, `O'Brien`) is a
//!   phrase. Only a leading `-` means NOT.
//! - `"a phrase"` (or `“a phrase”`): consecutive words; anything non-word
//!   may separate them in the text. `"a phras*"` ends in a prefix.
//! - `prefix*`: a word starting with the prefix.
//! - `AND` (or juxtaposition), `OR`, `NOT` / `-x`, parentheses. Precedence
//!   NOT > AND > OR. Operators are upper-case only.
//! - `a NEAR/n b` (`NEAR` = `NEAR/10`): two words, prefixes or phrases in
//!   the same field, at most `n` word positions apart in either order,
//!   measured between their closest ends; overlapping occurrences do not
//!   count.
//! - `title:x`, `summary:x`, `body:x`: field scope for a word, phrase,
//!   prefix or group. Default: all three.
//! - `case:US`, `case:"US Army"`: exact capitalisation.
//! - `region:AZ`, `region:Azerbaijan`, `region:south-caucasus`: see
//!   [`crate::regions`]; unknown regions are compile errors.
//! - `lang:ru`: article language; `ru` matches `ru-RU`, `pt-BR` needs `pt-BR`.
//! - `source:example.com`: the `source` field or URL host is the domain or a
//!   subdomain of it.
//!
//! Field names are ASCII case-insensitive. `x:y` with any other `x` (a URL,
//! `10:30`) is an ordinary word; [`lint`] points it out.
//!
//! # Matching
//! The matcher follows Lucene Monitor's presearcher: every rule is indexed
//! under a few keys (words, prefixes, language, source domains, region
//! tags) such that the rule cannot match an article without one of them.
//! Per article, one pass over the tokens collects the candidate rules and
//! the positions of indexed words; only candidates are evaluated. Rules
//! that can match without any key (`NOT x`) are always candidates. Keys
//! are chosen by guessed rarity (a phrase's rarest word, an `AND`'s
//! cheapest operand; see `weight.rs`), and hits are collected only for
//! rules that match.
//!
//! # Files
//! Text to AST: `lexer` → `parser` → `query` (the AST), with positions
//! and errors in `error`. AST to matcher: `compiler` builds the immutable
//! `layout` (the [`Matcher`]'s data), choosing keys in `presearch` by the
//! costs in `weight`; `filter` holds its token filters, `hasher` its hash.
//! Matching: `doc_index` (one article's term occurrences and candidate
//! rules) and `eval` ([`Matcher::find`]); `explain` and `lint` for the
//! CLI; `domain` for `source:` hosts. `naive` is the slow oracle the
//! property tests compare the matcher with.

mod compiler;
mod doc_index;
mod domain;
mod error;
mod eval;
mod explain;
mod filter;
mod hasher;
mod layout;
mod lexer;
mod lint;
mod parser;
mod prefix_index;
mod presearch;
mod query;
mod weight;

#[cfg(test)]
mod naive;
#[cfg(test)]
mod tests_match;
#[cfg(test)]
mod tests_parse;
#[cfg(test)]
mod tests_prop;
#[cfg(test)]
mod tests_support;

pub use compiler::MatcherBuilder;
pub use error::{CompileError, QueryError, Span};
pub use explain::{Clause, ExplainedHit, Explanation};
pub use layout::Matcher;
pub use lint::{Lint, Severity, lint};
pub use parser::parse;
pub use query::{Expr, Phrase, Query, Scope};

use crate::regions::Gazetteer;
use crate::text::{FieldName, PreparedField};

/// The two ways in: already parsed queries, or rule definitions to parse.
impl Matcher {
    /// Compile parsed rules `(id, query)`; rule indices in results are
    /// positions in `rules`.
    ///
    /// # Errors
    /// Every unknown region and duplicate id, each with its position.
    pub fn compile(
        rules: &[(String, Query)],
        gazetteer: &Gazetteer,
    ) -> Result<Matcher, Vec<CompileError>> {
        let mut b = MatcherBuilder::new(gazetteer);
        for (id, query) in rules {
            b.add(id, query);
        }
        b.finish()
    }

    /// Parse and compile rule definitions.
    ///
    /// # Errors
    /// Every parse error, or else every compile error, each with its rule
    /// and position.
    pub fn build(defs: &[RuleDef], gazetteer: &Gazetteer) -> Result<Matcher, Vec<CompileError>> {
        let mut b = MatcherBuilder::new(gazetteer);
        let mut errors = Vec::new();
        for (rule, def) in defs.iter().enumerate() {
            match parse(&def.query) {
                Ok(q) if errors.is_empty() => b.add(&def.id, &q),
                Ok(_) => {}
                Err(e) => errors.push(CompileError {
                    rule,
                    id: def.id.clone(),
                    offset: e.offset,
                    column: e.column,
                    message: e.message,
                }),
            }
        }
        if errors.is_empty() {
            b.finish()
        } else {
            Err(errors)
        }
    }
}

/// A rule as written in configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleDef {
    pub id: String,
    pub query: String,
}

/// An article as the matcher sees it.
#[derive(Debug, Clone, Copy)]
pub struct Document<'a> {
    pub title: &'a PreparedField,
    pub summary: &'a PreparedField,
    pub body: &'a PreparedField,
    /// BCP 47 language tag (`ru`, `en-GB`), if known.
    pub language: Option<&'a str>,
    /// Source domain or URL, if known.
    pub source: Option<&'a str>,
    pub url: Option<&'a str>,
    /// Region tags set by the producer (`AZ`, `AZE`).
    pub regions: &'a [String],
}

impl Document<'_> {
    /// The prepared text of `field`.
    pub fn field(&self, field: FieldName) -> &PreparedField {
        match field {
            FieldName::Title => self.title,
            FieldName::Summary => self.summary,
            FieldName::Body => self.body,
        }
    }
}

/// A rule that matched an article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMatch {
    /// Index of the rule in compile order.
    pub rule: usize,
    /// Positive term occurrences that made it match, sorted, deduplicated.
    pub hits: Vec<Hit>,
}

/// One matched occurrence: byte offsets into the field's clean text. A
/// phrase hit spans its first to its last word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hit {
    pub field: FieldName,
    pub start: usize,
    pub end: usize,
}
