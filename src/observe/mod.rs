//! What the service tells its operators about itself: [`metrics`] (every
//! Prometheus metric, defined in one place) and [`health`] (liveness and
//! readiness). Both are plain shared state that the stages update; the
//! HTTP endpoint ([`crate::http`]) only reads them.

pub mod health;
pub mod metrics;

pub use health::Health;
pub use metrics::Metrics;

/// Target of the debug events that time each hop of an article through
/// the service: `article received`, `article matched`, `alerts published`
/// (field `article_id`), then per alert `alert received`, `alert sending`,
/// `alert sent`, `alert recorded` (fields `article_id`, `subscriber`,
/// `channel`). `RUST_LOG=newsalert::hop=debug` shows them; the service
/// benchmark (`benches/service.rs`) breaks its latency down by them.
pub const HOP: &str = "newsalert::hop";
