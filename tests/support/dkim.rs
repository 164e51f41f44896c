//! DKIM verification of a received mail with `mail-auth` (a verifier the
//! project did not write). The signer's public key is served from an
//! in-process TXT record through mail-auth's resolver cache, so no DNS
//! query is ever made.

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::{AuthenticatedMessage, DkimResult, MessageAuthenticator, Parameters};
use mail_auth::{ResolverCache, Txt};
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

/// TXT records by name: a resolver cache that never forgets or learns.
struct Records(HashMap<Box<str>, Txt>);

impl ResolverCache<Box<str>, Txt> for Records {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.get(name).cloned()
    }

    fn remove<Q>(&self, _: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        None
    }

    fn insert(&self, _: Box<str>, _: Txt, _: std::time::Instant) {}
}

/// Verify every DKIM signature of the raw mail `data` against the key
/// record `txt` (`v=DKIM1; k=rsa; p=…`) published at
/// `<selector>._domainkey.<domain>`. `Ok` with the signing domain when
/// there is at least one signature and all pass.
///
/// # Errors
/// No signature, or a result other than pass, with mail-auth's reason.
pub async fn verify(data: &str, selector: &str, domain: &str, txt: &str) -> Result<String, String> {
    let key = DomainKey::parse(txt.as_bytes()).map_err(|e| format!("key record: {e}"))?;
    let name = format!("{selector}._domainkey.{domain}.");
    let records = Records(HashMap::from([(name.into_boxed_str(), Txt::from(key))]));
    // Never asked: the cache answers the only lookup.
    let authenticator =
        MessageAuthenticator::new_system_conf().map_err(|e| format!("resolver: {e}"))?;
    let message = AuthenticatedMessage::parse(data.as_bytes()).ok_or("unparsable mail")?;
    let outputs = authenticator
        .verify_dkim(Parameters::new(&message).with_txt_cache(&records))
        .await;
    if outputs.is_empty() {
        return Err("no DKIM-Signature".into());
    }
    for output in &outputs {
        if *output.result() != DkimResult::Pass {
            return Err(format!("{:?}", output.result()));
        }
    }
    let signature = outputs[0].signature().ok_or("no signature")?;
    Ok(signature.d.clone())
}
