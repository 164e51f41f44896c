//! A mail the sink accepted ([`ReceivedMail`]) and how tests read it, with
//! `mail-parser`: decoded headers and the text of every `text/*` part, as a
//! mail reader shows them (encoded words, base64, quoted-printable undone).

use mail_parser::decoders::base64::base64_decode;
use mail_parser::{HeaderValue, MessageParser, MessagePart, MimeHeaders, PartType};
use std::time::Instant;

/// A mail the sink accepted.
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    /// Envelope sender (`MAIL FROM`), without angle brackets.
    pub from: String,
    /// Envelope recipients (`RCPT TO`), without angle brackets.
    pub to: Vec<String>,
    /// The message as sent after `DATA`: headers and body, CRLF line ends,
    /// dot-unstuffed, without the final `.` line.
    pub data: String,
    /// User name given with AUTH on this connection, if any.
    pub auth_user: Option<String>,
    /// Whether the mail came over TLS (implicit or after STARTTLS).
    pub tls: bool,
    pub at: Instant,
}

impl ReceivedMail {
    /// The first header of that name (case-insensitive), unfolded; encoded
    /// words (`=?utf-8?b?...?=`) are decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        header(&self.data, name)
    }

    pub fn subject(&self) -> Option<String> {
        self.header("Subject")
    }

    /// The decoded text of every `text/*` part, in order: `(content type,
    /// text)`, e.g. `("text/plain", ..)` and `("text/html", ..)`; LF line
    /// ends, no trailing newline.
    pub fn text_parts(&self) -> Vec<(String, String)> {
        text_parts(&self.data)
    }

    /// The decoded `text/plain` part, if any.
    pub fn plain_text(&self) -> Option<String> {
        self.part("text/plain")
    }

    /// The decoded `text/html` part, if any.
    pub fn html(&self) -> Option<String> {
        self.part("text/html")
    }

    fn part(&self, content_type: &str) -> Option<String> {
        self.text_parts()
            .into_iter()
            .find(|(ct, _)| ct == content_type)
            .map(|(_, text)| text)
    }
}

/// The first header `name` of the message `data` (case-insensitive),
/// unfolded and decoded: encoded words (`=?utf-8?b?...?=`) in text and
/// address headers are decoded; other headers are given as raw text.
pub(super) fn header(data: &str, name: &str) -> Option<String> {
    let message = MessageParser::default().parse(data)?;
    let value = match message.header(name)? {
        HeaderValue::Text(text) => text.to_string(),
        HeaderValue::TextList(list) => list.join(", "),
        HeaderValue::Address(address) => address
            .iter()
            .map(|a| match (a.name(), a.address()) {
                (Some(name), Some(addr)) => format!("{name} <{addr}>"),
                (name, addr) => addr.or(name).unwrap_or_default().to_owned(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => unfold(message.header_raw(name)?),
    };
    Some(value)
}

fn unfold(raw: &str) -> String {
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Decoded `(content type, text)` of every `text/*` leaf part, in order,
/// with LF line ends and no trailing newline.
pub(super) fn text_parts(data: &str) -> Vec<(String, String)> {
    let Some(message) = MessageParser::default().parse(data) else {
        return Vec::new();
    };
    message
        .parts
        .iter()
        .filter_map(|part| {
            let text = match &part.body {
                PartType::Text(text) | PartType::Html(text) => text,
                _ => return None,
            };
            let text = text.replace("\r\n", "\n");
            Some((media_type(part), text.trim_end_matches('\n').to_owned()))
        })
        .collect()
}

/// `text/plain` when the part does not say (the MIME default).
fn media_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => format!(
            "{}/{}",
            ct.ctype().to_ascii_lowercase(),
            ct.subtype().unwrap_or("plain").to_ascii_lowercase()
        ),
        None => "text/plain".to_owned(),
    }
}

/// Decodes the base64 of an AUTH exchange; empty when it is not base64.
pub(super) fn auth_decode(input: &str) -> Vec<u8> {
    base64_decode(input.trim().as_bytes()).unwrap_or_default()
}
