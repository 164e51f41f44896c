//! Wiring: [`App::build`] validates settings and rules, starts the HTTP
//! endpoint ([`App::start`], so `/healthz` answers and `/readyz` says why
//! not while NATS is unreachable or refuses us), connects to NATS
//! (streams, buckets) and picks a notifier per channel
//! ([`Starting::connect`]); [`App::run_until_stopped`] runs the stages
//! until the shutdown future resolves, then stops the endpoint. `main`
//! and the tests both use it.
//!
//! The stages themselves are in [`stages`], the notifier per channel in
//! [`notifiers`].

mod held;
mod notifiers;
mod stages;

pub use notifiers::notifiers;
use stages::STAGES;

use crate::bot::{self, BotService, prefs::ChatPrefs};
use crate::deliver::Notifiers;
use crate::deliver::flood::{FloodControl, Share};
use crate::deliver::ledger::Ledger;
use crate::http::{self, HttpServer, HttpState};
use crate::nats::{Broker, LedgerBuckets, NatsError};
use crate::observe::{Health, Metrics};
use crate::regions::Gazetteer;
use crate::reload::{self, SharedRuleBook};
use crate::retry::RetryPolicy;
use crate::rulebook::{RuleBook, RuleCache};
use crate::settings::Settings;
use crate::stats::{RuleStats, store::Flusher};
use crate::story::gate::StoryGate;
use std::net::SocketAddr;
use std::sync::Arc;

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
    #[error("{0}")]
    Digest(String),
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
    /// Held alerts: digests, quiet hours, the per-hour cap, unsubscribe.
    held: held::Held,
    /// What time it is (tests inject one: [`App::with_clock`]).
    clock: crate::clock::SharedClock,
    /// Per-rule counters and their flusher (`None`: `stats.enabled = false`).
    stats: RuleStats,
    stats_flusher: Option<Flusher>,
    /// The Telegram partitions this instance holds, which set its share
    /// of the bot's overall limit.
    share: Share,
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
    unsubscribe: crate::http::unsubscribe::UnsubscribeSlot,
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
            unsubscribe,
        } = self;
        let broker = Broker::connect(&settings.nats, &health).await?;
        let LedgerBuckets { sent, targets } = broker.ledger_buckets(&settings.nats).await?;
        let ledger = Ledger::new(sent, targets);
        let held = held::Held::connect(&settings, &broker, unsubscribe).await?;
        let share = Share::new(0, settings.telegram.partitions);
        // Alerts and the bot's replies share this instance's flood limits.
        let flood = Arc::new(FloodControl::with_share(share.clone()));
        let notifiers = notifiers(&settings, &ledger, &metrics, &held.links, &flood)
            .map_err(StartError::Notifier)?;
        let rules = reload::shared(book);
        let stories = StoryGate::from_settings(&settings.story, &broker, &metrics).await?;
        let (chats, bot) = bot::start(&settings, &broker, rules.clone(), flood).await?;
        let (stats, stats_flusher) =
            crate::stats::store::start(&settings.stats, &broker, rules.clone(), metrics.clone())
                .await?;
        let app = App {
            held,
            clock: Arc::new(crate::clock::SystemClock),
            share,
            stories,
            chats,
            bot,
            stats,
            stats_flusher,
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
        let cache = RuleCache::from_settings(&settings.rules);
        let book = RuleBook::load_cached(&settings.rules_path(), &gazetteer, cache.as_ref())
            .map_err(StartError::Rules)?;
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
        let unsubscribe = crate::http::unsubscribe::UnsubscribeSlot::default();
        let http = match settings.http.listen.as_str() {
            "" => None,
            listen => {
                let routes = http::router(HttpState {
                    health: health.clone(),
                    metrics: metrics.clone(),
                    unsubscribe: unsubscribe.clone(),
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
            unsubscribe,
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

    /// Use `clock` for digest periods, quiet hours and the per-hour cap
    /// (tests move a [`crate::clock::ManualClock`]).
    pub fn with_clock(mut self, clock: crate::clock::SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Replace the notifiers (the delivery benchmark counts sends instead
    /// of making them).
    pub fn with_notifiers(mut self, notifiers: Notifiers) -> Self {
        self.notifiers = notifiers;
        self
    }
}
