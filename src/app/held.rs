//! Wiring of held alerts ([`crate::pending`]): the buckets and the digest
//! templates at connect time ([`Held::connect`]), then, on the instance's
//! clock, the ingest hook ([`Held::holds`]), the release task and the
//! stage that sends prepared messages.

use super::StartError;
use crate::clock::SharedClock;
use crate::digest::render::DigestRenderer;
use crate::http::unsubscribe::{UnsubscribeSlot, Unsubscriber};
use crate::nats::Broker;
use crate::pending::Holds;
use crate::pending::release::Release;
use crate::reload::SharedRuleBook;
use crate::settings::Settings;
use crate::unsubscribe::{Links, Unsubscribed};
use async_nats::jetstream::kv;
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;

/// How long claims and per-hour counts are kept.
const PENDING_RETENTION: Duration = Duration::from_secs(8 * 86_400);

/// What held alerts need, connected.
pub(super) struct Held {
    /// The pending bucket (`None`: `digest.enabled = false`).
    pending: Option<kv::Store>,
    digests: Arc<DigestRenderer>,
    pub(super) unsubscribed: Unsubscribed,
    pub(super) links: Option<Links>,
    slot: UnsubscribeSlot,
}

impl Held {
    /// Open the buckets and read the templates.
    ///
    /// # Errors
    /// JetStream refused a bucket; a template is unreadable or invalid.
    pub(super) async fn connect(
        settings: &Settings,
        broker: &Broker,
        slot: UnsubscribeSlot,
    ) -> Result<Held, StartError> {
        let links = Links::new(
            &settings.http.public_url,
            settings.http.unsubscribe_secret.expose_secret(),
        );
        let d = &settings.digest;
        let pending = match d.enabled {
            true => Some(
                broker
                    .bucket(&settings.nats.pending_bucket, PENDING_RETENTION)
                    .await?,
            ),
            false => None,
        };
        let unsubscribed = Unsubscribed::new(
            broker
                .bucket(&settings.nats.unsubscribe_bucket, Duration::ZERO)
                .await?,
        );
        let dir = settings.dir.join(&d.templates_dir);
        let digests =
            DigestRenderer::new(&dir, d.max_items, links.clone()).map_err(StartError::Digest)?;
        Ok(Held {
            pending,
            digests: Arc::new(digests),
            unsubscribed,
            links,
            slot,
        })
    }

    /// Serve `/unsubscribe` from now on.
    pub(super) fn serve_unsubscribe(&self, clock: SharedClock) {
        let _ = self.slot.set(Unsubscriber {
            links: self.links.clone(),
            set: self.unsubscribed.clone(),
            clock,
        });
    }

    /// The ingest hook (`None`: every alert goes out at once).
    pub(super) fn holds(&self, settings: &Settings, clock: SharedClock) -> Option<Arc<Holds>> {
        Some(Arc::new(Holds {
            alerts_subject: settings.nats.alerts_subject.clone(),
            telegram_partitions: settings.telegram.partitions,
            counts: self.pending.clone()?,
            clock,
        }))
    }

    /// The release task (`None`: `digest.enabled = false`).
    pub(super) fn release(
        &self,
        settings: &Settings,
        broker: &Broker,
        rules: SharedRuleBook,
        clock: SharedClock,
    ) -> Option<Release> {
        let d = &settings.digest;
        Some(Release {
            broker: broker.clone(),
            stream: settings.nats.alerts_stream.clone(),
            alerts_subject: settings.nats.alerts_subject.clone(),
            partitions: settings.telegram.partitions,
            rules,
            claims: self.pending.clone()?,
            clock,
            poll: Duration::from_millis(d.release_poll_ms.max(10)),
            stale: Duration::from_secs(d.claim_stale_secs.max(1)),
            digests: self.digests.clone(),
            summary_max_items: d.summary_max_items,
            orphans: Default::default(),
        })
    }
}
