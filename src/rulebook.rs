//! The rules file, the admin's interface: subscribers, rules and custom
//! regions. [`RuleBook::parse`] turns the TOML text into a compiled,
//! immutable [`RuleBook`] or into every problem found, each as a
//! [`Diagnostic`] printed `file:line:col: message`.
//!
//! Raw TOML types (with spans) stay private; the rest of the service sees
//! only validated [`Subscriber`]s, [`Rule`]s and the compiled [`Matcher`].
//!
//! Files: `chunks` cuts the text at its `[[rule]]` tables so that `rule`
//! can parse, check and compile them one at a time (peak memory stays
//! near the result's size); `diagnostic` places problems in the file;
//! `cache` keeps large compiled rule books on disk ([`RuleCache`]).

use crate::regions::{CustomRegionSpec, Gazetteer, RegionError};
use crate::rules::{Matcher, MatcherBuilder};
use crate::subscriber::{Channel, DigestSchedule, QuietHours, Subscriber};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

mod cache;
mod chunks;
mod diagnostic;
mod positions;
mod rule;
mod simple_chunk;

pub use cache::RuleCache;
use diagnostic::Report;
#[cfg(test)]
use diagnostic::string_offsets;
pub use diagnostic::{Diagnostic, Severity};
pub use positions::rule_positions;
use rule::{RawRule, RuleLoader};

/// A validated rule: who it notifies, on which channels.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Rule {
    pub id: String,
    pub query: String,
    /// Indices into [`RuleBook::subscribers`].
    pub notify: Vec<usize>,
    /// `None`: every channel each subscriber has.
    pub channels: Option<Vec<Channel>>,
}

/// Subscribers, rules and the matcher compiled from them. Immutable; a
/// reload builds a new one.
#[derive(Debug)]
pub struct RuleBook {
    pub subscribers: Vec<Subscriber>,
    /// In the matcher's rule order: `matcher` rule `i` is `rules[i]`.
    pub rules: Vec<Rule>,
    pub matcher: Matcher,
    /// Problems that did not stop loading.
    pub warnings: Vec<Diagnostic>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    subscriber: Vec<RawSubscriber>,
    /// Rules written as an inline array (`rule = [{ … }]`); `[[rule]]`
    /// tables are cut out before this is parsed ([`chunks`]).
    rule: Option<Vec<RawRule>>,
    #[serde(default)]
    region: BTreeMap<Spanned<String>, RawRegion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubscriber {
    id: Spanned<String>,
    telegram_chat_id: Option<Spanned<i64>>,
    email: Option<Spanned<String>>,
    digest: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
    quiet_hours: Option<Spanned<String>>,
    max_telegram_per_hour: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    #[serde(default)]
    include: Vec<Spanned<String>>,
    #[serde(default)]
    terms: Vec<Spanned<String>>,
}

impl RuleBook {
    /// Read and compile the rules file at `path`.
    ///
    /// # Errors
    /// Every problem found, unreadable file included.
    pub fn load(path: &Path, gazetteer: &Gazetteer) -> Result<RuleBook, Vec<Diagnostic>> {
        RuleBook::load_cached(path, gazetteer, None)
    }

    /// [`RuleBook::load`], reading the compiled rules from `cache` when it
    /// holds them for this very text, and storing them there otherwise.
    ///
    /// # Errors
    /// Every problem found, unreadable file included.
    pub fn load_cached(
        path: &Path,
        gazetteer: &Gazetteer,
        cache: Option<&RuleCache>,
    ) -> Result<RuleBook, Vec<Diagnostic>> {
        match std::fs::read_to_string(path) {
            Ok(text) => RuleBook::parse_cached(path, &text, gazetteer, cache),
            Err(e) => Err(vec![Diagnostic {
                file: path.to_path_buf(),
                line: 1,
                col: 1,
                severity: Severity::Error,
                message: format!("cannot read rules file: {e}"),
            }]),
        }
    }

    /// Compile the rules file `text` (named `file` in diagnostics).
    ///
    /// Memory stays proportional to the result, not to the TOML tree: the
    /// file minus its `[[rule]]` tables is parsed first (subscribers,
    /// regions), then each rule on its own, compiled and dropped before the
    /// next ([`rule::RuleLoader`]).
    ///
    /// # Errors
    /// Every error found, with warnings too.
    pub fn parse(
        file: &Path,
        text: &str,
        gazetteer: &Gazetteer,
    ) -> Result<RuleBook, Vec<Diagnostic>> {
        RuleBook::parse_cached(file, text, gazetteer, None)
    }

    fn parse_cached(
        file: &Path,
        text: &str,
        gazetteer: &Gazetteer,
        cache: Option<&RuleCache>,
    ) -> Result<RuleBook, Vec<Diagnostic>> {
        let Some(cache) = cache else {
            return RuleBook::compile(file, text, gazetteer, None, || None);
        };
        let key = RuleCache::key(text);
        // Reading the cache back overlaps parsing subscribers and regions.
        std::thread::scope(|s| {
            let reading = s.spawn(|| cache.read(file, key));
            let cached = || reading.join().ok().flatten();
            RuleBook::compile(file, text, gazetteer, Some((cache, key)), cached)
        })
    }

    /// Parse and compile, or take the compiled rules from `cached()` when
    /// `cache` wants a rule book of this size (and stores it otherwise).
    fn compile(
        file: &Path,
        text: &str,
        gazetteer: &Gazetteer,
        cache: Option<(&RuleCache, u128)>,
        cached: impl FnOnce() -> Option<cache::Stored>,
    ) -> Result<RuleBook, Vec<Diagnostic>> {
        let chunks = chunks::split(text);
        let rest = chunks.rest(text);
        let mut report = Report::on_rest(file, text, &rest);
        let mut raw = match toml::from_str::<RawFile>(&rest.text) {
            Ok(raw) => raw,
            Err(e) => {
                let offset = e.span().map_or(0, |s| s.start);
                report.at(offset, Severity::Error, e.message().trim_end());
                return Err(report.out);
            }
        };
        if let (Some(first), Some(_)) = (chunks.rules.first(), &raw.rule) {
            // `rule = [...]` and `[[rule]]`: what the TOML parser says of
            // the whole file, at the header's key.
            let key = text[first.clone()]
                .find(|c| !matches!(c, '[' | ' ' | '\t'))
                .unwrap_or(0);
            let mut report = Report::new(file, text);
            report.at(first.start + key, Severity::Error, "duplicate key");
            return Err(report.out);
        }
        let gazetteer = custom_regions(&raw, gazetteer, &mut report);
        let subscribers = subscribers(&raw, &mut report);
        let inline = raw.rule.take().unwrap_or_default();
        drop(raw);
        let count = inline.len() + chunks.rules.len();
        let cache = cache.filter(|(c, _)| c.wants(count));
        if cache.is_some()
            && let Some(stored) = cached()
        {
            let mut out = report.out;
            out.extend(stored.warnings);
            out.sort_by_key(|d| (d.line, d.col));
            return if out.iter().any(|d| d.severity == Severity::Error) {
                Err(out)
            } else {
                Ok(RuleBook {
                    subscribers,
                    rules: stored.rules,
                    matcher: stored.matcher.with_context(gazetteer.context().clone()),
                    warnings: out,
                })
            };
        }
        // Problems of the rules themselves start here (what a cache keeps).
        let first_rule_problem = report.out.len();
        let mut loader = RuleLoader::new(&subscribers, MatcherBuilder::new(&gazetteer), count);
        for r in inline {
            let span = rest.to_file(r.query_span());
            loader.add(r, span, &mut report);
        }
        // From here on, places are in the file's own text.
        let out = report.out;
        drop(rest);
        let mut report = Report::new(file, text);
        report.out = out;
        loader.add_chunks(chunks.rules, &mut report);
        let compiled = loader.finish(&mut report);
        if let (Some((cache, key)), Some((matcher, rules))) = (cache, &compiled)
            && !report.has_errors()
        {
            cache.write(file, key, rules, matcher, &report.out[first_rule_problem..]);
        }
        report.out.sort_by_key(|d| (d.line, d.col));
        match compiled {
            Some((matcher, rules)) if !report.has_errors() => Ok(RuleBook {
                subscribers,
                rules,
                matcher,
                warnings: report.out,
            }),
            _ => Err(report.out),
        }
    }
}

fn custom_regions(raw: &RawFile, builtin: &Gazetteer, report: &mut Report<'_>) -> Gazetteer {
    let specs: Vec<CustomRegionSpec> = raw
        .region
        .iter()
        .map(|(name, r)| CustomRegionSpec {
            name: name.get_ref().clone(),
            include: r.include.iter().map(|s| s.get_ref().clone()).collect(),
            terms: r.terms.iter().map(|s| s.get_ref().clone()).collect(),
        })
        .collect();
    match builtin.with_custom(&specs) {
        Ok(g) => g,
        Err(errors) => {
            for e in errors {
                let (region, member) = match &e {
                    RegionError::UnknownMember { region, member } => (region, Some(member)),
                    RegionError::NameTaken { region, .. } | RegionError::Empty { region } => {
                        (region, None)
                    }
                };
                let offset = raw
                    .region
                    .iter()
                    .find(|(name, _)| name.get_ref() == region)
                    .map(|(name, r)| {
                        r.include
                            .iter()
                            .find(|m| Some(m.get_ref()) == member)
                            .map_or(name.span().start, |m| m.span().start)
                    })
                    .unwrap_or(0);
                report.at(offset, Severity::Error, e.to_string());
            }
            builtin.clone()
        }
    }
}

fn subscribers(raw: &RawFile, report: &mut Report<'_>) -> Vec<Subscriber> {
    let mut out: Vec<Subscriber> = Vec::new();
    for s in &raw.subscriber {
        let id = s.id.get_ref().trim();
        if id.is_empty() {
            report.error(&s.id, "subscriber id must not be empty");
        } else if out.iter().any(|o| o.id == id) {
            report.error(&s.id, format!("duplicate subscriber id {id:?}"));
        }
        let email = s
            .email
            .as_ref()
            .and_then(|e| match e.get_ref().parse::<lettre::Address>() {
                Ok(a) => Some(a),
                Err(err) => {
                    report.error(
                        e,
                        format!("subscriber {id:?}: invalid email {:?}: {err}", e.get_ref()),
                    );
                    None
                }
            });
        let digest = s.digest.as_ref().map_or(DigestSchedule::Off, |d| {
            DigestSchedule::parse(d.get_ref()).unwrap_or_else(|err| {
                report.error(d, format!("subscriber {id:?}: {err}"));
                DigestSchedule::Off
            })
        });
        let timezone = s.timezone.as_ref().map_or(chrono_tz::UTC, |tz| {
            tz.get_ref().parse().unwrap_or_else(|_| {
                report.error(tz, format!("subscriber {id:?}: unknown time zone {:?} (use an IANA name such as \"Asia/Baku\")", tz.get_ref()));
                chrono_tz::UTC
            })
        });
        let quiet_hours = s.quiet_hours.as_ref().and_then(|q| {
            QuietHours::parse(q.get_ref())
                .map_err(|err| report.error(q, format!("subscriber {id:?}: {err}")))
                .ok()
        });
        let max_telegram_per_hour = s.max_telegram_per_hour.as_ref().and_then(|m| {
            u32::try_from(*m.get_ref()).ok().filter(|n| *n > 0).or_else(|| {
                let msg = format!("subscriber {id:?}: max_telegram_per_hour must be a positive number, not {}", m.get_ref());
                report.error(m, msg);
                None
            })
        });
        if s.telegram_chat_id.is_none() && s.email.is_none() {
            report.at(
                s.id.span().start,
                Severity::Warning,
                format!("subscriber {id:?} has neither telegram_chat_id nor email"),
            );
        }
        if let Some(chat) = &s.telegram_chat_id
            && *chat.get_ref() == 0
        {
            report.error(
                chat,
                format!("subscriber {id:?}: telegram_chat_id must not be 0"),
            );
        }
        out.push(Subscriber {
            id: id.to_string(),
            telegram_chat_id: s.telegram_chat_id.as_ref().map(|c| *c.get_ref()),
            email,
            digest,
            timezone,
            quiet_hours,
            max_telegram_per_hour,
        });
    }
    out
}

#[cfg(test)]
mod tests;
