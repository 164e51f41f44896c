//! Time, injected: [`Clock`] says what time it is (UTC). The service uses
//! [`SystemClock`]; tests hand [`App::with_clock`](crate::app::App::with_clock)
//! a [`ManualClock`] and move it, so digest periods and quiet hours are
//! tested without waiting or sleeping.

use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};

/// What time it is.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The shared clock handle stages hold.
pub type SharedClock = Arc<dyn Clock>;

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told otherwise; clones share the time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        ManualClock(Arc::new(Mutex::new(at)))
    }

    /// Jump to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }

    /// Move forward by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_is_shared_by_clones() {
        let t0 = DateTime::from_timestamp(1_000, 0).unwrap();
        let clock = ManualClock::new(t0);
        let other = clock.clone();
        other.advance(chrono::Duration::seconds(5));
        assert_eq!(clock.now(), DateTime::from_timestamp(1_005, 0).unwrap());
        clock.set(t0);
        assert_eq!(other.now(), t0);
        assert!(SystemClock.now() > t0);
    }
}
