//! `newsalert feeds` against a local feed publisher ([`FeedServer`]):
//! every item published exactly once across restarts (in process and the
//! real binary killed with SIGKILL), broken feeds retried while the others
//! go on, conditional GET, gzip, the per-host politeness gap; and the whole
//! path feed → NATS → `run` → rules → Telegram.

use crate::service::Service;
use crate::support::feeds::{FeedServer, Route, fixture};
use crate::support::nats::{NatsServer, SERVICE_STREAMS, wait_drained};
use crate::support::telegram::FakeTelegram;
use crate::support::wait_until;
use crate::{RULES, config_dir, init_tracing, spawn_app};
use newsalert::feeds::Feeds;
use newsalert::settings::Settings;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Short waits for tests; a 1 s dedup window, so only the seen bucket can
/// stop a republish after a restart.
const ENV: [(&str, &str); 6] = [
    ("NEWSALERT__NATS__DUPLICATE_WINDOW_SECS", "1"),
    ("NEWSALERT__FEEDS__HOST_GAP_MS", "50"),
    ("NEWSALERT__FEEDS__RETRY_INITIAL_MS", "100"),
    ("NEWSALERT__FEEDS__RETRY_MAX_MS", "400"),
    ("NEWSALERT__FEEDS__TIMEOUT_SECS", "2"),
    ("NEWSALERT__FEEDS__MAX_BODY_BYTES", "1048576"),
];

fn env() -> Vec<(String, String)> {
    ENV.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `feeds.toml` polling each of `urls` every second.
fn write_feeds(dir: &Path, urls: &[String]) {
    let text: String = urls
        .iter()
        .map(|u| format!("[[feed]]\nurl = \"{u}\"\ninterval = \"1s\"\n\n"))
        .collect();
    std::fs::write(dir.join("feeds.toml"), text).unwrap();
}

/// `newsalert feeds` in this process, through the library entry point.
struct Running {
    stop: oneshot::Sender<()>,
    handle: JoinHandle<()>,
}

async fn start_feeds(dir: &Path) -> Running {
    init_tracing();
    let settings = Settings::load_with_env(dir, env()).expect("settings");
    let feeds = Feeds::build(&settings).await.expect("feeds build");
    let (stop, stopped) = oneshot::channel();
    let handle = tokio::spawn(feeds.run_until_stopped(async {
        let _ = stopped.await;
    }));
    Running { stop, handle }
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(10), self.handle)
            .await
            .expect("feeds stop within 10 s")
            .expect("feeds task");
    }
}

/// Article ids published by the feeds, with how often each was published
/// (the stream keeps them all); checks `Nats-Msg-Id` = id on the way.
async fn published(nats: &NatsServer) -> BTreeMap<String, usize> {
    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let mut out = BTreeMap::new();
    let Ok(mut stream) = js.get_stream("ARTICLES").await else {
        return out;
    };
    let state = stream.info().await.unwrap().state.clone();
    for seq in state.first_sequence..=state.last_sequence {
        let Ok(m) = stream.get_raw_message(seq).await else {
            continue;
        };
        if m.subject.as_str() != "news.articles.feeds" {
            continue;
        }
        let article: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
        let id = article["id"].as_str().unwrap().to_string();
        let msg_id = m.headers.get("Nats-Msg-Id").map(|v| v.as_str().to_string());
        assert_eq!(
            msg_id.as_deref(),
            Some(id.as_str()),
            "Nats-Msg-Id of seq {seq}"
        );
        *out.entry(id).or_default() += 1;
    }
    out
}

async fn wait_published(nats: &NatsServer, n: usize) -> BTreeMap<String, usize> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let got = published(nats).await;
        let total: usize = got.values().sum();
        assert!(total <= n, "more than {n} published: {got:#?}");
        if total == n {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{total} of {n} published: {got:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Wait until each of `paths` on `server` was requested `more` more times
/// than `before`: the polls before the last one are then complete
/// (requests to one feed never overlap).
async fn wait_polls(server: &FeedServer, paths: &[&str], more: usize) {
    let before: Vec<usize> = paths.iter().map(|p| server.count(p)).collect();
    assert!(
        wait_until(Duration::from_secs(30), || paths
            .iter()
            .zip(&before)
            .all(|(p, b)| server.count(p) >= b + more))
        .await,
        "polls: {:#?}",
        server.requests()
    );
}

fn gzip_feed() -> String {
    r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Gzipped</title>
<item><title>Compressed dispatch from Ganja</title><guid>urn:test:gzip-1</guid></item>
</channel></rss>"#
        .to_string()
}

/// An extra item, as the publisher adds one.
fn rss_with_new_item() -> String {
    fixture("rss2-cdata.xml").replacen(
        "<item>",
        "<item><title>Late item about Baku</title><guid>urn:test:late-1</guid>\
         <pubDate>Sun, 26 Oct 2025 07:00:00 +0000</pubDate></item>\n<item>",
        1,
    )
}

const GOOD: [&str; 5] = [
    "/rss.xml",
    "/atom.xml",
    "/feed.json",
    "/dupes.xml",
    "/gzip.xml",
];
const BROKEN: [&str; 5] = ["/malformed.xml", "/missing", "/huge", "/loop", "/slow"];
/// Items in the good feeds: 3 + 2 + 2 + 3 (one repeated guid) + 1.
const ITEMS: usize = 11;

#[tokio::test]
async fn feeds_publish_every_item_once_across_restarts() {
    let nats = NatsServer::start();
    let good = FeedServer::start(&[
        ("/rss.xml", Route::fixture("rss2-cdata.xml")),
        (
            "/atom.xml",
            Route::Conditional {
                body: fixture("atom-xhtml.xml"),
                etag: "\"atom-v1\"".into(),
            },
        ),
        ("/feed.json", Route::fixture("jsonfeed-1.1.json")),
        ("/dupes.xml", Route::fixture("rss2-duplicate-guids.xml")),
        ("/gzip.xml", Route::Gzip(gzip_feed())),
    ]);
    // Another host, so its slow answers hold up only its own feeds.
    let broken = FeedServer::start(&[
        ("/malformed.xml", Route::fixture("malformed.xml")),
        ("/missing", Route::Status(404)),
        ("/huge", Route::Huge(50 * 1024 * 1024)),
        ("/loop", Route::Redirect("/loop2".into())),
        ("/loop2", Route::Redirect("/loop".into())),
        ("/slow", Route::Slow(Duration::from_secs(10))),
    ]);
    let dir = config_dir(&nats, None, None, RULES);
    let mut urls: Vec<String> = GOOD.iter().map(|p| good.url(p)).collect();
    urls.extend(BROKEN.iter().map(|p| broken.url(p)));
    write_feeds(dir.path(), &urls);

    let feeds = start_feeds(dir.path()).await;
    let first = wait_published(&nats, ITEMS).await;
    assert!(first.values().all(|&n| n == 1), "{first:#?}");
    // Broken feeds are retried with backoff; the good ones went on.
    wait_polls(&broken, &BROKEN, 2).await;
    wait_polls(&good, &["/atom.xml"], 2).await;
    assert!(
        good.count_status("/atom.xml", 304) >= 1,
        "{:#?}",
        good.requests()
    );
    // What the server handed to the socket per request: the client's
    // 1 MiB plus what loopback buffers took before it hung up.
    let per_request = broken.huge_bytes_sent() / broken.count("/huge");
    eprintln!(
        "50 MB body: {per_request} bytes sent per request before the client hung up (limit 1 MiB)"
    );
    assert!(
        per_request < 25 * 1024 * 1024,
        "a 50 MB body is abandoned near the 1 MiB limit, not read: {per_request} bytes per request"
    );
    let requests = good.requests();
    let gzip = requests.iter().find(|r| r.path == "/gzip.xml").unwrap();
    assert!(
        gzip.accept_encoding
            .as_deref()
            .unwrap_or("")
            .contains("gzip")
    );
    // One request at a time per host, 50 ms apart.
    for pair in requests.windows(2) {
        let gap = pair[1].started.saturating_duration_since(pair[0].ended);
        assert!(
            pair[1].started >= pair[0].ended && gap >= Duration::from_millis(50),
            "{pair:#?}"
        );
    }
    feeds.stop().await;

    // Restarted after the 1 s dedup window, with one new item: only that
    // one is published; the ETag was remembered too.
    good.route(
        "/rss.xml",
        Route::Body(rss_with_new_item(), "application/rss+xml"),
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let atom_before = good.count("/atom.xml");
    let feeds = start_feeds(dir.path()).await;
    wait_published(&nats, ITEMS + 1).await;
    wait_polls(&good, &GOOD, 3).await;
    let after = published(&nats).await;
    feeds.stop().await;
    assert_eq!(after.len(), ITEMS + 1, "{after:#?}");
    assert!(after.values().all(|&n| n == 1), "{after:#?}");
    assert_eq!(after.get("urn:test:late-1"), Some(&1));
    let atom_after = &good.requests()[..]
        .iter()
        .filter(|r| r.path == "/atom.xml")
        .nth(atom_before)
        .cloned()
        .unwrap();
    assert_eq!(atom_after.if_none_match.as_deref(), Some("\"atom-v1\""));
    assert_eq!(atom_after.status, 304);
}

/// The real binary: SIGKILL and restart publish nothing twice; a missing
/// feed list is a clear error; SIGTERM stops it.
#[tokio::test]
async fn the_feeds_binary_survives_kill_9_without_republishing() {
    let nats = NatsServer::start();
    let server = FeedServer::start(&[
        ("/rss.xml", Route::fixture("rss2-cdata.xml")),
        ("/atom.xml", Route::fixture("atom-xhtml.xml")),
        ("/feed.json", Route::fixture("jsonfeed-1.1.json")),
    ]);
    let dir = config_dir(&nats, None, None, RULES);

    let mut missing = Service::start_command("feeds", dir.path(), ENV);
    let status = missing.exit_within(Duration::from_secs(10)).await;
    assert_eq!(status.map(|s| s.code()), Some(Some(1)), "{}", missing.log());
    let file = dir.path().join("feeds.toml").display().to_string();
    assert!(
        missing
            .log()
            .contains(&format!("{file}:1:1: cannot read the feed list")),
        "{}",
        missing.log()
    );
    drop(missing);

    let paths = ["/rss.xml", "/atom.xml", "/feed.json"];
    let urls: Vec<String> = paths.iter().map(|p| server.url(p)).collect();
    write_feeds(dir.path(), &urls);
    let mut service = Service::start_command("feeds", dir.path(), ENV);
    wait_published(&nats, 7).await;
    service.kill();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut service = Service::start_command("feeds", dir.path(), ENV);
    wait_polls(&server, &paths, 3).await;
    let after = published(&nats).await;
    assert_eq!(after.len(), 7, "{after:#?}");
    assert!(after.values().all(|&n| n == 1), "{after:#?}");
    service.signal("TERM");
    let status = service.exit_within(Duration::from_secs(10)).await;
    assert_eq!(status.map(|s| s.code()), Some(Some(0)), "{}", service.log());
}

/// feed → NATS → `run` → rules → Telegram: the RSS fixture's Baku and
/// Minsk Group items alert the subscribers their rules name, once each.
#[tokio::test]
async fn feed_items_reach_telegram() {
    let nats = NatsServer::start();
    let telegram = FakeTelegram::start().await;
    let server = FeedServer::start(&[("/rss.xml", Route::fixture("rss2-cdata.xml"))]);
    let dir = config_dir(&nats, Some(&telegram), None, RULES);
    write_feeds(dir.path(), &[server.url("/rss.xml")]);
    let feeds = start_feeds(dir.path()).await;
    let app = spawn_app(dir).await;

    let sent = telegram.wait_for(3, Duration::from_secs(30)).await;
    wait_polls(&server, &["/rss.xml"], 2).await;
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    wait_drained(&js, SERVICE_STREAMS, Duration::from_secs(20)).await;
    assert_eq!(telegram.sent().len(), 3, "{:#?}", telegram.sent());
    let titles = |chat| -> Vec<String> {
        sent.iter()
            .filter(|m| m.chat_id == chat)
            .map(|m| m.text.clone())
            .collect()
    };
    let has = |texts: &[String], title: &str| texts.iter().filter(|t| t.contains(title)).count();
    let desk = titles(-1001);
    assert_eq!(desk.len(), 2, "{sent:#?}");
    assert_eq!(
        has(&desk, "Baku hosts regional energy ministers"),
        1,
        "{desk:?}"
    );
    assert_eq!(has(&desk, "OSCE Minsk Group co-chairs"), 1, "{desk:?}");
    let analyst = titles(42);
    assert_eq!(analyst.len(), 1, "{sent:#?}");
    assert_eq!(
        has(&analyst, "OSCE Minsk Group co-chairs"),
        1,
        "{analyst:?}"
    );
    feeds.stop().await;
    app.stop().await;
}
