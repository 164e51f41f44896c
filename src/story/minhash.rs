//! MinHash signatures and LSH bands: how a new copy finds the stories it
//! may belong to without comparing it with every story of the window.
//!
//! A signature holds, for each of [`BANDS`] × [`ROWS`] fixed hash
//! functions, the least hash of the text's shingles; two texts agree on
//! one position with probability equal to the Jaccard similarity of their
//! shingle sets. The signature is cut into [`BANDS`] bands of [`ROWS`]
//! positions; texts that agree on a whole band are candidates. With 20
//! bands of 2, a pair with Jaccard 0.45 shares a band with probability
//! 0.99 (1 − (1 − 0.45²)²⁰), one with 0.2 with probability 0.56: enough
//! recall for copies, and candidates are then verified exactly
//! ([`super::Shingles::similarity`]).

use super::shingle::Shingles;

/// Bands of the signature, each one key of the story index.
pub const BANDS: usize = 20;
/// Positions per band.
pub const ROWS: usize = 2;

/// splitmix64: a fixed, well-mixed permutation of `u64`.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The band keys of `shingles` (none for an empty text): `band.<i>.<hex>`,
/// valid key-value keys, the same on every instance and version.
pub fn band_keys(shingles: &Shingles) -> Vec<String> {
    if shingles.is_empty() {
        return Vec::new();
    }
    let mut signature = [u64::MAX; BANDS * ROWS];
    for &h in shingles.hashes() {
        for (i, slot) in signature.iter_mut().enumerate() {
            let v = mix(h ^ mix(i as u64 + 1));
            if v < *slot {
                *slot = v;
            }
        }
    }
    signature
        .chunks(ROWS)
        .enumerate()
        .map(|(band, rows)| {
            let key = rows.iter().fold(mix(band as u64), |acc, &r| mix(acc ^ r));
            format!("band.{band}.{key:016x}")
        })
        .collect()
}
