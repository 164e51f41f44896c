//! Table tests of regions in context ([`super::Context`]) through the real
//! matcher and the built-in gazetteer: when a weak name counts, when it
//! does not; exact-case aliases in all-caps titles; Russian demonym nouns
//! in their case forms.

use super::Gazetteer;
use crate::rules::{Document, Matcher, parse};
use crate::text::{CleanOptions, PreparedField};

/// Whether `rule` matches an article with `title` and `body`.
fn matches(m: &Matcher, title: &str, body: &str) -> bool {
    let p = |s: &str| PreparedField::new(s, CleanOptions { enabled: false });
    let (title, summary, body) = (p(title), p(""), p(body));
    let doc = Document {
        title: &title,
        summary: &summary,
        body: &body,
        language: None,
        source: None,
        url: None,
        regions: &[],
    };
    !m.find(&doc).is_empty()
}

fn check(cases: &[(&str, &str, &str)], expected: bool) {
    let gaz = Gazetteer::builtin();
    let mut failures = Vec::new();
    for &(rule, title, body) in cases {
        let m = Matcher::compile(&[("r".into(), parse(rule).unwrap())], &gaz).unwrap();
        if matches(&m, title, body) != expected {
            failures.push(format!("{rule} | {title} | {body}"));
        }
    }
    assert!(failures.is_empty(), "expected {expected}: {failures:#?}");
}

#[test]
fn weak_names_count_with_context() {
    let cases = [
        // the issue's two texts
        (
            "region:GE",
            "",
            "The Georgian mountain resort of Bakuriani in the Borjomi district expects visitors from Armenia",
        ),
        ("region:GE", "", "New rail lines in Georgia and Azerbaijan"),
        // (a) a strong alias in another field than the one searched
        (
            "title:region:GE",
            "Georgia protests grow",
            "Police in Tbilisi dispersed the crowd",
        ),
        // (b) first-level regions and cities
        (
            "region:GE",
            "Floods in Georgia",
            "Rivers burst their banks in Imereti and Guria",
        ),
        ("region:GE", "", "Georgia's wine exports from Kakheti rose"),
        (
            "region:GE",
            "",
            "Georgians in Zugdidi and Rustavi went to the polls",
        ),
        ("region:GE", "", "Georgia's Black Sea resort of Kobuleti"),
        (
            "region:GE",
            "",
            "South Ossetia's de facto capital Tskhinvali and Georgia",
        ),
        ("region:JO", "", "Refugees in Jordan's Zarqa camp"),
        ("region:TD", "", "Floods in Chad's Mayo-Kebbi-Est province"),
        ("region:MK", "", "Tourism in Macedonia: Ohrid is full"),
        (
            "region:FM",
            "",
            "Micronesia's Pohnpei state declares an emergency",
        ),
        // (c) neighbouring countries, by any strong alias
        ("region:GE", "", "Georgian troops on the border with Russia"),
        ("region:GE", "", "Georgia and Turkey sign a pipeline deal"),
        ("region:GE", "", "Talks between Georgia and Moscow"),
        ("region:GE", "", "Georgia hosts talks with Yerevan"),
        ("region:JO", "", "Jordan and Israel sign a water deal"),
        ("region:JO", "", "Jordan closed its border with Syria"),
        ("region:TD", "", "Sudanese refugees cross into Chad"),
        ("region:TD", "", "Chad and Cameroon agree on the border"),
        ("region:MK", "", "Macedonia and Albania start EU talks"),
        // exact case in an all-caps headline
        ("region:JO", "JORDAN AND ISRAEL SIGN WATER DEAL", ""),
        ("region:TR", "TURKEY RAISES INTEREST RATES", ""),
        ("region:TD", "CHAD: SUDANESE REFUGEES ARRIVE", ""),
        // Russian demonym nouns in their case forms
        ("region:GE", "", "Встреча с грузинами"),
        ("region:GE", "", "Помощь грузинам"),
        ("region:GE", "", "Дом грузина"),
        ("region:GE", "", "Много грузин"),
        ("region:AZ", "", "Встреча с азербайджанцами"),
        ("region:AM", "", "Помощь армянам"),
    ];
    check(&cases, true);
}

#[test]
fn weak_names_do_not_count_without_context() {
    let cases = [
        // no evidence
        ("region:GE", "", "Georgia"),
        ("region:GE", "", "Georgian architecture in London"),
        ("region:GE", "", "Georgia O'Keeffe paintings on show"),
        ("region:TD", "", "Chad said he would visit"),
        ("region:JO", "", "Jordan Peterson lecture sold out"),
        // evidence never counts alone
        ("region:GE", "", "Borjomi mineral water"),
        ("region:GE", "", "Visitors from Armenia and Azerbaijan"),
        ("region:JO", "", "Zarqa camp"),
        // the competing sense is named (competitors win over evidence)
        (
            "region:GE",
            "",
            "Georgia voters in Atlanta and Savannah; Russian hackers",
        ),
        (
            "region:GE",
            "",
            "Storms hit Georgia and Florida; Russian tourists stranded",
        ),
        (
            "region:GE",
            "",
            "Georgia's governor Brian Kemp visits Azerbaijan",
        ),
        ("region:GE", "", "The Georgia Bulldogs beat Tennessee"),
        (
            "region:GE",
            "",
            "A Georgia plant in Columbus hires Azerbaijani workers",
        ),
        ("region:GE", "", "Peach State Georgia buys Turkish steel"),
        ("region:JO", "", "Michael B. Jordan films in Saudi Arabia"),
        ("region:JO", "", "Jordan Henderson joins a Saudi club"),
        ("region:JO", "", "Jim Jordan questions officials about Iraq"),
        ("region:JO", "", "The NBA star Jordan visited Israel"),
        (
            "region:TD",
            "",
            "Chad Kroeger of Nickelback played in Nigeria",
        ),
        (
            "region:MK",
            "",
            "Macedonia and Greece: Thessaloniki festival",
        ),
        (
            "region:MK",
            "",
            "Alexander the Great of Macedonia and Greece",
        ),
        ("region:FM", "", "Micronesia, Melanesia and Polynesia"),
        // exact case: lower case, or a title that is not all caps
        ("region:JO", "", "jordan and israel"),
        ("region:JO", "JORDAN talks with Israel", ""),
        ("region:TR", "TURKEY prices soar", ""),
        ("region:TR", "", "TURKEY RAISES INTEREST RATES"),
        // context is for weak names only: a weak city name is unchanged
        ("region:FR", "", "Nice weather in Spain"),
    ];
    check(&cases, false);
}
