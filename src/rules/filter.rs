//! Token filters in front of the matcher's word and prefix maps: a bitmap
//! of two-byte word beginnings ([`Heads`]) and a blocked Bloom filter
//! ([`Bloom`]). Most article tokens match no rule term; these reject them
//! with one or two probes of a small bitmap instead of a hash-map lookup.

use super::hasher::hash_str;

/// A set of two-byte word beginnings (a 64 Kbit bitmap).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Heads(Box<[u64]>);

impl Default for Heads {
    fn default() -> Heads {
        Heads(vec![0; 1024].into_boxed_slice())
    }
}

impl Heads {
    fn bit(word: &str) -> usize {
        let b = word.as_bytes();
        usize::from(b.first().copied().unwrap_or(0)) << 8
            | usize::from(b.get(1).copied().unwrap_or(0))
    }

    /// Add `word`; as a prefix (`prefix`) it begins every longer word.
    pub fn insert(&mut self, word: &str, prefix: bool) {
        let bits = match word.as_bytes() {
            [] if prefix => 0..1 << 16,
            [a] if prefix => {
                let a = usize::from(*a) << 8;
                a..a + 256
            }
            _ => {
                let bit = Heads::bit(word);
                bit..bit + 1
            }
        };
        for bit in bits {
            self.0[bit / 64] |= 1 << (bit % 64);
        }
    }

    /// Whether some inserted word begins like `word` (`false`: none does).
    pub fn may_contain(&self, word: &str) -> bool {
        let bit = Heads::bit(word);
        self.0[bit / 64] & (1 << (bit % 64)) != 0
    }
}

/// A Bloom filter over strings, blocked: a key sets two bits of one
/// 64-bit word, so a lookup touches one cache line; at least 8 bits per
/// key; one [`hash_str`] hash.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Bloom {
    words: Box<[u64]>,
}

impl Bloom {
    pub fn new<'a>(keys: impl ExactSizeIterator<Item = &'a str>) -> Bloom {
        let words = (keys.len() / 8).next_power_of_two().max(64);
        let mut bloom = Bloom {
            words: vec![0; words].into_boxed_slice(),
        };
        for k in keys {
            let (word, bits) = bloom.locate(k);
            bloom.words[word] |= bits;
        }
        bloom
    }

    fn locate(&self, key: &str) -> (usize, u64) {
        let h = hash_str(key);
        let word = (h as usize) & (self.words.len() - 1);
        (word, 1 << ((h >> 52) & 63) | 1 << ((h >> 58) & 63))
    }

    /// Whether `key` may have been inserted (`false`: it was not).
    pub fn may_contain(&self, key: &str) -> bool {
        if self.words.is_empty() {
            return false;
        }
        let (word, bits) = self.locate(key);
        self.words[word] & bits == bits
    }
}
