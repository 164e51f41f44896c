//! One-click unsubscribe (RFC 8058): signed links and the set of addresses
//! that used one.
//!
//! A link is `<http.public_url>/unsubscribe?a=<address, base64url>&t=<token>`,
//! the token the HMAC-SHA256 of the lower-cased address under
//! `http.unsubscribe_secret`, so only links the service wrote are
//! accepted. [`Unsubscribed`] is the unsubscribe bucket
//! (`nats.unsubscribe_bucket`, key `email.<SHA-256 of the address>`)
//! mirrored in memory by a KV watch ([`crate::kvwatch`]): what one
//! instance records, every instance honours. Instant and digest emails
//! to an address in it are skipped; the rules file is not changed.

use crate::deliver::ledger::digest;
use crate::kvwatch::{BucketWatch, watch_bucket};
use async_nats::jetstream::kv;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::HashSet;
use std::sync::{Arc, RwLock};

/// Signs and checks unsubscribe links.
#[derive(Clone)]
pub struct Links {
    /// `http.public_url` without a trailing `/`.
    base: String,
    secret: Vec<u8>,
}

impl Links {
    /// `None` unless both the public URL and the secret are set.
    pub fn new(public_url: &str, secret: &str) -> Option<Links> {
        let base = public_url.trim().trim_end_matches('/');
        (!base.is_empty() && !secret.is_empty()).then(|| Links {
            base: base.to_string(),
            secret: secret.as_bytes().to_vec(),
        })
    }

    fn mac(&self, address: &str) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(address.trim().to_ascii_lowercase().as_bytes());
        mac
    }

    /// The token for `address`.
    pub fn token(&self, address: &str) -> String {
        let bytes = self.mac(address).finalize().into_bytes();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether `token` is the one for `address` (compared in constant time).
    pub fn verify(&self, address: &str, token: &str) -> bool {
        let Some(raw) = hex(token) else { return false };
        self.mac(address).verify_slice(&raw).is_ok()
    }

    /// The one-click link for `address`.
    pub fn url(&self, address: &str) -> String {
        format!(
            "{}/unsubscribe?a={}&t={}",
            self.base,
            URL_SAFE_NO_PAD.encode(address.as_bytes()),
            self.token(address)
        )
    }
}

/// The address a link's `a` parameter names.
pub fn address_of(param: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(param.trim()).ok()?;
    String::from_utf8(bytes).ok().filter(|a| a.contains('@'))
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

fn key(address: &str) -> String {
    format!("email.{}", digest(&address.trim().to_ascii_lowercase()))
}

/// The addresses that unsubscribed, as every instance sees them.
#[derive(Clone)]
pub struct Unsubscribed {
    store: kv::Store,
    keys: Arc<RwLock<HashSet<String>>>,
    watch: BucketWatch,
}

impl Unsubscribed {
    /// Mirror `store` (call inside a tokio runtime).
    pub fn new(store: kv::Store) -> Self {
        let keys = Arc::new(RwLock::new(HashSet::new()));
        let mirror = keys.clone();
        let watch = watch_bucket(store.clone(), "unsubscribe bucket watch", move |k, v| {
            let mut set = mirror.write().unwrap_or_else(|p| p.into_inner());
            match v {
                Some(_) => set.insert(k.to_string()),
                None => set.remove(k),
            };
        });
        Unsubscribed { store, keys, watch }
    }

    /// Whether `address` unsubscribed (as of the last change seen).
    pub fn contains(&self, address: &str) -> bool {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        keys.contains(&key(address))
    }

    /// Wait until the bucket's content at start is loaded.
    pub async fn loaded(&self) {
        self.watch.loaded().await;
    }

    /// Record that `address` unsubscribed (idempotent: a repeat rewrites
    /// the same key).
    ///
    /// # Errors
    /// The bucket refused the write.
    pub async fn add(&self, address: &str, at_ms: i64) -> Result<(), String> {
        let k = key(address);
        self.store
            .put(k.as_str(), at_ms.to_string().into())
            .await
            .map_err(|e| format!("unsubscribe bucket: {e}"))?;
        self.keys
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(k);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let links = Links::new("https://alerts.example.org/", "s3cret").unwrap();
        let t = links.token("Desk@Example.org");
        assert_eq!(t, links.token("desk@example.org"), "case-insensitive");
        assert_eq!(t.len(), 64);
        assert!(links.verify("desk@example.org", &t));
        assert!(!links.verify("other@example.org", &t));
        assert!(!links.verify("desk@example.org", &t[..62]));
        assert!(!links.verify("desk@example.org", "zz"));
        let other = Links::new("https://alerts.example.org", "other").unwrap();
        assert!(!other.verify("desk@example.org", &t), "another secret");
        let url = links.url("desk@example.org");
        assert!(
            url.starts_with("https://alerts.example.org/unsubscribe?a="),
            "{url}"
        );
        let a = url.split("a=").nth(1).unwrap().split('&').next().unwrap();
        assert_eq!(address_of(a).as_deref(), Some("desk@example.org"));
        assert!(Links::new("", "s").is_none());
        assert!(Links::new("https://x", "").is_none());
    }
}
