//! The pure core of the pipeline, shared by `newsalert run` and
//! `newsalert match`: clean an [`Article`]'s fields, match them against a
//! [`RuleBook`], and route the matches to [`Alert`]s — one per (article,
//! subscriber, channel), listing every rule that matched. No I/O.

use crate::alert::{Alert, Target};
use crate::article::{Article, BodyFormat};
use crate::rulebook::RuleBook;
use crate::rules::{Document, Hit, RuleMatch};
use crate::snippet;
use crate::subscriber::Channel;
use crate::text::{CleanOptions, FieldFormat, FieldName, PreparedField};
use std::collections::BTreeMap;

/// An article with its fields prepared for matching.
pub struct PreparedArticle<'a> {
    pub article: &'a Article,
    title: PreparedField,
    summary: PreparedField,
    body: PreparedField,
}

impl<'a> PreparedArticle<'a> {
    /// Title and summary are read as plain text, the body as its
    /// `body_format` says (detected when unsaid).
    pub fn new(article: &'a Article, clean: CleanOptions) -> Self {
        let body_format = match article.body_format {
            Some(BodyFormat::Text) => FieldFormat::Text,
            Some(BodyFormat::Html) => FieldFormat::Html,
            None => FieldFormat::Detect,
        };
        PreparedArticle {
            article,
            title: PreparedField::with_format(&article.title, FieldFormat::Text, clean),
            summary: PreparedField::with_format(&article.summary, FieldFormat::Text, clean),
            body: PreparedField::with_format(&article.body, body_format, clean),
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
                story: None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::article::{DEFAULT_MAX_BYTES, decode};
    use crate::regions::Gazetteer;
    use std::path::Path;

    const RULES: &str = "[[subscriber]]\nid = \"desk\"\ntelegram_chat_id = 1\n\n\
        [[rule]]\nid = \"draft\"\nquery = 'draft AND yerevan'\nnotify = [\"desk\"]\n";

    fn book() -> RuleBook {
        RuleBook::parse(Path::new("rules.toml"), RULES, &Gazetteer::builtin()).unwrap()
    }

    fn article(title: &str, body: &str, content_type: Option<&str>) -> Article {
        let mut event = serde_json::json!({"id": "a1", "title": title, "body": body});
        if let Some(c) = content_type {
            event["content_type"] = c.into();
        }
        decode(event.to_string().as_bytes(), DEFAULT_MAX_BYTES).unwrap()
    }

    #[test]
    fn title_is_plain_text_shown_and_matched_as_sent() {
        let book = book();
        let a = article(
            "Envoys: \"<b>Baku &amp; Yerevan</b>\" agree on <draft> text",
            "",
            None,
        );
        let prepared = PreparedArticle::new(&a, CleanOptions::default());
        let matches = evaluate(&book, &prepared);
        assert_eq!(matches.len(), 1);
        let alerts = route(&book, &prepared, &matches);
        let shown = "Envoys: \"<b>Baku & Yerevan</b>\" agree on <draft> text";
        assert_eq!(alerts[0].title, shown);
        // Title hits point into the title as shown; and map back to the
        // title as sent (`&amp;` whole).
        let mut hits = matches[0].hits.clone();
        hits.sort_by_key(|h| h.start);
        let hits: Vec<&str> = hits
            .iter()
            .map(|h| {
                assert_eq!(h.field, FieldName::Title);
                &shown[h.start..h.end]
            })
            .collect();
        assert_eq!(hits, ["Yerevan", "draft"]);
        let amp = shown.find('&').unwrap();
        let (s, e) = prepared.field(FieldName::Title).to_original(amp, amp + 1);
        assert_eq!(&a.title[s..e], "&amp;");
        // The snippet (from the title here) keeps the tags as text too.
        let snippet = alerts[0].snippet.as_ref().unwrap();
        assert!(snippet.text.contains("<draft>"), "{}", snippet.text);
    }

    #[test]
    fn summary_is_plain_text_and_content_type_decides_the_body() {
        let book = book();
        let summary_only = {
            let mut a = article("t", "", None);
            a.summary = "<draft> for &lt;Yerevan&gt;".into();
            a
        };
        let p = PreparedArticle::new(&summary_only, CleanOptions::default());
        assert_eq!(p.field(FieldName::Summary).clean, "<draft> for <Yerevan>");

        // `<p>` and `<b>` read as HTML unless the event says the body is text.
        let body = "<p>Yerevan <b>draft</b></p>";
        for (content_type, clean) in [
            (None, "Yerevan draft"),
            (Some("text/html"), "Yerevan draft"),
            (Some("text/plain"), body),
        ] {
            let a = article("t", body, content_type);
            let p = PreparedArticle::new(&a, CleanOptions::default());
            assert_eq!(p.field(FieldName::Body).clean, clean, "{content_type:?}");
            assert_eq!(evaluate(&book, &p).len(), 1);
        }
        // An explicit `text/html` body is read as HTML even when it does not
        // look like it.
        let a = article("t", "Yerevan <draft>x</draft>", Some("html"));
        let p = PreparedArticle::new(&a, CleanOptions::default());
        assert_eq!(p.field(FieldName::Body).clean, "Yerevan x");
    }
}
