//! One client session of the sink: the SMTP dialogue, pipelined replies
//! held back until the input is drained, AUTH, DATA and STARTTLS.

use super::{SinkOptions, SmtpFault, State, TlsMode, lock, mime};
use crate::support::smtp::ReceivedMail;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::io::{ReadHalf, WriteHalf};
use tokio::net::TcpStream;

/// One client connection and its current transaction.
pub(super) struct Session {
    state: Arc<Mutex<State>>,
    options: SinkOptions,
    greeted: bool,
    auth_user: Option<String>,
    from: Option<String>,
    to: Vec<String>,
    fault: Option<SmtpFault>,
    /// Whether this session runs over TLS.
    tls: bool,
}

/// How a session's plain part ended.
enum Ended<S> {
    Closed,
    /// The client asked for STARTTLS and was told to go ahead.
    StartTls(S),
}

impl Session {
    pub(super) fn new(state: Arc<Mutex<State>>, options: SinkOptions) -> Self {
        Self {
            state,
            options,
            greeted: false,
            auth_user: None,
            from: None,
            to: Vec::new(),
            fault: None,
            tls: false,
        }
    }

    fn reset(&mut self) {
        self.from = None;
        self.to.clear();
        self.fault = None;
    }

    pub(super) async fn run(mut self, stream: TcpStream) {
        let Some(tls) = self.options.tls.clone() else {
            self.serve(stream, true).await;
            return;
        };
        let stream = match tls.mode {
            TlsMode::Implicit => stream,
            TlsMode::Starttls => match self.serve(stream, true).await {
                Ended::StartTls(stream) => stream,
                Ended::Closed => return,
            },
        };
        let Ok(stream) = tls.acceptor().accept(stream).await else {
            return;
        };
        self.tls = true;
        self.reset();
        let greet = tls.mode == TlsMode::Implicit;
        self.serve(stream, greet).await;
    }

    /// Serves SMTP on `stream` (after a greeting when `greet`) until the
    /// client leaves or starts TLS.
    async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: S,
        greet: bool,
    ) -> Ended<S> {
        let (read, mut write) = tokio::io::split(stream);
        let mut lines = BufReader::new(read);
        if greet
            && write
                .write_all(b"220 sink.test ESMTP ready\r\n")
                .await
                .is_err()
        {
            return Ended::Closed;
        }
        // Replies to pipelined commands wait here and go out together once
        // the input is drained (RFC 2920 3.2, as Postfix does): replies
        // written one by one would each wait for the client's delayed ACK.
        let mut pending = Vec::new();
        while let Some(line) = read_line(&mut lines).await {
            if !lines.buffer().is_empty() {
                lock(&self.state).sent_ahead += 1;
            }
            let (verb, arg) = match line.split_once(' ') {
                Some((verb, arg)) => (verb.to_ascii_uppercase(), arg.trim().to_owned()),
                None => (line.to_ascii_uppercase(), String::new()),
            };
            let reply = match verb.as_str() {
                "EHLO" => {
                    self.greeted = true;
                    self.reset();
                    let pipelining = if self.options.pipelining {
                        "250-PIPELINING\r\n"
                    } else {
                        ""
                    };
                    let starttls = if self.starttls_offered() {
                        "250-STARTTLS\r\n"
                    } else {
                        ""
                    };
                    format!(
                        "250-sink.test greets {arg}\r\n{pipelining}{starttls}250-8BITMIME\r\n\
                         250-SMTPUTF8\r\n250-AUTH {}\r\n250 SIZE 52428800",
                        self.options.auth
                    )
                }
                "HELO" => {
                    self.greeted = true;
                    self.reset();
                    "250 sink.test".to_owned()
                }
                "AUTH" => {
                    // The prompts go out directly: what is pending first.
                    if !send(&mut write, &mut pending, self.options.reply_delay, b"").await {
                        return Ended::Closed;
                    }
                    match self.auth(&arg, &mut lines, &mut write).await {
                        Some(reply) => reply,
                        None => return Ended::Closed,
                    }
                }
                "MAIL" if !self.greeted => "503 5.5.1 EHLO/HELO first".to_owned(),
                "MAIL" => match address(&arg, "FROM:") {
                    Some(from) => {
                        // A new MAIL implicitly ends an unfinished transaction.
                        self.reset();
                        let mut state = lock(&self.state);
                        state.transactions += 1;
                        self.fault = state.faults.pop_front();
                        self.from = Some(from);
                        "250 2.1.0 OK".to_owned()
                    }
                    None => "501 5.5.4 Syntax: MAIL FROM:<address>".to_owned(),
                },
                "RCPT" if self.from.is_none() => "503 5.5.1 MAIL first".to_owned(),
                "RCPT" => match (address(&arg, "TO:"), &self.fault) {
                    (None, _) => "501 5.5.4 Syntax: RCPT TO:<address>".to_owned(),
                    // Quoting the recipient, as real relays do.
                    (Some(to), Some(SmtpFault::RejectRcpt(code))) => {
                        format!("{} <{to}>", rejection(*code))
                    }
                    (Some(to), _) => {
                        self.to.push(to);
                        "250 2.1.5 OK".to_owned()
                    }
                },
                "DATA" if self.to.is_empty() => "554 5.5.1 No valid recipients".to_owned(),
                "DATA" => {
                    let go_ahead = b"354 End data with <CR><LF>.<CR><LF>\r\n";
                    if !send(&mut write, &mut pending, self.options.reply_delay, go_ahead).await {
                        return Ended::Closed;
                    }
                    let Some(data) = read_data(&mut lines).await else {
                        return Ended::Closed;
                    };
                    match self.finish(data) {
                        Some(reply) => reply,
                        None => return Ended::Closed, // DropAfterData: close without a reply.
                    }
                }
                "RSET" => {
                    self.reset();
                    "250 2.0.0 OK".to_owned()
                }
                "NOOP" => "250 2.0.0 OK".to_owned(),
                "VRFY" => "252 2.5.2 Cannot VRFY user".to_owned(),
                "STARTTLS" if self.starttls_offered() => {
                    if !send(
                        &mut write,
                        &mut pending,
                        self.options.reply_delay,
                        b"220 2.0.0 Ready to start TLS\r\n",
                    )
                    .await
                    {
                        return Ended::Closed;
                    }
                    return Ended::StartTls(lines.into_inner().unsplit(write));
                }
                "STARTTLS" => "454 4.7.0 TLS not available".to_owned(),
                "QUIT" => {
                    send(
                        &mut write,
                        &mut pending,
                        self.options.reply_delay,
                        b"221 2.0.0 Bye\r\n",
                    )
                    .await;
                    return Ended::Closed;
                }
                _ => "500 5.5.2 Command not recognized".to_owned(),
            };
            pending.extend_from_slice(format!("{reply}\r\n").as_bytes());
            if lines.buffer().is_empty()
                && !send(&mut write, &mut pending, self.options.reply_delay, b"").await
            {
                return Ended::Closed;
            }
        }
        Ended::Closed
    }

    /// STARTTLS is offered on a plain session of a STARTTLS sink.
    fn starttls_offered(&self) -> bool {
        !self.tls && matches!(&self.options.tls, Some(t) if t.mode == TlsMode::Starttls)
    }

    /// Ends a transaction after DATA: records the mail unless a fault says
    /// otherwise. `None` means: close the connection without replying.
    fn finish(&mut self, data: String) -> Option<String> {
        let fault = self.fault.take();
        let mail = ReceivedMail {
            from: self.from.take().unwrap_or_default(),
            to: std::mem::take(&mut self.to),
            data,
            auth_user: self.auth_user.clone(),
            tls: self.tls,
            at: Instant::now(),
        };
        match fault {
            Some(SmtpFault::RejectData(code)) => Some(rejection(code)),
            Some(SmtpFault::DropAfterData) => {
                lock(&self.state).messages.push(mail);
                None
            }
            _ => {
                lock(&self.state).messages.push(mail);
                Some("250 2.0.0 OK queued".to_owned())
            }
        }
    }

    /// AUTH PLAIN / LOGIN, accepting any credentials. `None`: client left.
    async fn auth<S: AsyncRead + AsyncWrite>(
        &mut self,
        arg: &str,
        lines: &mut BufReader<ReadHalf<S>>,
        write: &mut WriteHalf<S>,
    ) -> Option<String> {
        let (mechanism, initial) = match arg.split_once(' ') {
            Some((m, rest)) => (m.to_ascii_uppercase(), Some(rest.trim().to_owned())),
            None => (arg.to_ascii_uppercase(), None),
        };
        let offered = self.options.auth.split(' ');
        if !offered
            .into_iter()
            .any(|m| m.eq_ignore_ascii_case(&mechanism))
        {
            return Some("504 5.5.4 Unrecognized authentication type".to_owned());
        }
        let mut prompt = async |challenge: &str| -> Option<String> {
            write
                .write_all(format!("334 {challenge}\r\n").as_bytes())
                .await
                .ok()?;
            read_line(lines).await
        };
        let user = match mechanism.as_str() {
            "PLAIN" => {
                let response = match initial {
                    Some(initial) => initial,
                    None => prompt("").await?,
                };
                let decoded = mime::auth_decode(&response);
                // authzid \0 authcid \0 password
                let user = decoded.split(|b| *b == 0).nth(1).unwrap_or_default();
                String::from_utf8_lossy(user).into_owned()
            }
            "LOGIN" => {
                let user = match initial {
                    Some(initial) => initial,
                    None => prompt("VXNlcm5hbWU6").await?,
                };
                prompt("UGFzc3dvcmQ6").await?;
                String::from_utf8_lossy(&mime::auth_decode(&user)).into_owned()
            }
            _ => return Some("504 5.5.4 Unrecognized authentication type".to_owned()),
        };
        self.auth_user = Some(user);
        Some("235 2.7.0 Authentication successful".to_owned())
    }
}

/// Writes the `pending` replies and then `more`; false when the client
/// is gone.
async fn send<W: AsyncWrite + Unpin>(
    write: &mut W,
    pending: &mut Vec<u8>,
    delay: std::time::Duration,
    more: &[u8],
) -> bool {
    pending.extend_from_slice(more);
    if !delay.is_zero() && !pending.is_empty() {
        tokio::time::sleep(delay).await;
    }
    let sent = pending.is_empty() || write.write_all(pending).await.is_ok();
    pending.clear();
    sent
}

fn rejection(code: u16) -> String {
    if code < 500 {
        format!("{code} 4.3.0 Temporary failure, try again later")
    } else {
        format!("{code} 5.7.1 Rejected")
    }
}

/// `FROM:<a@b> SIZE=1` → `a@b`.
fn address(arg: &str, prefix: &str) -> Option<String> {
    let head = arg.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = arg[prefix.len()..].trim_start();
    let inner = rest.strip_prefix('<')?;
    let end = inner.find('>')?;
    Some(inner[..end].to_owned())
}

/// One line without its CRLF/LF; `None` at EOF or error.
async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(reader: &mut R) -> Option<String> {
    let mut buf = Vec::new();
    match reader.read_until(b'\n', &mut buf).await {
        Ok(0) | Err(_) => None,
        Ok(_) => {
            while matches!(buf.last(), Some(b'\n' | b'\r')) {
                buf.pop();
            }
            Some(String::from_utf8_lossy(&buf).into_owned())
        }
    }
}

/// The DATA section up to the lone `.`, dot-unstuffed, CRLF line ends.
async fn read_data<R: tokio::io::AsyncBufRead + Unpin>(reader: &mut R) -> Option<String> {
    let mut data = String::new();
    loop {
        let line = read_line(reader).await?;
        if line == "." {
            return Some(data);
        }
        data.push_str(line.strip_prefix('.').unwrap_or(&line));
        data.push_str("\r\n");
    }
}
