//! The SMTP wire format (RFC 5321) as the client needs it, pure and
//! testable without a socket: replies ([`Reply`], one line at a time with
//! [`parse_line`]), the extensions an `EHLO` reply offers
//! ([`Extensions`]), the commands of a mail transaction
//! ([`transaction`]) and the message content with its dots stuffed and the
//! final `.` ([`data`]).

use lettre::address::Envelope;
use std::fmt;

/// The longest reply line accepted (RFC 5321 allows 512 octets; relays'
/// `EHLO` lines stay far below this).
pub const MAX_LINE: usize = 8192;

/// A complete (possibly multi-line) reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// The text of each line, without code and separator.
    pub lines: Vec<String>,
}

impl Reply {
    /// 2yz: the command was accepted.
    pub fn is_ok(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// The text of all lines, joined by spaces.
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.text())
    }
}

/// One reply line (without its line end): the code, whether it is the
/// last line (`250 ...` rather than `250-...`) and its text.
///
/// # Errors
/// A line that does not start with a three-digit code followed by a
/// space, a `-` or nothing.
pub fn parse_line(line: &str) -> Result<(u16, bool, &str), String> {
    let bad = || format!("malformed reply line {:?}", truncate(line));
    let code = line.get(..3).ok_or_else(bad)?;
    if !code.bytes().all(|b| b.is_ascii_digit()) || !(b'2'..=b'5').contains(&code.as_bytes()[0]) {
        return Err(bad());
    }
    let code: u16 = code.parse().map_err(|_| bad())?;
    match line.as_bytes().get(3) {
        None => Ok((code, true, "")),
        Some(b' ') => Ok((code, true, &line[4..])),
        Some(b'-') => Ok((code, false, &line[4..])),
        Some(_) => Err(bad()),
    }
}

fn truncate(line: &str) -> &str {
    let mut end = line.len().min(80);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    &line[..end]
}

/// What the relay offers, from its `EHLO` reply.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Extensions {
    /// RFC 2920: commands may be sent without waiting for each reply.
    pub pipelining: bool,
    pub starttls: bool,
    pub auth_plain: bool,
    pub auth_login: bool,
    /// RFC 6152 `BODY=8BITMIME`.
    pub eight_bit_mime: bool,
    /// RFC 6531 addresses in UTF-8.
    pub smtputf8: bool,
}

impl Extensions {
    /// The extensions named in an `EHLO` reply (its first line is the
    /// greeting, the others one keyword with parameters each).
    pub fn from_ehlo(reply: &Reply) -> Extensions {
        let mut ext = Extensions::default();
        for line in reply.lines.iter().skip(1) {
            let mut words = line.split_ascii_whitespace();
            let keyword = words.next().unwrap_or_default().to_ascii_uppercase();
            match keyword.as_str() {
                "PIPELINING" => ext.pipelining = true,
                "STARTTLS" => ext.starttls = true,
                "8BITMIME" => ext.eight_bit_mime = true,
                "SMTPUTF8" => ext.smtputf8 = true,
                "AUTH" => {
                    for mechanism in words {
                        match mechanism.to_ascii_uppercase().as_str() {
                            "PLAIN" => ext.auth_plain = true,
                            "LOGIN" => ext.auth_login = true,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        ext
    }
}

/// One command of a mail transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// `MAIL`, `RCPT` or `DATA`, for errors.
    pub step: &'static str,
    /// The command line with its CRLF.
    pub line: String,
    /// The reply code that accepts it (250: any 2yz).
    pub want: u16,
}

impl Command {
    fn new(step: &'static str, line: String, want: u16) -> Command {
        Command { step, line, want }
    }
}

/// The commands of one mail transaction, `MAIL FROM`, one `RCPT TO` per
/// recipient and `DATA`; pipelined they go out in one write (RFC 2920 lets
/// `DATA` end a group).
///
/// # Errors
/// A message or envelope that needs an extension the relay lacks.
pub fn transaction(
    envelope: &Envelope,
    body: &[u8],
    ext: &Extensions,
) -> Result<Vec<Command>, String> {
    let mut params = String::new();
    let non_ascii = |a: &lettre::Address| !AsRef::<str>::as_ref(a).is_ascii();
    if envelope.from().is_some_and(non_ascii) || envelope.to().iter().any(non_ascii) {
        if !ext.smtputf8 {
            return Err("the envelope has non-ASCII addresses and the relay lacks SMTPUTF8".into());
        }
        params.push_str(" SMTPUTF8");
    }
    if !body.is_ascii() {
        if !ext.eight_bit_mime {
            return Err("the message has 8-bit content and the relay lacks 8BITMIME".into());
        }
        params.push_str(" BODY=8BITMIME");
    }
    let from = envelope.from().map(ToString::to_string).unwrap_or_default();
    let mail = format!("MAIL FROM:<{from}>{params}\r\n");
    let mut commands = vec![Command::new("MAIL", mail, 250)];
    commands.extend(
        (envelope.to().iter()).map(|to| Command::new("RCPT", format!("RCPT TO:<{to}>\r\n"), 250)),
    );
    commands.push(Command::new("DATA", "DATA\r\n".into(), 354));
    Ok(commands)
}

/// The message content as sent after `354`: every line that starts with
/// a `.` gets a second one (RFC 5321 4.5.2), the content ends with a line
/// end, then the lone `.` line.
pub fn data(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + body.len() / 64 + 5);
    let mut line_start = true;
    for &b in body {
        if line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_lines_parse_and_bad_ones_are_named() {
        assert_eq!(parse_line("250-PIPELINING"), Ok((250, false, "PIPELINING")));
        assert_eq!(parse_line("250 OK"), Ok((250, true, "OK")));
        assert_eq!(parse_line("354"), Ok((354, true, "")));
        for bad in ["", "25", "OK 250", "250xOK", "650 no", "2a0 x"] {
            let e = parse_line(bad).unwrap_err();
            assert!(e.contains("malformed reply line"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn ehlo_extensions_are_read_case_insensitively() {
        let reply = Reply {
            code: 250,
            lines: [
                "relay.test greets you",
                "pipelining",
                "8BITMIME",
                "AUTH LOGIN plain",
            ]
            .map(String::from)
            .to_vec(),
        };
        let ext = Extensions::from_ehlo(&reply);
        assert!(ext.pipelining && ext.eight_bit_mime && ext.auth_plain && ext.auth_login);
        assert!(!ext.starttls && !ext.smtputf8);
        // The greeting line is not an extension.
        let greeting_only = Reply {
            code: 250,
            lines: vec!["PIPELINING".into()],
        };
        assert!(!Extensions::from_ehlo(&greeting_only).pipelining);
    }

    #[test]
    fn data_stuffs_leading_dots_and_ends_with_the_lone_dot() {
        assert_eq!(data(b".a\r\nb\r\n..c\r\n"), b"..a\r\nb\r\n...c\r\n.\r\n");
        assert_eq!(data(b"a.b\r\n.\r\nc"), b"a.b\r\n..\r\nc\r\n.\r\n");
        assert_eq!(data(b""), b"\r\n.\r\n");
    }

    #[test]
    fn a_transaction_asks_for_what_the_message_needs() {
        let envelope = Envelope::new(
            Some("alerts@example.net".parse().unwrap()),
            vec![
                "a@example.org".parse().unwrap(),
                "b@example.org".parse().unwrap(),
            ],
        )
        .unwrap();
        let plain = Extensions::default();
        let commands = transaction(&envelope, b"ascii", &plain).unwrap();
        let lines: Vec<_> = commands
            .iter()
            .map(|c| (c.step, c.line.as_str(), c.want))
            .collect();
        assert_eq!(
            lines,
            [
                ("MAIL", "MAIL FROM:<alerts@example.net>\r\n", 250),
                ("RCPT", "RCPT TO:<a@example.org>\r\n", 250),
                ("RCPT", "RCPT TO:<b@example.org>\r\n", 250),
                ("DATA", "DATA\r\n", 354)
            ]
        );
        let e = transaction(&envelope, "é".as_bytes(), &plain).unwrap_err();
        assert!(e.contains("8BITMIME"), "{e}");
        let eight = Extensions {
            eight_bit_mime: true,
            ..plain
        };
        let commands = transaction(&envelope, "é".as_bytes(), &eight).unwrap();
        assert_eq!(
            commands[0].line,
            "MAIL FROM:<alerts@example.net> BODY=8BITMIME\r\n"
        );
    }
}
