//! Wiring: [`App::build`] connects to NATS, loads the rules and picks a
//! notifier per channel; [`App::run_until_stopped`] consumes article events
//! until the shutdown future resolves. `main` and the tests both use it.
//!
//! Per event: decode → clean → match → route → deliver → ack. Events that
//! can never be processed are dead-lettered, then acked; an event whose
//! alerts could not all be sent is nak'ed with a delay and comes back.

use crate::article;
use crate::deliver::console::ConsoleNotifier;
use crate::deliver::email::EmailNotifier;
use crate::deliver::retry::{RetryPolicy, send_with_retry};
use crate::deliver::telegram::TelegramNotifier;
use crate::deliver::{DeliveryError, Notifiers};
use crate::nats::{Broker, NatsError, ensure_consumer};
use crate::pipeline::{self, PreparedArticle};
use crate::regions::Gazetteer;
use crate::reload::{self, SharedRuleBook};
use crate::rulebook::RuleBook;
use crate::settings::Settings;
use crate::text::CleanOptions;
use async_nats::jetstream::{self, AckKind};
use futures::StreamExt;
use secrecy::ExposeSecret;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Rules(Vec<crate::rulebook::Diagnostic>),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Settings(Vec<crate::settings::SettingsError>),
    #[error(transparent)]
    Nats(#[from] NatsError),
    #[error("{0}")]
    Notifier(String),
}

/// A running instance's parts.
pub struct App {
    settings: Settings,
    broker: Broker,
    notifiers: Notifiers,
    rules: SharedRuleBook,
    gazetteer: Arc<Gazetteer>,
    /// The rules file as it was just before `rules` was loaded from it.
    rules_stamp: reload::FileStamp,
    retry: RetryPolicy,
}

/// Build the notifiers the settings ask for; unconfigured channels print
/// to the console.
///
/// # Errors
/// Invalid Telegram or SMTP settings.
pub fn notifiers(settings: &Settings) -> Result<Notifiers, String> {
    let console = Arc::new(ConsoleNotifier);
    let token = settings.telegram.bot_token.expose_secret();
    let telegram: Arc<dyn crate::deliver::Notifier> = if token.is_empty() {
        tracing::info!("telegram.bot_token not set: Telegram alerts go to the console");
        console.clone()
    } else {
        Arc::new(TelegramNotifier::new(token, &settings.telegram.api_url)?)
    };
    let email: Arc<dyn crate::deliver::Notifier> = if settings.smtp.host.is_empty() {
        tracing::info!("smtp.host not set: email alerts go to the console");
        console
    } else {
        Arc::new(EmailNotifier::new(&settings.smtp)?)
    };
    Ok(Notifiers { telegram, email })
}

impl App {
    /// Validate settings and rules, connect, and prepare the consumer.
    ///
    /// # Errors
    /// See [`StartError`].
    pub async fn build(settings: Settings) -> Result<App, StartError> {
        let problems = settings.validate();
        if !problems.is_empty() {
            return Err(StartError::Settings(problems));
        }
        let gazetteer = Arc::new(Gazetteer::builtin());
        let rules_stamp = reload::FileStamp::of(&settings.rules_path());
        let book = RuleBook::load(&settings.rules_path(), &gazetteer).map_err(StartError::Rules)?;
        for w in &book.warnings {
            tracing::warn!("{w}");
        }
        tracing::info!(
            rules = book.rules.len(),
            subscribers = book.subscribers.len(),
            "rules loaded"
        );
        let notifiers = notifiers(&settings).map_err(StartError::Notifier)?;
        let broker = Broker::connect(&settings.nats).await?;
        ensure_consumer(&broker.js, &settings.nats, settings.ack_wait()).await?;
        Ok(App {
            rules: reload::shared(book),
            settings,
            broker,
            notifiers,
            gazetteer,
            rules_stamp,
            retry: RetryPolicy::default(),
        })
    }

    /// Override the retry policy (tests use short waits).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Consume until `shutdown` resolves; in-flight events finish first.
    ///
    /// # Errors
    /// Only if the consumer cannot be (re)created at all.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), StartError> {
        let this = Arc::new(self);
        let reloader = tokio::spawn(reload::watch(
            reload::WatchOptions {
                path: this.settings.rules_path(),
                poll: this
                    .settings
                    .rules
                    .watch
                    .then(|| this.settings.rules_poll()),
                loaded: this.rules_stamp,
            },
            this.gazetteer.clone(),
            this.rules.clone(),
        ));
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let consumer = ensure_consumer(
                &this.broker.js,
                &this.settings.nats,
                this.settings.ack_wait(),
            )
            .await;
            let messages = match consumer {
                Ok(c) => c.messages().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            let messages = match messages {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot start consuming; retrying");
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            };
            tracing::info!(stream = %this.settings.nats.stream, consumer = %this.settings.nats.consumer, "consuming");
            let stopped = std::sync::atomic::AtomicBool::new(false);
            let failed = std::sync::atomic::AtomicBool::new(false);
            let concurrency = this.settings.pipeline.concurrency;
            let work = messages
                .take_while(|m| {
                    let ok = m.is_ok();
                    if let Err(e) = m {
                        tracing::warn!(error = %e, "consumer stream error; recreating the consumer");
                        failed.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                    std::future::ready(ok)
                })
                .filter_map(|m| std::future::ready(m.ok()))
                .take_until(async {
                    (&mut shutdown).await;
                    stopped.store(true, std::sync::atomic::Ordering::SeqCst);
                })
                .for_each_concurrent(concurrency, |msg| {
                    let this = this.clone();
                    async move { this.handle(msg).await }
                });
            work.await;
            if stopped.load(std::sync::atomic::Ordering::SeqCst)
                || !failed.load(std::sync::atomic::Ordering::SeqCst)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        reloader.abort();
        tracing::info!("stopped");
        Ok(())
    }

    /// Process one event, keeping it alive with in-progress acks meanwhile.
    async fn handle(&self, msg: jetstream::Message) {
        let keepalive = self.settings.ack_wait() / 3;
        let work = self.process(&msg);
        let mut work = std::pin::pin!(work);
        let outcome = loop {
            tokio::select! {
                outcome = &mut work => break outcome,
                () = tokio::time::sleep(keepalive) => {
                    if let Err(e) = msg.ack_with(AckKind::Progress).await {
                        tracing::warn!(error = %e, "in-progress ack failed");
                    }
                }
            }
        };
        let ack = match outcome {
            Outcome::Done => msg.ack().await,
            Outcome::Retry(delay) => msg.ack_with(AckKind::Nak(Some(delay))).await,
        };
        if let Err(e) = ack {
            tracing::warn!(error = %e, "ack failed; the event will be redelivered");
        }
    }

    async fn process(&self, msg: &jetstream::Message) -> Outcome {
        let article = match article::decode(&msg.payload, self.settings.pipeline.max_event_bytes) {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(subject = %msg.subject, error = %e, "invalid event; dead-lettering");
                return match self.broker.dead_letter(msg, e.kind(), &e.to_string()).await {
                    Ok(()) => Outcome::Done,
                    Err(err) => {
                        tracing::error!(error = %err, "dead-letter publish failed; will retry");
                        Outcome::Retry(Duration::from_secs(5))
                    }
                };
            }
        };
        for w in &article.warnings {
            tracing::warn!(article_id = %article.id, "{w}");
        }
        let book = self.rules.borrow().clone();
        let alerts = {
            let clean = CleanOptions {
                enabled: self.settings.pipeline.clean_text,
            };
            let prepared = PreparedArticle::new(&article, clean);
            let matches = pipeline::evaluate(&book, &prepared);
            pipeline::route(&book, &prepared, &matches)
        };
        tracing::debug!(article_id = %article.id, alerts = alerts.len(), "matched");
        let sends = alerts.iter().map(|alert| async move {
            let notifier = self.notifiers.for_channel(alert.channel);
            let result = send_with_retry(notifier.as_ref(), alert, self.retry).await;
            match &result {
                Ok(()) => tracing::info!(article_id = %alert.article_id, subscriber = %alert.subscriber, channel = %alert.channel, "alert sent"),
                Err(e) => tracing::error!(article_id = %alert.article_id, subscriber = %alert.subscriber, channel = %alert.channel, error = %e, "alert failed"),
            }
            result
        });
        let results = futures::future::join_all(sends).await;
        if results
            .iter()
            .any(|r| matches!(r, Err(DeliveryError::Transient { .. })))
        {
            Outcome::Retry(Duration::from_secs(10))
        } else {
            Outcome::Done
        }
    }
}

enum Outcome {
    Done,
    Retry(Duration),
}
