//! Console notifier: one JSON line per alert on stdout, used for channels
//! that are not configured so the service runs with nothing but NATS.

use super::{DeliveryError, Notifier};
use crate::alert::Alert;
use futures::future::BoxFuture;
use std::io::Write;

/// Writes alerts as JSON lines to stdout.
pub struct ConsoleNotifier;

impl Notifier for ConsoleNotifier {
    fn name(&self) -> &'static str {
        "console"
    }

    fn send<'a>(&'a self, alert: &'a Alert) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move { line(alert) })
    }

    fn send_prepared<'a>(
        &'a self,
        p: &'a super::prepared::Prepared,
    ) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move { line(p) })
    }
}

/// Print `value` as one JSON line.
fn line(value: &impl serde::Serialize) -> Result<(), DeliveryError> {
    let mut line =
        serde_json::to_string(value).map_err(|e| DeliveryError::permanent(e.to_string()))?;
    line.push('\n');
    let mut out = std::io::stdout().lock();
    out.write_all(line.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| DeliveryError::transient(format!("stdout: {e}")))
}
