//! Leases in a key-value bucket: of several instances, at most one holds
//! a key at a time. The bot's poller ([`crate::bot`]: Telegram answers 409
//! Conflict when two processes poll `getUpdates` for one bot) holds key
//! `poller` in `bot.lease_bucket`; the Telegram delivery partitions
//! ([`crate::deliver::partitions`]) hold keys `partition.N` in
//! `telegram.lease_bucket`. A bucket's entries expire after its TTL.
//!
//! Taking it is a key-value `create` (only one instance can succeed);
//! holding it is an `update` on the revision last written, every third of
//! the TTL, which resets the entry's age; an update that finds another
//! revision means the lease was lost (it expired and another instance
//! took it), and the holder stops polling at once. A holder that stops
//! deletes the key; one that dies leaves it to expire, and another
//! instance takes over within the TTL plus one check interval.

use async_nats::jetstream::kv;
use std::time::Duration;

/// A name for this instance in leases: its process id and a random part.
pub fn holder_id() -> String {
    format!("{}-{:016x}", std::process::id(), fastrand::u64(..))
}

/// The bot poller's key.
const POLLER: &str = "poller";

/// One instance's view of one lease.
pub struct Lease {
    kv: kv::Store,
    /// The key leased.
    key: String,
    /// This instance, as written in the lease.
    holder: String,
    ttl: Duration,
}

impl Lease {
    /// The bot poller's lease, held as a new [`holder_id`].
    pub fn new(kv: kv::Store, ttl: Duration) -> Self {
        Lease::for_key(kv, POLLER, holder_id(), ttl)
    }

    /// The lease on `key`, held as `holder` (entries expire after `ttl`).
    pub fn for_key(kv: kv::Store, key: &str, holder: String, ttl: Duration) -> Self {
        Lease {
            kv,
            key: key.to_string(),
            holder,
            ttl,
        }
    }

    /// The key leased.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Who this instance is in the lease.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// How often the holder renews and the others try to take over.
    pub fn check_interval(&self) -> Duration {
        self.ttl / 3
    }

    /// Take the lease if nobody holds it (or this instance already does):
    /// the revision written, else `None`.
    ///
    /// # Errors
    /// The bucket could not be read or written.
    pub async fn try_acquire(&self) -> Result<Option<u64>, String> {
        match self.kv.create(&self.key, self.holder.clone().into()).await {
            Ok(revision) => Ok(Some(revision)),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {
                let entry = self.kv.entry(&self.key).await.map_err(|e| e.to_string())?;
                Ok(entry
                    .filter(|e| e.value == self.holder.as_bytes())
                    .map(|e| e.revision))
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// Renew the lease held at `revision`: the new revision, or `None`
    /// when it was lost.
    ///
    /// # Errors
    /// The bucket could not be written (the lease may still be held).
    pub async fn renew(&self, revision: u64) -> Result<Option<u64>, String> {
        match self
            .kv
            .update(&self.key, self.holder.clone().into(), revision)
            .await
        {
            Ok(r) => Ok(Some(r)),
            Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Give the lease up (if still held at `revision`), so another
    /// instance can take it at once.
    pub async fn release(&self, revision: u64) {
        if let Err(e) = self
            .kv
            .delete_expect_revision(&self.key, Some(revision))
            .await
        {
            tracing::debug!(key = %self.key, error = %e, "lease release");
        }
    }
}
