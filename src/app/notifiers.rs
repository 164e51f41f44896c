//! The notifier per channel, as the settings ask: Telegram and SMTP when
//! configured, the console otherwise.

use crate::deliver::console::ConsoleNotifier;
use crate::deliver::email::EmailNotifier;
use crate::deliver::flood::FloodControl;
use crate::deliver::ledger::Ledger;
use crate::deliver::telegram::TelegramNotifier;
use crate::deliver::{Notifier, Notifiers};
use crate::observe::Metrics;
use crate::settings::Settings;
use secrecy::ExposeSecret;
use std::sync::Arc;

/// Build the notifiers the settings ask for; unconfigured channels print
/// to the console. Emails carry `unsubscribe_links` when set; Telegram
/// sends under `flood`, this instance's share of the bot's limits.
///
/// # Errors
/// Invalid Telegram or SMTP settings.
pub fn notifiers(
    settings: &Settings,
    ledger: &Ledger,
    metrics: &Arc<Metrics>,
    unsubscribe_links: &Option<crate::unsubscribe::Links>,
    flood: &Arc<FloodControl>,
) -> Result<Notifiers, String> {
    let console = Arc::new(ConsoleNotifier);
    let token = settings.telegram.bot_token.expose_secret();
    let telegram: Arc<dyn Notifier> = if token.is_empty() {
        tracing::info!("telegram.bot_token not set: Telegram alerts go to the console");
        console.clone()
    } else {
        Arc::new(
            TelegramNotifier::new(
                token,
                &settings.telegram.api_url,
                settings.telegram.link_preview,
                ledger.clone(),
                metrics.clone(),
            )?
            .with_flood(flood.clone()),
        )
    };
    let email: Arc<dyn Notifier> = if settings.smtp.host.is_empty() {
        tracing::info!("smtp.host not set: email alerts go to the console");
        console
    } else {
        Arc::new(
            EmailNotifier::new(
                &settings.smtp,
                settings.dkim_key_path().as_deref(),
                settings.smtp_ca_path().as_deref(),
                settings.delivery.email_concurrency,
            )?
            .with_unsubscribe_links(unsubscribe_links.clone()),
        )
    };
    Ok(Notifiers { telegram, email })
}
