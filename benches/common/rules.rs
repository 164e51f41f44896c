//! Rule sets of any size. Rule `i` depends only on the seed and `i`, so a
//! smaller set is a prefix of a larger one.
//!
//! The mix: 40% single words, 20% phrases of 2–3 words, 15% booleans
//! (`A AND (B OR C) -D`), 10% prefixes, 10% `region:XX` combinations, 5%
//! `NEAR`. Words come from the news vocabulary, names, places, synthetic
//! topic words (most of which rarely or never occur in the corpus) and the
//! rare `zq…` tail (never occurs), so large sets are mostly non-matching,
//! as real subscriptions are.

use fastrand::Rng;
use newsalert::rules::RuleDef;

use super::{SEED, Vocabulary, rare_word};

/// Where rule words come from.
#[derive(Clone, Copy)]
enum Pool {
    /// The realistic mix.
    Mixed,
    /// Only the rare tail, starting at this index: never matches.
    Rare(usize),
}

/// Rules `0..n` of the realistic mix.
pub fn mixed(vocab: &Vocabulary, n: usize) -> Vec<RuleDef> {
    (0..n).map(|i| rule(vocab, Pool::Mixed, "r", i)).collect()
}

/// `n` rules of the same shapes whose words are all from the rare tail
/// (none of them can match an article of the corpus).
pub fn nonmatching(vocab: &Vocabulary, n: usize) -> Vec<RuleDef> {
    (0..n)
        .map(|i| rule(vocab, Pool::Rare(1_000_000), "nm", i))
        .collect()
}

fn rule(vocab: &Vocabulary, pool: Pool, prefix: &str, i: usize) -> RuleDef {
    let salt = if matches!(pool, Pool::Mixed) { 1 } else { 2 };
    let mut g = Gen {
        v: vocab,
        pool,
        rng: Rng::with_seed(SEED ^ (salt << 40) ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
    };
    let query = match g.rng.u8(..100) {
        0..40 => g.word(),
        40..60 => g.phrase(),
        60..75 => {
            let (a, b, c, d) = (g.term(), g.term(), g.term(), g.word());
            format!("{a} AND ({b} OR {c}) -{d}")
        }
        75..85 => g.prefix(),
        85..95 => {
            let key = &g.v.region_keys[g.rng.usize(..g.v.region_keys.len())];
            if g.rng.u8(..10) < 7 {
                format!("region:{key} AND {}", g.term())
            } else {
                format!("region:{key} AND ({} OR {})", g.word(), g.word())
            }
        }
        _ => {
            let distance = g.rng.usize(3..15);
            format!("{} NEAR/{distance} {}", g.word(), g.word())
        }
    };
    RuleDef {
        id: format!("{prefix}{i}"),
        query,
    }
}

struct Gen<'v> {
    v: &'v Vocabulary,
    pool: Pool,
    rng: Rng,
}

impl Gen<'_> {
    fn pick<'a>(&mut self, list: &'a [String]) -> &'a str {
        &list[self.rng.usize(..list.len())]
    }

    /// One word; a multi-word place comes back as a phrase.
    fn word(&mut self) -> String {
        let w = match self.pool {
            Pool::Rare(base) => rare_word(base + self.rng.usize(..10_000_000)),
            Pool::Mixed => match self.rng.u8(..100) {
                0 => self.pick(&self.v.news).to_lowercase(),
                1 => self.pick(&self.v.surnames).to_string(),
                2 => self.pick(&self.v.places).to_string(),
                3..65 => self.pick(&self.v.topics).to_string(),
                _ => rare_word(self.rng.usize(..10_000_000)),
            },
        };
        if w.contains(' ') {
            format!("\"{w}\"")
        } else {
            w
        }
    }

    /// A quoted phrase: a known collocation or name, or 2–3 random words.
    fn phrase(&mut self) -> String {
        if matches!(self.pool, Pool::Mixed) {
            match self.rng.u8(..40) {
                0 => return format!("\"{}\"", self.pick(&self.v.collocations)),
                1 => {
                    let s = self.rng.usize(..self.v.surnames.len());
                    let first = &self.v.first_names[s % self.v.first_names.len()];
                    return format!("\"{first} {}\"", self.v.surnames[s]);
                }
                _ => {}
            }
        }
        let n = self.rng.usize(2..4);
        let words: Vec<String> = (0..n)
            .map(|_| self.word().trim_matches('"').to_string())
            .collect();
        format!("\"{}\"", words.join(" "))
    }

    /// A word or, one time in four, a phrase.
    fn term(&mut self) -> String {
        if self.rng.u8(..4) == 0 {
            self.phrase()
        } else {
            self.word()
        }
    }

    /// `stem*`: the first 5 or more letters of a word.
    fn prefix(&mut self) -> String {
        loop {
            let w = self.word();
            let chars: Vec<char> = w.chars().collect();
            if chars.len() >= 6 && chars.iter().all(|c| c.is_alphabetic()) {
                let keep = self.rng.usize(5..chars.len());
                return format!("{}*", chars[..keep].iter().collect::<String>());
            }
        }
    }
}
