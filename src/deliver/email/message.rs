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
//! - `List-Unsubscribe: <URL>` and `List-Unsubscribe-Post:
//!   List-Unsubscribe=One-Click` (RFC 8058) when `http.public_url` and
//!   `http.unsubscribe_secret` are set ([`crate::unsubscribe`]);
//! - a `DKIM-Signature` when a key is configured ([`crate::dkim`]).
//!
//! A digest ([`Composer::compose_prepared`]) gets the same headers, its
//! `Message-ID` derived from its claim key.

use crate::alert::Alert;
use crate::deliver::prepared::Prepared;
use crate::deliver::{DeliveryError, render};
use crate::unsubscribe::Links;
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
/// RFC 2369 / RFC 8058 one-click unsubscribe.
pub const LIST_UNSUBSCRIBE: &str = "List-Unsubscribe";
pub const LIST_UNSUBSCRIBE_POST: &str = "List-Unsubscribe-Post";

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
    /// Unsubscribe links, when configured.
    pub links: Option<Links>,
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
        let mail = Mail {
            to,
            subject: render::email_subject(alert),
            message_id: message_id(&alert.key(), &self.message_id_domain),
            rules: alert.rules.join(", "),
            subscriber: &alert.subscriber,
            text: render::email_text(alert),
            html: render::email_html(alert),
        };
        self.build(mail, now)
    }

    /// The mail of a prepared message (a digest) to `to`.
    ///
    /// # Errors
    /// A permanent error when `to` is not a mailbox.
    pub fn compose_prepared(
        &self,
        to: &str,
        p: &Prepared,
        now: SystemTime,
    ) -> Result<Message, DeliveryError> {
        let mail = Mail {
            to,
            subject: p.subject.clone(),
            message_id: message_id(&p.key, &self.message_id_domain),
            rules: String::new(),
            subscriber: &p.subscriber,
            text: p.text.clone(),
            html: p.html.clone().unwrap_or_default(),
        };
        self.build(mail, now)
    }

    fn build(&self, mail: Mail<'_>, now: SystemTime) -> Result<Message, DeliveryError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| DeliveryError::permanent(format!("email: bad recipient: {e}")))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .date(now)
            .message_id(Some(mail.message_id))
            .raw_header(header(AUTO_SUBMITTED, "auto-generated"));
        if !mail.rules.is_empty() {
            builder = builder.raw_header(header(RULES, &mail.rules));
        }
        builder = builder.raw_header(header(SUBSCRIBER, mail.subscriber));
        if let Some(links) = &self.links {
            let url = format!("<{}>", links.url(mail.to));
            builder = builder
                .raw_header(header(LIST_UNSUBSCRIBE, &url))
                .raw_header(header(LIST_UNSUBSCRIBE_POST, "List-Unsubscribe=One-Click"));
        }
        let mut message = builder
            .multipart(MultiPart::alternative_plain_html(mail.text, mail.html))
            .map_err(|e| DeliveryError::permanent(format!("email: {e}")))?;
        if let Some(dkim) = &self.dkim {
            message.sign(dkim);
        }
        Ok(message)
    }
}

/// What one mail says, whatever it was built from.
struct Mail<'a> {
    to: &'a str,
    subject: String,
    message_id: String,
    rules: String,
    subscriber: &'a str,
    text: String,
    html: String,
}
