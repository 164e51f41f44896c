//! Telegram notifier (teloxide): HTML messages through the `Throttle`
//! adaptor set to Telegram's published flood limits, with errors classified
//! for the retry policy. Remembers chats that migrated to supergroups and
//! falls back to plain text if Telegram ever rejects our HTML.

use super::{DeliveryError, Notifier, render};
use crate::alert::{Alert, Target};
use async_nats::jetstream::kv;
use futures::future::BoxFuture;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use teloxide::adaptors::Throttle;
use teloxide::adaptors::throttle::Limits;
use teloxide::prelude::*;
use teloxide::types::{LinkPreviewOptions, ParseMode};
use teloxide::{ApiError, RequestError};

/// Telegram's published limits: 1 message/s per chat, 20/min per group,
/// 30/s overall. (teloxide's defaults are stricter for groups.) Throttle
/// applies the per-group limit to supergroups and channels only; basic
/// groups get [`GROUP_MESSAGES_PER_MIN`] from [`GroupWindows`].
pub fn flood_limits() -> Limits {
    Limits {
        messages_per_sec_chat: 1,
        messages_per_min_chat: 60,
        messages_per_min_channel_or_supergroup: 20,
        messages_per_sec_overall: 30,
    }
}

/// Telegram's limit for one group, supergroup or not.
pub const GROUP_MESSAGES_PER_MIN: usize = 20;
const MINUTE: Duration = Duration::from_secs(60);

/// Sends to each basic group (negative id above -10^12) in the last
/// minute. teloxide's Throttle counts these chats as private ones (60/min
/// here), so without this a busy group is answered 429, and a 429 freezes
/// the whole bot, every chat, for its `retry_after`.
#[derive(Default)]
pub struct GroupWindows(Mutex<HashMap<i64, VecDeque<Instant>>>);

impl GroupWindows {
    /// How long until `chat` may be sent another message, if it must wait.
    pub fn wait(&self, chat: i64, now: Instant) -> Option<Duration> {
        let windows = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let window = windows.get(&chat)?;
        let recent: Vec<&Instant> = window
            .iter()
            .filter(|t| now.saturating_duration_since(**t) < MINUTE)
            .collect();
        (recent.len() >= GROUP_MESSAGES_PER_MIN)
            .then(|| MINUTE - now.saturating_duration_since(*recent[0]))
    }

    /// Count a message to `chat` whose request ended at `at` (so it reached
    /// Telegram no later; sends to one chat are sequential).
    pub fn record(&self, chat: i64, at: Instant) {
        if !ChatId(chat).is_group() {
            return;
        }
        let mut windows = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > 10_000 {
            windows.retain(|_, w| w.back().is_some_and(|t| at.duration_since(*t) < MINUTE));
        }
        let window = windows.entry(chat).or_default();
        while window
            .front()
            .is_some_and(|t| at.duration_since(*t) >= MINUTE)
        {
            window.pop_front();
        }
        window.push_back(at);
    }
}

/// Sends alerts to Telegram chats.
pub struct TelegramNotifier {
    bot: Throttle<Bot>,
    groups: GroupWindows,
    /// Chat id → the supergroup id it migrated to (cache of `directory`).
    migrated: Mutex<HashMap<i64, i64>>,
    /// Where migrations are remembered across restarts and instances.
    directory: Option<kv::Store>,
}

fn migration_key(chat: i64) -> String {
    format!("telegram-migrated.{chat}")
}

impl TelegramNotifier {
    /// A notifier for bot `token` talking to `api_url`. Must be called inside
    /// a tokio runtime (the throttle worker is spawned).
    ///
    /// # Errors
    /// An invalid `api_url`.
    pub fn new(token: &str, api_url: &str, directory: Option<kv::Store>) -> Result<Self, String> {
        let url = reqwest::Url::parse(api_url).map_err(|e| format!("telegram.api_url: {e}"))?;
        let bot = Bot::new(token).set_api_url(url);
        // Rate limits are applied here; 429s surface to the retry policy
        // (deliver::retry), which waits them out.
        let settings = teloxide::adaptors::throttle::Settings::default()
            .limits(flood_limits())
            .no_retry();
        Ok(TelegramNotifier {
            bot: Throttle::spawn_with_settings(bot, settings),
            groups: GroupWindows::default(),
            migrated: Mutex::new(HashMap::new()),
            directory,
        })
    }

    async fn chat_for(&self, chat: i64) -> i64 {
        if let Some(&to) = self
            .migrated
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&chat)
        {
            return to;
        }
        let Some(dir) = &self.directory else {
            return chat;
        };
        match dir.get(migration_key(chat)).await {
            Ok(Some(v)) => match String::from_utf8_lossy(&v).parse::<i64>() {
                Ok(to) => {
                    self.remember(chat, to);
                    to
                }
                Err(_) => chat,
            },
            _ => chat,
        }
    }

    fn remember(&self, from: i64, to: i64) {
        self.migrated
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(from, to);
    }

    async fn send_text(&self, chat: i64, text: String, html: bool) -> Result<(), RequestError> {
        let mut req = self
            .bot
            .send_message(ChatId(chat), text)
            .link_preview_options(LinkPreviewOptions {
                is_disabled: true,
                url: None,
                prefer_small_media: false,
                prefer_large_media: false,
                show_above_text: false,
            });
        if html {
            req = req.parse_mode(ParseMode::Html);
        }
        req.await.map(|_| ())
    }

    async fn send_alert(&self, chat: i64, alert: &Alert) -> Result<(), DeliveryError> {
        let original = chat;
        let mut chat = self.chat_for(chat).await;
        let mut html = true;
        // At most one migration and one plain-text fallback per send.
        for _ in 0..3 {
            if let Some(wait) = self.groups.wait(chat, Instant::now()) {
                // Waited out by the retry policy like a 429, without a request.
                return Err(DeliveryError::Transient {
                    reason: "telegram: group at 20 messages/min; waiting".into(),
                    retry_after: Some(wait),
                });
            }
            let text = if html {
                render::telegram_html(alert)
            } else {
                render::telegram_plain(alert)
            };
            let sent = self.send_text(chat, text, html).await;
            self.groups.record(chat, Instant::now());
            match sent {
                Ok(()) => return Ok(()),
                Err(RequestError::MigrateToChatId(new)) => {
                    tracing::warn!(subscriber = %alert.subscriber, "telegram chat migrated to a supergroup");
                    self.remember(original, new.0);
                    if let Some(dir) = &self.directory
                        && let Err(e) = dir
                            .put(migration_key(original), new.0.to_string().into())
                            .await
                    {
                        tracing::warn!(error = %e, "could not store a chat migration");
                    }
                    chat = new.0;
                }
                Err(RequestError::Api(ApiError::CantParseEntities(desc))) if html => {
                    tracing::error!(alert = %alert.key(), %desc, "BUG: telegram rejected our HTML; resending as plain text");
                    html = false;
                }
                Err(e) => return Err(classify(e)),
            }
        }
        Err(DeliveryError::permanent(
            "telegram: chat migrated repeatedly",
        ))
    }
}

/// Transient or permanent, from teloxide's error.
pub fn classify(e: RequestError) -> DeliveryError {
    match e {
        RequestError::RetryAfter(s) => DeliveryError::Transient {
            reason: "telegram: 429 too many requests".into(),
            retry_after: Some(s.duration()),
        },
        RequestError::Network(e) => DeliveryError::transient(format!(
            "telegram: network: {}",
            redact_token(&e.to_string())
        )),
        RequestError::Io(e) => DeliveryError::transient(format!("telegram: io: {e}")),
        RequestError::InvalidJson { .. } => DeliveryError::transient("telegram: invalid response"),
        RequestError::Api(api) => match api {
            ApiError::BotBlocked
            | ApiError::ChatNotFound
            | ApiError::UserDeactivated
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::BotKickedFromChannel
            | ApiError::CantInitiateConversation
            | ApiError::CantTalkWithBots
            | ApiError::GroupDeactivated => DeliveryError::Unreachable {
                reason: format!("telegram: {api}"),
            },
            ApiError::Unknown(desc) if desc.starts_with("Forbidden") => {
                DeliveryError::Unreachable {
                    reason: format!("telegram: {desc}"),
                }
            }
            ApiError::Unknown(desc) if !is_client_error(&desc) => {
                DeliveryError::transient(format!("telegram: {desc}"))
            }
            other => DeliveryError::permanent(format!("telegram: {other}")),
        },
        other => DeliveryError::permanent(format!("telegram: {other}")),
    }
}

/// Error texts may carry the request URL, which holds the bot token.
fn redact_token(s: &str) -> String {
    match s.find("/bot") {
        Some(i) => {
            let end = s[i..]
                .find('/')
                .and_then(|_| s[i + 4..].find('/'))
                .map_or(s.len(), |j| i + 4 + j);
            format!("{}/bot***{}", &s[..i], &s[end..])
        }
        None => s.to_string(),
    }
}

fn is_client_error(desc: &str) -> bool {
    ["Bad Request", "Forbidden", "Unauthorized", "Not Found"]
        .iter()
        .any(|p| desc.starts_with(p))
}

impl Notifier for TelegramNotifier {
    fn name(&self) -> &'static str {
        "telegram"
    }

    fn send<'a>(&'a self, alert: &'a Alert) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            match alert.target {
                Target::TelegramChat(chat) => self.send_alert(chat, alert).await,
                Target::Email(_) => Err(DeliveryError::permanent(
                    "telegram notifier got an email alert",
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_groups_get_20_messages_a_minute() {
        let windows = GroupWindows::default();
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        for s in 0..20 {
            assert_eq!(windows.wait(-42, at(s)), None);
            windows.record(-42, at(s));
        }
        assert_eq!(windows.wait(-42, at(25)), Some(Duration::from_secs(35)));
        assert_eq!(windows.wait(-43, at(25)), None, "per group");
        assert_eq!(windows.wait(-42, at(60)), None, "a slot freed");
        for chat in [42, -1_001_234_567_890] {
            for _ in 0..100 {
                windows.record(chat, at(0));
            }
            assert_eq!(windows.wait(chat, at(0)), None, "Throttle's job");
        }
    }
}
