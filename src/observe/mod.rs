//! What the service tells its operators about itself: [`metrics`] (every
//! Prometheus metric, defined in one place) and [`health`] (liveness and
//! readiness). Both are plain shared state that the stages update; the
//! HTTP endpoint ([`crate::http`]) only reads them.

pub mod health;
pub mod metrics;

pub use health::Health;
pub use metrics::Metrics;
