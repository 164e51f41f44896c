//! End-to-end tests of field preparation: HTML to text, boilerplate
//! removal and the offset map back to the original.

use super::{CleanOptions, PreparedField};
use proptest::prelude::*;

/// A real article as scraped (title, body, the site's "Latest news" block
/// and the page's date stamp); paragraphs trimmed, the block complete.
const SEED: &str = "Zakharova: Russia is interested in normalization of Azerbaijan-Armenia relations

Moscow doubts the sincerity of the US statements that it is ready to work within the framework of the OSCE Minsk Group Co-Chairs. This was stated by the official representative of the Russian Foreign Ministry, Maria Zakharova, at the weekly press briefing on Wednesday.
\"I allow myself to doubt the sincerity of the statement by Karen Donfried. If Washington and Paris had considered the unique mediation format of the Minsk Group really important, they would not have allowed ignoring the mandate approved by all participating countries,\" Zakharova said.
According to her, on February 24, they demonstratively cut off, without any consultation, the contacts with the Russian co-chair of the Minsk Group.
\"The Russian side is interested in the normalization of relations between Azerbaijan and Armenia. We will continue to do everything depending on us for the unconditional fulfillment of obligations,\" Zakharova added.
Latest news
Latest newsSerbia’s European Integration: Prospects and Obstacles
21.Oct.2025
Ukrainian Drones Set Fire to Russia’s Largest Gas Plant, Gas Intake from Kazakhstan Suspended
20.Oct.2025
Trump and Zelensky in Washington: The Return of “Hardline Support” Policy
19.Oct.2025
Activist Margretta Mirzoyan on the Political Mood in Armenia
18.Oct.2025
Trump and Putin Prepare to Meet Ahead of Zelensky’s White House Visit: A New Phase of Diplomacy or Pressure on Kyiv?
17.Oct.2025
A Shadow over the Russian-Azerbaijani Thaw: What Lies Behind the Arrest of Former Presidential Chief of Staff Ramiz Mehdiyev?
16.Oct.2025
Russia and Syria: A New Chapter in Relations After the Coup
16.Oct.2025
NATO and EU Join Forces to Build a “Drone Wall”
15.Oct.2025
Trump: New bonds of friendship to join Armenia to Azerbaijan
14.Oct.2025
UK to lift its arms embargo on Armenia, Azerbaijan
14.Oct.2025

25 Oct 2025

";

fn clean(original: &str) -> String {
    PreparedField::new(original, CleanOptions::default()).clean
}

/// Each case: input, texts the clean text must contain, texts it must not.
type Case = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

fn check(cases: &[Case]) {
    for (input, present, absent) in cases {
        let out = clean(input);
        for p in *present {
            assert!(
                out.contains(p),
                "{p:?} missing from {out:?} (input {input:?})"
            );
        }
        for a in *absent {
            assert!(!out.contains(a), "{a:?} left in {out:?} (input {input:?})");
        }
    }
}

#[test]
fn seed_article_loses_its_latest_news_block() {
    let out = clean(SEED);
    for word in ["Minsk Group", "Azerbaijan", "Zakharova", "Zakharova added."] {
        assert!(out.contains(word), "{word:?} missing");
    }
    for word in [
        "Trump",
        "NATO",
        "Serbia",
        "Kazakhstan",
        "Latest news",
        "2025",
    ] {
        assert!(!out.contains(word), "{word:?} kept");
    }
    assert!(out.ends_with("Zakharova added."), "{out:?}");
    // Without the heading the dated list is still recognised.
    let unheaded = SEED.replace("Latest news\nLatest news", "");
    let out = clean(&unheaded);
    assert!(out.ends_with("Zakharova added."), "{out:?}");
}

#[test]
fn boilerplate_styles() {
    check(&[
        (
            "Talks resumed in Baku.\nRelated articles\n• Armenia and Azerbaijan sign deal\n• Minsk Group meets\n• Trump visits Moscow",
            &["Talks resumed in Baku."],
            &["Related", "Trump", "deal"],
        ),
        (
            "Talks resumed in Baku.\nRead more: Trump meets Putin in Alaska\nThe ministers agreed to meet again.",
            &["Talks resumed", "agreed to meet again."],
            &["Trump", "Read more"],
        ),
        (
            "Переговоры возобновились в Баку.\nЧитайте также:\nТрамп встретился с Путиным\n21 октября 2025\nНАТО усиливает фланг",
            &["Переговоры возобновились в Баку."],
            &["Трамп", "НАТО", "Читайте"],
        ),
        (
            "Talks resumed.\nMost popular\nTrump visits Paris\n14:30\nNATO summit ends\n13:05",
            &["Talks resumed."],
            &["Trump", "NATO", "popular"],
        ),
        (
            "Talks resumed.\nYou may also like\n\nTrump visits Paris\nNATO summit ends",
            &["Talks resumed."],
            &["Trump", "NATO"],
        ),
        (
            "<article><p>Talks resumed in Baku.</p><aside class=\"related\"><a>Trump wins</a></aside><p>Second paragraph.</p></article>",
            &["Talks resumed in Baku.", "Second paragraph."],
            &["Trump"],
        ),
        (
            "<div><p>Talks resumed.</p><ul class=\"related-links\"><li><a href=\"/x\">NATO summit</a></li><li>Trump</li></ul></div>",
            &["Talks resumed."],
            &["NATO", "Trump"],
        ),
        (
            "<p>Talks resumed.</p><footer>Copyright Trump Media</footer><nav>NATO</nav>",
            &["Talks resumed."],
            &["Trump", "NATO", "Copyright"],
        ),
        (
            "<p>Talks resumed.</p><div id=\"share-buttons\">Share on Trump</div><div class=\"newsletter\">Subscribe NATO</div><div class=\"ad-slot\">Buy</div>",
            &["Talks resumed."],
            &["Trump", "NATO", "Buy"],
        ),
    ]);
}

#[test]
fn real_paragraphs_are_kept() {
    let last = "Read more about this at the ministry's website, where the full transcript of the briefing, including the answers on Armenia, was published on Thursday.";
    let text = format!("Talks resumed in Baku.\n{last}");
    assert_eq!(clean(&text), text);
    let short_end = "Talks resumed in Baku.\nThe ministers met.\nThey agreed.\nThey left.";
    assert_eq!(clean(short_end), short_end);
    let bullets = "The deal has three points:\n- Armenia opens the road\n- Azerbaijan frees prisoners\n- Russia guards the border\n- Talks continue in June";
    assert_eq!(clean(bullets), bullets);
    // A text that is nothing but a list is not emptied.
    let only_list = "Latest news\nTrump visits Paris\n21.Oct.2025";
    assert!(clean(only_list).contains("Trump visits Paris"));
}

#[test]
fn html_to_text() {
    let cases: &[(&str, &str)] = &[
        ("<b>Min</b>sk", "Minsk"),
        ("Minsk<br>Group", "Minsk\nGroup"),
        ("<p>Minsk</p><p>Group</p>", "Minsk\nGroup"),
        ("<li>A</li><li>B</li>", "A\nB"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("&#1040;&#x41;<i>x</i>", "АAx"),
        (
            "<p>Minsk&nbsp;Group &mdash; &laquo;OSCE&raquo; &quot;q&quot;</p>",
            "Minsk Group — «OSCE» \"q\"",
        ),
        ("<p>a &bogus; &#xZZ; & b</p>", "a &bogus; &#xZZ; & b"),
        ("<a title=\"Trump\" href='/x?a=1&b=2'>x</a>", "x"),
        (
            "<p>a</p><script>var Trump = '<p>';</script><style>p{}</style><!-- NATO -->b",
            "a\nb",
        ),
        (
            "<!DOCTYPE html><html><head><title>T</title></head><body><p>Text</p></body></html>",
            "Text",
        ),
        ("<p>\n   Minsk\n   Group\n</p>", "Minsk Group"),
        ("<b>x</b>\nsecond line", "x\nsecond line"),
        ("a < b and c > d", "a < b and c > d"),
        ("if a<b and c>d", "if a<b and c>d"),
        ("x <![CDATA[junk]]> y", "x y"),
        ("<p>unclosed <b>bold <i>text", "unclosed bold text"),
        (
            "<p>a</p><svg><title>NATO</title><text>x</text></svg><p>b",
            "a\nb",
        ),
        ("text <", "text <"),
        // Malformed input: whatever is not markup stays text.
        ("<p>a</p", "a</p"),
        ("<p>x<p>y", "x\ny"),
        ("<<p>>", "<\n>"),
        ("<b>a</b >", "a"),
        ("<p>a <a href='x>b</p>", "a b"),
        ("<p>a</p><!-- never closed <p>b", "a"),
    ];
    for (input, want) in cases {
        assert_eq!(clean(input), *want, "input {input:?}");
    }
}

#[test]
fn offsets_map_back_to_the_original() {
    // (original, word in clean, expected original slice)
    let cases: &[(&str, &str, &str)] = &[
        ("<b>Min</b>sk Group", "Group", "Group"),
        ("<b>Min</b>sk Group", "Minsk", "Min</b>sk"),
        ("Tom &amp; Jerry", "&", "&amp;"),
        ("Tom &amp; Jerry", "Jerry", "Jerry"),
        ("<p>Az&#1077;rbaijan</p>", "Azеrbaijan", "Az&#1077;rbaijan"),
        ("<p>Minsk&nbsp;Group</p>", "Minsk Group", "Minsk&nbsp;Group"),
        ("<p>Talks</p><p>Baku</p>", "Talks\nBaku", "Talks</p><p>Baku"),
        (
            "Zakharova: Russia\nRead more: X\nThe Minsk Group met.",
            "Minsk",
            "Minsk",
        ),
    ];
    for (original, word, want) in cases {
        let f = PreparedField::new(original, CleanOptions::default());
        let start = f
            .clean
            .find(word)
            .unwrap_or_else(|| panic!("{word:?} not in {:?}", f.clean));
        let (s, e) = f.to_original(start, start + word.len());
        assert_eq!(&original[s..e], *want, "{word:?} in {original:?}");
    }
    let f = PreparedField::new(SEED, CleanOptions::default());
    for t in &f.tokens {
        let (s, e) = f.to_original(t.start, t.end);
        assert_eq!(&SEED[s..e], &f.clean[t.start..t.end]);
    }
}

#[test]
fn disabled_cleaning_is_identity() {
    for original in [SEED, "<b>Min</b>sk &amp;", "", "Read more: x"] {
        let f = PreparedField::new(original, CleanOptions { enabled: false });
        assert_eq!(f.clean, original);
        assert_eq!(f.to_original(0, original.len()), (0, original.len()));
        assert_eq!(
            f.to_original(2, 5.min(original.len())),
            (2.min(original.len()), 5.min(original.len()))
        );
    }
}

#[test]
fn to_original_tolerates_bad_spans() {
    let f = PreparedField::new("<p>Türkiye &amp; Минск</p>", CleanOptions::default());
    for (s, e) in [(0, 0), (2, 3), (5, 1), (0, 999), (999, 999), (1, 2)] {
        let (a, b) = f.to_original(s, e);
        assert!(a <= b, "{s}..{e}");
        assert!(f.clean.len() + 100 > b);
    }
}

/// HTML-ish fragments to build random documents from.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<p>".to_string()),
        Just("</p>".to_string()),
        Just("<b>".to_string()),
        Just("<br/>".to_string()),
        Just("<div class=\"related\">".to_string()),
        Just("</div>".to_string()),
        Just("<script>".to_string()),
        Just("</script>".to_string()),
        Just("<!--".to_string()),
        Just("-->".to_string()),
        Just("&amp;".to_string()),
        Just("&#x41;".to_string()),
        Just("&#".to_string()),
        Just("Latest news\n".to_string()),
        Just("Read more: ".to_string()),
        Just("21.Oct.2025\n".to_string()),
        "[a-zA-Zé Ж\n<>&;#/!=\"'-]{0,8}",
        any::<String>(),
    ]
}

proptest! {
    #[test]
    fn plain_text_tokens_map_to_themselves(
        lines in prop::collection::vec(prop_oneof![
            "[A-Za-zÀ-ÿА-я0-9 ,.:?’-]{0,40}".boxed(),
            Just("Read more: Talks in Baku".to_string()).boxed(),
            Just("Latest news".to_string()).boxed(),
            Just("21.Oct.2025".to_string()).boxed(),
            Just("Trump visits Paris".to_string()).boxed(),
            Just("The minister spoke in Baku.".to_string()).boxed(),
        ], 0..12),
    ) {
        let original = lines.join("\n");
        let f = PreparedField::new(&original, CleanOptions::default());
        for t in &f.tokens {
            let (a, b) = f.to_original(t.start, t.end);
            prop_assert_eq!(&original[a..b], &f.clean[t.start..t.end]);
        }
    }

    #[test]
    fn never_panics_and_maps_to_char_boundaries(
        parts in prop::collection::vec(fragment(), 0..24),
        spans in prop::collection::vec((0usize..400, 0usize..400), 0..8),
    ) {
        let original = parts.concat();
        let f = PreparedField::new(&original, CleanOptions::default());
        let check = |s: usize, e: usize| {
            let (a, b) = f.to_original(s, e);
            prop_assert!(a <= b && b <= original.len(), "{s}..{e} -> {a}..{b}");
            prop_assert!(original.is_char_boundary(a) && original.is_char_boundary(b));
            Ok(())
        };
        for &(s, e) in &spans {
            check(s, e)?;
        }
        for t in &f.tokens {
            check(t.start, t.end)?;
        }
        check(0, f.clean.len())?;
    }
}
