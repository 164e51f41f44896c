//! The pure core of the pipeline, shared by `newsalert run` and
//! `newsalert match`: clean an [`Article`]'s fields, match them against a
//! [`RuleBook`], and route the matches to [`Alert`]s — one per (article,
//! subscriber, channel), listing every rule that matched. No I/O.

use crate::alert::{Alert, Target};
use crate::article::Article;
use crate::rulebook::RuleBook;
use crate::rules::{Document, Hit, RuleMatch};
use crate::snippet;
use crate::subscriber::Channel;
use crate::text::{CleanOptions, FieldName, PreparedField};
use std::collections::BTreeMap;

/// An article with its fields prepared for matching.
pub struct PreparedArticle<'a> {
    pub article: &'a Article,
    title: PreparedField,
    summary: PreparedField,
    body: PreparedField,
}

impl<'a> PreparedArticle<'a> {
    pub fn new(article: &'a Article, clean: CleanOptions) -> Self {
        PreparedArticle {
            article,
            title: PreparedField::new(&article.title, clean),
            summary: PreparedField::new(&article.summary, clean),
            body: PreparedField::new(&article.body, clean),
        }
    }

    pub fn field(&self, name: FieldName) -> &PreparedField {
        match name {
            FieldName::Title => &self.title,
            FieldName::Summary => &self.summary,
            FieldName::Body => &self.body,
        }
    }

    /// The field as the producer sent it.
    pub fn original(&self, name: FieldName) -> &'a str {
        match name {
            FieldName::Title => &self.article.title,
            FieldName::Summary => &self.article.summary,
            FieldName::Body => &self.article.body,
        }
    }

    pub fn document(&self) -> Document<'_> {
        let a = self.article;
        Document {
            title: &self.title,
            summary: &self.summary,
            body: &self.body,
            language: a.language.as_deref(),
            source: a.source.as_deref(),
            url: a.url.as_deref(),
            regions: &a.regions,
        }
    }

    /// A hit's span in the original field.
    pub fn original_span(&self, hit: &Hit) -> (usize, usize) {
        self.field(hit.field).to_original(hit.start, hit.end)
    }
}

/// Match `article` against every rule in `book`.
pub fn evaluate(book: &RuleBook, article: &PreparedArticle<'_>) -> Vec<RuleMatch> {
    book.matcher.find(&article.document())
}

/// Turn matches into alerts: one per (subscriber, channel), rules grouped.
pub fn route(book: &RuleBook, article: &PreparedArticle<'_>, matches: &[RuleMatch]) -> Vec<Alert> {
    let mut groups: BTreeMap<(usize, Channel), Vec<usize>> = BTreeMap::new();
    for m in matches {
        let rule = &book.rules[m.rule];
        for &s in &rule.notify {
            let sub = &book.subscribers[s];
            for ch in sub.channels() {
                if rule.channels.as_ref().is_none_or(|c| c.contains(&ch)) {
                    groups.entry((s, ch)).or_default().push(m.rule);
                }
            }
        }
    }
    let snippet = best_snippet(article, matches);
    let a = article.article;
    groups
        .into_iter()
        .filter_map(|((s, channel), rules)| {
            let sub = &book.subscribers[s];
            let target = match channel {
                Channel::Telegram => Target::TelegramChat(sub.telegram_chat_id?),
                Channel::Email => Target::Email(sub.email.as_ref()?.to_string()),
            };
            Some(Alert {
                article_id: a.id.to_string(),
                subscriber: sub.id.clone(),
                channel,
                target,
                title: article.field(FieldName::Title).clean.trim().to_string(),
                url: a.url.clone(),
                source: a.source.clone(),
                published_at: a.published_at,
                rules: rules.iter().map(|&r| book.rules[r].id.clone()).collect(),
                snippet: snippet.clone(),
            })
        })
        .collect()
}

/// A snippet from the first field (body, then summary, then title) with
/// hits, highlighting every hit in it.
fn best_snippet(
    article: &PreparedArticle<'_>,
    matches: &[RuleMatch],
) -> Option<crate::alert::Snippet> {
    for field in [FieldName::Body, FieldName::Summary, FieldName::Title] {
        let mut spans: Vec<(usize, usize)> = matches
            .iter()
            .flat_map(|m| &m.hits)
            .filter(|h| h.field == field)
            .map(|h| (h.start, h.end))
            .collect();
        spans.sort_unstable();
        spans.dedup();
        if !spans.is_empty() {
            return snippet::around(&article.field(field).clean, &spans);
        }
    }
    None
}
