//! Feed documents → article events, pure and synchronous: [`parse`] reads
//! RSS 2.0 / 1.0 / 0.9x, Atom or JSON Feed bytes with `feed-rs`;
//! [`events`] turns its items into article events ([`ItemEvent`]) in
//! publishing order (oldest first), each with its stable id:
//!
//! 1. the item's guid (RSS `guid`, Atom `id`, JSON Feed `id`), as is when
//!    it is a URI (`https://…`, `tag:…`, `urn:…`), else prefixed with the
//!    feed URL (`https://example.org/feed.json#1234`) so two feeds' `1234`
//!    stay apart;
//! 2. else the item's link;
//! 3. else `urn:newsalert:item:` + a hash of the feed URL, title and date.
//!
//! An id longer than an article id may be (256 characters) is replaced by
//! `urn:newsalert:sha256:` + its hash. The first item with an id wins; later
//! ones with the same id in the document are dropped.
//!
//! Fields: `title` (plain text; an HTML title is reduced to its text; an
//! item without one gets the start of its text), `body` = the item's
//! content, else its description / summary, as HTML (`content_type`
//! `html`, or `text` for plain-text content), `summary` = the plain text of
//! the description when there is content too, `url`, `published_at`
//! (published, else updated), `tags` (categories), and `language`
//! (`feeds.toml`, else the item's, else the feed's), `source` and `regions`
//! from `feeds.toml`. A body that would make the event larger than
//! `pipeline.max_event_bytes` is cut short.

use super::list::FeedSpec;
use crate::article::{self, language_code};
use crate::deliver::ledger::digest;
use crate::text::{CleanOptions, FieldFormat, PreparedField};
use chrono::{DateTime, Utc};
use feed_rs::model::{Entry, Feed, Text};
use std::collections::HashSet;

/// Characters of text an untitled item's title is made of, at most.
const FALLBACK_TITLE_CHARS: usize = 120;

/// One item, ready to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemEvent {
    /// Article id and `Nats-Msg-Id`.
    pub id: String,
    /// The article event (JSON).
    pub payload: Vec<u8>,
}

/// Parse a feed document fetched from `url`.
///
/// # Errors
/// Not a feed, or malformed (the parser's message).
pub fn parse(bytes: &[u8], url: &url::Url) -> Result<Feed, String> {
    feed_rs::parser::Builder::new()
        .base_uri(Some(url.as_str()))
        // Missing ids stay empty: [`item_id`] decides.
        .id_generator(|_, _, _| String::new())
        .sanitize_content(false)
        .build()
        .parse(bytes)
        .map_err(|e| format!("not a valid RSS, Atom or JSON feed: {e}"))
}

/// The items of `feed` (fetched from `spec.url`) as article events, oldest
/// first, without repeated ids; items that cannot be events are the
/// `Err`s (a message naming the item).
pub fn events(
    feed: &Feed,
    spec: &FeedSpec,
    max_event_bytes: usize,
) -> Vec<Result<ItemEvent, String>> {
    let mut entries: Vec<&Entry> = feed.entries.iter().rev().collect();
    // Stable: undated items first, in document order reversed.
    entries.sort_by_key(|e| e.published.or(e.updated));
    let mut ids = HashSet::new();
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let event = event(entry, feed, spec, max_event_bytes);
        match event {
            Ok(e) if !ids.insert(e.id.clone()) => {
                tracing::debug!(feed = %spec.url, id = %e.id, "repeated item id in the feed; skipped");
            }
            other => out.push(other),
        }
    }
    out
}

/// The stable id of `entry` in the feed at `feed_url` (see the module docs).
pub fn item_id(entry: &Entry, feed_url: &url::Url, title: &str) -> String {
    let guid = entry.id.trim();
    let candidate = if !guid.is_empty() {
        if is_uri(guid) {
            guid.to_string()
        } else {
            format!("{feed_url}#{guid}")
        }
    } else if let Some(link) = link(entry) {
        link.to_string()
    } else {
        let date = date(entry).map(|d| d.to_rfc3339()).unwrap_or_default();
        let hash = digest(&format!("{feed_url}\n{title}\n{date}"));
        format!("urn:newsalert:item:{}", &hash[..32])
    };
    match article::ArticleId::parse(&candidate) {
        Ok(_) => candidate,
        Err(_) => format!("urn:newsalert:sha256:{}", digest(&candidate)),
    }
}

/// A scheme followed by `:`: `https://…`, `tag:…`, `urn:…`.
fn is_uri(s: &str) -> bool {
    s.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// The item's web page: its alternate link, else its first.
fn link(entry: &Entry) -> Option<&str> {
    entry
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or(entry.links.first())
        .map(|l| l.href.trim())
        .filter(|h| !h.is_empty())
}

fn date(entry: &Entry) -> Option<DateTime<Utc>> {
    entry.published.or(entry.updated)
}

/// Whether a media type is (X)HTML.
fn is_html(media: &str) -> bool {
    let media = media.to_ascii_lowercase();
    media.contains("html")
}

/// The text a reader sees in `text` (HTML reduced to its text).
fn plain(text: &Text) -> String {
    to_text(&text.content, is_html(text.content_type.as_str()))
}

/// `content` as plain text on one line; HTML reduced to its text.
fn to_text(content: &str, html: bool) -> String {
    let text = if html {
        PreparedField::with_format(content, FieldFormat::Html, CleanOptions::default()).clean
    } else {
        content.to_string()
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first `FALLBACK_TITLE_CHARS` characters of `text`, cut at a word.
fn shorten(text: &str) -> String {
    if text.chars().count() <= FALLBACK_TITLE_CHARS {
        return text.to_string();
    }
    let cut: String = text.chars().take(FALLBACK_TITLE_CHARS).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end())
}

fn event(
    entry: &Entry,
    feed: &Feed,
    spec: &FeedSpec,
    max_bytes: usize,
) -> Result<ItemEvent, String> {
    // Body: the content, else the description / summary.
    let (body, body_html) = match (&entry.content, &entry.summary) {
        (Some(c), _) if c.body.as_deref().is_some_and(|b| !b.trim().is_empty()) => (
            c.body.clone().unwrap_or_default(),
            is_html(c.content_type.as_str()),
        ),
        (_, Some(s)) => (s.content.clone(), is_html(s.content_type.as_str())),
        _ => (String::new(), false),
    };
    let summary = match (&entry.content, &entry.summary) {
        (Some(_), Some(s)) if s.content != body => plain(s),
        _ => String::new(),
    };
    let mut title = entry.title.as_ref().map(plain).unwrap_or_default();
    if title.is_empty() {
        title = shorten(&to_text(&body, body_html));
    }
    let id = item_id(entry, &spec.url, &title);
    if title.is_empty() {
        return Err(format!("item {id}: no title and no text; skipped"));
    }
    let language = spec
        .language
        .clone()
        .or_else(|| entry.language.as_deref().and_then(language_code))
        .or_else(|| feed.language.as_deref().and_then(language_code));
    let mut wire = serde_json::json!({
        "id": id,
        "title": title,
        "body": body,
        "content_type": if body_html { "html" } else { "text" },
    });
    let map = wire.as_object_mut().expect("a JSON object");
    let mut set = |key: &str, value: serde_json::Value| {
        map.insert(key.to_string(), value);
    };
    if !summary.is_empty() {
        set("summary", summary.into());
    }
    if let Some(url) = link(entry) {
        set("url", url.into());
    }
    if let Some(source) = &spec.source {
        set("source", source.clone().into());
    }
    if let Some(d) = date(entry) {
        set("published_at", d.to_rfc3339().into());
    }
    if let Some(l) = language {
        set("language", l.into());
    }
    if !spec.regions.is_empty() {
        set("regions", spec.regions.clone().into());
    }
    let tags: Vec<&str> = entry.categories.iter().map(|c| c.term.as_str()).collect();
    if !tags.is_empty() {
        set("tags", tags.into());
    }
    let payload = fit(wire, max_bytes).map_err(|e| format!("item {id}: {e}"))?;
    article::decode(&payload, max_bytes).map_err(|e| format!("item {id}: {e}"))?;
    Ok(ItemEvent { id, payload })
}

/// Serialize `wire`, cutting its body short until it fits in `max_bytes`.
fn fit(mut wire: serde_json::Value, max_bytes: usize) -> Result<Vec<u8>, String> {
    loop {
        let bytes = serde_json::to_vec(&wire).map_err(|e| e.to_string())?;
        if bytes.len() <= max_bytes {
            return Ok(bytes);
        }
        let excess = bytes.len() - max_bytes;
        let body = wire
            .get_mut("body")
            .and_then(|b| b.as_str().map(str::to_string))
            .unwrap_or_default();
        if body.is_empty() {
            return Err(format!("{} bytes even without a body", bytes.len()));
        }
        let mut cut = body.len().saturating_sub(excess + 16);
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        wire["body"] = body[..cut].into();
    }
}
