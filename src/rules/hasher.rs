//! The fast non-cryptographic hash of the matcher's per-token lookups
//! ([`FastMap`]) and of its Bloom filters ([`hash_str`]): `rustc-hash`'s
//! `FxHasher` (the hash rustc uses: no seed, so runs are repeatable).
//! `foldhash` (fixed seed) benched the same within noise; see
//! `benches/README.md`.
//!
//! SipHash's flooding resistance is not needed here: the keys of the maps
//! that use it come from rules (trusted configuration) or are dense ids;
//! article text only looks keys up, which cannot lengthen a probe chain.

use std::collections::HashMap;
use std::hash::BuildHasher;

/// The hasher state of [`FastMap`] and of [`hash_str`].
pub(super) type FastState = rustc_hash::FxBuildHasher;

/// A `HashMap` with the fast hasher.
pub(super) type FastMap<K, V> = HashMap<K, V, FastState>;

/// The fast hash of `s` (the Bloom filters' one hash).
pub(super) fn hash_str(s: &str) -> u64 {
    FastState::default().hash_one(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_that_differ_hash_differently() {
        let b = FastState::default();
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
