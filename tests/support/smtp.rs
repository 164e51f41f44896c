//! An SMTP sink: a real (plain-text, no TLS) SMTP server on a random
//! loopback port that records every mail it accepts, with scripted faults.
//!
//! Speaks EHLO/HELO, AUTH PLAIN/LOGIN (any credentials), MAIL, RCPT, DATA
//! (dot-unstuffed), RSET, NOOP, VRFY, QUIT, and takes pipelined commands
//! (RFC 2920; offered unless [`SinkOptions`] say otherwise), counting
//! those sent ahead of a reply. Runs on its own runtime thread.
//! Received mails are read with `mail-parser` ([`ReceivedMail`]).

mod mime;
mod session;
mod tls;

pub use mime::ReceivedMail;
pub use tls::{SinkTls, TlsMode};

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::BackgroundRuntime;
use session::Session;

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
#[derive(Clone, Debug)]
pub struct SinkOptions {
    /// Offer PIPELINING (RFC 2920), as Postfix and Exim do.
    pub pipelining: bool,
    /// The AUTH mechanisms offered (any credentials are accepted).
    pub auth: &'static str,
    /// Implicit TLS or STARTTLS with this certificate; `None`: plain only.
    pub tls: Option<SinkTls>,
    /// Each write of replies waits this long first: a relay that far
    /// away (one round trip), for benchmarks.
    pub reply_delay: Duration,
}

impl Default for SinkOptions {
    fn default() -> Self {
        Self {
            pipelining: true,
            auth: "PLAIN LOGIN",
            tls: None,
            reply_delay: Duration::ZERO,
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
                let options = options.clone();
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

    /// Client settings for this sink: plain SMTP (`tls = "none"`), the
    /// user name given (empty: no AUTH), a 5 s timeout.
    pub fn client_settings(&self, username: &str) -> newsalert::settings::SmtpSettings {
        newsalert::settings::SmtpSettings {
            host: self.host().into(),
            port: self.port(),
            tls: newsalert::settings::SmtpTls::None,
            tls_ca_file: String::new(),
            username: username.into(),
            password: "secret".to_string().into(),
            from: "alerts@example.net".into(),
            timeout_secs: 5,
            message_id_domain: String::new(),
            dkim_key_file: String::new(),
            dkim_selector: String::new(),
            dkim_domain: String::new(),
        }
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
