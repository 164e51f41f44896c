//! Test fixtures shared by the matcher and property tests: owned
//! articles and a small gazetteer.

use super::Document;
use crate::regions::{Alias, Gazetteer, Region, Strength};
use crate::text::{CleanOptions, PreparedField};

/// An owned article for tests.
#[derive(Default)]
pub(super) struct TestDoc {
    pub title: &'static str,
    pub summary: &'static str,
    pub body: &'static str,
    pub language: Option<&'static str>,
    pub source: Option<&'static str>,
    pub url: Option<&'static str>,
    pub regions: &'static [&'static str],
}

pub(super) struct Prepared {
    pub(super) fields: [PreparedField; 3],
    meta: (Option<String>, Option<String>, Option<String>),
    regions: Vec<String>,
}

pub(super) fn prepare(title: &str, summary: &str, body: &str) -> Prepared {
    let p = |s: &str| PreparedField::new(s, CleanOptions { enabled: false });
    Prepared {
        fields: [p(title), p(summary), p(body)],
        meta: (None, None, None),
        regions: Vec::new(),
    }
}

impl TestDoc {
    pub(super) fn prepare(&self) -> Prepared {
        let mut p = prepare(self.title, self.summary, self.body);
        p.meta = (
            self.language.map(Into::into),
            self.source.map(Into::into),
            self.url.map(Into::into),
        );
        p.regions = self.regions.iter().map(|s| s.to_string()).collect();
        p
    }
}

impl Prepared {
    pub(super) fn set_meta(
        &mut self,
        language: Option<&str>,
        source: Option<&str>,
        regions: Vec<String>,
    ) {
        self.meta = (language.map(Into::into), source.map(Into::into), None);
        self.regions = regions;
    }

    pub(super) fn doc(&self) -> Document<'_> {
        Document {
            title: &self.fields[0],
            summary: &self.fields[1],
            body: &self.fields[2],
            language: self.meta.0.as_deref(),
            source: self.meta.1.as_deref(),
            url: self.meta.2.as_deref(),
            regions: &self.regions,
        }
    }
}

fn alias(text: &str, strength: Strength, exact_case: bool) -> Alias {
    Alias {
        text: text.into(),
        strength,
        exact_case,
    }
}

/// Test regions, independent of the built-in data: AZ, BY (with the
/// Minsk Group exclusion), GE (weak `Georgia`), US (exact-case `US`) and a
/// custom south-caucasus.
pub(super) fn gazetteer() -> Gazetteer {
    use Strength::{Strong, Weak};
    let mut g = Gazetteer::default();
    let mut add = |key: &str, tags: &[&str], aliases: Vec<Alias>, exclusions: &[&str]| {
        g.insert(Region {
            key: key.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            aliases,
            exclusions: exclusions.iter().map(|t| t.to_string()).collect(),
        });
    };
    let strong = |names: &[&str]| names.iter().map(|n| alias(n, Strong, false)).collect();
    add(
        "AZ",
        &["AZ", "AZE"],
        strong(&["Azerbaijan", "Azerbaijani", "Baku", "Азербайджан"]),
        &[],
    );
    add(
        "BY",
        &["BY", "BLR"],
        vec![
            alias("Belarus", Strong, false),
            alias("Minsk", Strong, false),
        ],
        &["Minsk Group"],
    );
    add(
        "GE",
        &["GE", "GEO"],
        vec![
            alias("Tbilisi", Strong, false),
            alias("Georgia", Weak, false),
        ],
        &[],
    );
    add(
        "US",
        &["US", "USA"],
        vec![
            alias("US", Strong, true),
            alias("United States", Strong, false),
        ],
        &[],
    );
    add(
        "south-caucasus",
        &["south-caucasus", "AZ", "AM", "GE"],
        vec![alias("South Caucasus", Strong, false)],
        &[],
    );
    g
}
