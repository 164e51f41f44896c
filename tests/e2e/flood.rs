//! A 429 pauses only what it must: one chat answered 429 with a long
//! `retry_after` waits it out while every other chat goes on at Telegram's
//! normal rate (1 message/s per chat), with the fake enforcing the limits.

use crate::delivery::{Publisher, To, article_id_in, rules_for, wait_drained};
use crate::support::nats::NatsServer;
use crate::support::telegram::{FakeTelegram, Fault, FloodLimits};
use crate::support::wait_until;
use crate::{config_dir, spawn_app};
use std::time::{Duration, Instant};

const SLOW: i64 = 900;
const RETRY_AFTER: Duration = Duration::from_secs(20);

/// Chat `SLOW` answers its first request with 429 `retry_after = 20`;
/// meanwhile 100 alerts go to 10 other chats. They arrive at 1/s per chat
/// (~10 s in all, well before the 20 s are up), none is refused, and the
/// throttled chat is not asked again before its `retry_after`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_for_one_chat_does_not_slow_the_others() {
    let others: Vec<i64> = (1..=10).map(|i| SLOW + i).collect();
    let mut subs = vec![("slow".to_string(), To::Chat(SLOW))];
    subs.extend(others.iter().map(|c| (format!("c{c}"), To::Chat(*c))));
    let nats = NatsServer::start();
    let telegram = FakeTelegram::start().await;
    telegram.enable_flood_limits(FloodLimits::default());
    telegram.push_fault(Some(SLOW), Fault::RetryAfter(RETRY_AFTER.as_secs() as u32));
    let app = spawn_app(config_dir(&nats, Some(&telegram), None, &rules_for(&subs))).await;
    let publisher = Publisher::connect(&nats).await;

    publisher.article("a-s0", "slow").await;
    assert!(
        wait_until(Duration::from_secs(15), || !telegram.attempts().is_empty()).await,
        "the throttled chat's first request"
    );
    let throttled_at = telegram.attempts()[0].message.at;
    let words: Vec<String> = others.iter().map(|c| format!("c{c}")).collect();
    for i in 0..10 {
        let extra = if i == 9 { " slow" } else { "" };
        publisher
            .article(&format!("a-{i:02}"), &format!("{}{extra}", words.join(" ")))
            .await;
    }

    assert!(
        wait_until(Duration::from_secs(30), || {
            others.iter().all(|c| telegram.sent_to(*c).len() >= 10)
        })
        .await,
        "100 alerts to the other chats; attempts: {:#?}",
        telegram.attempts()
    );
    let last_other = Instant::now();
    let attempts = telegram.attempts();
    let refused: Vec<_> = attempts
        .iter()
        .filter(|a| a.status != 200 && a.message.chat_id != SLOW)
        .collect();
    assert!(refused.is_empty(), "other chats refused: {refused:#?}");
    for chat in &others {
        let times: Vec<Instant> = telegram.sent_to(*chat).iter().map(|m| m.at).collect();
        let span = times[9].duration_since(times[0]);
        assert!(
            span >= Duration::from_secs(9),
            "chat {chat}: 10 in {span:?}"
        );
        assert!(
            span < Duration::from_secs(13),
            "chat {chat}: 10 in {span:?}"
        );
    }
    let others_took = last_other.duration_since(throttled_at);
    assert!(
        others_took < RETRY_AFTER,
        "the other chats waited for the 429: done {others_took:?} after it"
    );
    assert!(
        telegram.sent_to(SLOW).is_empty(),
        "nothing to the throttled chat before its retry_after"
    );

    assert!(
        wait_until(Duration::from_secs(30), || telegram.sent_to(SLOW).len()
            >= 2)
        .await,
        "the throttled chat's alerts after the wait; attempts: {:#?}",
        telegram.attempts()
    );
    let slow: Vec<_> = telegram
        .attempts()
        .into_iter()
        .filter(|a| a.message.chat_id == SLOW)
        .collect();
    let statuses: Vec<u16> = slow.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [429, 200, 200]);
    let retried_after = slow[1].message.at.duration_since(slow[0].message.at);
    assert!(
        retried_after >= RETRY_AFTER,
        "retried after {retried_after:?}"
    );
    assert!(
        retried_after < RETRY_AFTER + Duration::from_secs(3),
        "retried after {retried_after:?}"
    );
    let ids: Vec<String> = slow
        .iter()
        .skip(1)
        .filter_map(|a| article_id_in(&a.message.text))
        .collect();
    assert_eq!(ids, ["a-s0", "a-09"], "in order");
    wait_drained(publisher.js(), Duration::from_secs(10)).await;
    assert_eq!(telegram.sent().len(), 102, "each alert once");
    println!(
        "flood: 100 alerts to 10 chats done {others_took:?} after the 429; \
         throttled chat retried after {retried_after:?}"
    );
    app.stop().await;
}
