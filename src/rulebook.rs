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
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// How serious a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The file is rejected.
    Error,
    /// The file loads, but something is probably wrong.
    Warning,
}

/// One problem in the rules file, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
    pub severity: Severity,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "",
            Severity::Warning => "warning: ",
        };
        write!(
            f,
            "{}:{}:{}: {level}{}",
            self.file.display(),
            self.line,
            self.col,
            self.message
        )
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

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

/// Collects diagnostics against one file's text.
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

    fn has_errors(&self) -> bool {
        self.out.iter().any(|d| d.severity == Severity::Error)
    }
}

/// Byte offset in the file of byte `offset` inside the string value at
/// `span`, for every TOML string form: basic strings are decoded escape by
/// escape, and a multi-line string's leading newline is skipped. Falls
/// back to the start of the string if the text does not decode to `value`.
fn offset_in_string(text: &str, span: std::ops::Range<usize>, value: &str, offset: usize) -> usize {
    let raw = text.get(span.clone()).unwrap_or_default();
    let (quote, literal) = if raw.starts_with("\"\"\"") {
        (3, false)
    } else if raw.starts_with("'''") {
        (3, true)
    } else {
        (1, raw.starts_with('\''))
    };
    let Some(mut inner) = raw.get(quote..raw.len().saturating_sub(quote)) else {
        return span.start;
    };
    let mut skipped = 0;
    if quote == 3 {
        for newline in ["\r\n", "\n"] {
            if let Some(rest) = inner.strip_prefix(newline) {
                (inner, skipped) = (rest, newline.len());
                break;
            }
        }
    }
    match string_offsets(inner, literal, quote == 3) {
        Some((decoded, map)) if decoded == value => {
            span.start + quote + skipped + map[offset.min(map.len() - 1)]
        }
        _ => span.start,
    }
}

/// Decode the inside of a TOML string: the value, and for each byte of it
/// (plus its end) the offset in `inner` of the character or escape it
/// came from. `None` for an invalid escape.
fn string_offsets(inner: &str, literal: bool, multiline: bool) -> Option<(String, Vec<usize>)> {
    let mut value = String::new();
    let mut map = Vec::new();
    let mut chars = inner.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let c = if c != '\\' || literal {
            c
        } else {
            let (_, e) = chars.next()?;
            match e {
                'b' => '\u{8}',
                't' => '\t',
                'n' => '\n',
                'f' => '\u{c}',
                'r' => '\r',
                'e' => '\u{1b}',
                '"' => '"',
                '\\' => '\\',
                'u' | 'U' => {
                    let n = if e == 'u' { 4 } else { 8 };
                    let hex: String = (0..n)
                        .filter_map(|_| chars.next().map(|(_, h)| h))
                        .collect();
                    char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
                }
                w if multiline && w.is_whitespace() => {
                    // Line-ending backslash: drop all whitespace that follows.
                    while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
                    continue;
                }
                _ => return None,
            }
        };
        value.push(c);
        map.extend(std::iter::repeat_n(at, c.len_utf8()));
    }
    map.push(inner.len());
    Some((value, map))
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
