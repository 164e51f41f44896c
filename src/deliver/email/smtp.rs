//! SMTP connections to the relay, pooled and kept warm, without the
//! Nagle stall.
//!
//! lettre's client writes a message's body and the terminating `.` in two
//! writes. On a socket with Nagle's algorithm on (lettre's own connector
//! never sets `TCP_NODELAY`), the 5-byte terminator waits until the relay
//! acknowledges the body, and the relay delays that ACK (40 ms on Linux):
//! ~40 ms lost on every mail. Here the TCP connection is opened by us with
//! `TCP_NODELAY` set and handed to lettre's [`AsyncSmtpConnection`], which
//! then does EHLO, STARTTLS (or runs over implicit TLS) and AUTH as usual.
//!
//! Connections are reused: after a mail its connection is parked, the next
//! mail takes the most recently parked one. At most `max` are open at once.
//! A connection parked longer than [`CHECK_AFTER`] is checked with `NOOP`
//! before use; a background task keeps one connection open from the start
//! and `NOOP`s parked ones every [`KEEPALIVE`], closing those unused for
//! [`IDLE_TIMEOUT`], so a mail after a quiet spell does not pay for
//! connect, TLS and AUTH. Every step is bounded by `smtp.timeout_secs`.

use crate::settings::{SmtpSettings, SmtpTls};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
#[allow(deprecated)] // the only way lettre upgrades a stream we opened
use lettre::transport::smtp::client::AsyncNetworkStream;
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use secrecy::ExposeSecret;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_util::compat::{Compat, FuturesAsyncReadCompatExt};

/// A parked connection idle longer than this is checked with `NOOP` first.
pub const CHECK_AFTER: Duration = Duration::from_secs(10);
/// How often parked connections are kept alive.
pub const KEEPALIVE: Duration = Duration::from_secs(30);
/// Parked connections unused this long are closed (one is kept).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Why a mail could not be handed to the relay.
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    /// The relay answered with an error, or lettre's client failed.
    #[error("{0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("connect: {0}")]
    Connect(std::io::Error),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
}

impl SmtpError {
    /// A 5xx reply: the relay will never take this mail.
    pub fn is_permanent(&self) -> bool {
        matches!(self, SmtpError::Smtp(e) if e.is_permanent())
    }
}

/// Where and how to connect.
struct Relay {
    host: String,
    port: u16,
    tls: SmtpTls,
    credentials: Option<Credentials>,
    timeout: Duration,
    hello: ClientId,
}

struct Parked {
    conn: AsyncSmtpConnection,
    /// When it last carried a mail.
    used: Instant,
    /// When it last answered (a mail or a `NOOP`).
    checked: Instant,
}

struct Inner {
    relay: Relay,
    /// Parked connections, most recently used last.
    parked: Mutex<Vec<Parked>>,
    /// One permit per connection in use.
    in_use: Semaphore,
    /// At most this many connections in use.
    max: usize,
}

/// Pooled, warm SMTP connections to one relay.
#[derive(Clone)]
pub struct SmtpPool {
    inner: Arc<Inner>,
}

impl SmtpPool {
    /// A pool of at most `max` connections to the relay in `s`; starts the
    /// keep-warm task when called inside a tokio runtime.
    pub fn new(s: &SmtpSettings, max: usize) -> SmtpPool {
        let credentials = (!s.username.is_empty())
            .then(|| Credentials::new(s.username.clone(), s.password.expose_secret().to_string()));
        let inner = Arc::new(Inner {
            relay: Relay {
                host: s.host.clone(),
                port: s.port,
                tls: s.tls,
                credentials,
                timeout: Duration::from_secs(s.timeout_secs.max(1)),
                hello: ClientId::default(),
            },
            parked: Mutex::new(Vec::new()),
            in_use: Semaphore::new(max.max(1)),
            max: max.max(1),
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(keep_warm(Arc::downgrade(&inner)));
        }
        SmtpPool { inner }
    }

    /// Send one mail (`body`: the formatted message) on a pooled
    /// connection.
    ///
    /// # Errors
    /// See [`SmtpError`]; the connection is closed after any error.
    pub async fn send(&self, envelope: &Envelope, body: &[u8]) -> Result<(), SmtpError> {
        let inner = &self.inner;
        // The semaphore is never closed.
        let _permit = inner.in_use.acquire().await;
        let timeout = inner.relay.timeout;
        let mut conn = match inner.checkout().await {
            Some(conn) => conn,
            None => inner.relay.connect().await?,
        };
        match tokio::time::timeout(timeout, conn.send(envelope, body)).await {
            Ok(Ok(_)) => {
                inner.park(conn, Instant::now());
                Ok(())
            }
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Err(SmtpError::Timeout(timeout)),
        }
    }
}

impl Inner {
    /// The most recently parked connection that still works.
    async fn checkout(&self) -> Option<AsyncSmtpConnection> {
        loop {
            let Parked {
                mut conn, checked, ..
            } = self.lock().pop()?;
            if checked.elapsed() < CHECK_AFTER || self.relay.noop(&mut conn).await {
                return Some(conn);
            }
            tracing::debug!("dropping a pooled SMTP connection that failed NOOP");
        }
    }

    /// Park `conn` (unless an error broke it), last used at `used`.
    fn park(&self, conn: AsyncSmtpConnection, used: Instant) {
        if !conn.has_broken() {
            self.lock().push(Parked {
                conn,
                used,
                checked: Instant::now(),
            });
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Parked>> {
        self.parked.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Relay {
    /// A new connection: TCP with `TCP_NODELAY`, greeting and EHLO, TLS as
    /// configured, then AUTH.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SmtpError> {
        tokio::time::timeout(self.timeout, self.handshake())
            .await
            .unwrap_or(Err(SmtpError::Timeout(self.timeout)))
    }

    async fn handshake(&self) -> Result<AsyncSmtpConnection, SmtpError> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(SmtpError::Connect)?;
        tcp.set_nodelay(true).map_err(SmtpError::Connect)?;
        let stream: Box<dyn AsyncTokioStream> = match self.tls {
            SmtpTls::None | SmtpTls::Starttls => Box::new(tcp),
            SmtpTls::Tls => {
                #[allow(deprecated)]
                let mut stream = AsyncNetworkStream::use_existing_tokio1(Box::new(tcp));
                stream.upgrade_tls(self.tls_parameters()?).await?;
                Box::new(ImplicitTls(stream.compat()))
            }
        };
        let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &self.hello).await?;
        if self.tls == SmtpTls::Starttls {
            conn.starttls(self.tls_parameters()?, &self.hello).await?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await?;
        }
        Ok(conn)
    }

    fn tls_parameters(&self) -> Result<TlsParameters, SmtpError> {
        Ok(TlsParameters::new(self.host.clone())?)
    }

    /// Whether `conn` still answers, within the timeout.
    async fn noop(&self, conn: &mut AsyncSmtpConnection) -> bool {
        tokio::time::timeout(self.timeout, conn.test_connected())
            .await
            .unwrap_or(false)
    }
}

/// Keep one connection open from the start, `NOOP` connections parked
/// for [`KEEPALIVE`] and close those unused for [`IDLE_TIMEOUT`] (keeping
/// the most recently used); ends with the pool.
async fn keep_warm(pool: Weak<Inner>) {
    let mut first = true;
    loop {
        if !first {
            tokio::time::sleep(KEEPALIVE).await;
        }
        first = false;
        let Some(inner) = pool.upgrade() else { return };
        let (mut stale, fresh): (Vec<Parked>, Vec<Parked>) = std::mem::take(&mut *inner.lock())
            .into_iter()
            .partition(|p| p.checked.elapsed() >= KEEPALIVE);
        inner.lock().extend(fresh);
        stale.sort_by_key(|p| p.used);
        let newest = stale.len().saturating_sub(1);
        for (i, mut p) in stale.into_iter().enumerate() {
            if i < newest && p.used.elapsed() >= IDLE_TIMEOUT {
                let _ = tokio::time::timeout(inner.relay.timeout, p.conn.quit()).await;
            } else if inner.relay.noop(&mut p.conn).await {
                p.checked = Instant::now();
                inner.lock().insert(0, p);
            }
        }
        let idle = inner.in_use.available_permits() == inner.max;
        if idle && inner.lock().is_empty() {
            match inner.relay.connect().await {
                Ok(conn) => inner.park(conn, Instant::now()),
                Err(e) => tracing::debug!(error = %e, "could not open a warm SMTP connection"),
            }
        }
    }
}

/// A stream lettre wrapped in implicit TLS, as the plain stream its
/// connection type takes.
#[allow(deprecated)]
#[derive(Debug)]
struct ImplicitTls(Compat<AsyncNetworkStream>);

impl AsyncRead for ImplicitTls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for ImplicitTls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for ImplicitTls {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().peer_addr()
    }
}
