//! One SMTP client connection: TCP with `TCP_NODELAY`, implicit TLS or
//! STARTTLS (lettre's TLS stream and parameters), `EHLO`, `AUTH PLAIN` or
//! `LOGIN`, then mail transactions, pipelined when the relay offers
//! PIPELINING (RFC 2920).
//!
//! A pipelined transaction costs two round trips: `MAIL FROM`, `RCPT TO`
//! and `DATA` in one write, their replies read in order, then the content
//! and its final `.` in one write and the last reply. Without PIPELINING
//! each command waits for its reply (four round trips for one recipient).
//! Any error leaves the connection [`broken`](Connection::is_broken); the
//! pool closes it instead of parking it.

use super::SmtpError;
use super::wire::{self, Extensions, MAX_LINE, Reply};
use crate::settings::SmtpTls;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use lettre::address::Envelope;
#[allow(deprecated)] // the only way lettre's TLS wraps a stream we opened
use lettre::transport::smtp::client::AsyncNetworkStream;
use lettre::transport::smtp::client::{Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, FuturesAsyncReadCompatExt};

#[allow(deprecated)]
type Stream = BufReader<Compat<AsyncNetworkStream>>;

/// Where and how to connect.
pub struct Relay {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// User name and password for `AUTH`, when set.
    pub credentials: Option<(String, SecretString)>,
    /// The CAs to trust instead of the public roots.
    pub ca: Option<Certificate>,
    pub timeout: Duration,
    pub hello: ClientId,
}

impl Relay {
    /// A new connection, greeted, encrypted and authenticated as
    /// configured, within the timeout.
    ///
    /// # Errors
    /// See [`SmtpError`]; replies during this session setup are never
    /// permanent for the mail.
    pub async fn connect(&self) -> Result<Connection, SmtpError> {
        tokio::time::timeout(self.timeout, self.handshake())
            .await
            .unwrap_or(Err(SmtpError::Timeout(self.timeout)))
    }

    #[allow(deprecated)]
    async fn handshake(&self) -> Result<Connection, SmtpError> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(SmtpError::Connect)?;
        tcp.set_nodelay(true).map_err(SmtpError::Connect)?;
        let mut stream = AsyncNetworkStream::use_existing_tokio1(Box::new(tcp));
        if self.tls == SmtpTls::Tls {
            stream.upgrade_tls(self.tls_parameters()?).await?;
        }
        let mut conn = Connection {
            stream: BufReader::new(stream.compat()),
            ext: Extensions::default(),
            broken: false,
        };
        conn.reply("greeting", 220).await?;
        conn.ehlo(&self.hello).await?;
        if self.tls == SmtpTls::Starttls {
            if !conn.ext.starttls {
                return Err(SmtpError::Protocol(
                    "the relay does not offer STARTTLS".into(),
                ));
            }
            conn.command("STARTTLS", "STARTTLS\r\n", 220).await?;
            if !conn.stream.buffer().is_empty() {
                // RFC 3207: nothing may follow the reply in the clear.
                return Err(SmtpError::Protocol("data after the STARTTLS reply".into()));
            }
            let mut stream = conn.stream.into_inner().into_inner();
            stream.upgrade_tls(self.tls_parameters()?).await?;
            conn.stream = BufReader::new(stream.compat());
            conn.ehlo(&self.hello).await?;
        }
        if let Some((user, password)) = &self.credentials {
            conn.auth(user, password.expose_secret()).await?;
        }
        Ok(conn)
    }

    fn tls_parameters(&self) -> Result<TlsParameters, SmtpError> {
        let mut builder = TlsParameters::builder(self.host.clone());
        if let Some(ca) = &self.ca {
            builder = builder.add_root_certificate(ca.clone());
        }
        Ok(builder.build()?)
    }

    /// Whether `conn` still answers, within the timeout.
    pub async fn noop(&self, conn: &mut Connection) -> bool {
        tokio::time::timeout(self.timeout, conn.noop())
            .await
            .unwrap_or(false)
    }
}

/// An open session with the relay.
pub struct Connection {
    stream: Stream,
    ext: Extensions,
    broken: bool,
}

impl Connection {
    /// Whether an error left this connection out of step or closed.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// One mail transaction for `envelope`, `body` being the formatted
    /// message.
    ///
    /// # Errors
    /// See [`SmtpError`]; the connection is broken afterwards.
    pub async fn send(&mut self, envelope: &Envelope, body: &[u8]) -> Result<(), SmtpError> {
        let result = self.transaction(envelope, body).await;
        if result.is_err() {
            self.broken = true;
        }
        result
    }

    async fn transaction(&mut self, envelope: &Envelope, body: &[u8]) -> Result<(), SmtpError> {
        let commands = wire::transaction(envelope, body, &self.ext).map_err(SmtpError::Refused)?;
        let refused = |step| move |reply| SmtpError::Reply { step, reply };
        if self.ext.pipelining {
            let group: String = commands.iter().map(|c| c.line.as_str()).collect();
            self.write(group.as_bytes()).await?;
            for c in &commands {
                self.expect(c.want).await?.map_err(refused(c.step))?;
            }
        } else {
            for c in &commands {
                self.write(c.line.as_bytes()).await?;
                self.expect(c.want).await?.map_err(refused(c.step))?;
            }
        }
        self.write(&wire::data(body)).await?;
        self.expect(250).await?.map_err(refused("message"))
    }

    /// Whether the relay still answers `NOOP`.
    pub async fn noop(&mut self) -> bool {
        let ok = self.command("NOOP", "NOOP\r\n", 250).await.is_ok();
        self.broken |= !ok;
        ok
    }

    /// Ends the session politely (errors are of no interest any more).
    pub async fn quit(&mut self) {
        let _ = self.command("QUIT", "QUIT\r\n", 221).await;
    }

    async fn ehlo(&mut self, hello: &ClientId) -> Result<(), SmtpError> {
        self.write(format!("EHLO {hello}\r\n").as_bytes()).await?;
        let reply = self.read_reply().await?;
        if !reply.is_ok() {
            return Err(SmtpError::Session {
                step: "EHLO",
                reply,
            });
        }
        self.ext = Extensions::from_ehlo(&reply);
        Ok(())
    }

    /// `AUTH PLAIN` when offered, else `AUTH LOGIN` (RFC 4954).
    async fn auth(&mut self, user: &str, password: &str) -> Result<(), SmtpError> {
        if self.ext.auth_plain {
            let token = BASE64.encode(format!("\0{user}\0{password}"));
            let command = format!("AUTH PLAIN {token}\r\n");
            self.command("AUTH", &command, 235).await
        } else if self.ext.auth_login {
            self.command("AUTH", "AUTH LOGIN\r\n", 334).await?;
            let user = format!("{}\r\n", BASE64.encode(user));
            self.command("AUTH", &user, 334).await?;
            let password = format!("{}\r\n", BASE64.encode(password));
            self.command("AUTH", &password, 235).await
        } else {
            Err(SmtpError::Protocol(
                "the relay offers neither AUTH PLAIN nor AUTH LOGIN".into(),
            ))
        }
    }

    /// Sends `line` of session step `step` and reads its reply, which
    /// must have code `want` (any 2yz when `want` is 250).
    async fn command(
        &mut self,
        step: &'static str,
        line: &str,
        want: u16,
    ) -> Result<(), SmtpError> {
        self.write(line.as_bytes()).await?;
        self.reply(step, want).await
    }

    /// The reply to session step `step`, which must have code `want`.
    async fn reply(&mut self, step: &'static str, want: u16) -> Result<(), SmtpError> {
        (self.expect(want).await?).map_err(|reply| SmtpError::Session { step, reply })
    }

    /// The next reply: `Ok(Err(reply))` when its code is not `want` (any
    /// 2yz when `want` is 250).
    async fn expect(&mut self, want: u16) -> Result<Result<(), Reply>, SmtpError> {
        let reply = self.read_reply().await?;
        let accepted = reply.code == want || (want == 250 && reply.is_ok());
        Ok(if accepted { Ok(()) } else { Err(reply) })
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), SmtpError> {
        let stream = self.stream.get_mut();
        stream.write_all(bytes).await.map_err(SmtpError::Io)?;
        stream.flush().await.map_err(SmtpError::Io)
    }

    /// One complete reply, however many lines.
    async fn read_reply(&mut self) -> Result<Reply, SmtpError> {
        let mut reply = Reply {
            code: 0,
            lines: Vec::new(),
        };
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let mut limited = (&mut self.stream).take(MAX_LINE as u64);
            let n = limited.read_until(b'\n', &mut buf).await;
            match n.map_err(SmtpError::Io)? {
                0 => {
                    return Err(SmtpError::Io(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the relay closed the connection",
                    )));
                }
                n if n == MAX_LINE && !buf.ends_with(b"\n") => {
                    return Err(SmtpError::Protocol("a reply line is too long".into()));
                }
                _ => {}
            }
            let line = String::from_utf8_lossy(&buf);
            let line = line.trim_end_matches(['\r', '\n']);
            let (code, last, text) = wire::parse_line(line).map_err(SmtpError::Protocol)?;
            if reply.code != 0 && code != reply.code {
                return Err(SmtpError::Protocol(format!(
                    "reply lines with codes {} and {code}",
                    reply.code
                )));
            }
            reply.code = code;
            reply.lines.push(text.to_owned());
            if last {
                return Ok(reply);
            }
        }
    }
}
