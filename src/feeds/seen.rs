//! What `newsalert feeds` remembers, in the JetStream key-value bucket
//! `feeds.seen_bucket` (so a restart, or another instance, never
//! republishes an item, even after the stream's duplicate window):
//! `item.<hash of the article id>` for each item published, and
//! `feed.<hash of the feed URL>` holding the feed's last `ETag` /
//! `Last-Modified` (JSON). Hashes are hex SHA-256, valid keys for any id.

use super::fetch::Validators;
use crate::deliver::ledger::digest;
use async_nats::jetstream::kv;

/// The feeds' key-value bucket.
#[derive(Clone)]
pub struct Seen {
    kv: kv::Store,
}

fn item_key(id: &str) -> String {
    format!("item.{}", digest(id))
}

fn feed_key(url: &url::Url) -> String {
    format!("feed.{}", digest(url.as_str()))
}

impl Seen {
    pub fn new(kv: kv::Store) -> Seen {
        Seen { kv }
    }

    /// Whether the item with article id `id` was published.
    ///
    /// # Errors
    /// The bucket could not be read.
    pub async fn contains(&self, id: &str) -> Result<bool, String> {
        self.kv
            .get(item_key(id))
            .await
            .map(|v| v.is_some())
            .map_err(|e| format!("seen-items lookup: {e}"))
    }

    /// Record that the item with article id `id` was published.
    ///
    /// # Errors
    /// The bucket could not be written.
    pub async fn insert(&self, id: &str) -> Result<(), String> {
        self.kv
            .put(item_key(id), id.to_string().into())
            .await
            .map(drop)
            .map_err(|e| format!("seen-items write: {e}"))
    }

    /// The validators stored for `url` (none if unreadable: the fetch is
    /// then unconditional, which is only slower).
    pub async fn validators(&self, url: &url::Url) -> Validators {
        match self.kv.get(feed_key(url)).await {
            Ok(Some(v)) => serde_json::from_slice(&v).unwrap_or_default(),
            Ok(None) => Validators::default(),
            Err(e) => {
                tracing::warn!(feed = %url, error = %e, "validators lookup failed");
                Validators::default()
            }
        }
    }

    /// Store the validators of `url`'s last answer.
    ///
    /// # Errors
    /// The bucket could not be written.
    pub async fn set_validators(&self, url: &url::Url, v: &Validators) -> Result<(), String> {
        let json = serde_json::to_vec(v).map_err(|e| e.to_string())?;
        self.kv
            .put(feed_key(url), json.into())
            .await
            .map(drop)
            .map_err(|e| format!("validators write: {e}"))
    }
}
