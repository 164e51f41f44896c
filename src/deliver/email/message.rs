//! The mail for one alert ([`Composer::compose`]): subject and the plain
//! text + HTML alternatives from [`render`](crate::deliver::render), and
//! the headers receivers and mail clients rely on:
//!
//! - `Message-ID: <alert.HASH@DOMAIN>` ([`message_id`]): HASH is derived
//!   from the alert key, so a resent alert (at-least-once delivery) keeps
//!   its id and mail clients collapse the duplicate; DOMAIN is
//!   `smtp.message_id_domain` or the domain of `smtp.from`;
//! - `Date`, when the mail was composed;
//! - `Auto-Submitted: auto-generated` (RFC 3834), so vacation responders
//!   do not answer alerts;
//! - `X-Newsalert-Rules` (the ids of the matching rules, comma-separated)
//!   and `X-Newsalert-Subscriber`, for filters in mail clients;
//! - a `DKIM-Signature` when a key is configured ([`crate::dkim`]).

use crate::alert::Alert;
use crate::deliver::{DeliveryError, render};
use lettre::Message;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{DkimConfig, Mailbox, MultiPart};
use sha2::{Digest, Sha256};
use std::time::SystemTime;

/// `Auto-Submitted` (RFC 3834).
pub const AUTO_SUBMITTED: &str = "Auto-Submitted";
/// The rules that matched, comma-separated.
pub const RULES: &str = "X-Newsalert-Rules";
/// The subscriber the alert is for.
pub const SUBSCRIBER: &str = "X-Newsalert-Subscriber";

/// The `Message-ID` of the alert with key `alert_key`: the same key always
/// gives the same id, different keys (in practice) never do.
pub fn message_id(alert_key: &str, domain: &str) -> String {
    let digest = Sha256::digest(alert_key.as_bytes());
    let hash: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("<alert.{hash}@{domain}>")
}

/// Builds the mail for an alert.
pub struct Composer {
    pub from: Mailbox,
    /// Domain of the `Message-ID`s.
    pub message_id_domain: String,
    /// Signs every mail when set.
    pub dkim: Option<DkimConfig>,
}

/// A header value with line breaks and other control characters replaced
/// by spaces (ids may hold anything).
fn header(name: &'static str, value: &str) -> HeaderValue {
    let value = value.replace(char::is_control, " ");
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

impl Composer {
    /// The mail for `alert` to mailbox `to`, dated `now`, signed if a
    /// DKIM key is configured.
    ///
    /// # Errors
    /// A permanent error when `to` is not a mailbox.
    pub fn compose(
        &self,
        to: &str,
        alert: &Alert,
        now: SystemTime,
    ) -> Result<Message, DeliveryError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| DeliveryError::permanent(format!("email: bad recipient: {e}")))?;
        let mut message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(render::email_subject(alert))
            .date(now)
            .message_id(Some(message_id(&alert.key(), &self.message_id_domain)))
            .raw_header(header(AUTO_SUBMITTED, "auto-generated"))
            .raw_header(header(RULES, &alert.rules.join(", ")))
            .raw_header(header(SUBSCRIBER, &alert.subscriber))
            .multipart(MultiPart::alternative_plain_html(
                render::email_text(alert),
                render::email_html(alert),
            ))
            .map_err(|e| DeliveryError::permanent(format!("email: {e}")))?;
        if let Some(dkim) = &self.dkim {
            message.sign(dkim);
        }
        Ok(message)
    }
}
