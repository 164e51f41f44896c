//! Stage 1, articles → alerts: decode each article event, clean, match and
//! route it on the current rules, and publish its alerts to the alerts
//! stream: one message per Telegram alert (`Nats-Msg-Id` = the alert key),
//! and, once those are acknowledged, its instant mails in batch messages
//! of up to `delivery.email_batch` alerts ([`crate::deliver::batch`]): an
//! article's dozens of mails are one or two JetStream messages, and their
//! delivery starts after the Telegram alerts are on their way. The article
//! is acked only after every publish is acknowledged, so a crash in between
//! loses nothing (JetStream drops the re-published duplicates). Events that
//! can never be processed are dead-lettered with the reason, then acked.
//! A CloudEvents batch is one message of several events: each is alerted
//! on its own, a bad one is dead-lettered alone, and the message is acked
//! once all are done.
//!
//! Between routing and publishing, [`StoryGate`] tags the alerts with the
//! article's story and drops Telegram repeats of a story (see
//! [`crate::story`]), and [`Holds`] sends digest, quiet-hours and over-cap
//! alerts to a held subject instead of the instant one ([`crate::pending`]).
//!
//! Cleaning and matching are CPU work (~0.6 ms per article with 100k
//! rules): they run on tokio's blocking threads, at most
//! `pipeline.match_threads` at once ([`ArticleHandler::match_slots`]), so
//! the runtime's workers stay free for NATS I/O.

use crate::alert;
use crate::article;
use crate::consume::{Handler, Outcome};
use crate::deliver::batch;
use crate::deliver::partition::subject_for;
use crate::dlq::{self, DeadLetter};
use crate::nats::Broker;
use crate::observe::{HOP, Metrics};
use crate::pending::Holds;
use crate::pipeline::{self, PreparedArticle};
use crate::reload::SharedRuleBook;
use crate::retry::RetryPolicy;
use crate::settings::subject::alert_subject;
use crate::shutdown::Stopping;
use crate::stats::RuleStats;
use crate::story::{self, gate::StoryGate, gate::StoryInput};
use crate::subscriber::Channel;
use crate::text::{CleanOptions, FieldName};
use async_nats::jetstream;
use futures::future::BoxFuture;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Handles article events.
pub struct ArticleHandler {
    pub broker: Broker,
    pub rules: SharedRuleBook,
    pub clean: CleanOptions,
    pub max_event_bytes: usize,
    /// Subject prefix of the alerts stream.
    pub alerts_subject: String,
    /// `telegram.partitions`: Telegram alerts go to their chat's partition
    /// ([`crate::deliver::partition::subject_for`]).
    pub telegram_partitions: u32,
    /// `delivery.email_batch`: instant mails per alerts-stream message.
    pub email_batch: usize,
    /// When an article whose alerts could not all be published is tried
    /// again: the policy's delay for its delivery count.
    pub retry: RetryPolicy,
    /// One permit per article being matched: `pipeline.match_threads`.
    pub match_slots: Arc<Semaphore>,
    pub metrics: Arc<Metrics>,
    /// One alert per story (`None`: `story.enabled = false`).
    pub stories: Option<Arc<StoryGate>>,
    /// Holds digest, quiet-hours and over-cap alerts (`None`: `digest.enabled = false`).
    pub holds: Option<Arc<Holds>>,
    /// Per-rule counters (see [`crate::stats`]).
    pub stats: RuleStats,
}

impl ArticleHandler {
    /// Every event of the message (one, or each of a batch) alerted or
    /// dead-lettered; acked only when all of them are.
    async fn process(&self, msg: &jetstream::Message, stopping: &Stopping) -> Outcome {
        let header = |name: &str| header(msg, name);
        let events = article::decode_message(&msg.payload, &header, self.max_event_bytes);
        for event in events {
            self.metrics.article_consumed();
            let outcome = match event.article {
                Ok(article) => self.alert(msg, article, stopping).await,
                Err(e) => self.dead_letter(msg, &e, event.element).await,
            };
            if outcome != Outcome::Ack {
                return outcome;
            }
        }
        Outcome::Ack
    }

    /// Dead-letter an event that can never be processed: the message, or
    /// the bad element of a batch.
    async fn dead_letter(
        &self,
        msg: &jetstream::Message,
        e: &article::DecodeError,
        element: Option<(usize, Vec<u8>)>,
    ) -> Outcome {
        let payload = element
            .as_ref()
            .map_or(&msg.payload[..], |(_, bytes)| bytes);
        let id = article::peek_id(payload).unwrap_or_default();
        let index = element.as_ref().map(|(i, _)| *i);
        tracing::warn!(subject = %msg.subject, article_id = %id, batch_index = ?index, error = %e, "invalid event; dead-lettering");
        let mut reason = match id.as_str() {
            "" => e.to_string(),
            id => format!("article {id:?}: {e}"),
        };
        if let Some(i) = index {
            reason = format!("batch element {i}: {reason}");
        }
        let letter = DeadLetter {
            kind: e.kind(),
            reason: &reason,
            category: "articles",
            element: element.as_ref().map(|(i, bytes)| (*i, &bytes[..])),
        };
        self.metrics.article_invalid(e.kind());
        let outcome = dlq::dead_letter(&self.broker, msg, letter).await;
        if outcome == Outcome::Ack {
            self.metrics.article_dead_lettered();
        }
        outcome
    }

    /// Clean, match and route `article`, and publish its alerts.
    async fn alert(
        &self,
        msg: &jetstream::Message,
        article: article::Article,
        stopping: &Stopping,
    ) -> Outcome {
        tracing::debug!(target: HOP, article_id = %article.id, "article received");
        for w in &article.warnings {
            tracing::warn!(article_id = %article.id, "{w}");
        }
        // The rules this article started with, even if a reload lands now.
        let book = self.rules.borrow().clone();
        let routed_by = book.clone();
        let clean = self.clean;
        let metrics = self.metrics.clone();
        let with_stories = self.stories.is_some();
        let stats = self.stats.clone();
        let matched = {
            // The semaphore is never closed.
            let _slot = self.match_slots.acquire().await;
            tokio::task::spawn_blocking(move || {
                let alerts = {
                    let prepared = PreparedArticle::new(&article, clean);
                    let matches = pipeline::evaluate(&book, &prepared);
                    for m in &matches {
                        metrics.rule_matched(&book.rules[m.rule].id);
                    }
                    stats.matched(matches.iter().map(|m| book.rules[m.rule].id.as_str()));
                    let alerts = pipeline::route(&book, &prepared, &matches);
                    let shingles = (with_stories && !alerts.is_empty()).then(|| {
                        let text = |f| prepared.field(f).clean.as_str();
                        story::shingles(
                            text(FieldName::Title),
                            text(FieldName::Summary),
                            text(FieldName::Body),
                        )
                    });
                    (alerts, shingles)
                };
                (article, alerts)
            })
            .await
        };
        let (article, (alerts, shingles)) = match matched {
            Ok(done) => done,
            Err(e) => {
                let outcome = Outcome::retry_later(&self.retry, msg);
                tracing::error!(subject = %msg.subject, error = %e, ?outcome, "matching failed; will retry the article");
                return outcome;
            }
        };
        tracing::debug!(target: HOP, article_id = %article.id, alerts = alerts.len(), "article matched");
        let alerts = match (&self.stories, &shingles) {
            (Some(gate), Some(shingles)) => {
                let input = StoryInput {
                    article_id: article.id.as_str(),
                    source: story::source_of(
                        article.source.as_deref(),
                        article.url.as_deref(),
                        article.id.as_str(),
                    ),
                    shingles,
                    now_ms: time::OffsetDateTime::now_utc().unix_timestamp() * 1000,
                };
                // What the stats need of the routed alerts: key and rules.
                let routed: Option<Vec<(String, Vec<String>)>> = self
                    .stats
                    .is_enabled()
                    .then(|| alerts.iter().map(|a| (a.key(), a.rules.clone())).collect());
                let kept = gate.apply(input, alerts, stopping).await;
                if let Some(routed) = routed {
                    self.stats.story_suppressed(&routed, &kept);
                }
                kept
            }
            _ => alerts,
        };
        // When the article entered NATS: delivery latency is measured from it.
        let published = msg.info().ok().map(|i| i.published);
        // Telegram alerts first, one message each; then the rest, the
        // mails in a few batch messages however many they are.
        let (telegram, rest): (Vec<_>, Vec<_>) =
            alerts.iter().partition(|a| a.channel == Channel::Telegram);
        let publishes = (telegram.into_iter()).map(|a| async {
            let (subject, headers) = self.place(a, &routed_by, published, stopping).await;
            self.send(subject, a.key(), headers, serde_json::to_vec(a))
                .await
        });
        // The mails wait for the Telegram alerts' acks: their batch's
        // delivery (dozens of SMTP transactions at once) would otherwise
        // compete with the Telegram alerts' for the CPU.
        let done = futures::future::join_all(publishes).await;
        let mut failures: Vec<String> = done.into_iter().filter_map(Result::err).collect();
        let rest = self.publish_rest(article.id.as_str(), rest, &routed_by, published, stopping);
        failures.extend(rest.await);
        if let Some(e) = failures.first() {
            let outcome = Outcome::retry_later(&self.retry, msg);
            tracing::warn!(article_id = %article.id, failed = failures.len(), error = %e, ?outcome, "alert publish failed; will retry the article");
            return outcome;
        }
        tracing::debug!(target: HOP, article_id = %article.id, "alerts published");
        Outcome::Ack
    }

    /// The subject `alert` (routed by `book`) goes to, instant or held,
    /// and its headers.
    async fn place(
        &self,
        alert: &alert::Alert,
        book: &crate::rulebook::RuleBook,
        published: Option<time::OffsetDateTime>,
        stopping: &Stopping,
    ) -> (String, Option<async_nats::HeaderMap>) {
        match &self.holds {
            Some(holds) => holds.place(book, alert, published, stopping).await,
            None => (
                subject_for(&self.alerts_subject, alert, self.telegram_partitions),
                published.map(alert::published_header),
            ),
        }
    }

    /// Publish an article's alerts other than Telegram's, each on the
    /// subject [`Self::place`] gives it: the instant mails in batches of
    /// at most `email_batch` alerts and [`batch::MAX_BATCH_BYTES`]
    /// ([`batch`]), the others (held ones) one by one. The errors of those
    /// that failed.
    async fn publish_rest(
        &self,
        article_id: &str,
        alerts: Vec<&alert::Alert>,
        book: &crate::rulebook::RuleBook,
        published: Option<time::OffsetDateTime>,
        stopping: &Stopping,
    ) -> Vec<String> {
        let places = alerts
            .iter()
            .map(|a| self.place(a, book, published, stopping));
        let placed = futures::future::join_all(places).await;
        let instant_mail = alert_subject(&self.alerts_subject, Channel::Email);
        let (mut mails, mut singles) = (Vec::new(), Vec::new());
        for (a, (subject, headers)) in alerts.into_iter().zip(placed) {
            if self.email_batch > 1 && a.channel == Channel::Email && subject == instant_mail {
                mails.push(a);
            } else {
                singles.push(self.send(subject, a.key(), headers, serde_json::to_vec(a)));
            }
        }
        let encoded = batch::encode(&mails, self.email_batch, batch::MAX_BATCH_BYTES);
        let encoded = match encoded {
            Ok(e) => e,
            Err(e) => return vec![e.to_string()],
        };
        let batches = encoded.into_iter().enumerate().map(|(i, (n, payload))| {
            let mut headers = published.map(alert::published_header).unwrap_or_default();
            headers.insert(batch::ALERT_BATCH, n.to_string().as_str());
            let id = batch::batch_id(article_id, i);
            self.send(instant_mail.clone(), id, Some(headers), Ok(payload))
        });
        let batches: Vec<_> = batches.collect();
        let (singles, batches) = futures::future::join(
            futures::future::join_all(singles),
            futures::future::join_all(batches),
        )
        .await;
        (singles.into_iter().chain(batches))
            .filter_map(Result::err)
            .collect()
    }

    /// Publish `payload` on `subject` with dedup id `id`.
    async fn send(
        &self,
        subject: String,
        id: String,
        headers: Option<async_nats::HeaderMap>,
        payload: serde_json::Result<Vec<u8>>,
    ) -> Result<(), String> {
        let payload = payload.map_err(|e| e.to_string())?;
        self.broker
            .publish(subject, &id, headers, payload.into())
            .await
            .map_err(|e| e.to_string())
    }
}

/// The value of header `name` of `msg`, names compared case-insensitively.
pub fn header(msg: &jetstream::Message, name: &str) -> Option<String> {
    crate::nats::header_value(msg.headers.as_ref()?, name)
}

impl Handler for ArticleHandler {
    fn handle<'a>(
        &'a self,
        msg: &'a jetstream::Message,
        stopping: &'a Stopping,
    ) -> BoxFuture<'a, Outcome> {
        Box::pin(self.process(msg, stopping))
    }
}
