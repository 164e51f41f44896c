//! Feed list validation and fixture documents → article events.

use super::item::{self, ItemEvent};
use super::list::{FeedList, FeedSpec, parse_interval};
use crate::article;
use crate::regions::Gazetteer;
use std::path::Path;
use std::time::Duration;

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/feeds")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn spec(url: &str) -> FeedSpec {
    FeedSpec {
        url: url.parse().unwrap(),
        interval: None,
        source: None,
        language: None,
        regions: Vec::new(),
    }
}

/// Events of fixture `name` as served from `url`, decoded back.
fn articles(name: &str, spec: &FeedSpec) -> Vec<(ItemEvent, article::Article)> {
    let feed = item::parse(&fixture(name), &spec.url).unwrap();
    item::events(&feed, spec, article::DEFAULT_MAX_BYTES)
        .into_iter()
        .map(|e| {
            let e = e.unwrap();
            let a = article::decode(&e.payload, article::DEFAULT_MAX_BYTES).unwrap();
            (e, a)
        })
        .collect()
}

const FEED: &str = "http://127.0.0.1:8080/feed";

fn ids(events: &[(ItemEvent, article::Article)]) -> Vec<&str> {
    events.iter().map(|(e, _)| e.id.as_str()).collect()
}

/// RSS 2.0 with CDATA HTML: oldest first, ids from guid else link, the
/// content:encoded HTML as body, the description as plain-text summary.
#[test]
fn rss_items_become_articles() {
    let got = articles("rss2-cdata.xml", &spec(FEED));
    assert_eq!(
        ids(&got),
        [
            "https://caucasus-wire.example/2025/10/23/tbilisi-marathon/",
            "https://caucasus-wire.example/2025/10/24/minsk-group/",
            "https://caucasus-wire.example/?p=10231",
        ]
    );
    let (_, baku) = &got[2];
    assert_eq!(baku.title, "Baku hosts regional energy ministers");
    assert_eq!(baku.body_format, Some(article::BodyFormat::Html));
    assert!(
        baku.body
            .starts_with("<p>Ministers from six countries met in <strong>Baku</strong>")
    );
    assert_eq!(
        baku.summary,
        "Ministers from six countries met in Baku on Saturday…"
    );
    assert_eq!(baku.language.as_deref(), Some("en"), "the channel's en-US");
    assert_eq!(baku.tags, ["Energy", "Azerbaijan"]);
    assert_eq!(
        baku.published_at.unwrap().to_rfc3339(),
        "2025-10-25T09:00:00+00:00"
    );
    let (_, minsk) = &got[1];
    assert_eq!(
        minsk.title,
        "OSCE Minsk Group co-chairs \u{201c}ready to help\u{201d}"
    );
    let (_, marathon) = &got[0];
    assert_eq!(
        marathon.body, "<p>More than 12,000 runners took part.</p>",
        "no content: the description"
    );
    assert_eq!(marathon.summary, "");
}

/// Atom: an HTML title is reduced to text; xhtml content keeps its markup
/// without the wrapping div.
#[test]
fn atom_items_become_articles() {
    let got = articles("atom-xhtml.xml", &spec(FEED));
    assert_eq!(
        ids(&got),
        [
            "tag:monitor.example,2025-10-24:/sheki-festival",
            "tag:monitor.example,2025-10-25:/border-talks",
        ]
    );
    let (_, talks) = &got[1];
    assert_eq!(talks.title, "Azerbaijan & Armenia resume border talks");
    assert!(
        talks
            .body
            .starts_with("<p>Delegations from <b>Azerbaijan</b>"),
        "{}",
        talks.body
    );
    assert!(!talks.body.contains("<div"), "{}", talks.body);
    assert_eq!(talks.summary, "Delegations met for a third round.");
    assert_eq!(
        talks.published_at.unwrap().to_rfc3339(),
        "2025-10-25T03:45:00+00:00"
    );
    assert_eq!(
        talks.url.as_deref(),
        Some("https://monitor.example/2025/10/border-talks")
    );
}

/// JSON Feed 1.1: a URI id as is, another id qualified by the feed URL;
/// content_text is a plain-text body.
#[test]
fn json_feed_items_become_articles() {
    let got = articles("jsonfeed-1.1.json", &spec(FEED));
    assert_eq!(
        ids(&got),
        [
            "http://127.0.0.1:8080/feed#2025-10-24-caspian",
            "https://briefing.example/2025/10/25/ceasefire-holds",
        ]
    );
    assert_eq!(got[0].1.body_format, Some(article::BodyFormat::Text));
    assert_eq!(got[1].1.body_format, Some(article::BodyFormat::Html));
    assert_eq!(
        got[1].1.summary,
        "Officials say the ceasefire held overnight."
    );
}

/// Repeated guids: the first wins; an item with neither guid nor link gets
/// a hash of feed, title and date, the same on every poll.
#[test]
fn repeated_guids_and_missing_ids() {
    let got = articles("rss2-duplicate-guids.xml", &spec(FEED));
    let ids = ids(&got);
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(
        ids[1..],
        [
            "http://127.0.0.1:8080/feed#roundup-0002",
            "http://127.0.0.1:8080/feed#roundup-0001"
        ]
    );
    assert!(ids[0].starts_with("urn:newsalert:item:"), "{}", ids[0]);
    assert_eq!(
        got[2].1.title, "Gas price cap debated in Baku",
        "the older copy is published first"
    );
    let again = articles("rss2-duplicate-guids.xml", &spec(FEED));
    assert_eq!(again[0].0.id, ids[0]);
    let elsewhere = articles(
        "rss2-duplicate-guids.xml",
        &spec("http://other.example/feed"),
    );
    assert_ne!(
        elsewhere[0].0.id, ids[0],
        "another feed's untitled item is another item"
    );
}

/// `feeds.toml` settings win over the feed's; a body too large for an
/// event is cut short; an over-long guid is hashed.
#[test]
fn overrides_size_limit_and_long_ids() {
    let mut s = spec(FEED);
    s.language = Some("ru".into());
    s.source = Some("caucasus-wire.example".into());
    s.regions = vec!["AZ".into(), "GE".into()];
    let got = articles("rss2-cdata.xml", &s);
    let a = &got[2].1;
    assert_eq!(a.language.as_deref(), Some("ru"));
    assert_eq!(a.source.as_deref(), Some("caucasus-wire.example"));
    assert_eq!(a.regions, ["AZ", "GE"]);

    let feed = item::parse(&fixture("rss2-cdata.xml"), &s.url).unwrap();
    let small = 900;
    for e in item::events(&feed, &s, small) {
        let e = e.unwrap();
        assert!(e.payload.len() <= small, "{}", e.payload.len());
        article::decode(&e.payload, small).unwrap();
    }

    let long = format!("https://example.org/{}", "x".repeat(300));
    let json = serde_json::json!({"version": "https://jsonfeed.org/version/1.1", "title": "t",
        "items": [{"id": long, "title": "Long id"}]});
    let feed = item::parse(json.to_string().as_bytes(), &s.url).unwrap();
    let events = item::events(&feed, &s, article::DEFAULT_MAX_BYTES);
    let id = &events[0].as_ref().unwrap().id;
    assert!(
        id.starts_with("urn:newsalert:sha256:") && id.len() < 100,
        "{id}"
    );
}

/// Untitled items are titled with the start of their text; items with
/// nothing to show are reported, not published.
#[test]
fn untitled_items() {
    let words = "word ".repeat(60);
    let json = serde_json::json!({"version": "https://jsonfeed.org/version/1.1", "title": "t",
        "items": [{"id": "a:1", "content_html": format!("<p>{words}</p>")}, {"id": "a:2", "url": "https://x.example/2"}]});
    let feed = item::parse(json.to_string().as_bytes(), &spec(FEED).url).unwrap();
    let events = item::events(&feed, &spec(FEED), article::DEFAULT_MAX_BYTES);
    let (ok, err): (Vec<_>, Vec<_>) = events.into_iter().partition(Result::is_ok);
    let first =
        article::decode(&ok[0].as_ref().unwrap().payload, article::DEFAULT_MAX_BYTES).unwrap();
    assert!(
        first.title.starts_with("word word") && first.title.ends_with("word…"),
        "{}",
        first.title
    );
    assert!(first.title.chars().count() <= 121);
    let err = err[0].as_ref().unwrap_err();
    assert!(err.contains("a:2") && err.contains("no title"), "{err}");
}

#[test]
fn malformed_documents_are_errors() {
    for bytes in [
        fixture("malformed.xml"),
        b"<html><body>Not a feed</body></html>".to_vec(),
        b"".to_vec(),
    ] {
        let err = item::parse(&bytes, &spec(FEED).url).unwrap_err();
        assert!(
            err.starts_with("not a valid RSS, Atom or JSON feed"),
            "{err}"
        );
    }
}

#[test]
fn intervals() {
    let secs = Duration::from_secs;
    for (text, want) in [
        ("90s", Some(secs(90))),
        ("5m", Some(secs(300))),
        ("1h30m", Some(secs(5400))),
        ("1d", Some(secs(86_400))),
        (" 2m ", Some(secs(120))),
        ("0s", None),
        ("5", None),
        ("m", None),
        ("", None),
        ("5 m", None),
        ("1y", None),
        ("99999999999999999999s", None),
    ] {
        assert_eq!(parse_interval(text).ok(), want, "{text:?}");
    }
}

fn list(text: &str) -> Result<FeedList, Vec<String>> {
    FeedList::parse(Path::new("feeds.toml"), text, &Gazetteer::builtin())
        .map_err(|d| d.iter().map(ToString::to_string).collect())
}

#[test]
fn a_valid_feed_list() {
    let got = list(
        r#"
[[feed]]
url = "https://caucasus-wire.example/feed/"
interval = "5m"
source = "caucasus-wire.example"
language = "en-US"
regions = ["AZ", "Georgia"]

[[feed]]
url = "https://monitor.example/atom.xml"
"#,
    )
    .unwrap();
    assert_eq!(got.feeds.len(), 2);
    let first = &got.feeds[0];
    assert_eq!(first.interval, Some(Duration::from_secs(300)));
    assert_eq!(first.language.as_deref(), Some("en"));
    assert_eq!(first.regions, ["AZ", "GE"]);
    assert_eq!(got.feeds[1].interval, None);
    assert!(got.warnings.is_empty());
    assert_eq!(list("").unwrap().feeds, []);
}

/// Every problem at once, each at its place.
#[test]
fn feed_list_errors_name_the_place() {
    let text = r#"[[feed]]
url = "ftp://files.example/feed"
interval = "5 minutes"

[[feed]]
url = "https://a.example/feed"
language = "english"
regions = ["AZ", "Atlantis"]

[[feed]]
url = "https://a.example/feed"
interval = 300
"#;
    assert_eq!(
        list(text).unwrap_err(),
        [
            "feeds.toml:2:7: feed url must be an http or https URL with a host",
            "feeds.toml:3:12: interval \"5 minutes\" is not a duration such as \"5m\", \"90s\" or \"1h30m\"",
            "feeds.toml:7:12: language \"english\" is not an ISO 639-1 code",
            "feeds.toml:8:18: unknown country \"Atlantis\"",
            "feeds.toml:11:7: feed https://a.example/feed is listed twice",
            "feeds.toml:12:12: interval must be a duration string such as \"5m\", \"90s\" or \"1h30m\"",
        ]
    );
    let err = list("[[feed]]\nurl = \"https://a.example/\"\nlanguge = \"en\"\n").unwrap_err();
    assert!(
        err[0].starts_with("feeds.toml:3:1: unknown field `languge`"),
        "{err:?}"
    );
    let err = list("[[feed]]\ninterval = \"5m\"\n").unwrap_err();
    assert!(
        err[0].starts_with("feeds.toml:1:1: missing field `url`"),
        "{err:?}"
    );
    let warned = list("[[feed]]\nurl = \"https://a.example/\"\ninterval = \"10s\"\n").unwrap();
    assert_eq!(
        warned
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [
            "feeds.toml:3:12: warning: interval under a minute: most publishers ask for 5 minutes or more"
        ]
    );
}
