//! What delivery remembers, in JetStream key-value buckets (newsalert keeps
//! no state outside NATS): which alerts were sent (so a redelivery long
//! after the stream's dedup window still sends nothing twice), and which
//! targets are disabled (bot blocked, chat gone) so other alerts to them are
//! not attempted. Keys are SHA-256 hex digests of the alert key / target.

use crate::alert::Target;
use async_nats::jetstream::kv;
use sha2::{Digest, Sha256};

/// Hex SHA-256 of `s`: a valid KV key for any alert key or address.
pub fn digest(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn target_key(target: &Target) -> String {
    match target {
        Target::TelegramChat(id) => format!("telegram.{id}"),
        Target::Email(addr) => format!("email.{}", digest(&addr.to_ascii_lowercase())),
    }
}

/// The sent log and the disabled-target list.
#[derive(Clone)]
pub struct Ledger {
    sent: kv::Store,
    targets: kv::Store,
}

impl Ledger {
    pub fn new(sent: kv::Store, targets: kv::Store) -> Self {
        Ledger { sent, targets }
    }

    /// Whether the alert with this key was sent before. A lookup failure
    /// counts as "not sent": a possible duplicate beats a loss.
    pub async fn was_sent(&self, alert_key: &str) -> bool {
        match self.sent.get(digest(alert_key)).await {
            Ok(v) => v.is_some(),
            Err(e) => {
                tracing::warn!(error = %e, "sent-log lookup failed; sending anyway");
                false
            }
        }
    }

    /// Record a successful send (retried a few times; failure only risks a
    /// duplicate, so it is logged, not fatal).
    pub async fn record_sent(&self, alert_key: &str) {
        let key = digest(alert_key);
        for attempt in 1..=3 {
            match self.sent.put(&key, alert_key.to_string().into()).await {
                Ok(_) => return,
                Err(e) if attempt == 3 => {
                    tracing::warn!(error = %e, "could not record a sent alert; a redelivery may duplicate it")
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await,
            }
        }
    }

    /// Why `target` is disabled, if it is.
    pub async fn disabled(&self, target: &Target) -> Option<String> {
        match self.targets.get(target_key(target)).await {
            Ok(v) => v.map(|b| String::from_utf8_lossy(&b).to_string()),
            Err(e) => {
                tracing::warn!(error = %e, "target lookup failed; treating as enabled");
                None
            }
        }
    }

    /// Mark `target` disabled with `reason`.
    pub async fn disable(&self, target: &Target, reason: &str) {
        if let Err(e) = self
            .targets
            .put(target_key(target), reason.to_string().into())
            .await
        {
            tracing::warn!(error = %e, "could not record a disabled target");
        }
    }

    /// Enable `target` again (after the cause was fixed).
    pub async fn enable(&self, target: &Target) {
        if let Err(e) = self.targets.delete(target_key(target)).await {
            tracing::warn!(error = %e, "could not re-enable a target");
        }
    }

    /// The targets bucket (Telegram chat migrations are kept there too).
    pub fn targets(&self) -> &kv::Store {
        &self.targets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_valid_kv_keys() {
        let d = digest("an id with spaces/and ümlauts/telegram");
        assert_eq!(d.len(), 64);
        assert!(d.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(
            target_key(&Target::TelegramChat(-100123)),
            "telegram.-100123"
        );
        assert_eq!(
            target_key(&Target::Email("A@Example.org".into())),
            target_key(&Target::Email("a@example.org".into()))
        );
    }
}
