//! The sent log through a NATS outage (`Ledger::was_sent`,
//! `Ledger::record_sent`): a lookup or a record that fails while the
//! server is down is retried for up to 15 s, holding the alert's turn, so
//! an alert recorded before the outage is still known as sent (not "sent
//! anyway", a duplicate) and a send recorded during it lands once the
//! server is back; a shutdown ends a pending lookup once the request in
//! flight has timed out (5 s): the alert is handed back, nothing is sent.

use crate::config_dir;
use crate::support::nats::NatsServer;
use newsalert::deliver::ledger::{Ledger, Stopped};
use newsalert::nats::{Broker, LedgerBuckets};
use newsalert::observe::Health;
use newsalert::settings::Settings;
use newsalert::shutdown::Stopping;
use std::time::{Duration, Instant};

const SENT: &str = "a-1/desk/telegram";
const DURING: &str = "a-2/desk/email";

async fn ledger(nats: &NatsServer) -> (tempfile::TempDir, Ledger) {
    let dir = config_dir(nats, None, None, "");
    let settings = Settings::load_with_env(dir.path(), Vec::new()).unwrap();
    let broker = Broker::connect(&settings.nats, &Health::default())
        .await
        .unwrap();
    let LedgerBuckets { sent, targets } = broker.ledger_buckets(&settings.nats).await.unwrap();
    (dir, Ledger::new(sent, targets))
}

#[tokio::test]
async fn sent_log_lookups_and_records_outlast_a_short_outage() {
    let mut nats = NatsServer::start();
    let (_dir, ledger) = ledger(&nats).await;
    let running = Stopping::new();
    ledger.record_sent(SENT).await;
    assert_eq!(ledger.was_sent(SENT, &running).await, Ok(true));
    assert_eq!(ledger.was_sent(DURING, &running).await, Ok(false));

    nats.kill();
    let down = Instant::now();
    let lookup = tokio::spawn({
        let (ledger, running) = (ledger.clone(), running.clone());
        async move { ledger.was_sent(SENT, &running).await }
    });
    let record = tokio::spawn({
        let ledger = ledger.clone();
        async move { ledger.record_sent(DURING).await }
    });
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!lookup.is_finished(), "the lookup waits for the server");
    assert!(!record.is_finished(), "the record waits for the server");

    nats = tokio::task::spawn_blocking(move || {
        nats.restart();
        nats
    })
    .await
    .unwrap();
    assert_eq!(
        lookup.await.unwrap(),
        Ok(true),
        "still known as sent after the outage"
    );
    record.await.unwrap();
    assert!(
        down.elapsed() < Duration::from_secs(15),
        "{:?}",
        down.elapsed()
    );
    assert_eq!(
        ledger.was_sent(DURING, &running).await,
        Ok(true),
        "recorded during the outage"
    );

    // A shutdown during an outage hands the alert back after the request
    // in flight (the retry policy's grace for an attempt in progress).
    nats.kill();
    let stopping = Stopping::new();
    let pending = tokio::spawn({
        let (ledger, stopping) = (ledger.clone(), stopping.clone());
        async move { ledger.was_sent(SENT, &stopping).await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stopped = Instant::now();
    stopping.cancel();
    assert_eq!(pending.await.unwrap(), Err(Stopped));
    assert!(
        stopped.elapsed() < Duration::from_secs(7),
        "{:?}",
        stopped.elapsed()
    );
}

/// Two deliveries of one article's email batches (two instances, or a
/// redelivery after an ack timeout) settle subscribers into the same
/// record at once: compare-and-set merges the sets, none is lost.
#[tokio::test]
async fn two_writers_of_one_delivery_record_merge() {
    use newsalert::deliver::settled::Settled;
    let nats = NatsServer::start();
    let (_dir, ledger) = ledger(&nats).await;
    let running = Stopping::new();
    let load = || Settled::load(ledger.sent_bucket(), "a-1//email", &running);
    let (one, two) = (load().await.unwrap(), load().await.unwrap());
    assert!(!one.contains("s1"));
    tokio::join!(
        one.settle("s1"),
        two.settle("s2"),
        one.settle("s3"),
        two.settle("s4")
    );
    let after = load().await.unwrap();
    for s in ["s1", "s2", "s3", "s4"] {
        assert!(after.contains(s), "{s} settled");
    }
    assert!(!after.contains("s5"));
    let other = Settled::load(ledger.sent_bucket(), "a-2//email", &running);
    assert!(
        !other.await.unwrap().contains("s1"),
        "one record per article"
    );
}
