//! Liveness and readiness. [`Health`] is shared by the stages that know a
//! part of the answer: the rules loader (rules loaded), the NATS connector
//! (connected, or why not: the last connection error), and each consume
//! loop (its durable consumer bound). `/readyz` asks [`Health::readiness`];
//! liveness needs nothing: a process that answers `/healthz` is alive.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Default)]
struct State {
    rules_loaded: bool,
    /// The connection, once made (it reconnects by itself after).
    client: Option<async_nats::Client>,
    /// The last connection problem, cleared on (re)connect.
    nats_error: Option<String>,
    /// Durable consumers this instance runs, and whether each is bound.
    consumers: BTreeMap<String, bool>,
}

/// The instance's health, cheap to clone.
#[derive(Clone, Default)]
pub struct Health(Arc<Mutex<State>>);

impl Health {
    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn rules_loaded(&self) {
        self.state().rules_loaded = true;
    }

    /// Connected: readiness follows the client's connection state from now.
    pub fn nats_connected(&self, client: async_nats::Client) {
        let mut s = self.state();
        s.client = Some(client);
        s.nats_error = None;
    }

    /// A connection attempt failed, or the server reported an error.
    pub fn nats_failed(&self, reason: impl Into<String>) {
        self.state().nats_error = Some(reason.into());
    }

    /// The connection is back: forget the last error.
    pub fn nats_reconnected(&self) {
        self.state().nats_error = None;
    }

    /// This instance runs durable consumer `name`, not bound yet.
    pub fn expect_consumer(&self, name: &str) {
        self.state().consumers.insert(name.to_string(), false);
    }

    /// Consumer `name` is bound (consuming) or not (being recreated,
    /// stopped).
    pub fn consumer_bound(&self, name: &str, bound: bool) {
        self.state().consumers.insert(name.to_string(), bound);
    }

    /// This instance no longer runs consumer `name` (a Telegram partition
    /// given up): it no longer counts for readiness.
    pub fn forget_consumer(&self, name: &str) {
        self.state().consumers.remove(name);
    }

    /// Ready to do its work, or every reason why not.
    ///
    /// # Errors
    /// The reasons, one per line in `/readyz`'s body.
    pub fn readiness(&self) -> Result<(), Vec<String>> {
        let s = self.state();
        let mut why = Vec::new();
        if !s.rules_loaded {
            why.push("rules not loaded".to_string());
        }
        let connected = s.client.as_ref().map(async_nats::Client::connection_state);
        match (connected, &s.nats_error) {
            (Some(async_nats::connection::State::Connected), _) => {}
            (state, error) => {
                let state = match state {
                    None => "not connected yet".to_string(),
                    Some(state) => format!("{state}").to_lowercase(),
                };
                why.push(match error {
                    Some(e) => format!("NATS {state}: {e}"),
                    None => format!("NATS {state}"),
                });
            }
        }
        if s.consumers.is_empty() {
            why.push("no consumer started yet".to_string());
        }
        for (name, bound) in &s.consumers {
            if !bound {
                why.push(format!("consumer {name} not bound"));
            }
        }
        if why.is_empty() { Ok(()) } else { Err(why) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_only_when_rules_nats_and_every_consumer_are() {
        let h = Health::default();
        let why = h.readiness().unwrap_err();
        assert_eq!(
            why,
            [
                "rules not loaded",
                "NATS not connected yet",
                "no consumer started yet"
            ]
        );
        h.rules_loaded();
        h.nats_failed("authorization violation");
        h.expect_consumer("newsalert");
        h.expect_consumer("newsalert-email");
        h.consumer_bound("newsalert", true);
        let why = h.readiness().unwrap_err();
        assert_eq!(
            why,
            [
                "NATS not connected yet: authorization violation",
                "consumer newsalert-email not bound"
            ]
        );
        // A Telegram partition counts while held, not once given up.
        h.consumer_bound("newsalert-email", true);
        h.consumer_bound("newsalert-telegram-3", false);
        assert_eq!(
            h.readiness().unwrap_err().last().unwrap(),
            "consumer newsalert-telegram-3 not bound"
        );
        h.forget_consumer("newsalert-telegram-3");
        assert_eq!(
            h.readiness().unwrap_err(),
            ["NATS not connected yet: authorization violation"]
        );
    }
}
