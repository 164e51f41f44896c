//! The SMTP client against the loopback sink, a real SMTP server: mails
//! pipelined when the relay offers PIPELINING and not otherwise, content
//! arriving byte for byte (dots stuffed and unstuffed), AUTH PLAIN and
//! LOGIN, STARTTLS and implicit TLS with a private CA
//! (`smtp.tls_ca_file`), and each kind of failure classified (5xx to the mail permanent;
//! 4xx, a dropped connection and a refused session transient).

use crate::support::nats_auth::Pki;
use crate::support::smtp::{SinkOptions, SinkTls, SmtpFault, SmtpSink, TlsMode};
use lettre::address::Envelope;
use newsalert::deliver::email::smtp::{SmtpError, SmtpPool, read_ca};
use newsalert::settings::SmtpTls;
use std::time::Duration;

/// Lines that start with dots, as quoted-printable bodies can have.
const BODY: &str =
    "Subject: talks\r\nFrom: a@example.net\r\n\r\n.one dot\r\n..two dots\r\nend.\r\n.";

fn envelope(to: &str) -> Envelope {
    Envelope::new(
        Some("alerts@example.net".parse().unwrap()),
        vec![to.parse().unwrap()],
    )
    .unwrap()
}

/// Sends `n` mails one after the other on a pool of one connection.
async fn send_mails(sink: &SmtpSink, username: &str, n: usize) {
    let pool = SmtpPool::new(&sink.client_settings(username), None, 1);
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
    let pool = SmtpPool::new(&sink.client_settings("newsalert"), None, 1);
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
    let pool = SmtpPool::new(&sink.client_settings(""), None, 1);
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

#[tokio::test]
async fn starttls_and_implicit_tls_with_a_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::generate(dir.path(), "relay");
    let ca = read_ca(&pki.ca).unwrap();
    for (mode, tls) in [
        (TlsMode::Starttls, SmtpTls::Starttls),
        (TlsMode::Implicit, SmtpTls::Tls),
    ] {
        let sink = SmtpSink::start_with(SinkOptions {
            tls: Some(SinkTls::new(mode, &pki.server_cert, &pki.server_key)),
            ..SinkOptions::default()
        });
        let mut s = sink.client_settings("newsalert");
        s.tls = tls;
        let pool = SmtpPool::new(&s, Some(ca.clone()), 1);
        for to in ["a@example.org", "b@example.org"] {
            (pool.send(&envelope(to), BODY.as_bytes()).await)
                .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        }
        for mail in sink.wait_for(2, Duration::from_secs(5)).await {
            assert!(mail.tls, "{mode:?}: sent over TLS");
            assert_eq!(mail.auth_user.as_deref(), Some("newsalert"));
            assert_eq!(mail.data, format!("{BODY}\r\n"));
        }
        // The public roots do not know the test CA: a clear, transient error.
        let untrusted = SmtpPool::new(&s, None, 1);
        let e = (untrusted
            .send(&envelope("c@example.org"), BODY.as_bytes())
            .await)
            .unwrap_err();
        assert!(e.to_string().starts_with("TLS: "), "{mode:?}: {e}");
        assert!(!e.is_permanent(), "{mode:?}: {e}");
    }
    // STARTTLS configured, but the relay does not offer it: no mail in
    // the clear.
    let plain = SmtpSink::start();
    let mut s = plain.client_settings("newsalert");
    s.tls = SmtpTls::Starttls;
    let pool = SmtpPool::new(&s, Some(ca), 1);
    let e = (pool.send(&envelope("a@example.org"), BODY.as_bytes()).await).unwrap_err();
    assert!(e.to_string().contains("does not offer STARTTLS"), "{e}");
    assert!(plain.messages().is_empty());
}

#[test]
fn a_ca_file_without_a_certificate_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, "not a certificate").unwrap();
    let e = read_ca(&path).unwrap_err();
    assert!(
        e.contains("ca.pem") && e.contains("no PEM certificate"),
        "{e}"
    );
    let e = read_ca(&dir.path().join("missing.pem")).unwrap_err();
    assert!(e.contains("missing.pem"), "{e}");
}
