//! Email batches (`delivery.email_batch`): an article's mails travel as one
//! alerts-stream message, and a redelivery of it, even without its
//! headers, mails nobody twice; a mail that fails for good is dead-lettered
//! alone, as a single alert, while the others of its batch are sent, and
//! `dlq replay` delivers it once; a mail still failing after its in-place
//! retries sends the batch back, and its redelivery sends only that mail.

use crate::delivery::{Stack, To, dead_letters, wait_drained, wait_for_dead_letters};
use newsalert::alert::{Alert, Target};
use newsalert::deliver::batch::ALERT_BATCH;
use std::time::Duration;

fn mailers(names: &[&'static str]) -> Vec<(&'static str, To)> {
    names
        .iter()
        .map(|n| (*n, To::Mail(format!("{n}@example.org"))))
        .collect()
}

#[tokio::test]
async fn an_articles_mails_are_one_message_and_a_redelivery_mails_nobody_twice() {
    let s = Stack::start(&mailers(&["alpha", "bravo", "charlie"])).await;
    s.publisher.article("a-1", "alpha bravo charlie").await;
    s.smtp.wait_for(3, Duration::from_secs(15)).await;
    wait_drained(s.js(), Duration::from_secs(10)).await;

    let mut alerts = s.js().get_stream("NEWSALERT_ALERTS").await.unwrap();
    assert_eq!(alerts.info().await.unwrap().state.last_sequence, 1);
    let batch = alerts.get_raw_message(1).await.unwrap();
    assert_eq!(batch.subject.as_str(), "newsalert.alerts.email");
    let count = batch.headers.get(ALERT_BATCH).map(|v| v.to_string());
    assert_eq!(count.as_deref(), Some("3"));
    let inside: Vec<Alert> = serde_json::from_slice(&batch.payload).unwrap();
    let mut to: Vec<String> = inside.iter().map(|a| a.subscriber.clone()).collect();
    to.sort();
    assert_eq!(to, ["alpha", "bravo", "charlie"]);

    // The batch again, under a new dedup id and without its headers:
    // JetStream keeps it, the delivery record skips all three.
    s.publisher
        .raw(&batch.subject, "again", batch.payload.to_vec())
        .await;
    assert_eq!(alerts.info().await.unwrap().state.messages, 2);
    wait_drained(s.js(), Duration::from_secs(10)).await;
    assert_eq!(s.smtp.transactions(), 3);

    // The record is per article: the next article mails them again.
    s.publisher.article("a-2", "alpha bravo charlie").await;
    s.smtp.wait_for(6, Duration::from_secs(15)).await;
    wait_drained(s.js(), Duration::from_secs(10)).await;
    assert_eq!(s.smtp.messages().len(), 6);
    assert!(dead_letters(s.js()).await.is_empty());
    s.app.stop().await;
}

#[tokio::test]
async fn a_rejected_mail_is_dead_lettered_alone_and_replayed_once() {
    let s = Stack::start(&mailers(&["alpha", "bravo"])).await;
    s.smtp
        .push_fault(crate::support::smtp::SmtpFault::RejectRcpt(550));
    s.publisher.article("a-1", "alpha bravo").await;

    let letters = wait_for_dead_letters(s.js(), 1).await;
    assert_eq!(letters[0].kind, "permanent");
    assert_eq!(letters[0].original_subject, "newsalert.alerts.email");
    let failed: Alert = serde_json::from_str(&letters[0].payload)
        .unwrap_or_else(|e| panic!("a single alert, not the batch: {e}: {}", letters[0].payload));
    let Target::Email(failed_to) = failed.target.clone() else {
        panic!("an email alert: {failed:?}")
    };
    let mails = s.smtp.wait_for(1, Duration::from_secs(15)).await;
    wait_drained(s.js(), Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1);
    assert_ne!(mails[0].to[0], failed_to, "the other one is sent");
    assert_eq!(s.smtp.transactions(), 2, "no retry of a 550");

    // The address is fixed; the operator replays the dead letter.
    let out = crate::cli(s.app.dir.path(), &["dlq", "replay", "--all"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mails = s.smtp.wait_for(2, Duration::from_secs(15)).await;
    assert_eq!(mails[1].to, [failed_to]);
    wait_drained(s.js(), Duration::from_secs(10)).await;
    assert_eq!(s.smtp.messages().len(), 2, "each address mailed once");
    assert!(
        dead_letters(s.js()).await.is_empty(),
        "replayed, so removed"
    );
    s.app.stop().await;
}

#[tokio::test]
async fn a_retried_batch_resends_only_the_mail_that_failed() {
    // One send at a time: the first mail takes all four 451s (the tests'
    // retry policy makes four attempts in place), the second is sent.
    let extra = "[delivery]\nemail_concurrency = 1\n";
    let s = Stack::start_with(&mailers(&["alpha", "bravo"]), extra).await;
    s.smtp
        .push_faults(crate::support::smtp::SmtpFault::RejectRcpt(451), 4);
    s.publisher.article("a-1", "alpha bravo").await;

    let mails = s.smtp.wait_for(2, Duration::from_secs(20)).await;
    wait_drained(s.js(), Duration::from_secs(15)).await;
    let mut to: Vec<String> = mails.iter().map(|m| m.to[0].clone()).collect();
    to.sort();
    assert_eq!(to, ["alpha@example.org", "bravo@example.org"]);
    assert_eq!(
        s.smtp.transactions(),
        6,
        "4 refused, 1 sent, then on redelivery only the refused one"
    );
    assert!(dead_letters(s.js()).await.is_empty());
    s.app.stop().await;
}
