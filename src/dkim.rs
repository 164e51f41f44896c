//! DKIM signing of outgoing mail (RFC 6376, through lettre's `dkim`
//! feature): reading the private key file ([`read_key`], used both by
//! settings validation and by the email notifier, so a bad key is reported
//! at start with the key's `file:line`) and the signing configuration
//! ([`signer`]): `relaxed/relaxed` canonicalization over the headers a
//! receiver and a mail client rely on.
//!
//! Key files: an RSA key in PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`,
//! `openssl genrsa -traditional -out dkim.pem 2048`; a PKCS#8 key converts
//! with `openssl rsa -in key.pem -traditional -out dkim.pem`), or an
//! Ed25519 key as the base64 of its 32-byte seed (RFC 8463).

use lettre::message::header::HeaderName;
use lettre::message::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use std::path::Path;

/// Headers covered by the signature (each once; absent ones are skipped).
pub const SIGNED_HEADERS: [&str; 8] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "X-Newsalert-Rules",
    "X-Newsalert-Subscriber",
];

/// Read and parse the private key in `path`.
///
/// # Errors
/// The file cannot be read or holds no key lettre can sign with; the
/// message says what was found and how to convert it.
pub fn read_key(path: &Path) -> Result<DkimSigningKey, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read DKIM key {}: {e}", path.display()))?;
    parse_key(&text).map_err(|e| format!("DKIM key {}: {e}", path.display()))
}

/// Parse a key file's text: PKCS#1 RSA PEM or a base64 Ed25519 seed.
///
/// # Errors
/// See [`read_key`].
pub fn parse_key(text: &str) -> Result<DkimSigningKey, String> {
    let text = text.trim();
    if text.contains("-----BEGIN RSA PRIVATE KEY-----") {
        return DkimSigningKey::new(text, DkimSigningAlgorithm::Rsa)
            .map_err(|e| format!("invalid RSA key: {e}"));
    }
    if text.contains("-----BEGIN PRIVATE KEY-----") {
        return Err("a PKCS#8 key; convert it to PKCS#1 with \
             `openssl rsa -in KEY -traditional -out dkim.pem`"
            .into());
    }
    if text.contains("-----BEGIN") {
        return Err("not an RSA private key in PKCS#1 PEM (BEGIN RSA PRIVATE KEY)".into());
    }
    DkimSigningKey::new(text, DkimSigningAlgorithm::Ed25519).map_err(|_| {
        "neither an RSA key in PKCS#1 PEM nor the base64 of a 32-byte Ed25519 seed".into()
    })
}

/// Whether `s` can be a DKIM selector or signing domain: dot-separated
/// labels of letters, digits and `-`.
pub fn is_valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// The signing configuration for `key`, published as
/// `<selector>._domainkey.<domain>`.
pub fn signer(selector: &str, domain: &str, key: DkimSigningKey) -> DkimConfig {
    DkimConfig::new(
        selector.to_string(),
        domain.to_string(),
        key,
        SIGNED_HEADERS
            .iter()
            .map(|h| HeaderName::new_from_ascii_str(h))
            .collect(),
        DkimCanonicalization {
            header: DkimCanonicalizationType::Relaxed,
            body: DkimCanonicalizationType::Relaxed,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_recognised_or_explained() {
        let seed = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
        assert!(parse_key(seed).is_ok());
        let cases = [
            (
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
                "PKCS#8",
            ),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
                "invalid RSA key",
            ),
            (
                "-----BEGIN CERTIFICATE-----\nAAAA\n",
                "not an RSA private key",
            ),
            ("hello", "neither"),
            ("", "neither"),
        ];
        for (text, want) in cases {
            let err = parse_key(text).unwrap_err();
            assert!(err.contains(want), "{text:?}: {err}");
        }
        let err = read_key(Path::new("/nonexistent/dkim.pem")).unwrap_err();
        assert!(err.contains("/nonexistent/dkim.pem"), "{err}");
    }

    #[test]
    fn selectors_and_domains() {
        for ok in ["mail", "s2025-10", "example.org", "a.b-c.d"] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in ["", "a..b", "-a", "a b", "a_b", "é.org", ".org"] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }
}
