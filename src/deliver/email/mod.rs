//! Email notifier: one multipart (plain text + HTML) mail per alert or
//! digest ([`Notifier::send_prepared`]), with
//! stable headers and optional DKIM signature ([`message`]), sent by our
//! SMTP client, pipelined when the relay allows, on pooled, warm
//! connections without the Nagle stall ([`smtp`]). Failures are
//! classified: a 5xx to the mail is permanent; 4xx, timeouts, connection
//! and TLS failures and a refused session (greeting, EHLO, STARTTLS, AUTH)
//! are transient. Logs name only the recipient's domain.

pub mod message;
pub mod smtp;

use super::prepared::Prepared;
use super::{DeliveryError, Notifier};
use crate::alert::{Alert, Target, mask_address};
use crate::settings::SmtpSettings;
use futures::future::BoxFuture;
use message::Composer;
use smtp::{SmtpError, SmtpPool};
use std::path::Path;
use std::time::SystemTime;

/// Sends alerts by email through one SMTP relay.
pub struct EmailNotifier {
    pool: SmtpPool,
    composer: Composer,
}

impl EmailNotifier {
    /// A notifier for the relay in `s`, with at most `connections` open at
    /// once, signing with the DKIM key at `dkim_key` (if any), trusting
    /// the CAs in `tls_ca` (if any) for the relay's certificate.
    ///
    /// # Errors
    /// Invalid `from` mailbox, an unusable DKIM key or domain, or an
    /// unreadable CA file.
    pub fn new(
        s: &SmtpSettings,
        dkim_key: Option<&Path>,
        tls_ca: Option<&Path>,
        connections: usize,
    ) -> Result<Self, String> {
        let from = s.from.parse().map_err(|e| format!("smtp.from: {e}"))?;
        let message_id_domain = s
            .message_id_domain()
            .ok_or("smtp.message_id_domain: none, and smtp.from has no domain")?;
        let dkim = match dkim_key {
            None => None,
            Some(path) => {
                let key =
                    crate::dkim::read_key(path).map_err(|e| format!("smtp.dkim_key_file: {e}"))?;
                let domain = s
                    .dkim_domain()
                    .ok_or("smtp.dkim_domain: none, and smtp.from has no domain")?;
                Some(crate::dkim::signer(s.dkim_selector.trim(), &domain, key))
            }
        };
        let ca = tls_ca
            .map(smtp::read_ca)
            .transpose()
            .map_err(|e| format!("smtp.tls_ca_file: {e}"))?;
        Ok(EmailNotifier {
            pool: SmtpPool::new(s, ca, connections),
            composer: Composer {
                from,
                message_id_domain,
                dkim,
                links: None,
            },
        })
    }
}

/// Transient or permanent, from the SMTP error; the recipient `to`, if
/// the reply quotes it, masked to its domain.
pub fn classify(e: &SmtpError, to: &str) -> DeliveryError {
    let reason = mask_address(&format!("smtp: {e}"), to);
    if e.is_permanent() {
        DeliveryError::permanent(reason)
    } else {
        // 4xx, timeouts, refused or dropped connections (even after the
        // final "."): a duplicate is better than a loss.
        DeliveryError::transient(reason)
    }
}

impl EmailNotifier {
    /// Put one-click unsubscribe headers on every mail.
    pub fn with_unsubscribe_links(mut self, links: Option<crate::unsubscribe::Links>) -> Self {
        self.composer.links = links;
        self
    }

    async fn deliver(&self, to: &str, message: lettre::Message) -> Result<(), DeliveryError> {
        (self
            .pool
            .send(message.envelope(), &message.formatted())
            .await)
            .map_err(|e| classify(&e, to))
    }
}

impl Notifier for EmailNotifier {
    fn name(&self) -> &'static str {
        "email"
    }

    fn send<'a>(&'a self, alert: &'a Alert) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let Target::Email(to) = &alert.target else {
                return Err(DeliveryError::permanent(
                    "email notifier got a telegram alert",
                ));
            };
            let message = self.composer.compose(to, alert, SystemTime::now())?;
            self.deliver(to, message).await?;
            tracing::debug!(alert = %alert.key(), target = %alert.target, "email sent");
            Ok(())
        })
    }

    fn send_prepared<'a>(&'a self, p: &'a Prepared) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let Target::Email(to) = &p.target else {
                return Err(DeliveryError::permanent(
                    "email notifier got a telegram message",
                ));
            };
            let message = self.composer.compose_prepared(to, p, SystemTime::now())?;
            self.deliver(to, message).await
        })
    }
}

#[cfg(test)]
mod tests;
