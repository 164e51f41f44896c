//! The digest as an operator runs it: the real binary, settings only as
//! `NEWSALERT__…` environment variables plus a rules file, an email-only
//! subscriber on `digest = "every 20s"`, and an SMTP server that is not
//! ours (Python's aiosmtpd, `scripts/install-smtpd.sh`, writing a
//! Maildir). One digest holds all of a period's articles (text and HTML
//! parts, `List-Unsubscribe`), and a SIGTERM + restart sends no repeat.

use crate::publish;
use crate::repo_path;
use crate::service::Service;
use crate::support::nats::NatsServer;
use crate::support::{free_port, wait_until};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// aiosmtpd on a free port, storing mail in a Maildir; killed on drop.
struct Aiosmtpd {
    child: Child,
    port: u16,
    maildir: PathBuf,
}

impl Aiosmtpd {
    fn start(dir: &Path) -> Aiosmtpd {
        let tools = repo_path(".tools/smtpd");
        assert!(
            tools.join("aiosmtpd").is_dir(),
            "aiosmtpd missing: run `make tools` (scripts/install-smtpd.sh)"
        );
        let port = free_port();
        let maildir = dir.join("maildir");
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .env("PYTHONPATH", &tools)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        Aiosmtpd {
            child,
            port,
            maildir,
        }
    }

    /// The raw mails received so far, oldest first.
    fn mails(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.maildir.join("new"))
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }
}

impl Drop for Aiosmtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const RULES: &str = r#"
[[subscriber]]
id = "digest-reader"
email = "reader@example.org"
digest = "every 20s"

[[rule]]
id = "baku"
query = 'Baku'
notify = ["digest-reader"]
"#;

fn env(nats: &NatsServer, smtp: &Aiosmtpd, http: u16) -> Vec<(String, String)> {
    [
        ("NATS__URL", nats.url()),
        ("SMTP__HOST", "127.0.0.1".into()),
        ("SMTP__PORT", smtp.port.to_string()),
        ("SMTP__TLS", "none".into()),
        ("SMTP__FROM", "newsalert <alerts@example.net>".into()),
        ("HTTP__LISTEN", format!("127.0.0.1:{http}")),
        ("HTTP__PUBLIC_URL", format!("http://127.0.0.1:{http}")),
        ("HTTP__UNSUBSCRIBE_SECRET", "black-box-secret".into()),
        ("STORY__ENABLED", "false".into()),
        ("BOT__ENABLED", "false".into()),
        ("DIGEST__RELEASE_POLL_MS", "200".into()),
    ]
    .into_iter()
    .map(|(k, v)| (format!("NEWSALERT__{k}"), v))
    .collect()
}

fn article(id: &str) -> String {
    serde_json::json!({"id": id, "title": format!("Baku report {id}"), "url": format!("https://news.example.org/{id}"), "body": "Talks in Baku."}).to_string()
}

/// Sleep until early in a 20-second period, so the articles share one.
async fn early_in_a_period() {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        % 20_000;
    if ms > 8_000 {
        tokio::time::sleep(Duration::from_millis(20_000 - ms + 300)).await;
    }
}

#[tokio::test]
async fn the_binary_sends_one_digest_per_period_to_a_foreign_smtp_server() {
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.toml"), RULES).unwrap();
    let smtp = Aiosmtpd::start(dir.path());
    let http = free_port();
    let mut service = Service::start(dir.path(), env(&nats, &smtp, http));
    service.wait_consuming(1).await;

    early_in_a_period().await;
    let ids = ["bb-1", "bb-2", "bb-3"];
    for id in ids {
        publish(&nats, "news.articles.t", id, &article(id)).await;
    }
    assert!(
        wait_until(Duration::from_secs(45), || !smtp.mails().is_empty()).await,
        "no digest:\n{}",
        service.log()
    );
    let raw = smtp.mails().remove(0);
    let mail = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .unwrap();
    let text = mail.body_text(0).expect("a text part").to_string();
    let html = mail.body_html(0).expect("an HTML part").to_string();
    for id in ids {
        assert!(
            text.contains(&format!("Baku report {id}")),
            "{id} in:\n{text}"
        );
        assert!(
            html.contains(&format!("Baku report {id}")),
            "{id} in:\n{html}"
        );
    }
    assert!(
        mail.subject().unwrap().starts_with("Digest: 3 new matches"),
        "{:?}",
        mail.subject()
    );
    let unsubscribe = mail
        .header_raw("List-Unsubscribe")
        .expect("List-Unsubscribe");
    assert!(
        unsubscribe.contains(&format!("http://127.0.0.1:{http}/unsubscribe?a=")),
        "{unsubscribe}"
    );
    assert!(
        mail.header_raw("List-Unsubscribe-Post")
            .unwrap()
            .contains("List-Unsubscribe=One-Click")
    );

    // SIGTERM, restart: the digest is not sent again; the next period's
    // article comes alone in the next digest.
    service.signal("TERM");
    assert!(
        service.exit_within(Duration::from_secs(15)).await.is_some(),
        "did not stop"
    );
    let service = Service::start(dir.path(), env(&nats, &smtp, http));
    service.wait_consuming(2).await;
    publish(&nats, "news.articles.t", "bb-4", &article("bb-4")).await;
    assert!(
        wait_until(Duration::from_secs(45), || smtp.mails().len() >= 2).await,
        "no second digest:\n{}",
        service.log()
    );
    let mails = smtp.mails();
    assert_eq!(mails.len(), 2, "no repeat after the restart");
    let second = mail_parser::MessageParser::default()
        .parse(mails[1].as_bytes())
        .unwrap();
    let text = second.body_text(0).unwrap().to_string();
    assert!(
        text.contains("Baku report bb-4") && !text.contains("bb-1"),
        "{text}"
    );
}
