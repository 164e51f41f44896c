//! Several instances, one bot: who serves which Telegram partition.
//!
//! Telegram's limits belong to the bot token (1 message/s per chat, 20/min
//! per group, 30/s overall), not to a process. So that N instances keep
//! them together, with no state outside NATS:
//!
//! - **Partitions.** Telegram alerts are published to
//!   `ALERTS_SUBJECT.telegram.<p>`, p = a stable hash of the chat id mod
//!   `telegram.partitions` ([`super::partition`]); partition p has its
//!   own durable consumer `CONSUMER-telegram-<p>`. All of a chat's alerts
//!   are in one partition.
//! - **One owner per partition.** An instance serves partition p only
//!   while it holds key `partition.<p>` in `telegram.lease_bucket` (the
//!   crate's [`Lease`]: create-only acquire, renewal on the revision last
//!   written every TTL/3, entries expire after `telegram.lease_ttl_secs`).
//!   An owner that cannot renew stops serving once TTL − TTL/3 has passed
//!   since its last renewal, before the entry can expire; a new owner
//!   takes the key only after it expired or was released, then waits
//!   [`HANDOVER_WAIT`] (more than the per-chat second) before its first
//!   send, so two owners never send to one chat within a second.
//! - **Balance.** Each instance writes a heartbeat key `instance.<id>`
//!   every TTL/3 (expiring with the TTL) and counts the live ones: it
//!   holds at most ⌈partitions / live⌉, gives back the rest (after
//!   finishing its alerts in flight) and takes free ones up to that.
//! - **Budget.** An instance sends at most 28/s × held / partitions
//!   ([`Share`]): it counts a partition before serving it and stops
//!   counting it only once it stopped serving it, and two instances never
//!   hold one partition, so the sum over instances is at most 28/s, during
//!   handovers too. (Dividing by live instances instead would not be: the
//!   heartbeat count lags a death or a start by up to a TTL.)
//! - **Order.** Within a partition a chat's alerts are handled one at a
//!   time in stream order and never handed back while later ones wait
//!   ([`InOrder`](super::in_order::InOrder)); each time a partition's
//!   consumer is opened it restarts from its ack floor
//!   ([`ConsumerSpec::reset`]), so what a previous owner left unacknowledged
//!   is redelivered, in order, before anything newer.
//!
//! Duplicates: an alert is recorded in the sent log after its send, so a
//! crash between the two resends it; with one send in progress per chat,
//! that is at most one duplicate per chat of the partitions the crashed
//! instance held (and no more than it was sending at once).

use super::flood::{PER_CHAT_INTERVAL, Share};
use super::partition::{fair_share, partition_subject};
use crate::consume::{self, ConsumerSpec, Handler};
use crate::lease::Lease;
use crate::observe::Health;
use crate::shutdown::{SharedSignal, Stopping, sleep_unless_stopping};
use async_nats::jetstream::{self, kv};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How long a new owner waits before its first send: the per-chat
/// interval and a margin for a previous owner's last request in flight.
pub const HANDOVER_WAIT: Duration =
    Duration::from_millis(PER_CHAT_INTERVAL.as_millis() as u64 + 500);

/// Prefix of the instance heartbeat keys.
const INSTANCE: &str = "instance.";

/// One instance's side of the partitioned Telegram delivery.
pub struct Partitions<H> {
    pub js: jetstream::Context,
    /// `telegram.lease_bucket`, entries expiring after `ttl`.
    pub leases: kv::Store,
    pub ttl: Duration,
    /// This instance in leases and heartbeats.
    pub holder: String,
    pub partitions: u32,
    /// The alerts subject prefix (`nats.alerts_subject`).
    pub alerts_subject: String,
    /// The unpartitioned Telegram consumer, from which each partition's
    /// is derived.
    pub base: ConsumerSpec,
    pub handler: Arc<H>,
    pub share: Share,
    /// The instance's health: a partition held is in `/readyz` while
    /// served (its consumer bound or not), and forgotten when given up.
    pub health: Health,
}

/// A partition this instance holds.
struct Held {
    lease: Lease,
    revision: u64,
    renewed: Instant,
    /// Serving stops at this instant unless a renewal moves it on: TTL −
    /// TTL/3 after the last successful renewal was *sent* (the entry's age
    /// starts later, when the server stores it), however long NATS takes
    /// to answer the next one.
    valid_until: tokio::sync::watch::Sender<Instant>,
    stop: Stopping,
    task: tokio::task::JoinHandle<()>,
}

impl<H: Handler> Partitions<H> {
    /// The consumer of partition `p`.
    pub fn spec(&self, p: u32) -> ConsumerSpec {
        ConsumerSpec {
            durable: format!("{}-{p}", self.base.durable),
            filter_subject: partition_subject(&self.alerts_subject, p),
            from_ack_floor: true,
            ..self.base.clone()
        }
    }

    /// Hold and serve this instance's share of the partitions until
    /// `shutdown`; then stop serving, release every lease and the
    /// heartbeat.
    pub async fn run(self, shutdown: Stopping) {
        let every = self.ttl / 3;
        let mut held: BTreeMap<u32, Held> = BTreeMap::new();
        let mut live = 1;
        loop {
            match self.heartbeat_and_count().await {
                Ok(n) => live = n.max(1),
                Err(e) => tracing::warn!(error = %e, "partition heartbeat failed"),
            }
            let target = fair_share(self.partitions, live);
            self.renew(&mut held).await;
            while held.len() > target {
                let Some((p, h)) = held.pop_last() else { break };
                tracing::info!(
                    partition = p,
                    live,
                    target,
                    "giving a Telegram partition back"
                );
                self.give_up(h, true).await;
            }
            if held.len() < target {
                self.take(&mut held, target, &shutdown).await;
            }
            if !sleep_unless_stopping(every, &shutdown).await {
                break;
            }
        }
        for (_, h) in std::mem::take(&mut held) {
            self.give_up(h, true).await;
        }
        if let Err(e) = self.leases.delete(self.heartbeat_key()).await {
            tracing::debug!(error = %e, "heartbeat delete");
        }
        tracing::info!("Telegram partitions released");
    }

    fn heartbeat_key(&self) -> String {
        format!("{INSTANCE}{}", self.holder)
    }

    /// Write this instance's heartbeat; count the live instances.
    async fn heartbeat_and_count(&self) -> Result<usize, String> {
        let key = self.heartbeat_key();
        let put = self.leases.put(&key, self.holder.clone().into());
        put.await.map_err(|e| e.to_string())?;
        // The bucket's subjects under `instance.` (one request), then each
        // one's entry: a key deleted by an instance that stopped is gone.
        let prefix = format!("$KV.{}.", self.leases.name);
        let info = self
            .leases
            .stream
            .info_with_subjects(format!("{prefix}{INSTANCE}>"));
        let subjects: Vec<_> = info.await.map_err(|e| e.to_string())?.collect().await;
        let mut live = 0;
        for (subject, _) in subjects.into_iter().flatten() {
            let key = subject.strip_prefix(&prefix).unwrap_or(&subject);
            let entry = self.leases.entry(key).await.map_err(|e| e.to_string())?;
            live += usize::from(entry.is_some_and(|e| e.operation == kv::Operation::Put));
        }
        Ok(live)
    }

    /// Renew every held lease; stop serving the ones lost or not renewed
    /// in time.
    async fn renew(&self, held: &mut BTreeMap<u32, Held>) {
        let every = self.ttl / 3;
        let mut lost = Vec::new();
        let mut idle = Vec::new();
        for (p, h) in held.iter_mut() {
            let sent = Instant::now();
            match h.lease.renew(h.revision).await {
                // Stopped at its deadline meanwhile: give it back (or take it again).
                Ok(Some(r)) if h.task.is_finished() => {
                    h.revision = r;
                    idle.push(*p);
                }
                Ok(Some(r)) => {
                    h.revision = r;
                    h.renewed = sent;
                    h.valid_until.send_replace(sent + self.ttl - every);
                }
                Ok(None) => lost.push(*p),
                // Unsure: stop before the lease could have passed on.
                Err(e) if h.renewed.elapsed() + every >= self.ttl => {
                    tracing::warn!(partition = p, error = %e, "partition lease not renewed in time");
                    lost.push(*p);
                }
                Err(e) => {
                    tracing::warn!(partition = p, error = %e, "partition lease renewal failed; retrying")
                }
            }
        }
        for p in lost {
            if let Some(h) = held.remove(&p) {
                tracing::warn!(partition = p, "partition lease lost; stopped serving it");
                self.give_up(h, false).await;
            }
        }
        for p in idle {
            if let Some(h) = held.remove(&p) {
                self.give_up(h, true).await;
            }
        }
    }

    /// Take free partitions until `target` are held.
    async fn take(&self, held: &mut BTreeMap<u32, Held>, target: usize, shutdown: &Stopping) {
        let mut free: Vec<u32> = (0..self.partitions)
            .filter(|p| !held.contains_key(p))
            .collect();
        fastrand::shuffle(&mut free);
        for p in free {
            if held.len() >= target {
                return;
            }
            let key = format!("partition.{p}");
            let lease = Lease::for_key(self.leases.clone(), &key, self.holder.clone(), self.ttl);
            let sent = Instant::now();
            let revision = match lease.try_acquire().await {
                Ok(Some(r)) => r,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(partition = p, error = %e, "partition lease unavailable");
                    return;
                }
            };
            self.share.gained();
            let stop = shutdown.child_token();
            let (valid_until, deadline) =
                tokio::sync::watch::channel(sent + self.ttl - self.ttl / 3);
            let task = tokio::spawn(serve(
                self.js.clone(),
                self.spec(p),
                self.handler.clone(),
                self.health.clone(),
                stop.clone(),
                deadline,
            ));
            tracing::info!(partition = p, holder = %self.holder, "serving a Telegram partition");
            held.insert(
                p,
                Held {
                    lease,
                    revision,
                    renewed: sent,
                    valid_until,
                    stop,
                    task,
                },
            );
        }
    }

    /// Stop serving `h` (its alerts in flight finished or handed back),
    /// then stop counting it and, if still ours, release its lease.
    async fn give_up(&self, h: Held, release: bool) {
        h.stop.cancel();
        if let Err(e) = h.task.await {
            tracing::warn!(error = %e, "partition task failed");
        }
        self.share.lost();
        if release {
            h.lease.release(h.revision).await;
        }
    }
}

/// Serve one partition until `stop` or its lease's `deadline`: wait out
/// the handover, then consume. While consuming, its consumer counts for
/// readiness like the stages' (not bound: not ready); once given up it no
/// longer does (another instance serves it).
async fn serve<H: Handler>(
    js: jetstream::Context,
    spec: ConsumerSpec,
    handler: Arc<H>,
    health: Health,
    stop: Stopping,
    deadline: tokio::sync::watch::Receiver<Instant>,
) {
    let durable = spec.durable.clone();
    let ended = async move {
        tokio::select! {
            () = stop.cancelled() => {}
            () = expiry(deadline) => {
                tracing::warn!(consumer = %durable, "partition lease not renewed in time; stopped serving it");
            }
        }
    };
    let ended = ended.shared_signal();
    tokio::select! {
        () = tokio::time::sleep(HANDOVER_WAIT) => {}
        () = ended.clone() => return,
    }
    let durable = spec.durable.clone();
    consume::run(js, spec, handler, health.clone(), ended).await;
    health.forget_consumer(&durable);
}

/// Resolves once the instant in `deadline` has passed.
async fn expiry(mut deadline: tokio::sync::watch::Receiver<Instant>) {
    loop {
        let at = *deadline.borrow_and_update();
        if at <= Instant::now() {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep_until(at) => {}
            changed = deadline.changed() => if changed.is_err() { return },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Serving ends at the lease's deadline, which each renewal moves on.
    #[tokio::test(start_paused = true)]
    async fn serving_ends_at_the_deadline_unless_renewed() {
        let s = Duration::from_secs(1);
        let t0 = Instant::now();
        let (valid_until, deadline) = tokio::sync::watch::channel(t0 + 2 * s);
        let ended = tokio::spawn(async move {
            expiry(deadline).await;
            Instant::now()
        });
        tokio::time::sleep(s).await;
        valid_until.send_replace(t0 + 3 * s);
        tokio::time::sleep(s).await;
        valid_until.send_replace(t0 + 5 * s);
        assert_eq!(ended.await.unwrap() - t0, 5 * s);
        let (_kept, passed) = tokio::sync::watch::channel(t0);
        tokio::time::timeout(Duration::ZERO, expiry(passed))
            .await
            .expect("a deadline already past ends at once");
    }
}
