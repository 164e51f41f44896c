//! Every Prometheus metric of the service, defined here and nowhere else,
//! in one [`Metrics`] registry per running instance (no global state, so
//! several instances in one test process keep their own counts). Stages
//! record through the verb methods (`article_consumed`, `alert_sent`, …);
//! the HTTP endpoint renders [`Metrics::encode`] at `/metrics` in the
//! Prometheus text format (0.0.4). The names and labels are listed in the
//! README's metrics table: keep both in step.

use crate::subscriber::Channel;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use std::fmt::Display;
use std::time::Duration;

/// The `Content-Type` of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabel {
    channel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelReason {
    channel: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabel {
    rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleOutcome {
    rule: String,
    outcome: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConsumerLabel {
    consumer: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

/// Upper bounds of the publish-to-delivery latency buckets, in seconds:
/// 5 ms to an hour (alerts waiting out flood limits or an outage).
const LATENCY_BUCKETS: [f64; 16] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// One instance's metrics. Cheap to share behind an `Arc`; every method
/// takes `&self`.
pub struct Metrics {
    registry: Registry,
    articles_consumed: Counter,
    articles_invalid: Family<KindLabel, Counter>,
    articles_dead_lettered: Counter,
    rule_matches: Family<RuleLabel, Counter>,
    rule_alerts: Family<RuleOutcome, Counter>,
    alerts_sent: Family<ChannelLabel, Counter>,
    alerts_retried: Family<ChannelLabel, Counter>,
    alerts_failed: Family<ChannelReason, Counter>,
    alerts_suppressed: Family<ChannelReason, Counter>,
    delivery_latency: Family<ChannelLabel, Histogram, fn() -> Histogram>,
    rule_reloads: Family<OutcomeLabel, Counter>,
    rules: Gauge,
    consumer_pending: Family<ConsumerLabel, Gauge>,
    consumer_ack_pending: Family<ConsumerLabel, Gauge>,
    telegram_429: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered (counters at zero).
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("newsalert");
        let m = Metrics {
            articles_consumed: Counter::default(),
            articles_invalid: Family::default(),
            articles_dead_lettered: Counter::default(),
            rule_matches: Family::default(),
            rule_alerts: Family::default(),
            alerts_sent: Family::default(),
            alerts_retried: Family::default(),
            alerts_failed: Family::default(),
            alerts_suppressed: Family::default(),
            delivery_latency: Family::new_with_constructor(latency_histogram),
            rule_reloads: Family::default(),
            rules: Gauge::default(),
            consumer_pending: Family::default(),
            consumer_ack_pending: Family::default(),
            telegram_429: Counter::default(),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register(
            "articles_consumed",
            "Article events received from the articles stream (redeliveries included)",
            m.articles_consumed.clone(),
        );
        r.register(
            "articles_invalid",
            "Article events that could not be decoded, by kind",
            m.articles_invalid.clone(),
        );
        r.register(
            "articles_dead_lettered",
            "Invalid article events published to the dead-letter stream",
            m.articles_dead_lettered.clone(),
        );
        r.register(
            "rule_matches",
            "Articles matched, per rule",
            m.rule_matches.clone(),
        );
        r.register(
            "rule_alerts",
            "Alerts per rule they list, by outcome (sent, suppressed, failed) and reason",
            m.rule_alerts.clone(),
        );
        r.register(
            "alerts_sent",
            "Alerts accepted by Telegram or the SMTP relay, per channel",
            m.alerts_sent.clone(),
        );
        r.register(
            "alerts_retried",
            "Send attempts after a transient failure, and alerts handed back for later, per channel",
            m.alerts_retried.clone(),
        );
        r.register(
            "alerts_failed",
            "Alerts dead-lettered, per channel and reason",
            m.alerts_failed.clone(),
        );
        r.register(
            "alerts_suppressed",
            "Alerts not sent on purpose (already sent, target disabled), per channel and reason",
            m.alerts_suppressed.clone(),
        );
        r.register_with_unit(
            "delivery_latency",
            "From the article's publish time in NATS to the send being accepted, per channel",
            Unit::Seconds,
            m.delivery_latency.clone(),
        );
        r.register(
            "rule_reloads",
            "Rules file reloads, by outcome (ok, rejected)",
            m.rule_reloads.clone(),
        );
        r.register("rules", "Rules in force", m.rules.clone());
        r.register(
            "consumer_pending_messages",
            "Messages not yet delivered to the durable consumer",
            m.consumer_pending.clone(),
        );
        r.register(
            "consumer_ack_pending_messages",
            "Messages delivered to the durable consumer and not yet acknowledged",
            m.consumer_ack_pending.clone(),
        );
        r.register(
            "telegram_429",
            "HTTP 429 (Too Many Requests) answers from the Telegram Bot API",
            m.telegram_429.clone(),
        );
        r.register(
            "build",
            "The running build",
            Info::new(BuildLabels {
                version: env!("CARGO_PKG_VERSION").to_string(),
            }),
        );
        // Series that exist from the start, at zero, so that rates and
        // alerts work before the first event.
        for channel in Channel::ALL {
            let label = ChannelLabel {
                channel: channel.to_string(),
            };
            let _ = m.alerts_sent.get_or_create(&label);
            let _ = m.alerts_retried.get_or_create(&label);
            let _ = m.delivery_latency.get_or_create(&label);
        }
        for outcome in ["ok", "rejected"] {
            let label = OutcomeLabel {
                outcome: outcome.into(),
            };
            let _ = m.rule_reloads.get_or_create(&label);
        }
        Metrics { registry, ..m }
    }

    /// Everything, in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }

    pub fn article_consumed(&self) {
        self.articles_consumed.inc();
    }

    pub fn article_invalid(&self, kind: &str) {
        let label = KindLabel { kind: kind.into() };
        self.articles_invalid.get_or_create(&label).inc();
    }

    pub fn article_dead_lettered(&self) {
        self.articles_dead_lettered.inc();
    }

    pub fn rule_matched(&self, rule: &str) {
        let label = RuleLabel { rule: rule.into() };
        self.rule_matches.get_or_create(&label).inc();
    }

    /// An alert listing `rule` was `sent`, `suppressed` (for `reason`) or
    /// `failed` (counted with `stats.enabled`, see [`crate::stats`]).
    pub fn rule_alert(&self, rule: &str, outcome: &str, reason: &str) {
        let label = RuleOutcome {
            rule: rule.into(),
            outcome: outcome.into(),
            reason: reason.into(),
        };
        self.rule_alerts.get_or_create(&label).inc();
    }

    /// An alert was accepted, `latency` after its article was published.
    pub fn alert_sent(&self, channel: impl Display, latency: Option<Duration>) {
        let label = ChannelLabel {
            channel: channel.to_string(),
        };
        self.alerts_sent.get_or_create(&label).inc();
        if let Some(latency) = latency {
            self.delivery_latency
                .get_or_create(&label)
                .observe(latency.as_secs_f64());
        }
    }

    pub fn alert_retried(&self, channel: impl Display) {
        let label = ChannelLabel {
            channel: channel.to_string(),
        };
        self.alerts_retried.get_or_create(&label).inc();
    }

    pub fn alert_failed(&self, channel: impl Display, reason: &str) {
        let label = ChannelReason {
            channel: channel.to_string(),
            reason: reason.into(),
        };
        self.alerts_failed.get_or_create(&label).inc();
    }

    pub fn alert_suppressed(&self, channel: impl Display, reason: &str) {
        let label = ChannelReason {
            channel: channel.to_string(),
            reason: reason.into(),
        };
        self.alerts_suppressed.get_or_create(&label).inc();
    }

    /// A reload ended: `Some(rules)` swapped in, `None` rejected.
    pub fn rules_reloaded(&self, swapped: Option<usize>) {
        let outcome = if swapped.is_some() { "ok" } else { "rejected" };
        let label = OutcomeLabel {
            outcome: outcome.into(),
        };
        self.rule_reloads.get_or_create(&label).inc();
        if let Some(n) = swapped {
            self.rules_in_force(n);
        }
    }

    pub fn rules_in_force(&self, rules: usize) {
        self.rules.set(i64::try_from(rules).unwrap_or(i64::MAX));
    }

    /// The durable consumer's backlog, as JetStream reported it.
    pub fn consumer_backlog(&self, consumer: &str, pending: u64, ack_pending: usize) {
        let label = ConsumerLabel {
            consumer: consumer.into(),
        };
        let gauge = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.consumer_pending
            .get_or_create(&label)
            .set(gauge(pending));
        self.consumer_ack_pending
            .get_or_create(&label)
            .set(gauge(ack_pending as u64));
    }

    pub fn telegram_rate_limited(&self) {
        self.telegram_429.inc();
    }
}

#[cfg(test)]
mod tests;
