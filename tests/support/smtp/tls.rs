//! TLS for the sink ([`SinkTls`]): implicit TLS (port 465 style) or
//! STARTTLS (RFC 3207), with a certificate from a test CA
//! ([`Pki`](crate::support::nats_auth::Pki)), served by rustls.

use std::path::Path;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring::default_provider;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// When the sink's sessions turn to TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// From the first byte.
    Implicit,
    /// After the client's `STARTTLS` (offered in the `EHLO` reply).
    Starttls,
}

/// How the sink speaks TLS.
#[derive(Clone)]
pub struct SinkTls {
    pub mode: TlsMode,
    config: Arc<ServerConfig>,
}

impl std::fmt::Debug for SinkTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SinkTls({:?})", self.mode)
    }
}

impl SinkTls {
    /// TLS in `mode` with the PEM certificate chain and key in these files.
    pub fn new(mode: TlsMode, cert: &Path, key: &Path) -> SinkTls {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .expect("certificate file")
            .collect::<Result<_, _>>()
            .expect("certificates");
        let key = PrivateKeyDer::from_pem_file(key).expect("key file");
        let config = ServerConfig::builder_with_provider(Arc::new(default_provider()))
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server certificate");
        SinkTls {
            mode,
            config: Arc::new(config),
        }
    }

    pub(super) fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.config.clone())
    }
}
