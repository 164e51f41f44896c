//! The SMTP client against the loopback sink, a real SMTP server: mails
//! pipelined when the relay offers PIPELINING and not otherwise, content
//! arriving byte for byte (dots stuffed and unstuffed), AUTH PLAIN and
//! LOGIN, and each kind of failure classified (5xx to the mail permanent;
//! 4xx, a dropped connection and a refused session transient).

use crate::support::smtp::{SinkOptions, SmtpFault, SmtpSink};
use lettre::address::Envelope;
use newsalert::deliver::email::smtp::{SmtpError, SmtpPool};
use newsalert::settings::{SmtpSettings, SmtpTls};
use std::time::Duration;

/// Lines that start with dots, as quoted-printable bodies can have.
const BODY: &str =
    "Subject: talks\r\nFrom: a@example.net\r\n\r\n.one dot\r\n..two dots\r\nend.\r\n.";

fn settings(sink: &SmtpSink, username: &str) -> SmtpSettings {
    SmtpSettings {
        host: sink.host().into(),
        port: sink.port(),
        tls: SmtpTls::None,
        username: username.into(),
        password: "secret".to_string().into(),
        from: "alerts@example.net".into(),
        timeout_secs: 5,
        message_id_domain: String::new(),
        dkim_key_file: String::new(),
        dkim_selector: String::new(),
        dkim_domain: String::new(),
    }
}

fn envelope(to: &str) -> Envelope {
    Envelope::new(
        Some("alerts@example.net".parse().unwrap()),
        vec![to.parse().unwrap()],
    )
    .unwrap()
}

/// Sends `n` mails one after the other on a pool of one connection.
async fn send_mails(sink: &SmtpSink, username: &str, n: usize) {
    let pool = SmtpPool::new(&settings(sink, username), 1);
    for i in 0..n {
        let to = format!("reader{i}@example.org");
        pool.send(&envelope(&to), BODY.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("mail {i}: {e}"));
    }
    let mails = sink.wait_for(n, Duration::from_secs(5)).await;
    for (i, mail) in mails.iter().enumerate() {
        assert_eq!(mail.to, [format!("reader{i}@example.org")]);
        assert_eq!(mail.from, "alerts@example.net");
        // Unstuffed by the sink, and given the line end before the `.`.
        assert_eq!(mail.data, format!("{BODY}\r\n"));
    }
}

#[tokio::test]
async fn mails_are_pipelined_when_the_relay_offers_it() {
    let sink = SmtpSink::start();
    send_mails(&sink, "", 5).await;
    // MAIL and RCPT each arrive with the next command already behind them.
    assert_eq!(sink.sent_ahead(), 2 * 5);
}

#[tokio::test]
async fn without_pipelining_each_command_waits_for_its_reply() {
    let sink = SmtpSink::start_with(SinkOptions {
        pipelining: false,
        ..SinkOptions::default()
    });
    send_mails(&sink, "", 3).await;
    assert_eq!(sink.sent_ahead(), 0);
}

#[tokio::test]
async fn auth_plain_is_preferred_and_login_used_when_it_is_all_there_is() {
    for auth in ["PLAIN LOGIN", "LOGIN"] {
        let sink = SmtpSink::start_with(SinkOptions {
            auth,
            ..SinkOptions::default()
        });
        send_mails(&sink, "newsalert", 2).await;
        for mail in sink.messages() {
            assert_eq!(mail.auth_user.as_deref(), Some("newsalert"), "{auth}");
        }
    }
    // A relay that offers neither: a clear, transient error, no mail.
    let sink = SmtpSink::start_with(SinkOptions {
        auth: "CRAM-MD5",
        ..SinkOptions::default()
    });
    let pool = SmtpPool::new(&settings(&sink, "newsalert"), 1);
    let e = pool
        .send(&envelope("a@example.org"), BODY.as_bytes())
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("neither AUTH PLAIN nor AUTH LOGIN"),
        "{e}"
    );
    assert!(!e.is_permanent());
}

#[tokio::test]
async fn failures_are_classified_and_the_next_mail_gets_through() {
    let sink = SmtpSink::start();
    let pool = SmtpPool::new(&settings(&sink, ""), 1);
    let cases = [
        (
            SmtpFault::RejectRcpt(550),
            true,
            "RCPT: permanent error (550)",
        ),
        (
            SmtpFault::RejectRcpt(451),
            false,
            "RCPT: transient error (451)",
        ),
        (
            SmtpFault::RejectData(554),
            true,
            "message: permanent error (554)",
        ),
        (
            SmtpFault::RejectData(452),
            false,
            "message: transient error (452)",
        ),
        (SmtpFault::DropAfterData, false, "connection: "),
    ];
    let failures = cases.len();
    for (fault, permanent, says) in cases {
        sink.push_fault(fault.clone());
        let e: SmtpError = pool
            .send(&envelope("a@example.org"), BODY.as_bytes())
            .await
            .unwrap_err();
        assert_eq!(e.is_permanent(), permanent, "{fault:?}: {e}");
        assert!(e.to_string().starts_with(says), "{fault:?}: {e}");
        // The broken connection is not reused; a new one carries the next.
        pool.send(&envelope("b@example.org"), BODY.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("after {fault:?}: {e}"));
    }
    // Each failure closed its connection; the next mail opened another.
    assert!(sink.connections() > failures, "{}", sink.connections());
}
