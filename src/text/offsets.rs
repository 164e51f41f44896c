//! The map from byte offsets of a cleaned text back to the original text it
//! was made from, and the builder that writes both at once.
//!
//! The clean text is a sequence of segments. A *copied* segment is a
//! byte-for-byte copy of an original span, so every clean offset inside it
//! maps to the same relative offset in the original. A *replaced* segment
//! (a decoded entity, a collapsed whitespace run, the line break standing
//! for a `<p>`) maps as a whole to the original span it replaces.

use std::ops::Range;

/// One run of clean text and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    /// Offset in the clean text where the segment starts; it ends where the
    /// next one starts (or at the end of the clean text).
    clean: usize,
    /// Original span the segment came from.
    orig: usize,
    orig_end: usize,
    /// Byte-for-byte copy (`orig_end - orig` equals the clean length).
    copied: bool,
}

/// Clean text offsets → original text offsets.
///
/// Invariants: segments are sorted by `clean` with strictly increasing
/// starts, their original spans are non-decreasing and lie on char
/// boundaries of the original.
#[derive(Debug, Clone, Default)]
pub(crate) struct OffsetMap {
    segments: Vec<Segment>,
    clean_len: usize,
    original_len: usize,
}

impl OffsetMap {
    /// The map of a text that is an unchanged copy of its original.
    pub(crate) fn identity(len: usize) -> Self {
        let mut map = OffsetMap {
            segments: Vec::new(),
            clean_len: len,
            original_len: len,
        };
        if len > 0 {
            map.segments.push(Segment {
                clean: 0,
                orig: 0,
                orig_end: len,
                copied: true,
            });
        }
        map
    }

    /// Map the clean span `start..end` (both already on char boundaries of
    /// the clean text, `start <= end <= clean_len`) to the original.
    pub(crate) fn map_span(&self, start: usize, end: usize) -> (usize, usize) {
        if self.segments.is_empty() {
            return (0, 0);
        }
        if start == end {
            let at = if start < self.clean_len {
                self.map_start(start)
            } else {
                self.map_end(self.clean_len)
            };
            return (at, at);
        }
        let a = self.map_start(start);
        let b = self.map_end(end).max(a);
        (a, b)
    }

    fn segment_at(&self, clean: usize) -> (Segment, usize) {
        let i = self
            .segments
            .partition_point(|s| s.clean <= clean)
            .saturating_sub(1);
        let seg = self.segments[i];
        let seg_end = self
            .segments
            .get(i + 1)
            .map_or(self.clean_len, |next| next.clean);
        (seg, seg_end)
    }

    /// Original offset where the clean byte at `clean` starts.
    fn map_start(&self, clean: usize) -> usize {
        let (seg, _) = self.segment_at(clean);
        if seg.copied {
            (seg.orig + (clean - seg.clean)).min(seg.orig_end)
        } else {
            seg.orig
        }
        .min(self.original_len)
    }

    /// Original offset where the clean byte just before `clean` ends.
    fn map_end(&self, clean: usize) -> usize {
        let (seg, _) = self.segment_at(clean.saturating_sub(1));
        if seg.copied {
            (seg.orig + (clean - seg.clean)).min(seg.orig_end)
        } else {
            seg.orig_end
        }
        .min(self.original_len)
    }

    /// Keep only the clean byte ranges in `keep` (sorted, disjoint, on char
    /// boundaries) and concatenate them: the map of the resulting text.
    pub(crate) fn select(&self, keep: &[Range<usize>]) -> Self {
        let mut out = OffsetMap {
            segments: Vec::new(),
            clean_len: 0,
            original_len: self.original_len,
        };
        for range in keep {
            let first = self
                .segments
                .partition_point(|s| s.clean <= range.start)
                .saturating_sub(1);
            for i in first..self.segments.len() {
                let seg = self.segments[i];
                let seg_end = self.segments.get(i + 1).map_or(self.clean_len, |n| n.clean);
                if seg.clean >= range.end {
                    break;
                }
                let from = seg.clean.max(range.start);
                let to = seg_end.min(range.end);
                if from >= to {
                    continue;
                }
                let (orig, orig_end) = if seg.copied {
                    let orig = seg.orig + (from - seg.clean);
                    (orig, orig + (to - from))
                } else {
                    (seg.orig, seg.orig_end)
                };
                out.push(orig, orig_end, to - from, seg.copied);
            }
        }
        out
    }

    /// Append `len` clean bytes that came from `orig..orig_end`.
    fn push(&mut self, orig: usize, orig_end: usize, len: usize, copied: bool) {
        if len == 0 {
            return;
        }
        if let Some(last) = self.segments.last_mut()
            && copied
            && last.copied
            && last.orig_end == orig
        {
            last.orig_end = orig_end;
            self.clean_len += len;
            return;
        }
        self.segments.push(Segment {
            clean: self.clean_len,
            orig,
            orig_end,
            copied,
        });
        self.clean_len += len;
    }
}

/// Writes a clean text and its [`OffsetMap`] together.
#[derive(Debug, Default)]
pub(crate) struct CleanBuilder {
    text: String,
    map: OffsetMap,
}

impl CleanBuilder {
    pub(crate) fn new(original_len: usize) -> Self {
        CleanBuilder {
            text: String::new(),
            map: OffsetMap {
                original_len,
                ..OffsetMap::default()
            },
        }
    }

    /// Append `s`, an exact copy of the original starting at `orig`.
    pub(crate) fn copy(&mut self, s: &str, orig: usize) {
        self.text.push_str(s);
        self.map.push(orig, orig + s.len(), s.len(), true);
    }

    /// Append `c`, which stands for the original span `orig`.
    pub(crate) fn replace(&mut self, c: char, orig: Range<usize>) {
        self.text.push(c);
        self.map.push(orig.start, orig.end, c.len_utf8(), false);
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    pub(crate) fn finish(self) -> (String, OffsetMap) {
        (self.text, self.map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_maps_each_span_to_itself() {
        let map = OffsetMap::identity(10);
        for (s, e) in [(0, 0), (0, 10), (3, 7), (10, 10)] {
            assert_eq!(map.map_span(s, e), (s, e));
        }
        assert_eq!(OffsetMap::identity(0).map_span(0, 0), (0, 0));
    }

    #[test]
    fn replaced_segments_map_as_a_whole() {
        // original: "a&amp;b", clean: "a&b"
        let mut b = CleanBuilder::new(7);
        b.copy("a", 0);
        b.replace('&', 1..6);
        b.copy("b", 6);
        let (text, map) = b.finish();
        assert_eq!(text, "a&b");
        assert_eq!(map.map_span(1, 2), (1, 6));
        assert_eq!(map.map_span(0, 3), (0, 7));
        assert_eq!(map.map_span(2, 3), (6, 7));
        assert_eq!(map.map_span(3, 3), (7, 7));
    }

    #[test]
    fn select_composes() {
        let map = OffsetMap::identity(10);
        let sel = map.select(&[1..3, 6..9]);
        assert_eq!(sel.clean_len, 5);
        assert_eq!(sel.map_span(0, 2), (1, 3));
        assert_eq!(sel.map_span(2, 5), (6, 9));
        assert_eq!(sel.map_span(1, 3), (2, 7));
    }
}
