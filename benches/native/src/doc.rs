//! An article as the engines see it: title, summary and body normalised
//! into one padded text, plus the fields `lang:`, `source:` and `region:`
//! look at. No HTML cleaning and no boilerplate removal: tags, entities
//! and trailing link lists are text like any other.
//!
//! Normalising: letters and digits (`char::is_alphanumeric`) are kept and
//! lower-cased (`char::to_lowercase`), every run of anything else becomes
//! one space. Each field is padded with a space on both sides and the
//! fields are joined by `\n`, so the text reads ` w1 w2 \n w3 \n w4 w5 `:
//! every word has a space before and after it, and a phrase (words joined
//! by one space) cannot run across two fields. Diacritics are kept (query
//! words are folded by newsalert's parser, so `türkiye` in a text does not
//! match the query `Türkiye`; the generated input is ASCII).

use std::borrow::Cow;

use serde::Deserialize;

/// One JSONL line, borrowed where it has no escapes.
#[derive(Deserialize)]
pub struct Article<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(borrow, default)]
    pub title: Cow<'a, str>,
    #[serde(borrow, default)]
    pub summary: Cow<'a, str>,
    #[serde(borrow, default)]
    pub body: Cow<'a, str>,
    #[serde(borrow, default)]
    pub url: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub source: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub language: Option<Cow<'a, str>>,
    #[serde(default)]
    pub regions: Vec<String>,
}

/// The prepared article; reused from one article to the next.
#[derive(Default)]
pub struct Doc {
    /// The normalised, padded text (valid UTF-8).
    pub text: Vec<u8>,
    pub language: Option<String>,
    pub hosts: Vec<String>,
    /// Region tags, upper case.
    pub tags: Vec<String>,
}

impl Doc {
    /// Replace the contents with `a`'s.
    pub fn fill(&mut self, a: &Article<'_>) {
        self.text.clear();
        for (i, field) in [&a.title, &a.summary, &a.body].into_iter().enumerate() {
            if i > 0 {
                self.text.push(b'\n');
            }
            normalize_into(&mut self.text, field);
        }
        self.language = a.language.as_ref().map(|l| l.to_ascii_lowercase());
        self.hosts.clear();
        for s in [a.source.as_deref(), a.url.as_deref()]
            .into_iter()
            .flatten()
        {
            let s = s.split("://").last().unwrap_or(s);
            self.hosts
                .push(s.split('/').next().unwrap_or(s).to_ascii_lowercase());
        }
        self.tags.clear();
        self.tags
            .extend(a.regions.iter().map(|t| t.to_ascii_uppercase()));
    }
}

/// Append ` ` + the words of `s`, lower-cased and joined by one space, + ` `.
pub fn normalize_into(out: &mut Vec<u8>, s: &str) {
    out.push(b' ');
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b.is_ascii() {
            i += 1;
            if b.is_ascii_alphanumeric() {
                out.push(b.to_ascii_lowercase());
            } else if out.last() != Some(&b' ') {
                out.push(b' ');
            }
            continue;
        }
        let c = s[i..].chars().next().expect("i is at a char boundary");
        i += c.len_utf8();
        if c.is_alphanumeric() {
            let mut buf = [0; 4];
            for l in c.to_lowercase() {
                out.extend_from_slice(l.encode_utf8(&mut buf).as_bytes());
            }
        } else if out.last() != Some(&b' ') {
            out.push(b' ');
        }
    }
    if out.last() != Some(&b' ') {
        out.push(b' ');
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_into;

    #[test]
    fn words_are_lower_cased_and_padded() {
        let mut out = Vec::new();
        normalize_into(&mut out, "<p>Ärger in  Baku's port</p>, 2025!");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            " p ärger in baku s port p 2025 "
        );
        let mut out = Vec::new();
        normalize_into(&mut out, "");
        assert_eq!(out, b" ");
    }
}
