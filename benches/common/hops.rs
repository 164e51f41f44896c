//! Where an alert's latency goes: a `tracing` layer that records the
//! service's hop events (target [`newsalert::observe::HOP`], debug level)
//! with the instant each happened, and the per-hop breakdown table
//! (p50 / p99 / max of each hop, per channel) built from them.
//!
//! Hops of an article: publish (the bench's clock) → `article received`
//! (ingest) → `article matched` → `alerts published` (every alert publish
//! acknowledged). Hops of each alert: `article matched` → `alert received`
//! (its publish, the alerts stream and the wait for a delivery slot;
//! often before all of its article's alerts are published; for a mail,
//! also its batch's delivery-record read) → `alert sending` (per-target
//! lock, sent-log lookup; a mail: the wait for one of
//! `email_concurrency` send slots) → `alert sent` (notifier, flood wait
//! included) → `alert recorded` (sent-log or delivery-record write; after
//! the delivery, so not part of the latency, but it holds a delivery slot).

use super::latency::{row, summary};
use newsalert::observe::HOP;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, filter::Targets};

/// The article hops, then the alert hops, in path order.
const ARTICLE_HOPS: [&str; 3] = ["article received", "article matched", "alerts published"];
const ALERT_HOPS: [&str; 4] = [
    "alert received",
    "alert sending",
    "alert sent",
    "alert recorded",
];

/// One hop event: its name, the bench article index, and for alert hops
/// the subscriber and channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    name: String,
    article: usize,
    subscriber: String,
    channel: String,
}

/// Hop events seen so far, each with the instant it happened.
#[derive(Clone, Default)]
pub struct Hops {
    seen: Arc<Mutex<HashMap<Key, Instant>>>,
}

#[derive(Default)]
struct Fields {
    message: String,
    article_id: String,
    subscriber: String,
    channel: String,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        match field.name() {
            "message" => self.message = text,
            "article_id" => self.article_id = text,
            "subscriber" => self.subscriber = text,
            "channel" => self.channel = text,
            _ => {}
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for Hops {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let at = Instant::now();
        let mut f = Fields::default();
        event.record(&mut f);
        let Some(article) = f
            .article_id
            .strip_prefix("svc-")
            .and_then(|i| i.parse().ok())
        else {
            return;
        };
        let key = Key {
            name: f.message,
            article,
            subscriber: f.subscriber,
            channel: f.channel,
        };
        // A redelivery keeps the first instant.
        self.seen.lock().unwrap().entry(key).or_insert(at);
    }
}

impl Hops {
    /// Record the hop events from now on (the process' only subscriber).
    pub fn install() -> Hops {
        let hops = Hops::default();
        let only_hops = Targets::new().with_target(HOP, tracing::Level::DEBUG);
        tracing_subscriber::registry()
            .with(hops.clone().with_filter(only_hops))
            .init();
        hops
    }

    /// Print the breakdown of articles `range` published at `published`:
    /// one row per hop and channel.
    pub fn print(&self, title: &str, range: std::ops::Range<usize>, published: &[Option<Instant>]) {
        let seen = self.seen.lock().unwrap();
        let at = |name: &str, article: usize, subscriber: &str, channel: &str| {
            let key = Key {
                name: name.to_string(),
                article,
                subscriber: subscriber.to_string(),
                channel: channel.to_string(),
            };
            seen.get(&key).copied()
        };
        let mut series: Vec<(String, Vec<Duration>)> = Vec::new();
        let mut push = |name: String, d: Duration| match series.iter_mut().find(|(n, _)| *n == name)
        {
            Some((_, v)) => v.push(d),
            None => series.push((name, vec![d])),
        };
        for i in range.clone() {
            let Some(mut last) = published[i] else {
                continue;
            };
            let mut from = "publish";
            for hop in ARTICLE_HOPS {
                let Some(t) = at(hop, i, "", "") else { break };
                push(format!("{from} → {hop}"), t.saturating_duration_since(last));
                (last, from) = (t, hop);
            }
        }
        let alerts: Vec<&Key> = (seen.keys())
            .filter(|k| k.name == ALERT_HOPS[0] && range.contains(&k.article))
            .collect();
        for channel in ["email", "telegram"] {
            for k in alerts.iter().filter(|k| k.channel == channel) {
                // From the match: an alert can be received before all of
                // its article's alerts are published.
                let Some(mut last) = at(ARTICLE_HOPS[1], k.article, "", "") else {
                    continue;
                };
                let mut from = ARTICLE_HOPS[1];
                for hop in ALERT_HOPS {
                    let Some(t) = at(hop, k.article, &k.subscriber, channel) else {
                        break;
                    };
                    push(
                        format!("{channel}: {from} → {hop}"),
                        t.saturating_duration_since(last),
                    );
                    (last, from) = (t, hop);
                }
            }
        }
        println!("\n{title}, per hop, milliseconds:");
        println!("| hop | n | p50 | p99 | max |\n|---|---:|---:|---:|---:|");
        for (name, samples) in series {
            row(&name, &summary(samples));
        }
    }
}
