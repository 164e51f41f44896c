//! The Telegram bot that chats talk to, on teloxide's dispatcher:
//! `/start` (greeting, the chat's id, how to get subscribed; undoes
//! `/stop`), `/status` (rules this chat receives, quiet hours, paused or
//! not), `/pause [duration]`, `/resume`, `/stop`, `/help`.
//!
//! - [`command`]: parsing what a chat typed (pure);
//! - [`reply`]: the replies as Telegram HTML (pure, snapshot-tested);
//! - [`prefs`]: chat preferences in JetStream key-value storage, mirrored
//!   in memory; the delivery worker asks them before each Telegram send
//!   (paused and stopped chats are skipped and counted);
//! - [`lease`] (the crate's [`crate::lease`]): with several instances
//!   exactly one polls `getUpdates`.
//!
//! Replies are sent under the instance's flood limits, shared with its
//! alert sends ([`FloodControl`]): 1/s per chat, 20/min per group, its
//! share of the bot's overall budget; a 429 pauses the chat and the reply
//! is sent once more after `retry_after` (a reply that would wait more
//! than 30 s is dropped with a warning).
//!
//! [`BotService::run`] loops: take the lease (or wait and try again every
//! third of its TTL); once held, register the commands (`setMyCommands`),
//! poll with the dispatcher and renew the lease until it is lost or the
//! service stops (then the lease is released for the next instance).
//! The rules file stays the admin's source of truth: commands never add
//! or change subscriptions.

pub mod command;
pub use crate::lease;
pub mod prefs;
pub mod reply;

use crate::deliver::flood::FloodControl;
use crate::nats::{Broker, NatsError};
use crate::reload::SharedRuleBook;
use crate::settings::Settings;
use crate::shutdown::{AbortOnDrop, Stopping, sleep_unless_stopping};
use command::{COMMANDS, Command, Parsed};
use lease::Lease;
use prefs::{ChatPref, ChatPrefs};
use reply::ChatView;
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;
use teloxide::dispatching::{Dispatcher, UpdateFilterExt};
use teloxide::prelude::*;
use teloxide::types::{BotCommand, LinkPreviewOptions, ParseMode};
use teloxide::update_listeners::Polling;
use teloxide::{RequestError, dptree};

/// The chat preferences (bucket created if missing) and the bot the
/// settings ask for ([`BotService::from_settings`]).
///
/// # Errors
/// A bucket could not be created.
pub async fn start(
    settings: &Settings,
    broker: &Broker,
    rules: SharedRuleBook,
    flood: Arc<FloodControl>,
) -> Result<(ChatPrefs, Option<BotService>), NatsError> {
    let bucket = broker.bucket(&settings.bot.prefs_bucket, Duration::ZERO);
    let prefs = ChatPrefs::new(bucket.await?);
    let ctx = BotContext {
        rules,
        prefs: prefs.clone(),
        flood,
    };
    Ok((
        prefs,
        BotService::from_settings(settings, broker, ctx).await?,
    ))
}

/// What a command handler reads and changes.
pub struct BotContext {
    pub rules: SharedRuleBook,
    pub prefs: ChatPrefs,
    /// This instance's flood limits, shared with its alert sends.
    pub flood: Arc<FloodControl>,
}

/// Longest a reply waits for its chat's turn (a 429's `retry_after`
/// included) before it is dropped with a warning.
const REPLY_MAX_WAIT: Duration = Duration::from_secs(30);

fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp() * 1000
}

impl BotContext {
    /// The reply to `text` from `chat` (`None`: not for us), applying the
    /// command first.
    pub async fn answer(
        &self,
        chat: i64,
        first_name: Option<&str>,
        text: &str,
        now_ms: i64,
    ) -> Option<String> {
        let book = self.rules.borrow().clone();
        let view = ChatView::of(&book, chat);
        let command = match command::parse(text, None) {
            Parsed::Command(c) => c,
            Parsed::BadArgument(why) => return Some(reply::bad_argument(&why)),
            Parsed::Unknown(name) => return Some(reply::unknown(&name)),
            Parsed::Ignored => return None,
        };
        let current = self.prefs.get(chat).await;
        let (change, text) = match command {
            Command::Start => {
                let was_stopped = matches!(current, Some(ChatPref::Stopped { .. }));
                let change = was_stopped.then_some(None);
                (change, reply::start(&view, first_name, was_stopped))
            }
            Command::Status => (None, reply::status(&view, current.as_ref(), now_ms)),
            Command::Pause(_) if matches!(current, Some(ChatPref::Stopped { .. })) => {
                (None, reply::resumed(current.as_ref()))
            }
            Command::Pause(d) => {
                let until_ms =
                    d.map(|d| now_ms + i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2));
                let pref = ChatPref::Paused { until_ms };
                (Some(Some(pref)), reply::paused(&view, until_ms))
            }
            Command::Resume => {
                let change = matches!(current, Some(ChatPref::Paused { .. })).then_some(None);
                (change, reply::resumed(current.as_ref()))
            }
            Command::Stop => {
                let pref = ChatPref::Stopped { since_ms: now_ms };
                (Some(Some(pref)), reply::stopped())
            }
            Command::Help => (None, reply::help()),
        };
        if let Some(pref) = change
            && let Err(e) = self.prefs.set(chat, pref).await
        {
            tracing::error!(target = %format!("telegram:{chat}"), error = %e, "could not store a chat preference");
            return Some("Sorry, that did not work; please try again in a minute.".into());
        }
        tracing::info!(target = %format!("telegram:{chat}"), command = ?command, "bot command");
        Some(text)
    }
}

async fn on_message(bot: Bot, msg: Message, ctx: Arc<BotContext>) -> Result<(), RequestError> {
    let Some(text) = msg.text() else {
        return Ok(());
    };
    let first_name = msg.from.as_ref().map(|u| u.first_name.as_str());
    let Some(answer) = ctx.answer(msg.chat.id.0, first_name, text, now_ms()).await else {
        return Ok(());
    };
    let chat = msg.chat.id.0;
    // Under the same flood limits as the alerts (1/s per chat, the bot's
    // overall budget); after a 429, once more when it has been waited out.
    for _ in 0..2 {
        if !ctx.flood.wait_turn(chat, REPLY_MAX_WAIT).await {
            tracing::warn!(target = %format!("telegram:{chat}"), "bot reply dropped: the chat's flood limits hold it longer than {REPLY_MAX_WAIT:?}");
            return Ok(());
        }
        let sent = bot
            .send_message(msg.chat.id, answer.clone())
            .parse_mode(ParseMode::Html)
            .link_preview_options(LinkPreviewOptions {
                is_disabled: true,
                url: None,
                prefer_small_media: false,
                prefer_large_media: false,
                show_above_text: false,
            })
            .await;
        ctx.flood.sent(chat, tokio::time::Instant::now());
        match sent {
            Err(RequestError::RetryAfter(wait)) => {
                tracing::warn!(target = %format!("telegram:{chat}"), retry_after_secs = wait.seconds(), "telegram 429 for a bot reply; pausing this chat");
                ctx.flood.pause(chat, wait.duration());
            }
            other => return other.map(drop),
        }
    }
    Ok(())
}

/// The bot of one instance: polls while it holds the lease.
pub struct BotService {
    pub bot: Bot,
    pub ctx: Arc<BotContext>,
    pub lease: Lease,
    /// Long-poll timeout of `getUpdates`.
    pub poll_timeout: Duration,
}

impl BotService {
    /// The bot the settings ask for: `None` without `telegram.bot_token`
    /// or with `bot.enabled = false`.
    ///
    /// # Errors
    /// The lease bucket could not be created.
    pub async fn from_settings(
        settings: &Settings,
        broker: &Broker,
        ctx: BotContext,
    ) -> Result<Option<BotService>, NatsError> {
        let token = settings.telegram.bot_token.expose_secret();
        // `telegram.api_url` is validated with the settings.
        let api = url::Url::parse(&settings.telegram.api_url).ok();
        let (true, false, Some(api)) = (settings.bot.enabled, token.is_empty(), api) else {
            return Ok(None);
        };
        let b = &settings.bot;
        Ok(Some(BotService {
            bot: Bot::new(token).set_api_url(api),
            ctx: Arc::new(ctx),
            lease: Lease::new(
                broker.bucket(&b.lease_bucket, b.lease_ttl()).await?,
                b.lease_ttl(),
            ),
            poll_timeout: Duration::from_secs(b.poll_timeout_secs.into()),
        }))
    }

    /// Until `stopping`: take the lease when free, poll while holding it.
    pub async fn run(self, stopping: Stopping) {
        let every = self.lease.check_interval();
        while !stopping.is_cancelled() {
            match self.lease.try_acquire().await {
                Ok(Some(revision)) => self.hold(revision, &stopping).await,
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "bot lease unavailable"),
            }
            sleep_unless_stopping(every, &stopping).await;
        }
    }

    /// Poll while the lease holds; release it when stopping.
    async fn hold(&self, mut revision: u64, stopping: &Stopping) {
        tracing::info!(holder = %self.lease.holder(), "bot lease taken; polling Telegram");
        let commands: Vec<BotCommand> = COMMANDS
            .iter()
            .map(|(name, about)| BotCommand::new(*name, *about))
            .collect();
        if let Err(e) = self.bot.set_my_commands(commands).await {
            tracing::warn!(error = %e, "setMyCommands failed");
        }
        let handler = Update::filter_message().endpoint(on_message);
        let mut dispatcher = Dispatcher::builder(self.bot.clone(), handler)
            .dependencies(dptree::deps![self.ctx.clone()])
            .default_handler(|_| async {})
            .build();
        let token = dispatcher.shutdown_token();
        let listener = Polling::builder(self.bot.clone())
            .timeout(self.poll_timeout)
            .build();
        let polling = tokio::spawn(async move {
            dispatcher
                .dispatch_with_listener(
                    listener,
                    teloxide::error_handlers::LoggingErrorHandler::new(),
                )
                .await;
        });
        let _abort = AbortOnDrop(polling);
        let every = self.lease.check_interval();
        let mut renewed = tokio::time::Instant::now();
        let lost = loop {
            if !sleep_unless_stopping(every, stopping).await {
                break false;
            }
            match self.lease.renew(revision).await {
                Ok(Some(r)) => {
                    revision = r;
                    renewed = tokio::time::Instant::now();
                }
                Ok(None) => break true,
                // Unsure: stop before the lease could have passed on.
                Err(e) if renewed.elapsed() + every >= self.lease.ttl() => {
                    tracing::warn!(error = %e, "bot lease not renewed in time");
                    break true;
                }
                Err(e) => tracing::warn!(error = %e, "bot lease renewal failed; retrying"),
            }
        };
        stop_dispatcher(&token).await;
        if lost {
            tracing::warn!(holder = %self.lease.holder(), "bot lease lost; stopped polling");
        } else {
            self.lease.release(revision).await;
            tracing::info!("bot stopped; lease released");
        }
    }
}

/// Stop the dispatcher (waiting, briefly, for one that is still starting).
async fn stop_dispatcher(token: &teloxide::dispatching::ShutdownToken) {
    for _ in 0..100 {
        match token.shutdown() {
            Ok(done) => {
                let _ = tokio::time::timeout(Duration::from_secs(5), done).await;
                return;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}
