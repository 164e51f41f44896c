//! Table tests: reworded wire copies of one story (different outlets,
//! 70–90 % of their words shared) become one story; different stories on
//! the same topic stay apart; the window, redeliveries and source counts.

use super::*;

const HOUR_MS: i64 = 3_600_000;

fn params() -> StoryParams {
    StoryParams {
        window_ms: 6 * HOUR_MS,
        threshold: 0.5,
    }
}

/// (label, source, title, summary)
type Copy = (&'static str, &'static str, &'static str, &'static str);

const TALKS_REUTERS: Copy = (
    "talks/reuters",
    "reuters.com",
    "Azerbaijan and Armenia agree to resume peace talks in Washington next month",
    "The foreign ministers of Azerbaijan and Armenia agreed on Tuesday to resume peace talks in \
     Washington next month, the U.S. State Department said, after a year-long pause in \
     negotiations over a border deal.",
);
const TALKS_AP: Copy = (
    "talks/ap",
    "apnews.com",
    "Armenia, Azerbaijan to restart peace negotiations in Washington",
    "Armenia and Azerbaijan have agreed to restart peace talks in Washington next month after a pause of more than a year in negotiations over a border deal, the U.S. State Department announced on Tuesday, citing both foreign ministers.",
);
const TALKS_LOCAL: Copy = (
    "talks/local",
    "news.example.az",
    "Azerbaijan and Armenia to resume peace talks in Washington, State Department says",
    "The foreign ministers of Azerbaijan and Armenia will resume peace talks in Washington next month, ending more than a year of stalled negotiations over a border deal, the U.S. State Department said on Tuesday.",
);
const SHELLING: Copy = (
    "shelling",
    "reuters.com",
    "Azerbaijan accuses Armenia of shelling its positions on the border",
    "Azerbaijan's defence ministry said on Wednesday that Armenian forces had fired on its \
     positions along the border, an accusation Armenia's defence ministry denied, days before \
     planned peace talks.",
);
const TREATY: Copy = (
    "treaty",
    "apnews.com",
    "Armenia's prime minister says peace treaty with Azerbaijan is ready to sign",
    "Armenian Prime Minister Nikol Pashinyan said on Thursday the text of a peace treaty with \
     Azerbaijan was ready to be signed and called on Baku to set a date for the signing.",
);
const ZAKHAROVA_TASS: Copy = (
    "zakharova/tass",
    "tass.com",
    "Zakharova: Russia is interested in normalization of Azerbaijan-Armenia relations",
    "Russian Foreign Ministry spokeswoman Maria Zakharova said on Friday that Moscow is \
     interested in the normalization of relations between Azerbaijan and Armenia and is ready \
     to help.",
);
const ZAKHAROVA_REUTERS: Copy = (
    "zakharova/reuters",
    "reuters.com",
    "Moscow wants Azerbaijan and Armenia to normalize relations, Zakharova says",
    "Moscow is interested in normalizing ties between Azerbaijan and Armenia and stands ready to help, Russian Foreign Ministry spokeswoman Maria Zakharova told reporters on Friday.",
);
const RATE_RUSSIA: Copy = (
    "rate/russia",
    "reuters.com",
    "Russia's central bank raises key interest rate to 21% to fight inflation",
    "Russia's central bank raised its key interest rate by 200 basis points to 21% on Friday, \
     its highest level in two decades, as it tries to curb persistent inflation.",
);
const RATE_RUSSIA_2: Copy = (
    "rate/russia-2",
    "ft.com",
    "Bank of Russia hikes key rate to 21% to fight persistent inflation",
    "The Bank of Russia on Friday raised its key interest rate by 200 basis points to 21%, the highest level in two decades, in an effort to curb inflation.",
);
const RATE_TURKEY: Copy = (
    "rate/turkey",
    "reuters.com",
    "Turkey's central bank holds key interest rate at 50% as inflation slows",
    "Turkey's central bank kept its key interest rate unchanged at 50% on Thursday, saying \
     inflation was slowing, and signalled it could start cutting rates early next year.",
);

fn shingles_of(c: &Copy) -> Shingles {
    shingles(c.2, c.3, "")
}

/// The share of `a`'s words (title + lead, as the tokenizer reads them)
/// that `b` has too.
fn shared_words(a: &Copy, b: &Copy) -> f64 {
    let words = |c: &Copy| -> std::collections::HashSet<String> {
        crate::text::tokenize(&format!("{} {}", c.2, c.3))
            .into_iter()
            .map(|t| t.norm)
            .collect()
    };
    let (wa, wb) = (words(a), words(b));
    wa.intersection(&wb).count() as f64 / wa.len() as f64
}

#[test]
fn reworded_wire_copies_are_one_story() {
    let pairs = [
        (TALKS_REUTERS, TALKS_AP),
        (TALKS_REUTERS, TALKS_LOCAL),
        (TALKS_AP, TALKS_LOCAL),
        (ZAKHAROVA_TASS, ZAKHAROVA_REUTERS),
        (RATE_RUSSIA, RATE_RUSSIA_2),
    ];
    for (a, b) in pairs {
        let shared = shared_words(&a, &b);
        assert!(
            (0.7..=0.9).contains(&shared),
            "{} / {}: fixture shares {shared:.2} of its words, not 70–90 %",
            a.0,
            b.0
        );
        let sim = shingles_of(&a).similarity(&shingles_of(&b));
        let mut c = Clusterer::new(params());
        let first = c.assign(a.0, a.1, &shingles_of(&a), 0).unwrap();
        let second = c.assign(b.0, b.1, &shingles_of(&b), HOUR_MS).unwrap();
        assert!(
            first.first && !second.first,
            "{} / {}: sim {sim:.2}",
            a.0,
            b.0
        );
        assert_eq!(second.story, first.story, "{} / {}: sim {sim:.2}", a.0, b.0);
        assert_eq!(second.sources, 2);
    }
}

#[test]
fn different_stories_on_one_topic_stay_apart() {
    let pairs = [
        (TALKS_REUTERS, SHELLING),
        (TALKS_REUTERS, TREATY),
        (TALKS_AP, TREATY),
        (SHELLING, TREATY),
        (ZAKHAROVA_TASS, TALKS_REUTERS),
        (RATE_RUSSIA, RATE_TURKEY),
        (RATE_RUSSIA_2, RATE_TURKEY),
    ];
    for (a, b) in pairs {
        let sim = shingles_of(&a).similarity(&shingles_of(&b));
        let mut c = Clusterer::new(params());
        let first = c.assign(a.0, a.1, &shingles_of(&a), 0).unwrap();
        let second = c.assign(b.0, b.1, &shingles_of(&b), 60_000).unwrap();
        assert!(second.first, "{} / {}: sim {sim:.2}", a.0, b.0);
        assert_ne!(second.story, first.story);
    }
}

#[test]
fn a_day_of_articles_makes_one_story_per_event() {
    let day = [
        TALKS_REUTERS,
        SHELLING,
        RATE_RUSSIA,
        TALKS_AP,
        ZAKHAROVA_TASS,
        TREATY,
        RATE_TURKEY,
        TALKS_LOCAL,
        ZAKHAROVA_REUTERS,
        RATE_RUSSIA_2,
    ];
    let mut c = Clusterer::new(params());
    let mut stories: Vec<(String, Vec<&str>)> = Vec::new();
    for (i, a) in day.iter().enumerate() {
        let got = c
            .assign(a.0, a.1, &shingles_of(a), i as i64 * 60_000)
            .unwrap();
        match stories.iter_mut().find(|(id, _)| *id == got.story) {
            Some((_, members)) => members.push(a.0),
            None => stories.push((got.story, vec![a.0])),
        }
    }
    let groups: Vec<Vec<&str>> = stories.into_iter().map(|(_, m)| m).collect();
    assert_eq!(
        groups,
        [
            vec!["talks/reuters", "talks/ap", "talks/local"],
            vec!["shelling"],
            vec!["rate/russia", "rate/russia-2"],
            vec!["zakharova/tass", "zakharova/reuters"],
            vec!["treaty"],
            vec!["rate/turkey"],
        ]
    );
}

#[test]
fn the_window_redeliveries_and_sources() {
    let mut c = Clusterer::new(params());
    let first = c
        .assign("a", "reuters.com", &shingles_of(&TALKS_REUTERS), 0)
        .unwrap();
    // A redelivered article keeps its answer.
    let again = c
        .assign("a", "reuters.com", &shingles_of(&TALKS_REUTERS), HOUR_MS)
        .unwrap();
    assert_eq!(again, first);
    // The same outlet again counts once.
    let same_outlet = c
        .assign("a2", "reuters.com", &shingles_of(&TALKS_AP), HOUR_MS)
        .unwrap();
    assert_eq!((same_outlet.first, same_outlet.sources), (false, 1));
    let other = c
        .assign("b", "apnews.com", &shingles_of(&TALKS_AP), 2 * HOUR_MS)
        .unwrap();
    assert_eq!((other.first, other.sources), (false, 2));
    assert_eq!(c.sources(&first.story), 2);
    // After the window a copy starts a new story.
    let late = c
        .assign(
            "c",
            "news.example.az",
            &shingles_of(&TALKS_LOCAL),
            6 * HOUR_MS,
        )
        .unwrap();
    assert!(late.first);
    assert_ne!(late.story, first.story);
    // No words, no story.
    assert_eq!(c.assign("d", "x", &shingles("", "", ""), 0), None);
}

#[test]
fn leads_sources_and_labels() {
    assert_eq!(lead("A summary.", "The body"), "A summary.");
    assert_eq!(lead("  ", "The body"), "The body");
    let body = "word ".repeat(200);
    let l = lead("", &body);
    assert!(
        l.len() <= LEAD_FROM_BODY_CHARS && l.ends_with("word"),
        "{l:?}"
    );
    assert_eq!(source_of(Some(" Reuters.com "), None, "a"), "reuters.com");
    assert_eq!(
        source_of(None, Some("https://www.AP.org/x"), "a"),
        "www.ap.org"
    );
    assert_eq!(source_of(None, Some("not a url"), "a1"), "a1");
    assert_eq!(plus_sources(0), None);
    assert_eq!(plus_sources(1).as_deref(), Some("+1 source"));
    assert_eq!(plus_sources(4).as_deref(), Some("+4 sources"));
}

/// Prints every fixture pair's similarity (`-- --nocapture`), for tuning
/// `story.similarity`.
#[test]
fn similarity_table() {
    let all = [
        TALKS_REUTERS,
        TALKS_AP,
        TALKS_LOCAL,
        SHELLING,
        TREATY,
        ZAKHAROVA_TASS,
        ZAKHAROVA_REUTERS,
        RATE_RUSSIA,
        RATE_RUSSIA_2,
        RATE_TURKEY,
    ];
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            let sim = shingles_of(a).similarity(&shingles_of(b));
            assert!((0.0..=1.0).contains(&sim));
            println!(
                "{:>18} {:>18}  words {:.2}  sim {sim:.2}",
                a.0,
                b.0,
                shared_words(a, b)
            );
        }
    }
}
