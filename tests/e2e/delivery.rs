//! Delivery guarantees, one failure at a time: each Telegram and SMTP error
//! class behaves as specified (exact request counts), poison events are
//! dead-lettered without blocking valid ones, the sent log stops
//! redeliveries from sending twice, deleted consumers come back, and a
//! burst stays within Telegram's flood limits while using them fully.

use crate::support::nats::{self, NatsServer, SERVICE_STREAMS};
use crate::support::smtp::{SmtpFault, SmtpSink};
use crate::support::telegram::{FakeTelegram, Fault, FloodLimits, SentMessage};
use crate::support::wait_until;
use crate::{TestApp, config_dir, spawn_app};
use async_nats::jetstream::{self, consumer::PullConsumer};
use std::time::{Duration, Instant};

/// Where a generated subscriber gets its alerts.
#[derive(Clone, Debug)]
pub enum To {
    Chat(i64),
    Mail(String),
}

/// A rule book where each subscriber `name` is alerted of every article
/// whose title holds the word `name` (names are distinct words).
pub fn rules_for(subscribers: &[(String, To)]) -> String {
    let mut out = String::new();
    for (name, to) in subscribers {
        let target = match to {
            To::Chat(id) => format!("telegram_chat_id = {id}"),
            To::Mail(addr) => format!("email = \"{addr}\""),
        };
        out.push_str(&format!(
            "[[subscriber]]\nid = \"{name}\"\n{target}\n\n\
             [[rule]]\nid = \"r-{name}\"\nquery = '{name}'\nnotify = [\"{name}\"]\n\n"
        ));
    }
    out
}

/// An article event whose title (and body) is `title`.
pub fn article(id: &str, title: &str) -> String {
    serde_json::json!({"id": id, "title": title, "body": title, "language": "en"}).to_string()
}

/// The article id (`a-…` word) an alert text or subject names.
pub fn article_id_in(text: &str) -> Option<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .find(|w| w.starts_with("a-"))
        .map(str::to_string)
}

/// A JetStream publisher kept open for many publishes.
pub struct Publisher {
    js: jetstream::Context,
}

impl Publisher {
    pub async fn connect(nats: &NatsServer) -> Publisher {
        let client = async_nats::connect(nats.url()).await.unwrap();
        Publisher {
            js: jetstream::new(client),
        }
    }

    pub fn js(&self) -> &jetstream::Context {
        &self.js
    }

    /// Publish `payload` on `subject` with dedup id `msg_id`; waits for the ack.
    pub async fn raw(&self, subject: &str, msg_id: &str, payload: Vec<u8>) {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", msg_id);
        self.js
            .publish_with_headers(subject.to_string(), headers, payload.into())
            .await
            .unwrap()
            .await
            .unwrap();
    }

    /// Publish article `id` titled `"{words} {id}"` on `news.articles.test`.
    pub async fn article(&self, id: &str, words: &str) {
        let title = format!("{words} {id}");
        self.raw("news.articles.test", id, article(id, &title).into_bytes())
            .await;
    }
}

/// One message of the dead-letter stream.
#[derive(Debug, Clone)]
pub struct Letter {
    /// `Newsalert-Error-Kind`.
    pub kind: String,
    /// `Newsalert-Reason`.
    pub reason: String,
    /// The dead-letter subject (`newsalert.dlq.alerts`, `...articles`).
    pub subject: String,
    pub original_subject: String,
    pub payload: String,
}

/// Every dead letter so far, in order.
pub async fn dead_letters(js: &jetstream::Context) -> Vec<Letter> {
    let Ok(mut dlq) = js.get_stream("NEWSALERT_DLQ").await else {
        return Vec::new();
    };
    let last = dlq.info().await.map_or(0, |i| i.state.last_sequence);
    let mut out = Vec::new();
    for seq in 1..=last {
        if let Ok(m) = dlq.get_raw_message(seq).await {
            let header = |name: &str| {
                m.headers
                    .get(name)
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            };
            out.push(Letter {
                kind: header("Newsalert-Error-Kind"),
                reason: header("Newsalert-Reason"),
                original_subject: header("Newsalert-Original-Subject"),
                subject: m.subject.to_string(),
                payload: String::from_utf8_lossy(&m.payload).to_string(),
            });
        }
    }
    out
}

/// Waits until there are at least `n` dead letters; returns them all.
pub async fn wait_for_dead_letters(js: &jetstream::Context, n: usize) -> Vec<Letter> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let letters = dead_letters(js).await;
        if letters.len() >= n {
            return letters;
        }
        assert!(
            Instant::now() < deadline,
            "expected {n} dead letters, got {letters:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the service's consumers (articles, both alert channels)
/// are drained: see [`nats::wait_drained`].
pub async fn wait_drained(js: &jetstream::Context, timeout: Duration) {
    nats::wait_drained(js, SERVICE_STREAMS, timeout).await;
}

/// The test's servers and a running service with generated rules.
pub struct Stack {
    _nats: NatsServer,
    pub telegram: FakeTelegram,
    pub smtp: SmtpSink,
    pub app: TestApp,
    pub publisher: Publisher,
}

impl Stack {
    pub async fn start(subscribers: &[(&str, To)]) -> Stack {
        Stack::start_with(subscribers, "").await
    }

    /// As [`Stack::start`], with `extra` settings (TOML) added.
    pub async fn start_with(subscribers: &[(&str, To)], extra: &str) -> Stack {
        let nats = NatsServer::start();
        let telegram = FakeTelegram::start().await;
        let smtp = SmtpSink::start();
        let subs: Vec<(String, To)> = subscribers
            .iter()
            .map(|(n, t)| (n.to_string(), t.clone()))
            .collect();
        let dir = config_dir(&nats, Some(&telegram), Some(&smtp), &rules_for(&subs));
        let local = dir.path().join("local.toml");
        let settings = std::fs::read_to_string(&local).unwrap() + "\n" + extra;
        std::fs::write(local, settings).unwrap();
        let app = spawn_app(dir).await;
        let publisher = Publisher::connect(&nats).await;
        Stack {
            _nats: nats,
            telegram,
            smtp,
            app,
            publisher,
        }
    }

    pub fn js(&self) -> &jetstream::Context {
        self.publisher.js()
    }

    /// Telegram requests (answered or not) to `chat`.
    fn requests_to(&self, chat: i64) -> Vec<(u16, SentMessage)> {
        self.telegram
            .attempts()
            .into_iter()
            .filter(|a| a.message.chat_id == chat)
            .map(|a| (a.status, a.message))
            .collect()
    }

    async fn wait_sent_to(&self, chat: i64, n: usize) {
        assert!(
            wait_until(Duration::from_secs(15), || self
                .telegram
                .sent_to(chat)
                .len()
                >= n)
            .await,
            "expected {n} messages to {chat}; attempts: {:#?}",
            self.telegram.attempts()
        );
    }
}

#[tokio::test]
async fn telegram_429_is_waited_out_then_sent_once() {
    let s = Stack::start(&[("flooded", To::Chat(101))]).await;
    s.telegram.push_fault(Some(101), Fault::RetryAfter(2));
    s.publisher.article("a-1", "news for flooded").await;
    s.wait_sent_to(101, 1).await;
    let requests = s.requests_to(101);
    let statuses: Vec<u16> = requests.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, vec![429, 200]);
    let gap = requests[1].1.at.duration_since(requests[0].1.at);
    assert!(gap >= Duration::from_secs(2), "resent after {gap:?}");
    assert!(gap < Duration::from_secs(5), "resent after {gap:?}");
    s.app.stop().await;
}

#[tokio::test]
async fn blocked_and_missing_chats_are_disabled_and_dead_lettered() {
    let s = Stack::start(&[
        ("blocked", To::Chat(201)),
        ("gone", To::Chat(202)),
        ("fine", To::Chat(203)),
    ])
    .await;
    s.telegram.push_fault(Some(201), Fault::Forbidden);
    s.telegram.push_fault(Some(202), Fault::ChatNotFound);
    s.publisher.article("a-1", "blocked gone fine").await;
    let letters = wait_for_dead_letters(s.js(), 2).await;
    s.wait_sent_to(203, 1).await;
    wait_drained(s.js(), Duration::from_secs(10)).await;
    for chat in [201, 202] {
        let statuses: Vec<u16> = s.requests_to(chat).iter().map(|(s, _)| *s).collect();
        assert_eq!(statuses.len(), 1, "one request to {chat}, no retry");
    }
    for l in &letters {
        assert_eq!(l.kind, "target_unreachable", "{l:?}");
        assert_eq!(l.subject, "newsalert.dlq.alerts");
        // The chat's partition (telegram.partitions = 16).
        let partitions = [201, 202].map(|c| newsalert::deliver::partition::partition_of(c, 16));
        assert!(
            partitions
                .iter()
                .any(|p| l.original_subject == format!("newsalert.alerts.telegram.{p}")),
            "{l:?}"
        );
    }

    // The targets are disabled: no request, dead-lettered at once.
    s.publisher.article("a-2", "blocked gone fine").await;
    let letters = wait_for_dead_letters(s.js(), 4).await;
    s.wait_sent_to(203, 2).await;
    wait_drained(s.js(), Duration::from_secs(10)).await;
    let kinds: Vec<&str> = letters[2..].iter().map(|l| l.kind.as_str()).collect();
    assert_eq!(kinds, ["target_disabled", "target_disabled"]);
    for chat in [201, 202] {
        assert_eq!(s.requests_to(chat).len(), 1, "no new request to {chat}");
    }
    assert!(letters[2..].iter().all(|l| l.payload.contains("\"a-2\"")));
    assert_eq!(s.requests_to(203).len(), 2, "other chats unaffected");
    s.app.stop().await;
}

#[tokio::test]
async fn migrated_group_is_resent_to_the_supergroup_and_remembered() {
    const OLD: i64 = -301;
    const NEW: i64 = -1_000_000_000_301;
    let s = Stack::start(&[("grp", To::Chat(OLD))]).await;
    s.telegram.push_fault(Some(OLD), Fault::Migrate(NEW));
    s.publisher.article("a-1", "grp first").await;
    s.wait_sent_to(NEW, 1).await;
    wait_drained(s.js(), Duration::from_secs(10)).await;
    assert_eq!(s.requests_to(OLD).len(), 1);
    assert_eq!(
        s.telegram.attempts().len(),
        2,
        "{:#?}",
        s.telegram.attempts()
    );

    s.publisher.article("a-2", "grp second").await;
    s.wait_sent_to(NEW, 2).await;
    wait_drained(s.js(), Duration::from_secs(10)).await;
    assert_eq!(s.requests_to(OLD).len(), 1, "straight to the new id");
    assert_eq!(s.telegram.attempts().len(), 3);
    s.app.stop().await;
}

/// teloxide sleeps 10 s after every 5xx before returning the error
/// (`DELAY_ON_SERVER_ERROR` in teloxide-core), so this test takes ~30 s.
#[tokio::test]
async fn three_502s_then_success_is_sent_once() {
    let s = Stack::start(&[("flaky", To::Chat(401))]).await;
    for _ in 0..3 {
        s.telegram.push_fault(Some(401), Fault::Status(502));
    }
    s.publisher.article("a-1", "flaky news").await;
    assert!(
        wait_until(Duration::from_secs(60), || s.telegram.sent_to(401).len()
            == 1)
        .await,
        "{:#?}",
        s.telegram.attempts()
    );
    let statuses: Vec<u16> = s.requests_to(401).iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, vec![502, 502, 502, 200]);
    wait_drained(s.js(), Duration::from_secs(10)).await;
    assert_eq!(s.telegram.sent().len(), 1);
    s.app.stop().await;
}

#[tokio::test]
async fn rejected_html_is_resent_once_as_plain_text() {
    let s = Stack::start(&[("html", To::Chat(501))]).await;
    let description =
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"";
    s.telegram.push_fault(
        Some(501),
        Fault::Response {
            status: 400,
            body: serde_json::json!({"ok": false, "error_code": 400, "description": description})
                .to_string(),
        },
    );
    s.publisher.article("a-1", "html <b>news").await;
    s.wait_sent_to(501, 1).await;
    wait_drained(s.js(), Duration::from_secs(10)).await;
    let requests = s.requests_to(501);
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].1.parse_mode.as_deref(), Some("HTML"));
    assert!(
        requests[0]
            .1
            .text
            .starts_with("<b>html &lt;b&gt;news a-1</b>")
    );
    assert_eq!(requests[1].1.parse_mode, None, "plain text the second time");
    // The title is plain text: its `<b>` is shown as sent, not dropped.
    let plain = &requests[1].1.text;
    assert!(plain.starts_with("html <b>news a-1\n"), "{plain}");
    s.app.stop().await;
}

#[tokio::test]
async fn smtp_451_is_retried_and_delivered_once() {
    let s = Stack::start(&[("mailer", To::Mail("mailer@example.org".into()))]).await;
    s.smtp.push_fault(SmtpFault::RejectRcpt(451));
    s.smtp.push_fault(SmtpFault::RejectData(451));
    s.publisher.article("a-1", "mailer news").await;
    let mails = s.smtp.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(mails[0].to, ["mailer@example.org"]);
    assert_eq!(
        s.smtp.transactions(),
        3,
        "451 at RCPT, 451 at DATA, then OK"
    );
    wait_drained(s.js(), Duration::from_secs(10)).await;
    assert_eq!(s.smtp.messages().len(), 1);
    assert!(dead_letters(s.js()).await.is_empty());
    s.app.stop().await;
}

#[tokio::test]
async fn smtp_550_is_dead_lettered_without_retry() {
    let s = Stack::start(&[("nobody", To::Mail("nobody@example.org".into()))]).await;
    s.smtp.push_fault(SmtpFault::RejectRcpt(550));
    s.publisher.article("a-1", "nobody news").await;
    let letters = wait_for_dead_letters(s.js(), 1).await;
    assert_eq!(letters[0].kind, "permanent");
    assert_eq!(letters[0].subject, "newsalert.dlq.alerts");
    assert_eq!(letters[0].original_subject, "newsalert.alerts.email");
    assert_eq!(s.smtp.transactions(), 1, "exactly one transaction");
    assert!(s.smtp.messages().is_empty());
    s.app.stop().await;
}

#[tokio::test]
async fn poison_events_are_dead_lettered_between_valid_ones() {
    let s = Stack::start(&[("valid", To::Chat(601))]).await;
    let too_large = article("a-big", &format!("valid {}", "x".repeat(300_000)));
    let bad_envelope = serde_json::json!({
        "specversion": "1.0", "id": "ev-1", "type": "news.article", "source": "/t",
        "data": "{\"id\": \"a-ce\", \"title\": "
    })
    .to_string();
    let p = &s.publisher;
    p.article("a-1", "valid one").await;
    p.raw("news.articles.test", "big", too_large.into_bytes())
        .await;
    p.article("a-2", "valid two").await;
    p.raw(
        "news.articles.test",
        "ce",
        bad_envelope.clone().into_bytes(),
    )
    .await;
    p.article("a-3", "valid three").await;

    s.wait_sent_to(601, 3).await;
    let letters = wait_for_dead_letters(s.js(), 2).await;
    let kinds: Vec<(&str, &str)> = letters
        .iter()
        .map(|l| (l.kind.as_str(), l.subject.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("too_large", "newsalert.dlq.articles"),
            ("bad_json", "newsalert.dlq.articles")
        ]
    );
    assert_eq!(letters[1].payload, bad_envelope);
    let mut ids: Vec<String> = s
        .telegram
        .sent_to(601)
        .iter()
        .filter_map(|m| article_id_in(&m.text))
        .collect();
    // Articles are matched in parallel (`pipeline.match_threads`), so
    // their alerts may reach the alerts stream in any order.
    ids.sort();
    assert_eq!(ids, ["a-1", "a-2", "a-3"]);
    wait_drained(s.js(), Duration::from_secs(10)).await;
    s.app.stop().await;
}

#[tokio::test]
async fn a_redelivered_alert_is_not_sent_twice() {
    let s = Stack::start(&[
        ("once", To::Chat(701)),
        ("oncemail", To::Mail("once@example.org".into())),
    ])
    .await;
    s.publisher.article("a-1", "once oncemail").await;
    s.wait_sent_to(701, 1).await;
    s.smtp.wait_for(1, Duration::from_secs(10)).await;
    wait_drained(s.js(), Duration::from_secs(10)).await;

    // The same alerts again under new dedup ids: JetStream keeps them,
    // only the sent log can tell.
    let mut alerts = s.js().get_stream("NEWSALERT_ALERTS").await.unwrap();
    let last = alerts.info().await.unwrap().state.last_sequence;
    assert_eq!(last, 2);
    // An article's Telegram alerts are published before its mails.
    let first = alerts.get_raw_message(1).await.unwrap().subject;
    assert!(first.contains(".telegram."), "first alert on {first}");
    for seq in 1..=last {
        let m = alerts.get_raw_message(seq).await.unwrap();
        s.publisher
            .raw(&m.subject, &format!("again-{seq}"), m.payload.to_vec())
            .await;
    }
    assert_eq!(alerts.info().await.unwrap().state.messages, 4);
    wait_drained(s.js(), Duration::from_secs(10)).await;
    assert_eq!(s.telegram.attempts().len(), 1);
    assert_eq!(s.smtp.transactions(), 1);
    s.app.stop().await;
}

#[tokio::test]
async fn deleted_consumers_are_recreated_and_old_alerts_not_resent() {
    let s = Stack::start(&[("keep", To::Chat(801))]).await;
    s.publisher.article("a-1", "keep one").await;
    s.wait_sent_to(801, 1).await;
    wait_drained(s.js(), Duration::from_secs(10)).await;

    for (stream, durable) in [
        ("NEWSALERT_ALERTS", "newsalert-telegram"),
        ("ARTICLES", "newsalert"),
    ] {
        s.js()
            .delete_consumer_from_stream(durable, stream)
            .await
            .unwrap();
    }
    let deleted = Instant::now();
    s.publisher.article("a-2", "keep two").await;
    s.wait_sent_to(801, 2).await;
    let took = deleted.elapsed();
    assert!(took < Duration::from_secs(10), "delivered after {took:?}");
    // Recreated consumers start from the beginning: a-1 is seen again and
    // skipped (dedup window for the article, sent log for the alert).
    wait_drained(s.js(), Duration::from_secs(10)).await;
    let _: PullConsumer = s
        .js()
        .get_consumer_from_stream("newsalert-telegram", "NEWSALERT_ALERTS")
        .await
        .unwrap();
    let ids: Vec<String> = s
        .telegram
        .sent()
        .iter()
        .filter_map(|m| article_id_in(&m.text))
        .collect();
    assert_eq!(ids, ["a-1", "a-2"]);
    println!("consumers recreated: alert delivered {took:?} after the deletion");
    s.app.stop().await;
}

/// Rate of `times` (sorted) in messages per second, first to last.
fn rate(times: &[Instant]) -> f64 {
    let span = times[times.len() - 1].duration_since(times[0]);
    (times.len() - 1) as f64 / span.as_secs_f64()
}

/// The rate over the middle 80% of `times` (sorted): what a burst runs at
/// once started and before its last stragglers.
fn steady_rate(times: &[Instant]) -> f64 {
    let cut = times.len() / 10;
    rate(&times[cut..times.len() - cut])
}

/// 60 alerts to one private chat and 300 over 30 groups at once, with the
/// fake enforcing Telegram's limits: no 429, each delivered once, and the
/// limits used to at least 90% (the groups: 85% of the budget left to
/// them, over the middle 80% of their messages). Takes ~62 s (60 messages at 1/s). Also 22
/// alerts to one basic (non-super) group: the 21st must wait a minute
/// after the first (teloxide's Throttle knows the 20/min group limit only
/// for supergroups).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_uses_the_flood_limits_without_a_429() {
    const PRIVATE: i64 = 4242;
    const BASIC_GROUP: i64 = -4343;
    let groups: Vec<i64> = (1..=30).map(|g| -1_000_000_000_000 - g).collect();
    let mut subs = vec![
        ("solo".to_string(), To::Chat(PRIVATE)),
        ("busy".to_string(), To::Chat(BASIC_GROUP)),
    ];
    subs.extend(
        groups
            .iter()
            .enumerate()
            .map(|(i, g)| (format!("g{i}"), To::Chat(*g))),
    );
    let subs: Vec<(&str, To)> = subs.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
    let s = Stack::start(&subs).await;
    let limits = FloodLimits::default();
    s.telegram.enable_flood_limits(limits.clone());

    let group_words: Vec<String> = (0..30).map(|i| format!("g{i}")).collect();
    let all_groups = group_words.join(" ");
    let publishes = (0..60)
        .map(|i| (format!("a-p{i:02}"), "solo".to_string()))
        .chain((0..10).map(|i| (format!("a-g{i:02}"), all_groups.clone())))
        .chain((0..22).map(|i| (format!("a-b{i:02}"), "busy".to_string())));
    for (id, words) in publishes {
        s.publisher.article(&id, &words).await;
    }

    assert!(
        wait_until(Duration::from_secs(90), || s.telegram.sent().len() >= 382).await,
        "sent {} of 382; refused: {}",
        s.telegram.sent().len(),
        s.telegram
            .attempts()
            .iter()
            .filter(|a| a.status != 200)
            .count()
    );
    wait_drained(s.js(), Duration::from_secs(10)).await;
    let attempts = s.telegram.attempts();
    let refused: Vec<_> = attempts.iter().filter(|a| a.status != 200).collect();
    assert!(refused.is_empty(), "refused: {refused:#?}");
    let sent = s.telegram.sent();
    assert_eq!(sent.len(), 382, "each alert once");

    let private: Vec<Instant> = sent
        .iter()
        .filter(|m| m.chat_id == PRIVATE)
        .map(|m| m.at)
        .collect();
    let group: Vec<Instant> = sent
        .iter()
        .filter(|m| m.chat_id < 0 && m.chat_id != BASIC_GROUP)
        .map(|m| m.at)
        .collect();
    let basic: Vec<Instant> = s
        .telegram
        .sent_to(BASIC_GROUP)
        .iter()
        .map(|m| m.at)
        .collect();
    assert_eq!((private.len(), group.len(), basic.len()), (60, 300, 22));
    let basic_wait = basic[20].duration_since(basic[0]);
    assert!(
        basic_wait >= Duration::from_secs(59),
        "21st after {basic_wait:?}"
    );
    assert!(
        basic_wait < Duration::from_secs(66),
        "21st after {basic_wait:?}"
    );
    // Achievable: private 1/s; groups: 1/s each (10 messages stay under
    // 20/min), all within the bot's budget (28/s, under Telegram's 30)
    // minus the private chat's and the basic group's shares (1/s each).
    let private_limit = limits.per_chat_per_sec as f64;
    let budget = f64::from(newsalert::deliver::flood::OVERALL_BUDGET_PER_SEC);
    let group_limit = (groups.len() as f64 * limits.per_chat_per_sec as f64)
        .min(budget.min(limits.global_per_sec as f64) - 2.0 * private_limit);
    let (private_rate, group_rate) = (rate(&private), steady_rate(&group));
    println!(
        "burst: private {private_rate:.2}/s (limit {private_limit}), groups {group_rate:.2}/s \
         (achievable {group_limit}), basic group's 21st after {:.1}s, 429s: 0",
        basic_wait.as_secs_f64()
    );
    assert!(private_rate >= 0.9 * private_limit, "{private_rate}");
    // 0.85: on a loaded 2-core machine the groups ran at 0.83–0.95 of
    // it over all their messages, the tail included.
    assert!(group_rate >= 0.85 * group_limit, "{group_rate}");
    s.app.stop().await;
}
