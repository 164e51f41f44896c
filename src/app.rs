//! Wiring: [`App::build`] validates settings and rules, starts the HTTP
//! endpoint ([`App::start`], so `/healthz` answers and `/readyz` says why
//! not while NATS is unreachable or refuses us), connects to NATS
//! (streams, buckets) and picks a notifier per channel
//! ([`Starting::connect`]); [`App::run_until_stopped`] runs the stages
//! until the shutdown future resolves, then stops the endpoint. `main`
//! and the tests both use it.
//!
//! Stages, each a durable JetStream consumer run by [`crate::consume`]:
//! articles → [`ingest`](crate::ingest) → alerts stream →
//! [`deliver::worker`](crate::deliver::worker) (one consumer per channel).

use crate::bot::{self, BotService, prefs::ChatPrefs};
use crate::consume::{self, ConsumerSpec};
use crate::deliver::console::ConsoleNotifier;
use crate::deliver::email::EmailNotifier;
use crate::deliver::ledger::Ledger;
use crate::deliver::telegram::TelegramNotifier;
use crate::deliver::worker::AlertHandler;
use crate::deliver::{Notifier, Notifiers};
use crate::http::{self, HttpServer, HttpState};
use crate::ingest::ArticleHandler;
use crate::nats::{Broker, LedgerBuckets, NatsError};
use crate::observe::{Health, Metrics};
use crate::regions::Gazetteer;
use crate::reload::{self, SharedRuleBook};
use crate::retry::RetryPolicy;
use crate::rulebook::RuleBook;
use crate::settings::Settings;
use crate::settings::subject::alert_subject;
use crate::shutdown::{AbortOnDrop, SharedSignal, Stopping};
use crate::story::gate::StoryGate;
use crate::subscriber::Channel;
use crate::text::CleanOptions;
use secrecy::ExposeSecret;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{}", crate::location::join_lines(.0))]
    Rules(Vec<crate::rulebook::Diagnostic>),
    #[error("{}", crate::location::join_lines(.0))]
    Settings(Vec<crate::settings::SettingsError>),
    #[error(transparent)]
    Nats(#[from] NatsError),
    #[error("{0}")]
    Notifier(String),
    #[error("{0}")]
    Http(String),
}

/// A running instance's parts.
pub struct App {
    settings: Settings,
    broker: Broker,
    notifiers: Notifiers,
    ledger: Ledger,
    rules: SharedRuleBook,
    rules_stamp: reload::FileStamp,
    gazetteer: Arc<Gazetteer>,
    retry: RetryPolicy,
    metrics: Arc<Metrics>,
    health: Health,
    http: Option<HttpServer>,
    /// One alert per story (`None`: `story.enabled = false`).
    stories: Option<Arc<StoryGate>>,
    /// Chat preferences (`/pause`, `/stop`), honoured by the Telegram worker.
    chats: ChatPrefs,
    /// The bot (`None`: no token, or `bot.enabled = false`).
    bot: Option<BotService>,
}

/// An instance whose settings and rules are valid and whose HTTP endpoint
/// is up, not yet connected to NATS.
pub struct Starting {
    settings: Settings,
    book: RuleBook,
    rules_stamp: reload::FileStamp,
    gazetteer: Arc<Gazetteer>,
    metrics: Arc<Metrics>,
    health: Health,
    http: Option<HttpServer>,
}

impl Starting {
    /// Where the HTTP endpoint listens (`None`: `http.listen` is empty).
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().map(HttpServer::addr)
    }

    /// Connect (waiting for NATS as [`crate::nats::connect`] does), create
    /// or update the streams and buckets, and pick the notifiers.
    ///
    /// # Errors
    /// See [`StartError`].
    pub async fn connect(self) -> Result<App, StartError> {
        let Starting {
            settings,
            book,
            rules_stamp,
            gazetteer,
            metrics,
            health,
            http,
        } = self;
        let broker = Broker::connect(&settings.nats, &health).await?;
        let LedgerBuckets { sent, targets } = broker.ledger_buckets(&settings.nats).await?;
        let ledger = Ledger::new(sent, targets);
        let notifiers = notifiers(&settings, &ledger, &metrics).map_err(StartError::Notifier)?;
        let rules = reload::shared(book);
        let stories = StoryGate::from_settings(&settings.story, &broker, &metrics).await?;
        let (chats, bot) = bot::start(&settings, &broker, rules.clone()).await?;
        let app = App {
            stories,
            chats,
            bot,
            rules,
            rules_stamp,
            retry: RetryPolicy::from(&settings.delivery),
            settings,
            broker,
            notifiers,
            ledger,
            gazetteer,
            metrics,
            health,
            http,
        };
        for stage in STAGES {
            app.health.expect_consumer(&app.spec(stage).durable);
        }
        Ok(app)
    }
}

/// The stages, by consumer: articles, then one per channel.
const STAGES: [&str; 3] = ["articles", "telegram", "email"];

/// Build the notifiers the settings ask for; unconfigured channels print
/// to the console.
///
/// # Errors
/// Invalid Telegram or SMTP settings.
pub fn notifiers(
    settings: &Settings,
    ledger: &Ledger,
    metrics: &Arc<Metrics>,
) -> Result<Notifiers, String> {
    let console = Arc::new(ConsoleNotifier);
    let token = settings.telegram.bot_token.expose_secret();
    let telegram: Arc<dyn Notifier> = if token.is_empty() {
        tracing::info!("telegram.bot_token not set: Telegram alerts go to the console");
        console.clone()
    } else {
        Arc::new(TelegramNotifier::new(
            token,
            &settings.telegram.api_url,
            settings.telegram.link_preview,
            ledger.clone(),
            metrics.clone(),
        )?)
    };
    let email: Arc<dyn Notifier> = if settings.smtp.host.is_empty() {
        tracing::info!("smtp.host not set: email alerts go to the console");
        console
    } else {
        Arc::new(EmailNotifier::new(
            &settings.smtp,
            settings.dkim_key_path().as_deref(),
            settings.delivery.email_concurrency,
        )?)
    };
    Ok(Notifiers { telegram, email })
}

impl App {
    /// Validate settings and rules, start the HTTP endpoint, connect
    /// (waiting for NATS), and create or update the streams and buckets:
    /// [`App::start`] then [`Starting::connect`].
    ///
    /// # Errors
    /// See [`StartError`].
    pub async fn build(settings: Settings) -> Result<App, StartError> {
        App::start(settings).await?.connect().await
    }

    /// Validate settings and rules and start the HTTP endpoint (if
    /// `http.listen` is set): `/healthz` answers from here on.
    ///
    /// # Errors
    /// Invalid settings or rules; `http.listen` cannot be bound.
    pub async fn start(settings: Settings) -> Result<Starting, StartError> {
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
        let metrics = Arc::new(Metrics::new());
        metrics.rules_in_force(book.rules.len());
        let health = Health::default();
        health.rules_loaded();
        let http = match settings.http.listen.as_str() {
            "" => None,
            listen => {
                let routes = http::router(HttpState {
                    health: health.clone(),
                    metrics: metrics.clone(),
                });
                Some(
                    HttpServer::start(listen, routes)
                        .await
                        .map_err(StartError::Http)?,
                )
            }
        };
        Ok(Starting {
            settings,
            book,
            rules_stamp,
            gazetteer,
            metrics,
            health,
            http,
        })
    }

    /// Where the HTTP endpoint listens (`None`: `http.listen` is empty).
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().map(HttpServer::addr)
    }

    /// This instance's metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Override the retry policy (tests use short waits).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Replace the notifiers (the delivery benchmark counts sends instead
    /// of making them).
    pub fn with_notifiers(mut self, notifiers: Notifiers) -> Self {
        self.notifiers = notifiers;
        self
    }

    /// The consumer of stage `name` (`articles`, `telegram`, `email`).
    fn spec(&self, name: &str) -> ConsumerSpec {
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
        }
    }

    /// Run every stage until `shutdown` resolves; in-flight work is
    /// finished or released first.
    ///
    /// # Errors
    /// None at present; kept for stages that can fail to start.
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
            retry: self.retry,
            match_slots: Arc::new(tokio::sync::Semaphore::new(
                self.settings.pipeline.match_threads(),
            )),
            metrics: self.metrics.clone(),
            stories: self.stories.clone(),
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
            );
            Arc::new(match channel {
                Channel::Telegram => handler.with_chat_prefs(self.chats.clone()),
                Channel::Email => handler,
            })
        };
        // Dropped (the poller aborted) if this future is, e.g. on a crash.
        let bot_stop = Stopping::new();
        let bot = (self.bot.take()).map(|b| AbortOnDrop(tokio::spawn(b.run(bot_stop.clone()))));
        let backlog_stop = Stopping::new();
        let backlog = tokio::spawn(consume::report_backlog(
            js.clone(),
            STAGES.iter().map(|s| self.spec(s)).collect(),
            self.metrics.clone(),
            backlog_stop.clone(),
        ));
        let health = &self.health;
        tokio::join!(
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
                worker(Channel::Telegram),
                health.clone(),
                shutdown.clone()
            ),
            consume::run(
                js,
                self.spec("email"),
                worker(Channel::Email),
                health.clone(),
                shutdown
            ),
        );
        reloader.abort();
        bot_stop.cancel();
        if let Some(mut bot) = bot {
            let _ = (&mut bot.0).await;
        }
        backlog_stop.cancel();
        let _ = backlog.await;
        if let Some(http) = self.http {
            http.stop().await;
        }
        tracing::info!("stopped");
        Ok(())
    }
}
