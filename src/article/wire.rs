//! The article's wire form ([`WireArticle`]: its fields as sent, before
//! validation) and [`plain`], the fast way to read a plain article.
//!
//! The general way in parses the event into a `serde_json::Value` (it may
//! be a CloudEvents envelope to unwrap) and converts that into a
//! `WireArticle`: a map entry and a copy per field. A plain article, the
//! common case, is read straight into the struct instead. [`plain`] only
//! ever succeeds where the general way gives the same `WireArticle`:
//!
//! - an unknown field is still parsed into a `Value` (and dropped), so
//!   that what the general way rejects (a number out of range, nesting
//!   past serde_json's depth limit) is rejected here too;
//! - a repeated field takes its last value, as the `Value` map does;
//! - a `specversion` field (a CloudEvents envelope), a value of the wrong
//!   type, anything not a JSON object, or any other error: `None`, and the
//!   caller takes the general way, which says what is wrong in its own
//!   words.

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use std::fmt;

/// An article's fields as sent.
#[derive(Deserialize, Default)]
pub(super) struct WireArticle {
    pub id: Option<Value>,
    pub title: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub published_at: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// The keys [`plain`] reads; `specversion` marks an envelope.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    Id,
    Title,
    Body,
    ContentType,
    Summary,
    Url,
    Source,
    PublishedAt,
    Language,
    Regions,
    Tags,
    Specversion,
    #[serde(other)]
    Other,
}

/// `bytes` read as a plain article (a JSON object without
/// `specversion`), or `None` for the general way (see the module docs).
pub(super) fn plain(bytes: &[u8]) -> Option<WireArticle> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let wire = de.deserialize_map(Plain).ok()?;
    de.end().ok()?;
    Some(wire)
}

/// Reads the object's entries into a [`WireArticle`].
struct Plain;

impl<'de> Visitor<'de> for Plain {
    type Value = WireArticle;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object (the article)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireArticle, A::Error> {
        let mut w = WireArticle::default();
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::Id => w.id = map.next_value()?,
                Field::Title => w.title = map.next_value()?,
                Field::Body => w.body = map.next_value()?,
                Field::ContentType => w.content_type = map.next_value()?,
                Field::Summary => w.summary = map.next_value()?,
                Field::Url => w.url = map.next_value()?,
                Field::Source => w.source = map.next_value()?,
                Field::PublishedAt => w.published_at = map.next_value()?,
                Field::Language => w.language = map.next_value()?,
                Field::Regions => w.regions = map.next_value()?,
                Field::Tags => w.tags = map.next_value()?,
                Field::Specversion => return Err(de::Error::custom("a CloudEvents envelope")),
                Field::Other => {
                    map.next_value::<Value>()?;
                }
            }
        }
        Ok(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the general way makes of a plain article.
    fn general(s: &str) -> Option<WireArticle> {
        let value: Value = serde_json::from_str(s).ok()?;
        if value.get("specversion").is_some() {
            return None;
        }
        serde_json::from_value(value).ok()
    }

    fn same(a: &WireArticle, b: &WireArticle) -> bool {
        (
            &a.id,
            &a.title,
            &a.body,
            &a.content_type,
            &a.summary,
            &a.url,
            &a.source,
            &a.published_at,
            &a.language,
            &a.regions,
            &a.tags,
        ) == (
            &b.id,
            &b.title,
            &b.body,
            &b.content_type,
            &b.summary,
            &b.url,
            &b.source,
            &b.published_at,
            &b.language,
            &b.regions,
            &b.tags,
        )
    }

    #[test]
    fn reads_only_what_the_general_way_reads_the_same() {
        let cases = [
            r#"{"id":"a","title":"t","body":"b\n","regions":["az"],"x":{"y":[1,2]}}"#,
            r#"{"id":7,"title":"t","summary":null,"tags":[]}"#,
            r#"{"id":"a","title":"x","title":"y","regions":["a"],"regions":["b"]}"#,
            r#"{"id":"a","title":5,"title":"y"}"#,
            r#"{"id":"a","title":"t","x":1e400}"#,
            r#"{"id":"a","title":"t","regions":null}"#,
            r#"{"id":"a","ti\u0074le":"t"}"#,
            r#"{"specversion":"1.0","id":"e","data":{"title":"t"}}"#,
            r#"{"specversion":null,"id":"e","title":"t"}"#,
            r#"["a","t"]"#,
            r#"{"id":"a","title":"t"} x"#,
        ];
        let deep = format!(
            r#"{{"id":"a","title":"t","deep":{}{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        for s in cases.iter().copied().chain([deep.as_str()]) {
            match (plain(s.as_bytes()), general(s)) {
                (Some(fast), Some(slow)) => assert!(same(&fast, &slow), "{s}"),
                (Some(_), None) => panic!("read where the general way fails: {s}"),
                (None, _) => {}
            }
        }
        assert!(plain(cases[0].as_bytes()).is_some());
        assert!(plain(cases[2].as_bytes()).is_some());
    }
}
