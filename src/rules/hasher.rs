//! A fast non-cryptographic hasher for the matcher's per-token lookups
//! (the FxHash mix used by rustc, with a final rotation so the low bits
//! that pick a bucket depend on every input bit).
//!
//! SipHash's flooding resistance is not needed here: the keys of the maps
//! that use it come from rules (trusted configuration) or are dense ids;
//! article text only looks keys up, which cannot lengthen a probe chain.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

/// The hasher state of [`FastMap`] and of [`hash_str`].
pub(super) type FastState = BuildHasherDefault<FxHasher>;

/// A `HashMap` with the fast hasher.
pub(super) type FastMap<K, V> = HashMap<K, V, FastState>;

/// The fast hash of `s` (the Bloom filters' one hash).
pub(super) fn hash_str(s: &str) -> u64 {
    FastState::default().hash_one(s)
}

const K: u64 = 0xf135_7aea_2e62_a9c5;

/// See the module docs.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash ^ word).wrapping_mul(K);
    }
}

impl Hasher for FxHasher {
    /// Words are short: hash them with two (possibly overlapping) loads
    /// instead of a byte-by-byte tail.
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let len = bytes.len();
        let (a, b) = if len >= 8 {
            let mut rest = bytes;
            while rest.len() > 16 {
                self.add(load8(rest, 0));
                rest = &rest[8..];
            }
            (load8(rest, 0), load8(rest, rest.len() - 8))
        } else if len >= 4 {
            (load4(bytes, 0), load4(bytes, len - 4))
        } else if len > 0 {
            let (x, y, z) = (bytes[0], bytes[len / 2], bytes[len - 1]);
            (u64::from(x) | u64::from(y) << 8 | u64::from(z) << 16, 0)
        } else {
            (0, 0)
        };
        self.add(a);
        self.add(b ^ ((len as u64) << 56));
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash.rotate_left(26)
    }
}

fn load8(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

fn load4(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u64::from(u32::from_le_bytes(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_that_differ_hash_differently() {
        let b = BuildHasherDefault::<FxHasher>::default();
        let words = [
            "",
            "a",
            "ab",
            "ba",
            "abc",
            "abcd",
            "abcde",
            "abcdefgh",
            "abcdefghi",
            "abcdefgh\0",
            "zqaaaa",
            "0123456789abcdefg",
            "0123456789abcdefh",
            "1123456789abcdefg",
        ];
        for (i, x) in words.iter().enumerate() {
            for y in &words[i + 1..] {
                assert_ne!(b.hash_one(x), b.hash_one(y), "{x:?} vs {y:?}");
            }
        }
    }

    #[test]
    fn map_works_with_string_and_id_keys() {
        let mut m: FastMap<String, usize> = FastMap::default();
        for i in 0..1000 {
            m.insert(format!("w{i}"), i);
        }
        assert!((0..1000).all(|i| m.get(format!("w{i}").as_str()) == Some(&i)));
        let ids: FastMap<usize, usize> = (0..1000).map(|i| (i, i * 2)).collect();
        assert_eq!(ids.get(&999), Some(&1998));
    }
}
