//! What delivery remembers, in JetStream key-value buckets (newsalert keeps
//! no state outside NATS). The [`Ledger`] owns all of it:
//! - the **sent log**: which alerts were sent, so a redelivery long after
//!   the stream's dedup window still sends nothing twice. Keys are SHA-256
//!   hex digests of [`Alert::key`](crate::alert::Alert::key).
//! - the **targets bucket**: targets that are disabled (bot blocked, chat
//!   gone; key `telegram.<chat>` or `email.<digest of the address>`, value
//!   the reason) so other alerts to them are not attempted, and Telegram
//!   chats that migrated to a supergroup (`telegram-migrated.<chat>`,
//!   value the new chat id).
//!
//! The targets bucket is small and rarely written, so each instance keeps
//! all of it in memory: loaded at start and kept current by a KV watch
//! ([`crate::kvwatch`]), so
//! what one instance disables, re-enables or learns about a migration,
//! every instance sees. Checking a target or a migration reads no bucket;
//! a send costs one sent-log read before and one write after.

use crate::alert::Target;
use crate::kvwatch::{BucketWatch, watch_bucket};
use crate::retry::{Failure, RetryError, RetryPolicy, retry};
use crate::shutdown::Stopping;
use async_nats::jetstream::kv;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

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

const MIGRATED: &str = "telegram-migrated.";
/// How long [`Ledger::was_sent`] and [`Ledger::record_sent`] keep trying.
pub const RECORD_FOR: Duration = Duration::from_secs(15);

/// Shutdown came first: the alert was not looked up, nothing was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

/// The sent log's retries: 100 ms doubling to 1 s, for [`RECORD_FOR`].
pub(super) fn ledger_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 0,
        initial: Duration::from_millis(100),
        max: Duration::from_secs(1),
        ..RetryPolicy::default()
    }
    .with_max_elapsed(Some(RECORD_FOR))
}

fn migration_key(chat: i64) -> String {
    format!("{MIGRATED}{chat}")
}

/// The targets bucket as last seen.
#[derive(Debug, Default)]
struct Targets {
    /// Target key → why it is disabled.
    disabled: HashMap<String, String>,
    /// Telegram chat id → the supergroup it migrated to.
    migrated: HashMap<i64, i64>,
}

impl Targets {
    /// Apply one bucket entry: a put, or a delete / purge (`value` None).
    fn apply(&mut self, key: &str, value: Option<&[u8]>) {
        let value = value.map(|v| String::from_utf8_lossy(v).into_owned());
        match key.strip_prefix(MIGRATED).map(str::parse::<i64>) {
            Some(Ok(from)) => match value.and_then(|v| v.parse().ok()) {
                Some(to) => {
                    self.migrated.insert(from, to);
                }
                None => {
                    self.migrated.remove(&from);
                }
            },
            Some(Err(_)) => tracing::warn!(key, "ignoring an unreadable migration key"),
            None => match value {
                Some(reason) => {
                    self.disabled.insert(key.to_string(), reason);
                }
                None => {
                    self.disabled.remove(key);
                }
            },
        }
    }
}

/// The sent log, disabled targets and chat migrations.
#[derive(Clone)]
pub struct Ledger {
    sent: kv::Store,
    targets: kv::Store,
    view: Arc<RwLock<Targets>>,
    /// Keeps `view` equal to the targets bucket.
    watch: BucketWatch,
}

impl Ledger {
    /// A ledger on these buckets; starts watching `targets` (so it must be
    /// called inside a tokio runtime). Target checks wait until the
    /// bucket's current content is loaded.
    pub fn new(sent: kv::Store, targets: kv::Store) -> Self {
        let view = Arc::new(RwLock::new(Targets::default()));
        let mirror = view.clone();
        let watch = watch_bucket(
            targets.clone(),
            "targets bucket watch",
            move |key, value| {
                mirror
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .apply(key, value);
            },
        );
        Ledger {
            sent,
            targets,
            view,
            watch,
        }
    }

    /// Whether the alert with this key was sent before. A failing lookup
    /// (a JetStream cluster electing the bucket's leader) is retried for
    /// up to [`RECORD_FOR`], holding the target's turn, and then counts as
    /// "not sent": a possible duplicate beats a loss.
    ///
    /// # Errors
    /// `stopping` fired first: hand the alert back, send nothing.
    pub async fn was_sent(&self, alert_key: &str, stopping: &Stopping) -> Result<bool, Stopped> {
        let key = digest(alert_key);
        let looked_up = retry(&ledger_policy(), stopping, "sent-log lookup", |_| async {
            self.sent.get(&key).await.map_err(Failure::transient)
        })
        .await;
        match looked_up {
            Ok(v) => Ok(v.is_some()),
            Err(RetryError::Stopped) => Err(Stopped),
            Err(e) => {
                tracing::warn!(error = %e, "sent-log lookup failed; sending anyway");
                Ok(false)
            }
        }
    }

    /// Record a successful send, retried for up to [`RECORD_FOR`] (a
    /// JetStream cluster elects a new leader for the bucket meanwhile; the
    /// target's next alert waits, so a node failure does not turn every
    /// send during the election into a duplicate). Shutdown does not cut
    /// it short: an alert sent and not recorded is sent again by whoever
    /// handles its redelivery. Failure only risks a duplicate, so it is
    /// logged, not fatal.
    pub async fn record_sent(&self, alert_key: &str) {
        let key = digest(alert_key);
        let written = retry(
            &ledger_policy(),
            &Stopping::new(),
            "sent-log write",
            |_| async {
                self.sent
                    .put(&key, alert_key.to_string().into())
                    .await
                    .map_err(Failure::transient)
            },
        )
        .await;
        if let Err(e) = written {
            tracing::warn!(error = %e, "could not record a sent alert; a redelivery may duplicate it");
        }
    }

    /// The sent bucket, for the email batches' delivery records
    /// ([`super::settled`]).
    pub fn sent_bucket(&self) -> kv::Store {
        self.sent.clone()
    }

    /// Why `target` is disabled, if it is.
    pub async fn disabled(&self, target: &Target) -> Option<String> {
        self.wait_loaded().await;
        self.read().disabled.get(&target_key(target)).cloned()
    }

    /// Mark `target` disabled with `reason`.
    pub async fn disable(&self, target: &Target, reason: &str) {
        self.store(
            target_key(target),
            Some(reason.to_string()),
            "disable a target",
        )
        .await;
    }

    /// Enable `target` again (after the cause was fixed).
    pub async fn enable(&self, target: &Target) {
        self.store(target_key(target), None, "re-enable a target")
            .await;
    }

    /// The chat Telegram alerts for `chat` go to: the supergroup it
    /// migrated to, if it did, else `chat` itself.
    pub async fn telegram_chat(&self, chat: i64) -> i64 {
        self.wait_loaded().await;
        self.read().migrated.get(&chat).copied().unwrap_or(chat)
    }

    /// Remember that Telegram chat `from` migrated to `to`.
    pub async fn record_migration(&self, from: i64, to: i64) {
        self.store(
            migration_key(from),
            Some(to.to_string()),
            "store a chat migration",
        )
        .await;
    }

    /// Put (`Some`) or delete (`None`) a key of the targets bucket, and
    /// apply it to this instance's view at once (the watch brings it to
    /// the others).
    async fn store(&self, key: String, value: Option<String>, what: &str) {
        self.view
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .apply(&key, value.as_deref().map(str::as_bytes));
        let stored = match value {
            Some(v) => self
                .targets
                .put(&key, v.into())
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            None => self.targets.delete(&key).await.map_err(|e| e.to_string()),
        };
        if let Err(e) = stored {
            tracing::warn!(error = %e, "could not {what}");
        }
    }

    async fn wait_loaded(&self) {
        self.watch.loaded().await;
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Targets> {
        self.view.read().unwrap_or_else(|e| e.into_inner())
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

    #[test]
    fn the_view_follows_puts_and_deletes() {
        let mut t = Targets::default();
        let blocked = target_key(&Target::TelegramChat(5));
        t.apply(&blocked, Some(b"telegram: blocked"));
        t.apply(&migration_key(-7), Some(b"-1000000000007"));
        t.apply("telegram-migrated.x", Some(b"1"));
        assert_eq!(t.disabled[&blocked], "telegram: blocked");
        assert_eq!(t.migrated[&-7], -1_000_000_000_007);
        assert_eq!((t.disabled.len(), t.migrated.len()), (1, 1));
        t.apply(&blocked, None);
        t.apply(&migration_key(-7), None);
        assert!(t.disabled.is_empty() && t.migrated.is_empty());
    }
}
