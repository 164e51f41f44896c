//! Where the delivery of one alert is remembered ([`Memo`]): a single
//! alert in the per-alert sent log ([`Ledger`]), an element of an email
//! batch in its article's record ([`Settled`]); and how a batch's outcome
//! follows from its alerts' ([`combine`]).

use super::ledger::{Ledger, Stopped};
use super::settled::Settled;
use crate::consume::Outcome;
use crate::shutdown::Stopping;

/// Where the delivery of one alert is remembered.
pub enum Memo<'a> {
    /// A single alert: its key in the sent log.
    Sent(&'a str),
    /// Element `.1` (JSON `.2`) of a batch: its article's record.
    Batch(&'a Settled, usize, &'a [u8]),
}

impl Memo<'_> {
    /// Whether the alert to `subscriber` was delivered before.
    pub async fn was_sent(
        &self,
        ledger: &Ledger,
        subscriber: &str,
        stopping: &Stopping,
    ) -> Result<bool, Stopped> {
        match self {
            Memo::Sent(key) => ledger.was_sent(key, stopping).await,
            Memo::Batch(record, ..) => Ok(record.contains(subscriber)),
        }
    }

    /// Remember that the alert to `subscriber` was sent.
    pub async fn record(&self, ledger: &Ledger, subscriber: &str) {
        match self {
            Memo::Sent(key) => ledger.record_sent(key).await,
            Memo::Batch(record, ..) => record.settle(subscriber).await,
        }
    }
}

/// A batch's outcome from its alerts': hand it back if any was stopped,
/// else retry it after the longest delay any asked for, else ack.
pub fn combine(outcomes: Vec<Outcome>) -> Outcome {
    let mut out = Outcome::Ack;
    for o in outcomes {
        out = match (out, o) {
            (Outcome::Release, _) | (_, Outcome::Release) => Outcome::Release,
            (Outcome::Retry(a), Outcome::Retry(b)) => Outcome::Retry(a.max(b)),
            (Outcome::Retry(d), Outcome::Ack) | (Outcome::Ack, Outcome::Retry(d)) => {
                Outcome::Retry(d)
            }
            (Outcome::Ack, Outcome::Ack) => Outcome::Ack,
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_batch_is_acked_only_when_every_alert_is() {
        let (ack, release) = (Outcome::Ack, Outcome::Release);
        let retry = |ms| Outcome::Retry(Duration::from_millis(ms));
        assert_eq!(combine(vec![]), ack);
        assert_eq!(combine(vec![ack, ack]), ack);
        assert_eq!(combine(vec![ack, retry(5), retry(9), ack]), retry(9));
        assert_eq!(combine(vec![retry(5), release, ack]), release);
    }
}
