//! Tests of the test doubles themselves, driven by the clients the service
//! uses (async-nats, teloxide, lettre) plus raw sockets for wire details.

use std::time::Duration;

use futures::StreamExt;
use lettre::message::MultiPart;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use teloxide::prelude::*;
use teloxide::types::ParseMode;
use teloxide::{ApiError, RequestError};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::nats::NatsServer;
use super::smtp::{SmtpFault, SmtpSink};
use super::telegram::{FakeTelegram, Fault, FloodLimits, parse_html};

const WAIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------- nats

#[tokio::test]
async fn nats_server_pub_sub_and_jetstream_survive_kill_and_restart() {
    let mut server = NatsServer::start();
    assert_ne!(server.port(), 4222);
    let client = async_nats::connect(server.url()).await.expect("connect");
    let mut sub = client.subscribe("selftest.ping").await.unwrap();
    client
        .publish("selftest.ping", "hello".into())
        .await
        .unwrap();
    client.flush().await.unwrap();
    let msg = tokio::time::timeout(WAIT, sub.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&msg.payload[..], b"hello");

    let js = async_nats::jetstream::new(client.clone());
    js.create_stream(async_nats::jetstream::stream::Config {
        name: "SELFTEST".into(),
        subjects: vec!["selftest.js.>".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    js.publish("selftest.js.a", "kept".into())
        .await
        .unwrap()
        .await
        .unwrap();
    drop(client);

    server.kill();
    assert!(!server.is_running());
    server.restart();

    let client = async_nats::connect(server.url()).await.expect("reconnect");
    let js = async_nats::jetstream::new(client);
    let mut stream = js
        .get_stream("SELFTEST")
        .await
        .expect("stream after restart");
    assert_eq!(stream.info().await.unwrap().state.messages, 1);
    let stored = stream.get_raw_message(1).await.unwrap();
    assert_eq!(&stored.payload[..], b"kept");
}

// ------------------------------------------------------------ telegram

fn bot(fake: &FakeTelegram) -> Bot {
    Bot::new("123:TEST").set_api_url(fake.api_url().parse().unwrap())
}

#[tokio::test]
async fn fake_telegram_records_valid_html_and_answers_a_message() {
    let fake = FakeTelegram::start().await;
    let text = r#"<b>x</b> &amp; <a href="http://x">y</a>"#;
    let sent = bot(&fake)
        .send_message(ChatId(42), text)
        .parse_mode(ParseMode::Html)
        .await
        .expect("valid HTML is accepted");
    assert_eq!(sent.chat.id, ChatId(42));
    assert!(sent.chat.is_private());
    assert_eq!(sent.text(), Some("x & y"));

    let group = bot(&fake)
        .send_message(ChatId(-1001234567890), "plain")
        .await
        .unwrap();
    assert!(group.chat.is_supergroup());

    let recorded = fake.wait_for(2, WAIT).await;
    assert_eq!(recorded[0].chat_id, 42);
    assert_eq!(recorded[0].text, text);
    assert_eq!(recorded[0].parse_mode.as_deref(), Some("HTML"));
    assert_eq!(recorded[0].token, "123:TEST");
    assert_eq!(recorded[1].parse_mode, None);
    assert_eq!(fake.sent_to(-1001234567890).len(), 1);
    assert_eq!(fake.requests(), 2);
}

#[tokio::test]
async fn fake_telegram_rejects_bad_html_and_long_texts_like_telegram() {
    let fake = FakeTelegram::start().await;
    for bad in [
        "<b>x",
        "<div>x</div>",
        "a & b",
        "<b>x</i>",
        "</b>",
        "a < b",
        "&nbsp;",
    ] {
        let err = bot(&fake)
            .send_message(ChatId(1), bad)
            .parse_mode(ParseMode::Html)
            .await
            .expect_err(bad);
        assert!(
            matches!(err, RequestError::Api(ApiError::CantParseEntities(_))),
            "{bad}: {err:?}"
        );
    }
    let too_long = "x".repeat(4097);
    let err = bot(&fake)
        .send_message(ChatId(1), too_long)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageIsTooLong)),
        "{err:?}"
    );
    // The limit applies after entity parsing: 4096 × "&amp;" is 4096 chars.
    let at_limit = "&amp;".repeat(4096);
    bot(&fake)
        .send_message(ChatId(1), at_limit)
        .parse_mode(ParseMode::Html)
        .await
        .unwrap();

    assert_eq!(fake.sent().len(), 1);
    assert_eq!(fake.attempts().len(), 9);
    assert_eq!(fake.requests(), 9);
}

#[tokio::test]
async fn fake_telegram_plays_scripted_faults_in_order() {
    let fake = FakeTelegram::start().await;
    let bot = bot(&fake);
    fake.push_fault(Some(7), Fault::RetryAfter(3));
    fake.push_fault(Some(7), Fault::Forbidden);
    fake.push_fault(None, Fault::ChatNotFound);
    fake.push_fault(None, Fault::Migrate(-1009));

    let err = bot.send_message(ChatId(7), "a").await.unwrap_err();
    assert!(
        matches!(err, RequestError::RetryAfter(s) if s.seconds() == 3),
        "{err:?}"
    );
    let err = bot.send_message(ChatId(7), "a").await.unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::BotBlocked)),
        "{err:?}"
    );
    let err = bot.send_message(ChatId(8), "a").await.unwrap_err();
    assert!(
        matches!(err, RequestError::Api(ApiError::ChatNotFound)),
        "{err:?}"
    );
    let err = bot.send_message(ChatId(8), "a").await.unwrap_err();
    assert!(
        matches!(err, RequestError::MigrateToChatId(ChatId(-1009))),
        "{err:?}"
    );
    bot.send_message(ChatId(7), "through").await.unwrap();

    fake.push_fault(None, Fault::Status(502));
    let (status, body) = post_json(&fake, "sendMessage", r#"{"chat_id":5,"text":"x"}"#).await;
    assert_eq!(status, 502);
    assert!(body.contains(r#""ok":false"#), "{body}");

    let statuses: Vec<u16> = fake.attempts().iter().map(|a| a.status).collect();
    assert_eq!(statuses, [429, 403, 400, 400, 200, 502]);
    assert_eq!(fake.sent().len(), 1);
}

#[tokio::test]
async fn fake_telegram_enforces_flood_limits_when_enabled() {
    let fake = FakeTelegram::start().await;
    fake.enable_flood_limits(FloodLimits::default());
    let bot = bot(&fake);
    bot.send_message(ChatId(7), "first").await.unwrap();
    let err = bot.send_message(ChatId(7), "too soon").await.unwrap_err();
    assert!(
        matches!(err, RequestError::RetryAfter(s) if s.seconds() == 1),
        "{err:?}"
    );
    // Another chat is not affected by chat 7's limit.
    bot.send_message(ChatId(8), "other chat").await.unwrap();
    fake.disable_flood_limits();
    bot.send_message(ChatId(7), "limits off").await.unwrap();
    assert_eq!(fake.sent().len(), 3);
}

#[tokio::test]
async fn fake_telegram_answers_unknown_paths_with_404() {
    let fake = FakeTelegram::start().await;
    let (status, _) = post_json(&fake, "noSuchMethod", "{}").await;
    assert_eq!(status, 404);
    let me = bot(&fake).get_me().await.unwrap();
    assert!(me.user.is_bot);
}

#[test]
fn telegram_html_parser_table() {
    let ok: &[(&str, &str)] = &[
        ("plain", "plain"),
        ("<b>x</b> &amp; <a href=\"http://x\">y</a>", "x & y"),
        (
            "<i><u>n</u></i> &lt;tag&gt; &quot;q&quot; &#65;&#x42;",
            "n <tag> \"q\" AB",
        ),
        (
            "<span class=\"tg-spoiler\">s</span><tg-spoiler>t</tg-spoiler>",
            "st",
        ),
        ("<pre><code class=\"language-rust\">fn</code></pre>", "fn"),
        ("<blockquote expandable>q</blockquote> 1 > 0", "q 1 > 0"),
        ("<a href='http://x?a=1&amp;b=2'>l</a>", "l"),
    ];
    for (html, plain) in ok {
        assert_eq!(parse_html(html).as_deref(), Ok(*plain), "{html}");
    }
    let bad = [
        "<b>x",
        "<div>",
        "a & b",
        "<b>x</i>",
        "</b>",
        "<span>s</span>",
        "<a>x</a>",
        "&nbsp;",
        "<br/>",
        "x <",
        "<b",
    ];
    for html in bad {
        assert!(parse_html(html).is_err(), "{html} should be rejected");
    }
}

/// POSTs `body` to `/bot123:TEST/<method>` over a raw socket; returns the
/// status code and body.
async fn post_json(fake: &FakeTelegram, method: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", fake.port()))
        .await
        .unwrap();
    let request = format!(
        "POST /bot123:TEST/{method} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn fake_telegram_serves_updates_by_offset_and_refuses_overlapping_polls() {
    let fake = FakeTelegram::start().await;
    let first = fake.push_text(42, "Leyla", "/start");
    fake.push_text(-1001, "Sam", "/status@test_bot");
    // teloxide reads our updates as Telegram's.
    let updates = bot(&fake).get_updates().await.unwrap();
    assert_eq!(updates.len(), 2);
    let teloxide::types::UpdateKind::Message(m) = &updates[0].kind else {
        panic!("{:?}", updates[0]);
    };
    assert_eq!((m.chat.id.0, m.text()), (42, Some("/start")));
    assert_eq!(
        m.from.as_ref().map(|u| u.first_name.as_str()),
        Some("Leyla")
    );
    // The offset confirms the first; the second stays until confirmed.
    let rest = bot(&fake)
        .get_updates()
        .offset(first as i32 + 1)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(fake.pending_updates(), 1);
    // Two long polls at once: the second is refused with 409.
    let slow = tokio::spawn(post_json_owned(fake.port(), r#"{"offset":99,"timeout":1}"#));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, body) = post_json(&fake, "getUpdates", r#"{"offset":99}"#).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(slow.await.unwrap().0, 200);
    assert_eq!(fake.polls().iter().filter(|p| p.conflict).count(), 1);
    bot(&fake)
        .set_my_commands(vec![teloxide::types::BotCommand::new("start", "hi")])
        .await
        .unwrap();
    assert_eq!(fake.my_commands()[0]["commands"][0]["command"], "start");
}

async fn post_json_owned(port: u16, body: &'static str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let request = format!(
        "POST /bot123:TEST/getUpdates HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, response)
}

// ---------------------------------------------------------------- smtp

fn mailer(sink: &SmtpSink) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(sink.host())
        .port(sink.port())
        .build()
}

fn mail(subject: &str) -> Message {
    Message::builder()
        .from("News Alert <alerts@example.test>".parse().unwrap())
        .to("Reader <reader@example.test>".parse().unwrap())
        .subject(subject)
        .multipart(MultiPart::alternative_plain_html(
            "Grüße — ünïcödé line\n.leading dot".to_owned(),
            "<p>Grüße</p>".to_owned(),
        ))
        .unwrap()
}

#[tokio::test]
async fn smtp_sink_records_mail_from_lettre() {
    let sink = SmtpSink::start();
    mailer(&sink)
        .send(mail("Neue Meldung: Über"))
        .await
        .expect("send");
    let mails = sink.wait_for(1, WAIT).await;
    let got = &mails[0];
    assert_eq!(got.from, "alerts@example.test");
    assert_eq!(got.to, ["reader@example.test"]);
    assert_eq!(got.subject().as_deref(), Some("Neue Meldung: Über"));
    assert_eq!(
        got.plain_text().as_deref(),
        Some("Grüße — ünïcödé line\n.leading dot")
    );
    assert_eq!(got.html().as_deref(), Some("<p>Grüße</p>"));
    assert!(got.data.contains("\r\n"), "CRLF line ends");
}

#[tokio::test]
async fn smtp_sink_plays_scripted_faults() {
    let sink = SmtpSink::start();
    let mailer = mailer(&sink);
    sink.push_fault(SmtpFault::RejectRcpt(451));
    sink.push_fault(SmtpFault::RejectData(550));
    let err = mailer.send(mail("one")).await.unwrap_err();
    assert!(err.is_transient(), "451 is transient: {err:?}");
    let err = mailer.send(mail("two")).await.unwrap_err();
    assert!(err.is_permanent(), "550 is permanent: {err:?}");
    mailer.send(mail("three")).await.expect("no fault left");
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(sink.transactions(), 3);

    sink.push_fault(SmtpFault::DropAfterData);
    mailer
        .send(mail("four"))
        .await
        .expect_err("connection dropped before the reply");
    // ... yet the mail arrived: the case that makes idempotency matter.
    let subjects: Vec<_> = sink.messages().iter().filter_map(|m| m.subject()).collect();
    assert_eq!(subjects, ["three", "four"]);
    mailer
        .send(mail("five"))
        .await
        .expect("works again on a new connection");
}

#[tokio::test]
async fn smtp_sink_speaks_the_protocol_over_a_raw_socket() {
    let sink = SmtpSink::start();
    let stream = TcpStream::connect(("127.0.0.1", sink.port()))
        .await
        .unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut expect = async |sent: &str, code: &str| {
        if !sent.is_empty() {
            write.write_all(sent.as_bytes()).await.unwrap();
        }
        loop {
            let line = lines.next_line().await.unwrap().expect("reply");
            if line.as_bytes().get(3) != Some(&b'-') {
                assert!(line.starts_with(code), "{sent:?} → {line}");
                return;
            }
        }
    };
    expect("", "220").await;
    expect("MAIL FROM:<a@b>\r\n", "503").await;
    expect("EHLO client\r\n", "250").await;
    expect("AUTH PLAIN AHVzZXIAcGFzcw==\r\n", "235").await;
    expect("MAIL FROM:<a@b>\r\n", "250").await;
    expect("RSET\r\n", "250").await;
    expect("DATA\r\n", "554").await;
    expect("NOOP\r\n", "250").await;
    expect("MAIL FROM:<a@b> SIZE=10\r\n", "250").await;
    expect("RCPT TO:<c@d>\r\n", "250").await;
    expect("RCPT TO:<e@f>\r\n", "250").await;
    expect("DATA\r\n", "354").await;
    expect("Subject: raw\r\n\r\n..dot\r\nend\r\n.\r\n", "250").await;
    expect("QUIT\r\n", "221").await;

    let mail = &sink.messages()[0];
    assert_eq!(mail.to, ["c@d", "e@f"]);
    assert_eq!(mail.auth_user.as_deref(), Some("user"));
    assert_eq!(mail.data, "Subject: raw\r\n\r\n.dot\r\nend\r\n");
}

// ---------------------------------------------------------------- feeds

#[tokio::test]
async fn feed_server_answers_each_route_as_declared() {
    use super::feeds::{FeedServer, Route};
    let server = FeedServer::start(&[
        ("/rss", Route::fixture("rss2-cdata.xml")),
        (
            "/cond",
            Route::Conditional {
                body: "x".into(),
                etag: "\"e1\"".into(),
            },
        ),
        ("/gz", Route::Gzip("<rss/>".into())),
        ("/gone", Route::Status(410)),
        ("/hop", Route::Redirect("/rss".into())),
    ]);
    let client = reqwest::Client::builder()
        .gzip(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str, etag: Option<&str>| {
        let mut req = client.get(server.url(path));
        if let Some(e) = etag {
            req = req.header("If-None-Match", e);
        }
        async move { req.send().await.unwrap() }
    };
    let rss = get("/rss", None).await;
    assert_eq!(rss.status(), 200);
    assert!(rss.text().await.unwrap().contains("Caucasus Wire"));
    let cond = get("/cond", None).await;
    assert_eq!(cond.headers()["etag"], "\"e1\"");
    assert_eq!(get("/cond", Some("\"e1\"")).await.status(), 304);
    assert_eq!(get("/cond", Some("\"e0\"")).await.status(), 200);
    assert_eq!(get("/gz", None).await.text().await.unwrap(), "<rss/>");
    assert_eq!(get("/gone", None).await.status(), 410);
    let hop = get("/hop", None).await;
    assert_eq!(hop.status(), 302);
    assert_eq!(hop.headers()["location"], "/rss");
    assert_eq!(get("/nowhere", None).await.status(), 404);
    assert_eq!(server.count("/cond"), 3);
    assert_eq!(server.count_status("/cond", 304), 1);
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.status != 0 && r.ended >= r.started)
    );
}
