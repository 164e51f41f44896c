//! `feeds.toml`, the feed list: one `[[feed]]` table per feed with `url`
//! and optional `interval` (`"5m"`, `"1h30m"`), `source`, `language` and
//! `regions`. [`FeedList::parse`] returns the validated [`FeedSpec`]s or
//! every problem found, each a [`Diagnostic`] printed `file:line:col:
//! message` like the rules file's.

use crate::article::language_code;
use crate::location::line_col;
use crate::regions::Gazetteer;
use crate::rulebook::{Diagnostic, Severity};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// Below this, `check` warns that an interval is impolite.
const POLITE_INTERVAL: Duration = Duration::from_secs(60);

/// One validated feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedSpec {
    /// `http` or `https`.
    pub url: url::Url,
    /// How often to poll; `None`: `feeds.default_interval_secs`.
    pub interval: Option<Duration>,
    /// The articles' `source` (a domain or name).
    pub source: Option<String>,
    /// ISO 639-1 code, overriding what the feed says.
    pub language: Option<String>,
    /// ISO 3166-1 alpha-2 codes, upper case.
    pub regions: Vec<String>,
}

/// The feeds of `feeds.toml`, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedList {
    pub feeds: Vec<FeedSpec>,
    /// Problems that did not stop loading.
    pub warnings: Vec<Diagnostic>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    feed: Vec<RawFeed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    url: Spanned<String>,
    interval: Option<Spanned<toml::Value>>,
    source: Option<Spanned<String>>,
    language: Option<Spanned<String>>,
    #[serde(default)]
    regions: Vec<Spanned<String>>,
}

/// Diagnostics against one file's text.
struct Report<'a> {
    file: &'a Path,
    text: &'a str,
    out: Vec<Diagnostic>,
}

impl Report<'_> {
    fn at(&mut self, offset: usize, severity: Severity, message: impl Into<String>) {
        let (line, col) = line_col(self.text, offset);
        self.out.push(Diagnostic {
            file: self.file.to_path_buf(),
            line,
            col,
            severity,
            message: message.into(),
        });
    }

    fn error<T>(&mut self, span: &Spanned<T>, message: impl Into<String>) {
        self.at(span.span().start, Severity::Error, message);
    }
}

impl FeedList {
    /// Read and validate the feed list at `path`.
    ///
    /// # Errors
    /// Every problem found; a missing file is one, saying so.
    pub fn load(path: &Path, gazetteer: &Gazetteer) -> Result<FeedList, Vec<Diagnostic>> {
        match std::fs::read_to_string(path) {
            Ok(text) => FeedList::parse(path, &text, gazetteer),
            Err(e) => Err(vec![Diagnostic {
                file: PathBuf::from(path),
                line: 1,
                col: 1,
                severity: Severity::Error,
                message: format!("cannot read the feed list: {e}"),
            }]),
        }
    }

    /// Validate feed list `text` (named `file` in diagnostics).
    ///
    /// # Errors
    /// Every error found, with the warnings too.
    pub fn parse(
        file: &Path,
        text: &str,
        gazetteer: &Gazetteer,
    ) -> Result<FeedList, Vec<Diagnostic>> {
        let mut report = Report {
            file,
            text,
            out: Vec::new(),
        };
        let raw: RawFile = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                let offset = e.span().map_or(0, |s| s.start);
                report.at(offset, Severity::Error, e.message().trim_end());
                return Err(report.out);
            }
        };
        let mut urls = HashSet::new();
        let mut feeds = Vec::with_capacity(raw.feed.len());
        for raw in raw.feed {
            if let Some(feed) = feed(raw, gazetteer, &mut urls, &mut report) {
                feeds.push(feed);
            }
        }
        if report.out.iter().any(|d| d.severity == Severity::Error) {
            return Err(report.out);
        }
        Ok(FeedList {
            feeds,
            warnings: report.out,
        })
    }
}

/// Check one `[[feed]]`; `None` if it has errors (reported).
fn feed(
    raw: RawFeed,
    gazetteer: &Gazetteer,
    urls: &mut HashSet<url::Url>,
    report: &mut Report<'_>,
) -> Option<FeedSpec> {
    let errors = report.out.len();
    let url = match url::Url::parse(raw.url.get_ref().trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Some(u),
        Ok(_) => {
            report.error(
                &raw.url,
                "feed url must be an http or https URL with a host",
            );
            None
        }
        Err(e) => {
            report.error(&raw.url, format!("invalid feed url: {e}"));
            None
        }
    };
    if let Some(u) = &url
        && !urls.insert(u.clone())
    {
        report.error(&raw.url, format!("feed {u} is listed twice"));
    }
    let interval = raw.interval.as_ref().and_then(|v| {
        let parsed = match v.get_ref() {
            toml::Value::String(s) => parse_interval(s),
            _ => Err("must be a duration string such as \"5m\", \"90s\" or \"1h30m\"".into()),
        };
        match parsed {
            Ok(d) if d < POLITE_INTERVAL => {
                report.at(
                    v.span().start,
                    Severity::Warning,
                    "interval under a minute: most publishers ask for 5 minutes or more",
                );
                Some(d)
            }
            Ok(d) => Some(d),
            Err(e) => {
                report.error(v, format!("interval {e}"));
                None
            }
        }
    });
    let language = raw.language.as_ref().and_then(|l| {
        let code = language_code(l.get_ref());
        if code.is_none() {
            report.error(
                l,
                format!("language {:?} is not an ISO 639-1 code", l.get_ref()),
            );
        }
        code
    });
    let mut regions = Vec::with_capacity(raw.regions.len());
    for r in &raw.regions {
        match gazetteer.resolve(r.get_ref().trim()) {
            Some(region) => regions.push(region.key.clone()),
            None => report.error(r, format!("unknown country {:?}", r.get_ref())),
        }
    }
    let source = raw.source.map(|s| s.into_inner().trim().to_string());
    if report.out[errors..]
        .iter()
        .any(|d| d.severity == Severity::Error)
    {
        return None;
    }
    Some(FeedSpec {
        url: url?,
        interval,
        source: source.filter(|s| !s.is_empty()),
        language,
        regions,
    })
}

/// Feed intervals use the crate's one duration syntax.
pub use crate::duration::parse_duration as parse_interval;
