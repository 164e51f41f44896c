//! Table-driven tests of the built-in gazetteer and custom regions.

use super::*;

fn alias<'a>(region: &'a Region, text: &str) -> Option<&'a Alias> {
    region.aliases.iter().find(|a| a.text == text)
}

fn is_cyrillic(s: &str) -> bool {
    s.chars().any(|c| ('\u{400}'..='\u{4ff}').contains(&c))
}

#[test]
fn resolves_codes_and_names() {
    let g = Gazetteer::builtin();
    let cases = [
        ("AZ", "AZ"),
        ("az", "AZ"),
        ("AZE", "AZ"),
        ("Azerbaijan", "AZ"),
        ("Азербайджан", "AZ"),
        ("азербайджан", "AZ"),
        ("Turkey", "TR"),
        ("Türkiye", "TR"),
        ("turkiye", "TR"),
        ("Ivory Coast", "CI"),
        ("Côte d'Ivoire", "CI"),
        ("Czech Republic", "CZ"),
        ("Czechia", "CZ"),
        ("South Korea", "KR"),
        ("Republic of Korea", "KR"),
        ("Russian Federation", "RU"),
        ("Russia", "RU"),
        ("Россия", "RU"),
        ("UK", "GB"),
        ("Great Britain", "GB"),
        ("USA", "US"),
        ("United States", "US"),
        ("Georgia", "GE"),
        ("Грузия", "GE"),
    ];
    for (name, key) in cases {
        assert_eq!(g.resolve(name).map(|r| r.key.as_str()), Some(key), "{name}");
    }
    assert!(g.resolve("Atlantis").is_none());
}

#[test]
fn azerbaijan_has_cities_and_demonyms() {
    let g = Gazetteer::builtin();
    let az = g.resolve("AZ").unwrap();
    assert_eq!(az.tags, ["AZ", "AZE"]);
    for text in [
        "Baku",
        "Баку",
        "Azerbaijani",
        "азербайджанский",
        "азербайджанская",
        "Ganja",
    ] {
        assert!(alias(az, text).is_some(), "AZ lacks {text}");
    }
    assert!(alias(az, "Ганджа").is_some() || alias(az, "Гянджа").is_some());
    assert!(alias(az, "Азербайджане").is_some(), "Russian case forms");
}

#[test]
fn exclusions() {
    let g = Gazetteer::builtin();
    let cases = [
        ("BY", "Minsk Group"),
        ("BY", "Минская группа"),
        ("SD", "South Sudan"),
        ("GN", "Equatorial Guinea"),
        ("GN", "Papua New Guinea"),
        ("MX", "New Mexico"),
        ("JE", "New Jersey"),
        ("IE", "Northern Ireland"),
        ("US", "American Samoa"),
        ("KR", "North Korea"),
        ("FR", "Paris Agreement"),
    ];
    for (key, phrase) in cases {
        let r = g.resolve(key).unwrap();
        assert!(
            r.exclusions.iter().any(|e| e == phrase),
            "{key} should exclude {phrase}"
        );
    }
}

#[test]
fn every_country_is_complete() {
    let g = Gazetteer::builtin();
    assert_eq!(g.regions().len(), 249);
    let capitals = builtin::capitals();
    let without_capital = ["AQ", "BV", "HM", "TK", "UM"];
    for (key, capital) in capitals {
        let r = g.resolve(&key).unwrap();
        assert_eq!(r.key, key);
        assert!(
            r.aliases.iter().any(|a| a.strength == Strength::Strong),
            "{key}: no strong alias"
        );
        assert!(
            r.aliases.iter().any(|a| is_cyrillic(&a.text)),
            "{key}: no Russian alias"
        );
        if without_capital.contains(&key.as_str()) {
            assert!(capital.is_empty(), "{key}");
        } else {
            assert!(
                alias(r, &capital).is_some(),
                "{key}: capital {capital:?} not an alias"
            );
        }
        for a in &r.aliases {
            assert!(
                !a.text.is_empty() && !a.text.starts_with(['~', '=']),
                "{key}: {a:?}"
            );
        }
    }
}

#[test]
fn ambiguous_names_are_guarded() {
    let g = Gazetteer::builtin();
    // (region, alias, weak, exact_case)
    let cases = [
        ("GE", "Georgia", true, false),
        ("GE", "Georgian", true, false),
        ("GE", "Tbilisi", false, false),
        ("GE", "Грузия", false, false),
        ("JO", "Jordan", true, true),
        ("TD", "Chad", true, true),
        ("TR", "Turkey", false, true),
        ("CN", "China", false, true),
        ("US", "US", false, true),
        ("US", "America", true, false),
        ("US", "American", false, false),
        ("GB", "UK", false, true),
        ("GB", "English", true, false),
        ("ES", "Spanish", true, false),
        ("FR", "Nice", true, true),
        ("HR", "Split", true, true),
        ("MV", "Male", true, true),
        ("JM", "Kingston", true, false),
        ("GB", "Birmingham", true, false),
        ("ES", "Valencia", true, false),
        ("CL", "Santiago", true, false),
        ("SC", "Victoria", true, false),
        ("CD", "Congo", true, false),
        ("CG", "Congo", true, false),
        ("KR", "Korea", true, false),
        ("TG", "Того", true, true),
    ];
    for (key, text, weak, exact) in cases {
        let r = g.resolve(key).unwrap();
        let a = alias(r, text).unwrap_or_else(|| panic!("{key} lacks {text}"));
        assert_eq!(a.strength == Strength::Weak, weak, "{key} {text} weak");
        assert_eq!(a.exact_case, exact, "{key} {text} exact_case");
    }
    // Codes are tags, not text aliases, unless they are well-known words.
    let az = g.resolve("AZ").unwrap();
    assert!(alias(az, "AZ").is_none() && alias(az, "AZE").is_none());
}

#[test]
fn custom_regions() {
    let g = Gazetteer::builtin();
    let spec = |name: &str, include: &[&str], terms: &[&str]| CustomRegionSpec {
        name: name.into(),
        include: include.iter().map(|s| s.to_string()).collect(),
        terms: terms.iter().map(|s| s.to_string()).collect(),
    };
    let specs = [
        spec(
            "south-caucasus",
            &["AZ", "Armenia", "Грузия"],
            &["South Caucasus"],
        ),
        spec("sudans", &["SD", "SS"], &[]),
        spec("caucasus-plus", &["south-caucasus", "RU"], &[]),
    ];
    let g2 = g.with_custom(&specs).unwrap();
    let sc = g2.resolve("South-Caucasus").unwrap();
    assert_eq!(sc.key, "south-caucasus");
    assert_eq!(
        sc.tags,
        ["south-caucasus", "AZ", "AZE", "AM", "ARM", "GE", "GEO"]
    );
    for text in ["Baku", "Yerevan", "Tbilisi", "South Caucasus"] {
        assert!(alias(sc, text).is_some(), "{text}");
    }
    assert_eq!(
        alias(sc, "South Caucasus").unwrap().strength,
        Strength::Strong
    );
    assert!(sc.exclusions.iter().any(|e| e == "Georgia Tech"));
    let sudans = g2.resolve("sudans").unwrap();
    assert!(!sudans.exclusions.iter().any(|e| e == "South Sudan"));
    assert!(
        g2.resolve("caucasus-plus")
            .unwrap()
            .tags
            .iter()
            .any(|t| t == "RU")
    );
    // the built-in gazetteer is untouched; codes still resolve to countries
    assert!(g.resolve("south-caucasus").is_none());
    assert_eq!(g2.resolve("AZ").unwrap().key, "AZ");
}

#[test]
fn custom_region_errors() {
    let g = Gazetteer::builtin();
    let spec = |name: &str, include: &[&str]| CustomRegionSpec {
        name: name.into(),
        include: include.iter().map(|s| s.to_string()).collect(),
        terms: vec![],
    };
    let err = g
        .with_custom(&[
            spec("nowhere", &["AZ", "Atlantis", "XX"]),
            spec("Georgia", &["GE"]),
            spec("", &[]),
        ])
        .unwrap_err();
    let unknown = |m: &str| RegionError::UnknownMember {
        region: "nowhere".into(),
        member: m.into(),
    };
    assert_eq!(err[..2], [unknown("Atlantis"), unknown("XX")]);
    assert_eq!(
        err[2],
        RegionError::NameTaken {
            region: "Georgia".into(),
            existing: "GE".into()
        }
    );
    assert_eq!(
        err[3],
        RegionError::Empty {
            region: String::new()
        }
    );
    assert_eq!(
        err[0].to_string(),
        "region `nowhere`: unknown member `Atlantis` (not a country code or name)"
    );
}

#[test]
fn insert_keeps_codes_with_their_country() {
    let mut g = Gazetteer::builtin();
    let before = g.regions().len();
    g.insert(Region {
        key: "AZ".into(),
        tags: vec!["AZ".into()],
        aliases: vec![],
        exclusions: vec![],
    });
    assert_eq!(g.regions().len(), before, "same key replaces");
    assert!(g.resolve("AZ").unwrap().aliases.is_empty());
}
