//! The anchor prefix terms (`armen*`) of a matcher, found for one token
//! with at most one hash probe: prefixes of at least [`KEY`] bytes are
//! grouped by their first [`KEY`] bytes, so a token looks up its own first
//! [`KEY`] bytes once and compares the few prefixes of that group. Shorter
//! prefixes (a rule `ab*`, rare) are looked up per distinct length.
//!
//! Before this, a token was hashed once per distinct prefix length (up to
//! ~10 lengths at 1k rules), which made prefix lookups the larger part of
//! building a [`super::doc_index::DocIndex`].

use super::filter::Heads;
use super::hasher::FastMap;

/// Bytes of the group key.
const KEY: usize = 4;

/// One group: (prefix, term) pairs sharing their first `KEY` bytes.
type Group<T> = Box<[(Box<str>, T)]>;

/// Anchor prefix terms (`T`: a term id) by normalised prefix (see the
/// module docs).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct PrefixIndex<T> {
    /// First two bytes of every prefix: most tokens are rejected here.
    heads: Heads,
    /// Prefixes of at least `KEY` bytes by their first `KEY` bytes; each
    /// group holds (prefix, term) pairs.
    long: FastMap<[u8; KEY], Group<T>>,
    /// Prefixes shorter than `KEY` bytes, and their distinct lengths.
    short: FastMap<Box<str>, T>,
    short_lens: Vec<usize>,
}

impl<T> Default for PrefixIndex<T> {
    fn default() -> Self {
        PrefixIndex {
            heads: Heads::default(),
            long: FastMap::default(),
            short: FastMap::default(),
            short_lens: Vec::new(),
        }
    }
}

impl<T: Copy + Ord> PrefixIndex<T> {
    pub fn new(prefixes: FastMap<Box<str>, T>) -> PrefixIndex<T> {
        let mut ix = PrefixIndex::default();
        let mut groups: FastMap<[u8; KEY], Vec<(Box<str>, T)>> = FastMap::default();
        for (prefix, term) in prefixes {
            ix.heads.insert(&prefix, true);
            match key(&prefix) {
                Some(k) => groups.entry(k).or_default().push((prefix, term)),
                None => {
                    ix.short_lens.push(prefix.len());
                    ix.short.insert(prefix, term);
                }
            }
        }
        ix.short_lens.sort_unstable();
        ix.short_lens.dedup();
        ix.short.shrink_to_fit();
        ix.long = groups
            .into_iter()
            .map(|(k, mut v)| {
                v.sort_unstable();
                (k, v.into_boxed_slice())
            })
            .collect();
        ix.long.shrink_to_fit();
        ix
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.short.len() + self.long.values().map(|g| g.len()).sum::<usize>()
    }

    /// Call `found` with each prefix term that `token` starts with.
    #[inline]
    pub fn each_match(&self, token: &str, mut found: impl FnMut(T)) {
        if !self.heads.may_contain(token) {
            return;
        }
        for &len in &self.short_lens {
            if len > token.len() {
                break;
            }
            if let Some(&t) = token.get(..len).and_then(|head| self.short.get(head)) {
                found(t);
            }
        }
        let Some(group) = key(token).and_then(|k| self.long.get(&k)) else {
            return;
        };
        for (prefix, t) in group.iter() {
            // Equal bytes up to a whole-char prefix end at a char boundary
            // of the token too.
            if token.as_bytes().starts_with(prefix.as_bytes()) {
                found(*t);
            }
        }
    }
}

/// The first `KEY` bytes of `s`, if it has that many.
fn key(s: &str) -> Option<[u8; KEY]> {
    s.as_bytes().get(..KEY)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    type TermId = u32;

    fn index(prefixes: &[&str]) -> PrefixIndex<TermId> {
        PrefixIndex::new(
            prefixes
                .iter()
                .enumerate()
                .map(|(i, p)| (Box::from(*p), i as TermId))
                .collect(),
        )
    }

    fn found(ix: &PrefixIndex<TermId>, token: &str) -> Vec<TermId> {
        let mut v = Vec::new();
        ix.each_match(token, |t| v.push(t));
        v.sort_unstable();
        v
    }

    #[test]
    fn finds_every_prefix_a_token_starts_with() {
        let ix = index(&["armen", "arm", "armenia", "azer", "ab", "türk", "x"]);
        assert_eq!(ix.len(), 7);
        let cases: &[(&str, &[TermId])] = &[
            ("armenian", &[0, 1, 2]),
            ("armen", &[0, 1]),
            ("armenia", &[0, 1, 2]),
            ("arm", &[1]),
            ("ar", &[]),
            ("azerbaijan", &[3]),
            ("azer", &[3]),
            ("aze", &[]),
            ("abc", &[4]),
            ("türkiye", &[5]),
            ("tür", &[]),
            ("x", &[6]),
            ("xyz", &[6]),
            ("", &[]),
            ("ямал", &[]),
        ];
        for (token, want) in cases {
            assert_eq!(found(&ix, token), *want, "token {token:?}");
        }
    }

    #[test]
    fn a_key_inside_a_char_needs_the_whole_char() {
        // "aéb": the 4-byte key "aé" + half of nothing; "aé" is 3 bytes.
        let ix = index(&["aéb", "aéc"]);
        assert_eq!(found(&ix, "aébx"), [0]);
        assert_eq!(found(&ix, "aé"), Vec::<TermId>::new());
    }
}
