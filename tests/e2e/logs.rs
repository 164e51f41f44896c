//! Logs as an operator's log pipeline sees them: with `log.format =
//! "json"` every line is a JSON object whose stable fields (`article_id`,
//! `rule`, `subscriber`, `channel`, `target`) sit at the top level, and no
//! line shows a full email address, not even when the SMTP relay's
//! rejection quotes it.

use crate::service::Service;
use crate::support::nats::NatsServer;
use crate::support::smtp::{SmtpFault, SmtpSink};
use crate::support::telegram::FakeTelegram;
use crate::support::wait_until;
use crate::{RULES, config_dir, publish};
use std::time::Duration;

#[tokio::test]
async fn json_logs_carry_the_stable_fields_and_only_mail_domains() {
    let nats = NatsServer::start();
    let telegram = FakeTelegram::start().await;
    let smtp = SmtpSink::start();
    // The desk's first mail is rejected (550, quoting the address).
    smtp.push_fault(SmtpFault::RejectRcpt(550));
    let dir = config_dir(&nats, Some(&telegram), Some(&smtp), RULES);
    let service = Service::start(dir.path(), [("NEWSALERT__LOG__FORMAT", "json")]);
    service.wait_consuming(1).await;
    let article =
        |id: &str| serde_json::json!({"id": id, "title": "Minsk Group talks"}).to_string();
    publish(&nats, "news.articles.t", "j-1", &article("j-1")).await;
    publish(&nats, "news.articles.t", "j-2", &article("j-2")).await;
    assert!(
        wait_until(Duration::from_secs(20), || service.count("\"alert sent\"")
            >= 5)
        .await,
        "{}",
        service.log()
    );

    let log = service.log();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let sent: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["message"] == "alert sent")
        .collect();
    for line in &sent {
        for field in [
            "article_id",
            "rule",
            "subscriber",
            "channel",
            "target",
            "level",
            "timestamp",
        ] {
            assert!(line[field].is_string(), "no {field} in {line}");
        }
    }
    // The desk's first mail is rejected; which article that is depends on
    // which of the two mails reaches the pooled SMTP connections first.
    let rejected = lines
        .iter()
        .find(|l| l["message"] == "alert failed permanently; dead-lettering")
        .unwrap_or_else(|| panic!("{log}"));
    let other = if rejected["article_id"] == "j-1" {
        "j-2"
    } else {
        "j-1"
    };
    let email = sent
        .iter()
        .find(|l| l["channel"] == "email" && l["article_id"] == other)
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(email["subscriber"], "desk");
    assert_eq!(email["rule"], "minsk-group");
    assert_eq!(email["target"], "email:***@example.org");
    let chat = sent
        .iter()
        .find(|l| l["subscriber"] == "analyst")
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(chat["target"], "telegram:42");
    // The README's example.
    println!("{email}\n{chat}");

    // The rejection was logged (domain only) and dead-lettered.
    assert_eq!(rejected["subscriber"], "desk");
    assert!(
        rejected["error"]
            .as_str()
            .unwrap()
            .contains("<***@example.org>"),
        "{rejected}"
    );
    assert!(!log.contains("desk@example.org"), "{log}");
}
