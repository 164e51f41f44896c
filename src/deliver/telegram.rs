//! Telegram notifier (teloxide's plain `Bot`): HTML messages under
//! Telegram's flood limits ([`FloodControl`]: a 429 pauses only its chat),
//! with errors classified for the retry policy. Follows chats that
//! migrated to supergroups (remembered in the [`Ledger`]) and falls back to
//! plain text if Telegram ever rejects our HTML. Link previews follow
//! `telegram.link_preview` ([`preview_options`]).

use super::flood::FloodControl;
use super::ledger::Ledger;
use super::{DeliveryError, Notifier, render};
use crate::alert::{Alert, Target};
use crate::observe::Metrics;
use crate::settings::LinkPreview;
use futures::future::BoxFuture;
use std::sync::Arc;
use teloxide::prelude::*;
use teloxide::types::{LinkPreviewOptions, ParseMode};
use teloxide::{ApiError, RequestError};
use tokio::time::Instant;

/// Sends alerts to Telegram chats.
pub struct TelegramNotifier {
    bot: Bot,
    /// Shared with the bot's replies ([`crate::bot`]).
    flood: Arc<FloodControl>,
    /// Where chat migrations are looked up and remembered.
    ledger: Ledger,
    /// Counts the 429s that get through the flood limits.
    metrics: Arc<Metrics>,
    /// `link_preview_options` of every message; `None`: Telegram's default.
    preview: Option<LinkPreviewOptions>,
}

/// The `link_preview_options` for a `telegram.link_preview` setting.
pub fn preview_options(setting: LinkPreview) -> Option<LinkPreviewOptions> {
    let options = |is_disabled, show_above_text| LinkPreviewOptions {
        is_disabled,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text,
    };
    match setting {
        LinkPreview::On => None,
        LinkPreview::Off => Some(options(true, false)),
        LinkPreview::Above => Some(options(false, true)),
        LinkPreview::Below => Some(options(false, false)),
    }
}

impl TelegramNotifier {
    /// A notifier for bot `token` talking to `api_url`.
    ///
    /// # Errors
    /// An invalid `api_url`.
    pub fn new(
        token: &str,
        api_url: &str,
        link_preview: LinkPreview,
        ledger: Ledger,
        metrics: Arc<Metrics>,
    ) -> Result<Self, String> {
        // teloxide's `Url` is reqwest's re-export of `url::Url`.
        let url = url::Url::parse(api_url).map_err(|e| format!("telegram.api_url: {e}"))?;
        Ok(TelegramNotifier {
            bot: Bot::new(token).set_api_url(url),
            flood: Arc::default(),
            ledger,
            metrics,
            preview: preview_options(link_preview),
        })
    }

    /// Send under `flood`: this instance's limits (its share of the
    /// bot's overall budget), shared with the bot's replies.
    pub fn with_flood(mut self, flood: Arc<FloodControl>) -> Self {
        self.flood = flood;
        self
    }

    async fn send_text(&self, chat: i64, text: String, html: bool) -> Result<(), RequestError> {
        let mut req = self.bot.send_message(ChatId(chat), text);
        if let Some(preview) = &self.preview {
            req = req.link_preview_options(preview.clone());
        }
        if html {
            req = req.parse_mode(ParseMode::Html);
        }
        req.await.map(|_| ())
    }

    async fn send_alert(&self, original: i64, alert: &Alert) -> Result<(), DeliveryError> {
        let text = |html| {
            if html {
                render::telegram_html(alert)
            } else {
                render::telegram_plain(alert)
            }
        };
        let to = (alert.subscriber.as_str(), &alert.target);
        self.send_rendered(original, to, true, text).await
    }

    /// Send `text(html)` to `original` (or the supergroup it became),
    /// as HTML first when `html`, as plain text after a parse error.
    async fn send_rendered(
        &self,
        original: i64,
        (subscriber, target): (&str, &Target),
        mut html: bool,
        text: impl Fn(bool) -> String,
    ) -> Result<(), DeliveryError> {
        let mut chat = self.ledger.telegram_chat(original).await;
        // At most one migration and one plain-text fallback per send.
        for _ in 0..3 {
            // Long waits go to the retry policy, like a 429, without a request.
            self.flood
                .acquire(chat)
                .await
                .map_err(|wait| DeliveryError::Transient {
                    reason: wait.reason.into(),
                    retry_after: Some(wait.duration),
                })?;
            let sent = self.send_text(chat, text(html), html).await;
            self.flood.sent(chat, Instant::now());
            match sent {
                Ok(()) => return Ok(()),
                Err(RequestError::MigrateToChatId(new)) => {
                    tracing::warn!(%subscriber, %target, "telegram chat migrated to a supergroup");
                    self.ledger.record_migration(original, new.0).await;
                    chat = new.0;
                }
                Err(RequestError::Api(ApiError::CantParseEntities(desc))) if html => {
                    tracing::error!(%subscriber, %target, %desc, "BUG: telegram rejected our HTML; resending as plain text");
                    html = false;
                }
                Err(RequestError::RetryAfter(wait)) => {
                    self.metrics.telegram_rate_limited();
                    tracing::warn!(%subscriber, %target, retry_after_secs = wait.seconds(), "telegram 429; pausing this chat");
                    self.flood.pause(chat, wait.duration());
                    return Err(classify(RequestError::RetryAfter(wait)));
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

    fn send_prepared<'a>(
        &'a self,
        p: &'a super::prepared::Prepared,
    ) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            match p.target {
                Target::TelegramChat(chat) => {
                    let to = (p.subscriber.as_str(), &p.target);
                    self.send_rendered(chat, to, false, |_| p.text.clone())
                        .await
                }
                Target::Email(_) => Err(DeliveryError::permanent(
                    "telegram notifier got an email message",
                )),
            }
        })
    }
}
