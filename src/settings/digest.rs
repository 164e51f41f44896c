//! The `[digest]` section: held alerts (email digests, quiet hours, the
//! per-hour Telegram cap) and how they are released (see
//! [`crate::pending`]).

use serde::Deserialize;
use std::path::PathBuf;

/// `[digest]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestSettings {
    /// Off: every alert is sent at once, whatever the subscriber's
    /// `digest`, `quiet_hours` and `max_telegram_per_hour` say.
    pub enabled: bool,
    /// Items listed in one digest; the rest are counted ("and N more").
    pub max_items: usize,
    /// Items listed in one quiet-hours summary.
    pub summary_max_items: usize,
    /// Directory (relative to the config directory) whose `digest.txt.j2`
    /// and `digest.html.j2`, where present, replace the built-in templates.
    pub templates_dir: PathBuf,
    /// How often the release task looks for periods that ended (ms).
    pub release_poll_ms: u64,
    /// A claim whose holder has not finished after this long is taken over.
    pub claim_stale_secs: u64,
}
