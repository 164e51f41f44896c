//! The digest email: subject, plain text and HTML from minijinja
//! templates. Items are grouped by their first matching rule, newest
//! first; an article matched by several rules appears once and lists them
//! all; copies of one story ([`crate::story`]) fold into the first copy's
//! item, whose meta line says "+N sources"; at most `digest.max_items`
//! items are listed, the rest counted.
//!
//! Template variables (both templates): `subscriber`, `count` (articles),
//! `period_start` / `period_end` (the subscriber's zone), `groups` (list of
//! `{rule, items}`), each item `{title, url, source, time, meta, snippet,
//! snippet_html, rules}` (`snippet_html` is escaped, matched terms in
//! `<b>`), `more` (items not listed) and `unsubscribe_url` (empty without
//! links). HTML templates are auto-escaped.

use crate::alert::Alert;
use crate::deliver::render::{safe_url, snippet_html, truncate_chars};
use crate::schedule::Period;
use crate::subscriber::Subscriber;
use crate::unsubscribe::Links;
use minijinja::{AutoEscape, Environment};
use serde::Serialize;
use std::path::Path;

const TEXT: &str = "digest.txt.j2";
const HTML: &str = "digest.html.j2";
const BUILTIN_TEXT: &str = include_str!("templates/digest.txt.j2");
const BUILTIN_HTML: &str = include_str!("templates/digest.html.j2");

/// A rendered digest.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestMail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Serialize)]
struct Item {
    title: String,
    url: Option<String>,
    source: Option<String>,
    time: Option<String>,
    meta: String,
    snippet: Option<String>,
    snippet_html: Option<String>,
    rules: Vec<String>,
}

#[derive(Serialize)]
struct Group {
    rule: String,
    items: Vec<Item>,
}

/// Renders digests from the built-in or the admin's templates.
pub struct DigestRenderer {
    env: Environment<'static>,
    max_items: usize,
    links: Option<Links>,
}

impl DigestRenderer {
    /// Templates from `dir` where it has them, else built in.
    ///
    /// # Errors
    /// A template that cannot be read or does not parse (file and line).
    pub fn new(dir: &Path, max_items: usize, links: Option<Links>) -> Result<Self, String> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| {
            if name.contains(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.set_trim_blocks(true);
        for (name, builtin) in [(TEXT, BUILTIN_TEXT), (HTML, BUILTIN_HTML)] {
            let path = dir.join(name);
            let source = match std::fs::read_to_string(&path) {
                Ok(s) => s,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => builtin.to_string(),
                Err(e) => return Err(format!("{}: {e}", path.display())),
            };
            env.add_template_owned(name, source)
                .map_err(|e| format!("{}:{}: {e}", path.display(), e.line().unwrap_or(0)))?;
        }
        Ok(DigestRenderer {
            env,
            max_items: max_items.max(1),
            links,
        })
    }

    /// The digest of `alerts` (held, oldest first) for `sub` at `address`.
    ///
    /// # Errors
    /// A template failed at render time.
    pub fn render(
        &self,
        sub: &Subscriber,
        address: &str,
        alerts: &[Alert],
        period: Period,
    ) -> Result<DigestMail, String> {
        let tz = sub.timezone;
        // One item per story (or article, without story tracking): its
        // first copy, with how many other articles of the story came.
        let story_of = |a: &'_ Alert| {
            a.story
                .as_ref()
                .map_or(a.article_id.clone(), |s| s.id.clone())
        };
        let mut articles: Vec<&Alert> = Vec::new();
        let mut copies: Vec<Vec<&str>> = Vec::new();
        for a in alerts {
            match articles.iter().position(|b| story_of(b) == story_of(a)) {
                Some(i) if !copies[i].contains(&a.article_id.as_str()) => {
                    copies[i].push(&a.article_id)
                }
                Some(_) => {}
                None => {
                    articles.push(a);
                    copies.push(vec![&a.article_id]);
                }
            }
        }
        let extra: std::collections::HashMap<&str, usize> = articles
            .iter()
            .zip(&copies)
            .map(|(a, c)| (a.article_id.as_str(), c.len() - 1))
            .collect();
        // Newest first (undated: in the order held, latest first).
        articles.sort_by_key(|a| std::cmp::Reverse(a.published_at));
        let count = articles.len();
        let mut groups: Vec<Group> = Vec::new();
        for a in articles.iter().take(self.max_items) {
            let time = a
                .published_at
                .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string());
            let more_sources =
                crate::story::plus_sources(extra.get(a.article_id.as_str()).copied().unwrap_or(0));
            let meta: Vec<String> = a
                .source
                .iter()
                .cloned()
                .chain(time.clone())
                .chain(more_sources)
                .collect();
            let item = Item {
                title: truncate_chars(&a.title, 300),
                url: safe_url(a).map(str::to_string),
                source: a.source.clone(),
                time,
                meta: meta.join(" · "),
                snippet: a.snippet.as_ref().map(|s| s.text.clone()),
                snippet_html: a.snippet.as_ref().map(snippet_html),
                rules: a.rules.clone(),
            };
            let rule = a.rules.first().cloned().unwrap_or_default();
            match groups.iter_mut().find(|g| g.rule == rule) {
                Some(g) => g.items.push(item),
                None => groups.push(Group {
                    rule,
                    items: vec![item],
                }),
            }
        }
        let local = |t: chrono::DateTime<chrono::Utc>| {
            t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
        };
        let ctx = minijinja::context! {
            subscriber => sub.id,
            count,
            period_start => local(period.start),
            period_end => local(period.end),
            groups,
            more => count.saturating_sub(self.max_items),
            unsubscribe_url => self.links.as_ref().map(|l| l.url(address)).unwrap_or_default(),
        };
        let render = |name| {
            self.env
                .get_template(name)
                .and_then(|t| t.render(&ctx))
                .map_err(|e| format!("digest template {name}: {e}"))
        };
        let date = period.end.with_timezone(&tz).format("%a %-d %b %Y");
        let noun = if count == 1 { "match" } else { "matches" };
        Ok(DigestMail {
            subject: format!("Digest: {count} new {noun} · {date}"),
            text: render(TEXT)?,
            html: render(HTML)?,
        })
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
