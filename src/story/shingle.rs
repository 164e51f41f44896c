//! Word shingles of a story's text: the words of the cleaned title and
//! lead ([`crate::text::Tokens`], so case, diacritics, hyphens and
//! possessives are read as the matcher reads them), minus a short list of
//! function words, each word and each pair of neighbouring words hashed
//! to a `u64` with a fixed, version-stable hash (FNV-1a), so every
//! instance computes the same shingles for the same text.

use crate::text::Tokens;

/// Words that say nothing about which story a text tells (English and
/// Russian function words, reporting verbs and weekdays that every wire
/// copy repeats).
const STOPWORDS: &[&str] = &[
    "a",
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "been",
    "but",
    "by",
    "for",
    "from",
    "has",
    "have",
    "he",
    "her",
    "his",
    "in",
    "into",
    "is",
    "it",
    "its",
    "of",
    "on",
    "or",
    "over",
    "said",
    "says",
    "she",
    "that",
    "the",
    "their",
    "them",
    "they",
    "this",
    "to",
    "told",
    "was",
    "were",
    "will",
    "with",
    "would",
    "after",
    "also",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "и",
    "в",
    "во",
    "на",
    "с",
    "со",
    "по",
    "не",
    "что",
    "как",
    "к",
    "о",
    "об",
    "от",
    "из",
    "за",
    "для",
    "это",
];

/// The shingles of one text: sorted, without repeats.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Shingles(Vec<u64>);

impl Shingles {
    /// Shingles of `texts` read one after another (title, then lead): every
    /// content word, and every pair of neighbouring content words within
    /// one text.
    pub fn of(texts: &[&str]) -> Shingles {
        let mut out = Vec::new();
        for text in texts {
            let tokens = Tokens::new(text);
            let words: Vec<&str> = tokens
                .iter()
                .map(|t| t.norm)
                .filter(|w| !STOPWORDS.contains(w))
                .collect();
            out.extend(words.iter().map(|w| fnv1a(&[w.as_bytes()])));
            out.extend(
                words
                    .windows(2)
                    .map(|p| fnv1a(&[p[0].as_bytes(), b" ", p[1].as_bytes()])),
            );
        }
        Shingles::from_hashes(out)
    }

    /// From raw hashes (any order, repeats allowed).
    pub fn from_hashes(mut hashes: Vec<u64>) -> Shingles {
        hashes.sort_unstable();
        hashes.dedup();
        Shingles(hashes)
    }

    pub fn hashes(&self) -> &[u64] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Shingles both have.
    pub fn shared(&self, other: &Shingles) -> usize {
        let (mut i, mut j, mut n) = (0, 0, 0);
        while i < self.0.len() && j < other.0.len() {
            match self.0[i].cmp(&other.0[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    n += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        n
    }

    /// How alike two texts are, 0 to 1: the shingles they share over the
    /// shingles of the shorter one (the overlap coefficient), so a short
    /// lead and a long one telling the same story score high. 0 when
    /// either is empty.
    pub fn similarity(&self, other: &Shingles) -> f64 {
        let smaller = self.len().min(other.len());
        if smaller == 0 {
            return 0.0;
        }
        self.shared(other) as f64 / smaller as f64
    }
}

/// FNV-1a over the concatenation of `parts`.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}
