//! Email notifier (lettre, async SMTP): multipart plain text + HTML. SMTP
//! replies are classified: 4xx and connection failures are transient, 5xx
//! permanent. Logs and errors name only the recipient's domain (a relay's
//! reply quoting the address is masked).

use super::{DeliveryError, Notifier, render};
use crate::alert::{Alert, Target, mask_address};
use crate::settings::{SmtpSettings, SmtpTls};
use futures::future::BoxFuture;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use std::time::Duration;

/// Sends alerts by email through one SMTP relay.
pub struct EmailNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl EmailNotifier {
    /// # Errors
    /// Invalid `from` mailbox or relay settings.
    pub fn new(s: &SmtpSettings) -> Result<Self, String> {
        let from: Mailbox = s.from.parse().map_err(|e| format!("smtp.from: {e}"))?;
        let builder = match s.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)
                .map_err(|e| format!("smtp: {e}"))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)
                .map_err(|e| format!("smtp: {e}"))?,
        };
        let mut builder = builder
            .port(s.port)
            .timeout(Some(Duration::from_secs(s.timeout_secs.max(1))));
        if !s.username.is_empty() {
            builder = builder.credentials(Credentials::new(
                s.username.clone(),
                s.password.expose_secret().to_string(),
            ));
        }
        Ok(EmailNotifier {
            transport: builder.build(),
            from,
        })
    }

    fn message(&self, to: &str, alert: &Alert) -> Result<Message, DeliveryError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| DeliveryError::permanent(format!("email: bad recipient: {e}")))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(render::email_subject(alert))
            .multipart(MultiPart::alternative_plain_html(
                render::email_text(alert),
                render::email_html(alert),
            ))
            .map_err(|e| DeliveryError::permanent(format!("email: {e}")))
    }
}

/// Transient or permanent, from lettre's SMTP error; the recipient `to`,
/// if the reply quotes it, masked to its domain.
pub fn classify(e: &lettre::transport::smtp::Error, to: &str) -> DeliveryError {
    let reason = mask_address(&format!("smtp: {e}"), to);
    if e.is_permanent() {
        DeliveryError::permanent(reason)
    } else {
        // 4xx, timeouts, refused or dropped connections (even after the
        // final "."): a duplicate is better than a loss.
        DeliveryError::transient(reason)
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
            let message = self.message(to, alert)?;
            match self.transport.send(message).await {
                Ok(_) => {
                    tracing::debug!(alert = %alert.key(), target = %alert.target, "email sent");
                    Ok(())
                }
                Err(e) => Err(classify(&e, to)),
            }
        })
    }
}
