//! Instant email as mail servers and clients see it, read by `mail-parser`
//! from what the SMTP server received: `Message-ID` (the same for a
//! resent alert), `Date`, `Auto-Submitted`, the `X-Newsalert-*` headers,
//! and DKIM signatures (RSA and Ed25519) that `mail-auth` verifies; and
//! mail over STARTTLS to a relay whose certificate a private CA signed
//! (`smtp.tls_ca_file`).

use crate::support::dkim;
use crate::support::nats::NatsServer;
use crate::support::nats_auth::Pki;
use crate::support::smtp::{SinkOptions, SinkTls, SmtpFault, SmtpSink, TlsMode};
use crate::{RULES, config_dir, publish, repo_path, spawn_app};
use base64::Engine;
use std::time::Duration;

const ARTICLE: &str = r#"{"id":"caucasus-1","title":"Baku and Yerevan resume talks","body":"The OSCE Minsk Group met in Vienna."}"#;

#[tokio::test]
async fn a_resent_alert_keeps_its_message_id_and_headers() {
    let nats = NatsServer::start();
    let smtp = SmtpSink::start();
    // The first delivery is received but never confirmed: it is sent again.
    smtp.push_fault(SmtpFault::DropAfterData);
    let app = spawn_app(config_dir(&nats, None, Some(&smtp), RULES)).await;
    publish(&nats, "news.articles.test", "caucasus-1", ARTICLE).await;
    let mails = smtp.wait_for(2, Duration::from_secs(15)).await;
    assert_eq!(mails.len(), 2, "one resend");
    let id = mails[0].header("Message-ID").expect("a Message-ID");
    assert!(
        id.starts_with("alert.") && id.ends_with("@example.net"),
        "{id}"
    );
    for mail in &mails {
        assert_eq!(mail.header("Message-ID").as_deref(), Some(id.as_str()));
        assert!(mail.header("Date").is_some(), "a Date");
        assert_eq!(
            mail.header("Auto-Submitted").as_deref(),
            Some("auto-generated")
        );
        assert_eq!(
            mail.header("X-Newsalert-Rules").as_deref(),
            Some("minsk-group, azerbaijan")
        );
        assert_eq!(
            mail.header("X-Newsalert-Subscriber").as_deref(),
            Some("desk")
        );
        assert!(
            mail.header("DKIM-Signature").is_none(),
            "unsigned by default"
        );
    }
    // The connection dropped after the first mail; the resend took a new one.
    assert_eq!(smtp.connections(), 2);
    app.stop().await;
}

/// The mail the service sends for one alert when signing with the key in
/// `key_file` as `news._domainkey.example.net`.
async fn signed_mail(key_file: &str) -> String {
    let nats = NatsServer::start();
    let smtp = SmtpSink::start();
    let dir = config_dir(&nats, None, Some(&smtp), RULES);
    let local = dir.path().join("local.toml");
    let mut settings = std::fs::read_to_string(&local).unwrap();
    settings.push_str(&format!(
        "dkim_key_file = {key_file:?}\ndkim_selector = \"news\"\n"
    ));
    std::fs::write(&local, settings).unwrap();
    let app = spawn_app(dir).await;
    publish(&nats, "news.articles.test", "caucasus-1", ARTICLE).await;
    let mail = smtp.wait_for(1, Duration::from_secs(15)).await.remove(0);
    app.stop().await;
    mail.data
}

#[tokio::test]
async fn dkim_signed_mail_verifies() {
    // RSA, PKCS#1 PEM (tests/fixtures, made with `openssl genrsa -traditional`).
    let pem = repo_path("tests/fixtures/dkim-rsa.pem");
    let data = signed_mail(pem.to_str().unwrap()).await;
    let public = std::fs::read_to_string(repo_path("tests/fixtures/dkim-rsa.pub.b64")).unwrap();
    let txt = format!("v=DKIM1; k=rsa; p={}", public.trim());
    let domain = dkim::verify(&data, "news", "example.net", &txt).await;
    assert_eq!(domain.as_deref(), Ok("example.net"), "{data}");
    // A changed subject no longer verifies.
    let tampered = data.replacen("resume talks", "resume TALKS", 1);
    assert_ne!(tampered, data);
    assert!(
        dkim::verify(&tampered, "news", "example.net", &txt)
            .await
            .is_err()
    );

    // Ed25519 (RFC 8463): the key file holds the base64 of the seed.
    let seed = [7u8; 32];
    let b64 = base64::engine::general_purpose::STANDARD;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("dkim-ed25519.key");
    std::fs::write(&key, b64.encode(seed)).unwrap();
    let data = signed_mail(key.to_str().unwrap()).await;
    let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    let txt = format!("v=DKIM1; k=ed25519; p={}", b64.encode(public.to_bytes()));
    let domain = dkim::verify(&data, "news", "example.net", &txt).await;
    assert_eq!(domain.as_deref(), Ok("example.net"), "{data}");
}

#[tokio::test]
async fn mail_goes_over_starttls_to_a_relay_with_a_private_ca() {
    let nats = NatsServer::start();
    let files = tempfile::tempdir().unwrap();
    let pki = Pki::generate(files.path(), "relay");
    let smtp = SmtpSink::start_with(SinkOptions {
        tls: Some(SinkTls::new(
            TlsMode::Starttls,
            &pki.server_cert,
            &pki.server_key,
        )),
        ..SinkOptions::default()
    });
    let dir = config_dir(&nats, None, Some(&smtp), RULES);
    let local = dir.path().join("local.toml");
    let settings = std::fs::read_to_string(&local).unwrap().replace(
        "tls = \"none\"",
        &format!(
            "tls = \"starttls\"\ntls_ca_file = {:?}",
            pki.ca.display().to_string()
        ),
    );
    std::fs::write(&local, settings).unwrap();
    let app = spawn_app(dir).await;
    publish(&nats, "news.articles.test", "caucasus-1", ARTICLE).await;
    let mail = smtp.wait_for(1, Duration::from_secs(15)).await.remove(0);
    assert!(mail.tls, "the mail went over TLS");
    assert_eq!(mail.to, ["desk@example.org"]);
    assert_eq!(
        mail.header("X-Newsalert-Subscriber").as_deref(),
        Some("desk")
    );
    app.stop().await;
}
