//! An SMTP sink: a real (plain-text, no TLS) SMTP server on a random
//! loopback port that records every mail it accepts, with scripted faults.
//!
//! Speaks EHLO/HELO, AUTH PLAIN/LOGIN (any credentials), MAIL, RCPT, DATA
//! (dot-unstuffed), RSET, NOOP, VRFY, QUIT, and takes pipelined commands
//! (RFC 2920; offered unless [`SinkOptions`] say otherwise), counting
//! those sent ahead of a reply. Runs on its own runtime thread.
//! Received mails are read with `mail-parser` ([`ReceivedMail`]).

mod mime;

pub use mime::ReceivedMail;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::BackgroundRuntime;

/// A scripted failure for one coming mail transaction (one `MAIL FROM`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmtpFault {
    /// Answer every `RCPT TO` with this code (e.g. 451 or 550).
    RejectRcpt(u16),
    /// Receive the data, then answer the final `.` with this code.
    RejectData(u16),
    /// Receive and record the mail, then close the connection without
    /// answering the final `.` (the client cannot know it was delivered).
    DropAfterData,
}

#[derive(Default)]
struct State {
    messages: Vec<ReceivedMail>,
    faults: VecDeque<SmtpFault>,
    transactions: usize,
    connections: usize,
    /// Connections whose session has not ended yet.
    open: usize,
    /// Commands that arrived before the sink had replied to the one
    /// before them (pipelined, RFC 2920).
    sent_ahead: usize,
}

/// What the sink offers in its `EHLO` reply beyond the basics.
#[derive(Clone, Copy, Debug)]
pub struct SinkOptions {
    /// Offer PIPELINING (RFC 2920), as Postfix and Exim do.
    pub pipelining: bool,
    /// The AUTH mechanisms offered (any credentials are accepted).
    pub auth: &'static str,
}

impl Default for SinkOptions {
    fn default() -> Self {
        Self {
            pipelining: true,
            auth: "PLAIN LOGIN",
        }
    }
}

pub struct SmtpSink {
    port: u16,
    state: Arc<Mutex<State>>,
    _runtime: BackgroundRuntime,
}

impl SmtpSink {
    /// Starts the sink, offering PIPELINING; it accepts connections when
    /// this returns.
    pub fn start() -> Self {
        Self::start_with(SinkOptions::default())
    }

    /// Starts the sink with `options`.
    pub fn start_with(options: SinkOptions) -> Self {
        let runtime = BackgroundRuntime::start("smtp-sink");
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind smtp sink");
        listener.set_nonblocking(true).expect("set_nonblocking");
        let port = listener.local_addr().expect("local_addr").port();
        let state = Arc::new(Mutex::new(State::default()));
        let accept_state = state.clone();
        runtime.handle().spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            while let Ok((stream, _)) = listener.accept().await {
                {
                    let mut state = lock(&accept_state);
                    state.connections += 1;
                    state.open += 1;
                }
                let session_state = accept_state.clone();
                tokio::spawn(async move {
                    Session::new(session_state.clone(), options)
                        .run(stream)
                        .await;
                    lock(&session_state).open -= 1;
                });
            }
        });
        Self {
            port,
            state,
            _runtime: runtime,
        }
    }

    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Mails accepted so far, in order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        lock(&self.state).messages.clone()
    }

    /// Number of `MAIL FROM` commands seen, rejected ones included.
    pub fn transactions(&self) -> usize {
        lock(&self.state).transactions
    }

    /// Number of TCP connections accepted.
    pub fn connections(&self) -> usize {
        lock(&self.state).connections
    }

    /// Number of commands that arrived before the reply to the command
    /// before them was sent: 0 from a client that waits for each reply.
    pub fn sent_ahead(&self) -> usize {
        lock(&self.state).sent_ahead
    }

    /// Number of connections still being served. After a client is killed
    /// its sessions end once the sink has read what was already sent (a
    /// mail whose final `.` arrived is still recorded), so this reaching 0
    /// means the sink has recorded all it ever will from that client.
    pub fn open_connections(&self) -> usize {
        lock(&self.state).open
    }

    /// Waits until at least `n` mails were accepted; returns all of them.
    ///
    /// # Panics
    /// On timeout, saying how many arrived.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        if !super::wait_until(timeout, || lock(&self.state).messages.len() >= n).await {
            let state = lock(&self.state);
            panic!(
                "smtp sink: expected {n} mails within {timeout:?}, got {} ({} transactions, {} connections)",
                state.messages.len(),
                state.transactions,
                state.connections
            );
        }
        self.messages()
    }

    /// Applies `fault` to the next mail transaction (faults queue up).
    pub fn push_fault(&self, fault: SmtpFault) {
        lock(&self.state).faults.push_back(fault);
    }

    /// Applies `fault` to each of the next `n` transactions.
    pub fn push_faults(&self, fault: SmtpFault, n: usize) {
        lock(&self.state)
            .faults
            .extend(std::iter::repeat_n(fault, n));
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// One client connection and its current transaction.
struct Session {
    state: Arc<Mutex<State>>,
    options: SinkOptions,
    greeted: bool,
    auth_user: Option<String>,
    from: Option<String>,
    to: Vec<String>,
    fault: Option<SmtpFault>,
}

impl Session {
    fn new(state: Arc<Mutex<State>>, options: SinkOptions) -> Self {
        Self {
            state,
            options,
            greeted: false,
            auth_user: None,
            from: None,
            to: Vec::new(),
            fault: None,
        }
    }

    fn reset(&mut self) {
        self.from = None;
        self.to.clear();
        self.fault = None;
    }

    async fn run(mut self, stream: TcpStream) {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        if write
            .write_all(b"220 sink.test ESMTP ready\r\n")
            .await
            .is_err()
        {
            return;
        }
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
                    format!(
                        "250-sink.test greets {arg}\r\n{pipelining}250-8BITMIME\r\n\
                         250-SMTPUTF8\r\n250-AUTH {}\r\n250 SIZE 52428800",
                        self.options.auth
                    )
                }
                "HELO" => {
                    self.greeted = true;
                    self.reset();
                    "250 sink.test".to_owned()
                }
                "AUTH" => match self.auth(&arg, &mut lines, &mut write).await {
                    Some(reply) => reply,
                    None => return,
                },
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
                    if write
                        .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        .await
                        .is_err()
                    {
                        return;
                    }
                    let Some(data) = read_data(&mut lines).await else {
                        return;
                    };
                    match self.finish(data) {
                        Some(reply) => reply,
                        None => return, // DropAfterData: close without a reply.
                    }
                }
                "RSET" => {
                    self.reset();
                    "250 2.0.0 OK".to_owned()
                }
                "NOOP" => "250 2.0.0 OK".to_owned(),
                "VRFY" => "252 2.5.2 Cannot VRFY user".to_owned(),
                "STARTTLS" => "454 4.7.0 TLS not available".to_owned(),
                "QUIT" => {
                    let _ = write.write_all(b"221 2.0.0 Bye\r\n").await;
                    return;
                }
                _ => "500 5.5.2 Command not recognized".to_owned(),
            };
            if write
                .write_all(format!("{reply}\r\n").as_bytes())
                .await
                .is_err()
            {
                return;
            }
        }
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
    async fn auth(
        &mut self,
        arg: &str,
        lines: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
        write: &mut tokio::net::tcp::OwnedWriteHalf,
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
