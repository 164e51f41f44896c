//! The HTTP endpoint on `http.listen` (off when empty): the probes and
//! metrics ([`probes`]: `/healthz`, `/readyz`, `/metrics`) and one-click
//! unsubscribe ([`unsubscribe`]: `/unsubscribe`).
//!
//! Adding a route: write a module here with a `pub fn routes(…) -> Router`
//! and merge it in [`router`]; [`HttpServer`] serves whatever router it is
//! given and stops with the service (`App::run_until_stopped`, or when
//! the `App` is dropped).

pub mod probes;
pub mod unsubscribe;

use crate::observe::{Health, Metrics};
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long a stopping server waits for requests in progress.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// What the routes read.
#[derive(Clone)]
pub struct HttpState {
    pub health: Health,
    pub metrics: Arc<Metrics>,
    /// One-click unsubscribe, set once NATS is connected.
    pub unsubscribe: unsubscribe::UnsubscribeSlot,
}

/// Every route of the endpoint.
pub fn router(state: HttpState) -> Router {
    let unsubscribe = unsubscribe::routes(state.unsubscribe.clone());
    Router::new()
        .merge(probes::routes(state))
        .merge(unsubscribe)
}

/// A running HTTP server; stopped by [`HttpServer::stop`] or on drop.
pub struct HttpServer {
    addr: SocketAddr,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Bind `listen` (`host:port`; port 0 picks a free one) and serve
    /// `router` on a task of its own.
    ///
    /// # Errors
    /// The address cannot be bound (in use, not local, no permission).
    pub async fn start(listen: &str, router: Router) -> Result<HttpServer, String> {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("http.listen {listen:?}: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("http.listen {listen:?}: {e}"))?;
        let stop = CancellationToken::new();
        let stopped = stop.clone().cancelled_owned();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(stopped)
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "http endpoint failed");
            }
        });
        tracing::info!(%addr, "http endpoint listening");
        Ok(HttpServer {
            addr,
            stop,
            task: Some(task),
        })
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting, let requests in progress finish (up to a few
    /// seconds), and close.
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take()
            && tokio::time::timeout(STOP_GRACE, task).await.is_err()
        {
            tracing::warn!("http endpoint did not stop in time");
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
