//! The stages [`App::run_until_stopped`] runs, each a durable JetStream
//! consumer run by [`crate::consume`]: articles → [`ingest`](crate::ingest)
//! → alerts stream → [`deliver::worker`](crate::deliver::worker) (one
//! consumer per channel; Telegram's per partition, for the partitions
//! this instance holds: [`crate::deliver::partitions`], while the
//! unpartitioned Telegram consumer only moves alerts of earlier releases
//! to their partition), held alerts → the release task
//! ([`crate::pending::release`]) → prepared messages → [`PreparedHandler`],
//! beside the rules watcher, the bot and the backlog
//! reporter.

use super::{App, StartError};
use crate::consume::{self, ConsumerSpec};
use crate::deliver::in_order::{Dispatch, Forwarder, InOrder};
use crate::deliver::partitions::Partitions;
use crate::deliver::prepared::handler::PreparedHandler;
use crate::deliver::worker::AlertHandler;
use crate::ingest::ArticleHandler;
use crate::reload;
use crate::rulebook::RuleCache;
use crate::settings::subject::alert_subject;
use crate::shutdown::{AbortOnDrop, SharedSignal, Stopping};
use crate::subscriber::Channel;
use crate::text::CleanOptions;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// What a Telegram partition's consumer runs: alerts and prepared
/// messages, a chat's in turn.
type TelegramPartition = Dispatch<AlertHandler, PreparedHandler>;

/// The stages, by consumer: articles, one per channel, and the prepared
/// messages (digests, summaries) of both channels.
pub(super) const STAGES: [&str; 4] = ["articles", "telegram", "email", "prepared"];

impl App {
    /// The consumer of stage `name` (`articles`, `telegram`, `email`).
    pub(super) fn spec(&self, name: &str) -> ConsumerSpec {
        let n = &self.settings.nats;
        let d = &self.settings.delivery;
        let (stream, filter, concurrency, durable) = match name {
            "articles" => (
                n.stream.clone(),
                match n.subjects.as_slice() {
                    [one] => one.clone(),
                    _ => String::new(),
                },
                self.settings.pipeline.concurrency,
                n.consumer.clone(),
            ),
            "prepared" => (
                n.alerts_stream.clone(),
                format!("{}.prepared.>", n.alerts_subject),
                d.email_concurrency,
                format!("{}-prepared", n.consumer),
            ),
            channel => (
                n.alerts_stream.clone(),
                alert_subject(&n.alerts_subject, channel),
                if channel == "telegram" {
                    d.telegram_concurrency
                } else {
                    d.email_concurrency
                },
                format!("{}-{channel}", n.consumer),
            ),
        };
        ConsumerSpec {
            stream,
            durable,
            filter_subject: filter,
            ack_wait: self.settings.ack_wait(),
            concurrency,
            from_ack_floor: false,
        }
    }

    /// This instance's side of the partitioned Telegram delivery, with
    /// `handler` sending.
    async fn partitions(
        &self,
        handler: TelegramPartition,
    ) -> Result<Partitions<InOrder<TelegramPartition>>, StartError> {
        let t = &self.settings.telegram;
        Ok(Partitions {
            js: self.broker.js.clone(),
            leases: self.broker.bucket(&t.lease_bucket, t.lease_ttl()).await?,
            ttl: t.lease_ttl(),
            holder: crate::lease::holder_id(),
            partitions: t.partitions,
            alerts_subject: self.settings.nats.alerts_subject.clone(),
            base: self.spec("telegram"),
            handler: Arc::new(InOrder::new(Arc::new(handler))),
            share: self.share.clone(),
            health: self.health.clone(),
        })
    }

    /// Run every stage until `shutdown` resolves; in-flight work is
    /// finished or released first.
    ///
    /// # Errors
    /// The Telegram partitions' lease bucket could not be created.
    pub async fn run_until_stopped(
        mut self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        let reloader = tokio::spawn(reload::watch(
            reload::WatchOptions {
                path: self.settings.rules_path(),
                poll: self
                    .settings
                    .rules
                    .watch
                    .then(|| self.settings.rules_poll()),
                loaded: self.rules_stamp,
                metrics: self.metrics.clone(),
                cache: RuleCache::from_settings(&self.settings.rules),
            },
            self.gazetteer.clone(),
            self.rules.clone(),
        ));
        let shutdown = shutdown.shared_signal();
        let js = self.broker.js.clone();
        let articles = Arc::new(ArticleHandler {
            broker: self.broker.clone(),
            rules: self.rules.clone(),
            clean: CleanOptions {
                enabled: self.settings.pipeline.clean_text,
            },
            max_event_bytes: self.settings.pipeline.max_event_bytes,
            alerts_subject: self.settings.nats.alerts_subject.clone(),
            telegram_partitions: self.settings.telegram.partitions,
            email_batch: self.settings.delivery.email_batch,
            retry: self.retry,
            match_slots: Arc::new(tokio::sync::Semaphore::new(
                self.settings.pipeline.match_threads(),
            )),
            metrics: self.metrics.clone(),
            stories: self.stories.clone(),
            holds: self.held.holds(&self.settings, self.clock.clone()),
            stats: self.stats.clone(),
        });
        self.held.serve_unsubscribe(self.clock.clone());
        let release_stop = Stopping::new();
        let release = self
            .held
            .release(
                &self.settings,
                &self.broker,
                self.rules.clone(),
                self.clock.clone(),
            )
            .map(|r| AbortOnDrop(tokio::spawn(r.run(release_stop.clone()))));
        let prepared = Arc::new(PreparedHandler {
            notifiers: self.notifiers.clone(),
            ledger: self.ledger.clone(),
            broker: self.broker.clone(),
            retry: self.retry,
            max_age: Duration::from_secs(self.settings.delivery.max_age_secs.max(1)),
            metrics: self.metrics.clone(),
            unsubscribed: Some(self.held.unsubscribed.clone()),
        });
        let max_age = Duration::from_secs(self.settings.delivery.max_age_secs.max(1));
        let worker = |channel: Channel| {
            let handler = AlertHandler::new(
                self.notifiers.for_channel(channel).clone(),
                self.ledger.clone(),
                self.broker.clone(),
                self.retry,
                max_age,
                self.metrics.clone(),
            )
            .with_rule_stats(self.stats.clone());
            Arc::new(match channel {
                Channel::Telegram => handler.with_chat_prefs(self.chats.clone()),
                Channel::Email => handler
                    .with_unsubscribed(self.held.unsubscribed.clone())
                    .with_batch_sends(self.settings.delivery.email_concurrency),
            })
        };
        // Dropped (the poller aborted) if this future is, e.g. on a crash.
        let bot_stop = Stopping::new();
        let bot = (self.bot.take()).map(|b| AbortOnDrop(tokio::spawn(b.run(bot_stop.clone()))));
        let partitions = self
            .partitions(Dispatch {
                alerts: worker(Channel::Telegram),
                prepared: prepared.clone(),
            })
            .await?;
        let backlog_stop = Stopping::new();
        let backlog = tokio::spawn(consume::report_backlog(
            js.clone(),
            STAGES
                .iter()
                .map(|s| self.spec(s))
                .chain((0..partitions.partitions).map(|p| partitions.spec(p)))
                .collect(),
            self.metrics.clone(),
            backlog_stop.clone(),
        ));
        let partitions_stop = Stopping::new();
        let stop_partitions = {
            let (shutdown, stop) = (shutdown.clone(), partitions_stop.clone());
            async move {
                shutdown.await;
                stop.cancel();
            }
        };
        let forwarder = Arc::new(Forwarder {
            broker: self.broker.clone(),
            alerts_subject: self.settings.nats.alerts_subject.clone(),
            partitions: self.settings.telegram.partitions,
            retry: self.retry,
        });
        let health = &self.health;
        tokio::join!(
            stop_partitions,
            partitions.run(partitions_stop),
            consume::run(
                js.clone(),
                self.spec("articles"),
                articles,
                health.clone(),
                shutdown.clone()
            ),
            consume::run(
                js.clone(),
                self.spec("telegram"),
                forwarder,
                health.clone(),
                shutdown.clone()
            ),
            consume::run(
                js.clone(),
                self.spec("email"),
                worker(Channel::Email),
                health.clone(),
                shutdown.clone()
            ),
            consume::run(
                js,
                self.spec("prepared"),
                prepared,
                health.clone(),
                shutdown
            ),
        );
        release_stop.cancel();
        if let Some(mut release) = release {
            let _ = (&mut release.0).await;
        }
        reloader.abort();
        bot_stop.cancel();
        if let Some(mut bot) = bot {
            let _ = (&mut bot.0).await;
        }
        backlog_stop.cancel();
        let _ = backlog.await;
        if let Some(flusher) = self.stats_flusher.take() {
            flusher.stop().await;
        }
        if let Some(http) = self.http {
            http.stop().await;
        }
        tracing::info!("stopped");
        Ok(())
    }
}
