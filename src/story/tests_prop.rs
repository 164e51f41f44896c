//! Property test: the banded index ([`Clusterer`]) assigns every article
//! to the same story as the naive all-pairs oracle (`naive.rs`), on random
//! sequences of stories, reworded copies, redeliveries and gaps that cross
//! the window.

use super::naive::Naive;
use super::*;
use proptest::prelude::*;

/// Words the texts are made of: a shared topic vocabulary, so different
/// stories overlap, as they do in one news beat.
const VOCAB: &[&str] = &[
    "azerbaijan",
    "armenia",
    "peace",
    "talks",
    "border",
    "minister",
    "foreign",
    "baku",
    "yerevan",
    "treaty",
    "washington",
    "moscow",
    "ceasefire",
    "troops",
    "agreement",
    "summit",
    "sign",
    "resume",
    "deal",
    "envoy",
    "election",
    "parliament",
    "inflation",
    "bank",
    "rate",
    "oil",
    "pipeline",
    "gas",
    "exports",
    "sanctions",
    "the",
    "of",
    "on",
    "said",
    "week",
    "month",
    "president",
    "defence",
    "shelling",
    "accuses",
];

/// One event of the sequence: a new story (its words), a copy of story
/// `n` (mod stories so far) with some words replaced, or a redelivery of
/// an earlier article; then minutes until the next event.
#[derive(Debug, Clone)]
enum Event {
    Story(Vec<usize>),
    Copy {
        of: usize,
        replace: Vec<(usize, usize)>,
    },
    Redeliver(usize),
}

fn event() -> impl Strategy<Value = (Event, i64, usize)> {
    let story = prop::collection::vec(0..VOCAB.len(), 4..16).prop_map(Event::Story);
    let copy = (
        0usize..50,
        prop::collection::vec((0usize..16, 0..VOCAB.len()), 0..5),
    )
        .prop_map(|(of, replace)| Event::Copy { of, replace });
    let redeliver = (0usize..50).prop_map(Event::Redeliver);
    (
        prop_oneof![3 => story, 4 => copy, 1 => redeliver],
        0i64..180,
        0usize..3,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn index_agrees_with_naive(
        events in prop::collection::vec(event(), 1..40),
        threshold in prop::sample::select(vec![0.3, 0.5, 0.7]),
    ) {
        let params = StoryParams { window_ms: 6 * 3_600_000, threshold };
        let mut index = Clusterer::new(params);
        let mut naive = Naive::default();
        let mut stories: Vec<Vec<usize>> = Vec::new();
        // (id, source, words) of every article so far.
        let mut articles: Vec<(String, String, Vec<usize>)> = Vec::new();
        let mut now = 0i64;
        for (i, (event, gap_min, source)) in events.into_iter().enumerate() {
            let (id, source, words) = match event {
                Event::Story(words) => {
                    stories.push(words.clone());
                    (format!("a{i}"), format!("s{source}"), words)
                }
                Event::Copy { of, replace } if !stories.is_empty() => {
                    let mut words = stories[of % stories.len()].clone();
                    for (at, w) in replace {
                        let n = words.len();
                        words[at % n] = w;
                    }
                    (format!("a{i}"), format!("s{source}"), words)
                }
                Event::Redeliver(n) if !articles.is_empty() => {
                    articles[n % articles.len()].clone()
                }
                _ => continue,
            };
            articles.push((id.clone(), source.clone(), words.clone()));
            let text: Vec<&str> = words.iter().map(|&w| VOCAB[w]).collect();
            let shingles = Shingles::of(&[&text.join(" ")]);
            let fast = index.assign(&id, &source, &shingles, now);
            let slow = naive.assign(&params, &id, &source, &shingles, now);
            prop_assert_eq!(&fast, &slow, "article {} {:?} at {} min", id, text, now / 60_000);
            now += gap_min * 60_000;
        }
    }
}
