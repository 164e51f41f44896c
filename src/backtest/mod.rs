//! `newsalert backtest`'s pure core: what one article gives under a
//! candidate rule book (and, for `--diff`, under the rules in force), and
//! the per-rule [`Report`] those results add up to — counts, counts per
//! day, and a capped number of sample titles with their hits and of
//! diff examples, so memory stays bounded whatever the stream's size.
//! Reading the stream is [`replay`]'s; the command line is
//! `crate::cli::backtest`.
//!
//! Matching is the pipeline's own ([`pipeline::evaluate`] on a
//! [`PreparedArticle`]), so the articles are cleaned exactly as `run`
//! cleans them.

use crate::article::Article;
use crate::pipeline::{self, PreparedArticle};
use crate::rulebook::RuleBook;
use crate::text::CleanOptions;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

pub mod replay;

/// Sample titles kept per rule.
pub const SAMPLES_PER_RULE: usize = 5;
/// Articles kept per rule and direction of a diff (the counts are exact).
pub const DIFF_SAMPLES_PER_RULE: usize = 10;
/// Distinct hit texts kept per sample.
const HITS_PER_SAMPLE: usize = 5;

/// A matched article as shown: id, title, what matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sample {
    pub id: String,
    pub title: String,
    /// The matched text (original spans), distinct, at most a few.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hits: Vec<String>,
}

/// What one article gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleResult {
    /// `YYYY-MM-DD` (UTC) of when the article entered the stream.
    pub day: String,
    pub id: String,
    /// The clean title.
    pub title: String,
    /// Candidate rules that match, by id, each with its hit texts.
    pub matched: Vec<(String, Vec<String>)>,
    /// Rules matching under the candidate book but not the rules in force.
    pub newly: Vec<String>,
    /// Rules matching under the rules in force but not the candidate.
    pub no_longer: Vec<String>,
}

/// The rule books an article is matched against.
pub struct Books {
    pub candidate: Arc<RuleBook>,
    /// The rules in force, when diffing.
    pub current: Option<Arc<RuleBook>>,
    pub clean: CleanOptions,
}

impl Books {
    /// Match `article` (which entered the stream on `day`).
    pub fn evaluate(&self, article: &Article, day: String) -> ArticleResult {
        let prepared = PreparedArticle::new(article, self.clean);
        let book = &*self.candidate;
        let title = prepared
            .field(crate::text::FieldName::Title)
            .clean
            .trim()
            .to_string();
        let matched: Vec<(String, Vec<String>)> = pipeline::evaluate(book, &prepared)
            .iter()
            .map(|m| {
                let mut hits: Vec<String> = Vec::new();
                for h in &m.hits {
                    let (start, end) = prepared.original_span(h);
                    let text = prepared.original(h.field).get(start..end).unwrap_or("");
                    if hits.len() < HITS_PER_SAMPLE && !hits.iter().any(|t| t == text) {
                        hits.push(text.to_string());
                    }
                }
                (book.rules[m.rule].id.clone(), hits)
            })
            .collect();
        let (mut newly, mut no_longer) = (Vec::new(), Vec::new());
        if let Some(current) = &self.current {
            let before: HashSet<&str> = pipeline::evaluate(current, &prepared)
                .iter()
                .map(|m| current.rules[m.rule].id.as_str())
                .collect();
            let after: HashSet<&str> = matched.iter().map(|(id, _)| id.as_str()).collect();
            newly = after.difference(&before).map(|s| s.to_string()).collect();
            no_longer = before.difference(&after).map(|s| s.to_string()).collect();
            newly.sort();
            no_longer.sort();
        }
        ArticleResult {
            day,
            id: article.id.to_string(),
            title,
            matched,
            newly,
            no_longer,
        }
    }
}

/// One direction of a rule's diff: exact count, capped examples.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DiffTally {
    pub count: u64,
    pub samples: Vec<Sample>,
}

impl DiffTally {
    fn add(&mut self, sample: Sample) {
        self.count += 1;
        if self.samples.len() < DIFF_SAMPLES_PER_RULE {
            self.samples.push(sample);
        }
    }
}

/// How a rule differs between the rules in force and the candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleStatus {
    /// Only in the candidate.
    Added,
    /// Only in the rules in force.
    Removed,
    /// In both, with another query.
    Changed,
    /// In both, same query (it may still match differently, e.g. after a
    /// region was redefined).
    Same,
}

/// One rule's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleTally {
    pub rule: String,
    pub matched: u64,
    pub per_day: BTreeMap<String, u64>,
    pub samples: Vec<Sample>,
    /// Set when diffing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<RuleStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newly_matched: Option<DiffTally>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_longer_matched: Option<DiffTally>,
}

impl RuleTally {
    /// Whether the diff found any article this rule treats differently.
    pub fn differs(&self) -> bool {
        let n = |d: &Option<DiffTally>| d.as_ref().map_or(0, |d| d.count);
        n(&self.newly_matched) + n(&self.no_longer_matched) > 0
    }
}

/// Every rule's figures so far, in the candidate file's order, then the
/// rules only in force.
#[derive(Debug)]
pub struct Report {
    pub rules: Vec<RuleTally>,
    index: HashMap<String, usize>,
    /// Articles matched.
    pub articles: u64,
}

impl Report {
    /// An empty report for `candidate` (and `current`, when diffing).
    pub fn new(candidate: &RuleBook, current: Option<&RuleBook>) -> Report {
        let queries = |b: &RuleBook| -> HashMap<String, String> {
            b.rules
                .iter()
                .map(|r| (r.id.clone(), r.query.clone()))
                .collect()
        };
        let before = current.map(queries);
        let status = |id: &str, query: Option<&str>| {
            let before = before.as_ref()?;
            Some(match (before.get(id), query) {
                (None, _) => RuleStatus::Added,
                (Some(_), None) => RuleStatus::Removed,
                (Some(old), Some(new)) if old == new => RuleStatus::Same,
                (Some(_), Some(_)) => RuleStatus::Changed,
            })
        };
        let tally = |id: &str, status: Option<RuleStatus>| RuleTally {
            rule: id.to_string(),
            matched: 0,
            per_day: BTreeMap::new(),
            samples: Vec::new(),
            status,
            newly_matched: status.map(|_| DiffTally::default()),
            no_longer_matched: status.map(|_| DiffTally::default()),
        };
        let mut rules: Vec<RuleTally> = candidate
            .rules
            .iter()
            .map(|r| tally(&r.id, status(&r.id, Some(&r.query))))
            .collect();
        let ids: HashSet<&str> = candidate.rules.iter().map(|r| r.id.as_str()).collect();
        for r in current.map_or(&[][..], |c| &c.rules[..]) {
            if !ids.contains(r.id.as_str()) {
                rules.push(tally(&r.id, status(&r.id, None)));
            }
        }
        let index = rules
            .iter()
            .enumerate()
            .map(|(i, t)| (t.rule.clone(), i))
            .collect();
        Report {
            rules,
            index,
            articles: 0,
        }
    }

    /// Whether `id` is a rule of either book.
    pub fn has_rule(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    /// Add one article's result.
    pub fn add(&mut self, result: ArticleResult) {
        self.articles += 1;
        let sample = |hits: Vec<String>| Sample {
            id: result.id.clone(),
            title: result.title.clone(),
            hits,
        };
        for (id, hits) in result.matched {
            let Some(&i) = self.index.get(&id) else {
                continue;
            };
            let t = &mut self.rules[i];
            t.matched += 1;
            *t.per_day.entry(result.day.clone()).or_default() += 1;
            if result.newly.contains(&id)
                && let Some(d) = &mut t.newly_matched
            {
                d.add(sample(hits.clone()));
            }
            if t.samples.len() < SAMPLES_PER_RULE {
                t.samples.push(sample(hits));
            }
        }
        for id in &result.no_longer {
            if let Some(&i) = self.index.get(id)
                && let Some(d) = &mut self.rules[i].no_longer_matched
            {
                d.add(sample(Vec::new()));
            }
        }
    }
}

#[cfg(test)]
mod tests;
