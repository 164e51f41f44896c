//! The rules file, the admin's interface: subscribers, rules and custom
//! regions. [`RuleBook::parse`] turns the TOML text into a compiled,
//! immutable [`RuleBook`] or into every problem found, each as a
//! [`Diagnostic`] printed `file:line:col: message`.
//!
//! Raw TOML types (with spans) stay private; the rest of the service sees
//! only validated [`Subscriber`]s, [`Rule`]s and the compiled [`Matcher`].

use crate::regions::{CustomRegionSpec, Gazetteer, RegionError};
use crate::rules::{self, Matcher};
use crate::subscriber::{Channel, DigestSchedule, Subscriber};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use toml::Spanned;

mod diagnostic;

#[cfg(test)]
use diagnostic::string_offsets;
pub use diagnostic::{Diagnostic, Severity};
use diagnostic::{Report, offset_in_string};

/// A validated rule: who it notifies, on which channels.
#[derive(Debug, Clone, PartialEq)]
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
    #[serde(default)]
    rule: Vec<RawRule>,
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
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    query: Spanned<String>,
    notify: Vec<Spanned<String>>,
    channels: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    #[allow(dead_code)]
    description: String,
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
        match std::fs::read_to_string(path) {
            Ok(text) => RuleBook::parse(path, &text, gazetteer),
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
    /// # Errors
    /// Every error found, with warnings too.
    pub fn parse(
        file: &Path,
        text: &str,
        gazetteer: &Gazetteer,
    ) -> Result<RuleBook, Vec<Diagnostic>> {
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
        let gazetteer = custom_regions(&raw, gazetteer, &mut report);
        let subscribers = subscribers(&raw, &mut report);
        let index: HashMap<&str, usize> = subscribers
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect();
        let mut seen: HashMap<&str, ()> = HashMap::new();
        let mut rules = Vec::new();
        let mut queries = Vec::new();
        for r in &raw.rule {
            let mut duplicate = false;
            if r.id.get_ref().trim().is_empty() {
                report.error(&r.id, "rule id must not be empty");
            } else if seen.insert(r.id.get_ref(), ()).is_some() {
                report.error(&r.id, format!("duplicate rule id {:?}", r.id.get_ref()));
                duplicate = true;
            }
            let rule = compile_rule_targets(r, &subscribers, &index, &mut report);
            match rules::parse(r.query.get_ref()) {
                Ok(q) => {
                    for lint in rules::lint(&q) {
                        let at =
                            offset_in_string(text, r.query.span(), r.query.get_ref(), lint.offset);
                        let severity = match lint.severity {
                            rules::Severity::Error => Severity::Error,
                            rules::Severity::Warning => Severity::Warning,
                        };
                        report.at(
                            at,
                            severity,
                            format!("rule {:?}: {}", r.id.get_ref(), lint.message),
                        );
                    }
                    // Reported above; the matcher would report it again.
                    if !duplicate {
                        queries.push((r.id.get_ref().clone(), q));
                        rules.push((rule, r.query.span(), r.query.get_ref()));
                    }
                }
                Err(e) => {
                    let at = offset_in_string(text, r.query.span(), r.query.get_ref(), e.offset);
                    report.at(
                        at,
                        Severity::Error,
                        format!("rule {:?}: {}", r.id.get_ref(), e.message),
                    );
                }
            }
        }
        let matcher = match Matcher::compile(&queries, &gazetteer) {
            Ok(m) => Some(m),
            Err(errors) => {
                for e in errors {
                    let (_, span, value) = &rules[e.rule];
                    let at = offset_in_string(text, span.clone(), value, e.offset);
                    report.at(
                        at,
                        Severity::Error,
                        format!("rule {:?}: {}", queries[e.rule].0, e.message),
                    );
                }
                None
            }
        };
        report.out.sort_by_key(|d| (d.line, d.col));
        match matcher {
            Some(matcher) if !report.has_errors() => Ok(RuleBook {
                subscribers,
                rules: rules.into_iter().map(|(r, _, _)| r).collect(),
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
        });
    }
    out
}

fn compile_rule_targets(
    r: &RawRule,
    subscribers: &[Subscriber],
    index: &HashMap<&str, usize>,
    report: &mut Report<'_>,
) -> Rule {
    let id = r.id.get_ref();
    if r.notify.is_empty() {
        report.at(
            r.id.span().start,
            Severity::Warning,
            format!("rule {id:?} notifies nobody"),
        );
    }
    let mut notify = Vec::new();
    for n in &r.notify {
        match index.get(n.get_ref().as_str()) {
            Some(&i) if notify.contains(&i) => report.error(
                n,
                format!("rule {id:?}: subscriber {:?} listed twice", n.get_ref()),
            ),
            Some(&i) => notify.push(i),
            None => report.error(
                n,
                format!("rule {id:?}: unknown subscriber {:?}", n.get_ref()),
            ),
        }
    }
    let channels = r.channels.as_ref().map(|list| {
        let mut out = Vec::new();
        for c in list {
            match Channel::parse(c.get_ref()) {
                Ok(ch) if !out.contains(&ch) => out.push(ch),
                Ok(_) => {}
                Err(e) => report.error(c, format!("rule {id:?}: {e}")),
            }
        }
        for &ch in &out {
            for &i in &notify {
                if !subscribers[i].channels().contains(&ch) {
                    let at = list.first().map_or(r.id.span().start, |c| c.span().start);
                    report.at(
                        at,
                        Severity::Warning,
                        format!(
                            "rule {id:?}: subscriber {:?} has no {ch} channel",
                            subscribers[i].id
                        ),
                    );
                }
            }
        }
        out
    });
    Rule {
        id: id.clone(),
        query: r.query.get_ref().clone(),
        notify,
        channels,
    }
}

#[cfg(test)]
mod tests;
