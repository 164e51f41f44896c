//! Email alerts in batches (pure): an article's instant email alerts are
//! published as a few messages of up to `delivery.email_batch` alerts each,
//! not one message per alert. An article often mails dozens of
//! subscribers; one message each made every mail a JetStream publish, a
//! delivery, an ack, a sent-log read and a sent-log write, and that burst,
//! not the SMTP transactions, set the email latency's tail.
//!
//! A batch message is a JSON array of [`Alert`]s on the email subject with
//! the header [`ALERT_BATCH`] (the number of alerts) and `Nats-Msg-Id`
//! [`batch_id`]. What was delivered of an article's batches is one record
//! in the sent bucket ([`crate::deliver::settled`], key [`record_key`]),
//! read once per delivery of a batch instead of once per alert.
//! A message without the header is a single alert, as before: replayed
//! dead letters, alerts queued by older releases, `email_batch = 1`.

use crate::alert::{Alert, key_part};
use crate::subscriber::Channel;

/// Header of a batch message: how many alerts it holds.
pub const ALERT_BATCH: &str = "Newsalert-Alert-Batch";

/// `Nats-Msg-Id` of the `index`-th email batch of `article_id`. Never an
/// alert key: those have a non-empty subscriber between the slashes.
pub fn batch_id(article_id: &str, index: usize) -> String {
    format!("{}//{}/{index}", key_part(article_id), Channel::Email)
}

/// The idempotency key of the delivery record of `article_id`'s email
/// batches (hashed into a sent-bucket key by the record).
pub fn record_key(article_id: &str) -> String {
    format!("{}//{}", key_part(article_id), Channel::Email)
}

/// Whether a message with `headers` and `payload` is a batch: it has the
/// [`ALERT_BATCH`] header, or (the header lost on the way, e.g. copied by
/// a tool that keeps only payloads) its payload is a JSON array, which a
/// single alert never is.
pub fn is_batch(headers: Option<&async_nats::HeaderMap>, payload: &[u8]) -> bool {
    headers.is_some_and(|h| h.get(ALERT_BATCH).is_some())
        || payload.trim_ascii_start().first() == Some(&b'[')
}

/// Most bytes of alerts in one batch message: well under NATS's default
/// 1 MB payload limit, whatever `email_batch` says (an alert listing
/// hundreds of matched rules can be several KB).
pub const MAX_BATCH_BYTES: usize = 256 * 1024;

/// `alerts`, in order, as batch payloads of at most `max_alerts` alerts
/// and `max_bytes` each (an alert larger than that alone), each with its
/// number of alerts. The same alerts always give the same batches, so a
/// retried article's batches keep their ids.
///
/// # Errors
/// An alert could not be serialized (not expected: alerts are plain data).
pub fn encode(
    alerts: &[&Alert],
    max_alerts: usize,
    max_bytes: usize,
) -> serde_json::Result<Vec<(usize, Vec<u8>)>> {
    let mut out: Vec<(usize, Vec<u8>)> = Vec::new();
    for alert in alerts {
        let one = serde_json::to_vec(alert)?;
        match out.last_mut() {
            Some((n, payload)) if *n < max_alerts && payload.len() + one.len() < max_bytes => {
                payload.pop(); // the closing `]`
                payload.push(b',');
                payload.extend_from_slice(&one);
                payload.push(b']');
                *n += 1;
            }
            _ => {
                let mut payload = Vec::with_capacity(one.len() + 2);
                payload.push(b'[');
                payload.extend_from_slice(&one);
                payload.push(b']');
                out.push((1, payload));
            }
        }
    }
    Ok(out)
}

/// One element of a batch: the alert, or why it could not be read, with
/// the element's JSON (what a dead letter of it holds).
pub type Element = (Result<Alert, String>, Vec<u8>);

/// The elements of a batch `payload`.
///
/// # Errors
/// The payload is not a JSON array.
pub fn decode(payload: &[u8]) -> Result<Vec<Element>, String> {
    let values: Vec<serde_json::Value> =
        serde_json::from_slice(payload).map_err(|e| format!("undecodable alert batch: {e}"))?;
    Ok(values
        .into_iter()
        .map(|v| {
            let bytes = v.to_string().into_bytes();
            let alert = serde_json::from_value(v).map_err(|e| format!("undecodable alert: {e}"));
            (alert, bytes)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{Target, test_alert};

    fn mail(subscriber: &str) -> Alert {
        let mut a = test_alert("a/1", subscriber);
        a.channel = Channel::Email;
        a.target = Target::Email(format!("{subscriber}@example.org"));
        a
    }

    #[test]
    fn batches_round_trip_and_bad_elements_stay_alone() {
        let (a, b) = (mail("s1"), mail("s2"));
        let batches = encode(&[&a, &b], 64, MAX_BATCH_BYTES).unwrap();
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].0, 2);
        let back = decode(&batches[0].1).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].0.as_ref().unwrap(), &b);
        let alone: Alert = serde_json::from_slice(&back[0].1).unwrap();
        assert_eq!(alone, a, "an element's bytes are the alert alone");

        let mixed = format!(
            "[{}, {{\"title\": 1}}]",
            String::from_utf8(back[0].1.clone()).unwrap()
        );
        let back = decode(mixed.as_bytes()).unwrap();
        assert!(back[0].0.is_ok());
        assert!(
            back[1]
                .0
                .as_ref()
                .unwrap_err()
                .contains("undecodable alert")
        );
        assert!(decode(b"{}").unwrap_err().contains("alert batch"));
    }

    #[test]
    fn batches_are_bounded_by_count_and_bytes() {
        let alerts: Vec<Alert> = (0..7).map(|i| mail(&format!("s{i}"))).collect();
        let refs: Vec<&Alert> = alerts.iter().collect();
        let counts = |max_alerts, max_bytes| -> Vec<usize> {
            let batches = encode(&refs, max_alerts, max_bytes).unwrap();
            for (n, payload) in &batches {
                assert_eq!(decode(payload).unwrap().len(), *n);
            }
            batches.iter().map(|(n, _)| *n).collect()
        };
        assert_eq!(counts(3, MAX_BATCH_BYTES), [3, 3, 1]);
        assert_eq!(counts(1, MAX_BATCH_BYTES), [1; 7]);
        let one = serde_json::to_vec(&alerts[0]).unwrap().len();
        assert_eq!(counts(64, 2 * one + 8), [2, 2, 2, 1], "by bytes");
        assert_eq!(counts(64, 1), [1; 7], "an alert over the limit goes alone");
        let again = encode(&refs, 3, MAX_BATCH_BYTES).unwrap();
        assert_eq!(again, encode(&refs, 3, MAX_BATCH_BYTES).unwrap(), "stable");
    }

    #[test]
    fn batches_are_told_by_header_or_shape() {
        let mut h = async_nats::HeaderMap::new();
        h.insert(ALERT_BATCH, "2");
        assert!(is_batch(Some(&h), b"{}"));
        assert!(is_batch(None, b" \n[{}]"));
        assert!(!is_batch(None, b"{\"article_id\": \"a\"}"));
        assert!(!is_batch(Some(&async_nats::HeaderMap::new()), b""));
    }

    #[test]
    fn batch_ids_never_collide_with_alert_keys() {
        let a = mail("s1");
        assert_eq!(batch_id("a/1", 0), "a%2F1//email/0");
        assert_eq!(record_key("a/1"), "a%2F1//email");
        assert_ne!(batch_id("a/1", 0), a.key());
        assert!(!a.key().contains("//"));
    }
}
