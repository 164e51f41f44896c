//! A consumer served in stream order (`ConsumerSpec::from_ack_floor`, the
//! Telegram partitions) never lets a later message overtake one whose
//! delivery went missing. The test takes one delivery away from the
//! consume loop mid-stream (another client pulls it from the same durable
//! consumer and never acks it: what a delivery lost in a consumer leader
//! change looks like to the loop). With the check, the loop sees the gap
//! in consumer sequences and reopens from the ack floor: every message is
//! handled first in stream order. The control run, same theft on a plain
//! consumer, gets the stolen message only after its ack wait, after later
//! ones: the check is what keeps the order.

use crate::support::nats::NatsServer;
use async_nats::jetstream::{self, consumer, stream};
use futures::StreamExt;
use futures::future::BoxFuture;
use newsalert::consume::{self, ConsumerSpec, Handler, Outcome};
use newsalert::observe::Health;
use newsalert::shutdown::Stopping;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const MESSAGES: u64 = 20;
/// The stream sequence after whose handling a delivery is stolen.
const STEAL_AFTER: u64 = 5;

struct Recorder {
    js: jetstream::Context,
    spec: ConsumerSpec,
    handled: Mutex<Vec<u64>>,
    stolen: AtomicBool,
    done: Stopping,
}

impl Recorder {
    /// Pull the consumer's next undelivered message with another
    /// subscription and never ack it.
    async fn steal(&self) -> u64 {
        let c: consumer::PullConsumer = self
            .js
            .get_consumer_from_stream(&self.spec.durable, &self.spec.stream)
            .await
            .unwrap();
        let mut batch = c.fetch().max_messages(1).messages().await.unwrap();
        let msg = batch.next().await.expect("a message to steal").unwrap();
        msg.info().unwrap().stream_sequence
    }

    fn first_handled_in_order(&self) -> (Vec<u64>, bool) {
        let handled = self.handled.lock().unwrap().clone();
        let mut seen = HashSet::new();
        let first: Vec<u64> = handled.into_iter().filter(|s| seen.insert(*s)).collect();
        let ordered = first.windows(2).all(|w| w[0] < w[1]);
        (first, ordered)
    }
}

impl Handler for Recorder {
    fn handle<'a>(
        &'a self,
        msg: &'a jetstream::Message,
        _: &'a Stopping,
    ) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let seq = msg.info().unwrap().stream_sequence;
            if seq == STEAL_AFTER && !self.stolen.swap(true, Ordering::SeqCst) {
                let stolen = self.steal().await;
                assert!(stolen > STEAL_AFTER, "stole {stolen}");
            }
            let mut handled = self.handled.lock().unwrap();
            handled.push(seq);
            if handled.iter().collect::<HashSet<_>>().len() == MESSAGES as usize {
                self.done.cancel();
            }
            Outcome::Ack
        })
    }
}

/// Run the consume loop over a fresh stream of `MESSAGES` messages with
/// one delivery stolen; the sequences handled first, and whether in order.
async fn run(nats: &NatsServer, name: &str, from_ack_floor: bool) -> (Vec<u64>, bool) {
    let js = jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    js.create_stream(stream::Config {
        name: name.to_string(),
        subjects: vec![format!("{name}.>")],
        ..Default::default()
    })
    .await
    .unwrap();
    for i in 1..=MESSAGES {
        js.publish(format!("{name}.m"), i.to_string().into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let spec = ConsumerSpec {
        stream: name.to_string(),
        durable: format!("{name}-c"),
        filter_subject: String::new(),
        ack_wait: Duration::from_secs(2),
        concurrency: 1,
        from_ack_floor,
    };
    let recorder = Arc::new(Recorder {
        js: js.clone(),
        spec: spec.clone(),
        handled: Mutex::new(Vec::new()),
        stolen: AtomicBool::new(false),
        done: Stopping::new(),
    });
    let done = recorder.done.clone();
    let finished = tokio::time::timeout(
        Duration::from_secs(30),
        consume::run(js, spec, recorder.clone(), Health::default(), async move {
            done.cancelled().await
        }),
    )
    .await;
    assert!(
        finished.is_ok(),
        "not every message handled: {:?}",
        recorder.handled.lock().unwrap()
    );
    recorder.first_handled_in_order()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stolen_delivery_does_not_let_later_messages_overtake_it() {
    let nats = NatsServer::start();
    let (first, ordered) = run(&nats, "ORDERED", true).await;
    assert!(ordered, "handled out of stream order: {first:?}");
    assert_eq!(first, (1..=MESSAGES).collect::<Vec<_>>());

    // Control: without the check the stolen message comes back late.
    let (first, ordered) = run(&nats, "PLAIN", false).await;
    assert_eq!(first.len(), MESSAGES as usize);
    assert!(!ordered, "the control kept the order: {first:?}");
}
