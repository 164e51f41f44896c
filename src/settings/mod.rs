//! Typed settings: plain data, read by the rest of the service and
//! depending on none of it.
//!
//! - [`load`]: layered loading (built-in defaults → `DIR/default.toml` →
//!   `DIR/local.toml` → `NEWSALERT__SECTION__KEY` environment variables);
//! - [`validate`]: every problem at once, naming the key
//!   ([`Settings::validate`]);
//! - [`position`]: where a key was set (`file:line:col`, environment
//!   variable or built-in default), for `newsalert check`;
//! - [`subject`]: NATS subject names and patterns derived from the settings.

use secrecy::SecretString;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

pub mod digest;
pub mod load;
pub mod position;
pub mod stats;
pub mod subject;
pub mod validate;

pub use stats::StatsSettings;

/// All settings of one instance.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub nats: NatsSettings,
    pub rules: RulesSettings,
    pub pipeline: PipelineSettings,
    pub delivery: DeliverySettings,
    pub telegram: TelegramSettings,
    pub smtp: SmtpSettings,
    pub log: LogSettings,
    pub http: HttpSettings,
    pub feeds: FeedsSettings,
    pub story: StorySettings,
    pub bot: BotSettings,
    pub digest: digest::DigestSettings,
    pub stats: StatsSettings,
    /// The config directory these settings were loaded from.
    #[serde(skip)]
    pub dir: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsSettings {
    pub url: String,
    pub user: String,
    pub password: SecretString,
    pub token: SecretString,
    pub creds_file: String,
    /// An nkey seed (`SU…`), or a file holding one.
    pub nkey_seed: SecretString,
    pub nkey_file: String,
    pub tls_required: bool,
    pub tls_ca_file: String,
    pub tls_cert_file: String,
    pub tls_key_file: String,
    pub stream: String,
    pub subjects: Vec<String>,
    /// How long the articles stream keeps an article (0 = forever): how
    /// far back `backtest` can look. Applied when the stream is created.
    pub stream_max_age_days: u64,
    /// Most bytes the articles stream keeps, oldest dropped first (0 = no
    /// limit). Applied when the stream is created.
    pub stream_max_bytes: u64,
    pub consumer: String,
    pub ack_wait_secs: u64,
    pub dead_letter_stream: String,
    pub dead_letter_subject: String,
    pub alerts_stream: String,
    pub alerts_subject: String,
    pub sent_bucket: String,
    pub sent_retention_days: u64,
    pub targets_bucket: String,
    /// Claims of released periods and per-hour Telegram counts.
    pub pending_bucket: String,
    /// Addresses that unsubscribed from emails.
    pub unsubscribe_bucket: String,
    pub duplicate_window_secs: u64,
    pub connect_timeout_secs: u64,
    /// Replicas of the streams and buckets created (3 on a 3-node cluster).
    pub replicas: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesSettings {
    pub path: PathBuf,
    pub watch: bool,
    /// How often a watched rules file is checked for changes (milliseconds).
    pub poll_ms: u64,
    /// Where compiled rule books are cached (`crate::rulebook::RuleCache`):
    /// empty = the user's cache directory, `"off"` = no cache.
    pub cache_dir: String,
    /// Rule books with fewer rules than this are not cached.
    pub cache_min_rules: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSettings {
    pub max_event_bytes: usize,
    pub clean_text: bool,
    pub concurrency: usize,
    /// Threads that match articles at once (`run` and `match`); 0 = one
    /// per core.
    pub match_threads: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverySettings {
    pub retry_attempts: u32,
    pub retry_initial_ms: u64,
    pub retry_max_ms: u64,
    pub max_age_secs: u64,
    pub telegram_concurrency: usize,
    pub email_concurrency: usize,
    /// An article's instant email alerts per alerts-stream message (see
    /// [`crate::deliver::batch`]); 1 = one message per alert.
    pub email_batch: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramSettings {
    pub bot_token: SecretString,
    pub api_url: String,
    pub link_preview: LinkPreview,
    /// Partitions of the Telegram alerts, by chat (see
    /// [`crate::deliver::partitions`]).
    pub partitions: u32,
    /// Key-value bucket of the partition leases and instance heartbeats.
    pub lease_bucket: String,
    /// Lifetime of a partition lease not renewed (seconds).
    pub lease_ttl_secs: u64,
}

impl TelegramSettings {
    pub fn lease_ttl(&self) -> Duration {
        Duration::from_secs(self.lease_ttl_secs.max(1))
    }
}

/// Whether Telegram shows a preview of an alert's link, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkPreview {
    /// No preview (compact alerts).
    Off,
    /// Telegram's default placement.
    On,
    /// A preview above the text.
    Above,
    /// A preview below the text.
    Below,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// PEM file of the CA(s) to trust for the relay's certificate instead
    /// of the public (webpki) roots; empty = the public roots. Relative
    /// paths are taken from the config directory.
    pub tls_ca_file: String,
    pub username: String,
    pub password: SecretString,
    pub from: String,
    pub timeout_secs: u64,
    /// Domain of the `Message-ID`s; empty = the domain of `from`.
    pub message_id_domain: String,
    /// DKIM private key file; empty = mail is not signed. Relative paths
    /// are taken from the config directory.
    pub dkim_key_file: String,
    pub dkim_selector: String,
    /// Signing domain (`d=`); empty = the domain of `from`.
    pub dkim_domain: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub filter: String,
    pub format: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// `host:port` of the health and metrics endpoint; empty = off.
    pub listen: String,
    /// Base URL of this endpoint as mail readers reach it (unsubscribe links).
    pub public_url: String,
    /// Key of the unsubscribe links' HMAC; empty = no links.
    pub unsubscribe_secret: SecretString,
}

/// `newsalert feeds`: where the feed list is, how feeds are fetched and
/// where their items go (see [`crate::feeds`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedsSettings {
    pub path: PathBuf,
    pub subject: String,
    pub seen_bucket: String,
    pub seen_retention_days: u64,
    pub default_interval_secs: u64,
    pub timeout_secs: u64,
    pub max_body_bytes: usize,
    pub max_redirects: usize,
    pub host_gap_ms: u64,
    pub retry_initial_ms: u64,
    pub retry_max_ms: u64,
    pub user_agent: String,
}

/// One alert per story (see [`crate::story`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorySettings {
    pub enabled: bool,
    /// Copies arriving this long after a story's first copy start a new one.
    pub window_secs: u64,
    /// Least share of shingles (0–1) a copy has in common with the story.
    pub similarity: f64,
    /// `suppress` later copies on Telegram, or `annotate` them ("+N sources").
    pub later_copies: LaterCopies,
    pub bucket: String,
}

/// What Telegram does with a story's later copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LaterCopies {
    Suppress,
    Annotate,
}

/// The Telegram bot's commands (see [`crate::bot`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotSettings {
    /// Answer commands (needs `telegram.bot_token`).
    pub enabled: bool,
    /// Chat preferences (paused, stopped).
    pub prefs_bucket: String,
    /// The polling lease: one instance polls `getUpdates`.
    pub lease_bucket: String,
    pub lease_ttl_secs: u64,
    /// Long-poll timeout of `getUpdates` (seconds).
    pub poll_timeout_secs: u32,
}

/// A settings problem: where (file or key) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{place}: {message}")]
pub struct SettingsError {
    pub place: String,
    pub message: String,
}

fn problem(place: impl Into<String>, message: impl Into<String>) -> SettingsError {
    SettingsError {
        place: place.into(),
        message: message.into(),
    }
}

impl Settings {
    /// The rules file: `rules.path`, relative paths taken from the config
    /// directory.
    pub fn rules_path(&self) -> PathBuf {
        self.dir.join(&self.rules.path)
    }

    /// The feed list of `newsalert feeds`: `feeds.path`, relative paths
    /// taken from the config directory.
    pub fn feeds_path(&self) -> PathBuf {
        self.dir.join(&self.feeds.path)
    }

    /// How often a watched rules file is checked for changes.
    pub fn rules_poll(&self) -> Duration {
        Duration::from_millis(self.rules.poll_ms.max(1))
    }

    /// The DKIM key file, relative paths taken from the config directory;
    /// `None` when mail is not signed.
    pub fn dkim_key_path(&self) -> Option<PathBuf> {
        let file = self.smtp.dkim_key_file.trim();
        (!file.is_empty()).then(|| self.dir.join(file))
    }

    /// The SMTP relay's CA file, relative paths taken from the config
    /// directory; `None`: the public roots.
    pub fn smtp_ca_path(&self) -> Option<PathBuf> {
        let file = self.smtp.tls_ca_file.trim();
        (!file.is_empty()).then(|| self.dir.join(file))
    }

    /// How long a message may stay unacknowledged before redelivery.
    pub fn ack_wait(&self) -> Duration {
        Duration::from_secs(self.nats.ack_wait_secs.max(1))
    }
}

impl SmtpSettings {
    /// The domain of `from` (`alerts@example.org` → `example.org`), if it
    /// is a mailbox.
    pub fn from_domain(&self) -> Option<String> {
        let from: lettre::message::Mailbox = self.from.parse().ok()?;
        Some(from.email.domain().to_string())
    }

    /// The `Message-ID` domain: `message_id_domain`, else `from`'s.
    pub fn message_id_domain(&self) -> Option<String> {
        match self.message_id_domain.trim() {
            "" => self.from_domain(),
            d => Some(d.to_string()),
        }
    }

    /// The DKIM signing domain: `dkim_domain`, else `from`'s.
    pub fn dkim_domain(&self) -> Option<String> {
        match self.dkim_domain.trim() {
            "" => self.from_domain(),
            d => Some(d.to_string()),
        }
    }
}

impl StorySettings {
    /// The clustering parameters.
    pub fn params(&self) -> crate::story::StoryParams {
        crate::story::StoryParams {
            window_ms: i64::try_from(self.window_secs.max(1).saturating_mul(1000))
                .unwrap_or(i64::MAX),
            threshold: self.similarity,
        }
    }

    /// How long the story index keeps an entry.
    pub fn window(&self) -> Duration {
        Duration::from_secs(self.window_secs.max(1))
    }
}

impl BotSettings {
    /// How long a polling lease lasts unless renewed.
    pub fn lease_ttl(&self) -> Duration {
        Duration::from_secs(self.lease_ttl_secs.max(1))
    }
}

impl PipelineSettings {
    /// `match_threads`, with 0 resolved to the number of cores.
    pub fn match_threads(&self) -> usize {
        match self.match_threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        }
    }
}

impl NatsSettings {
    /// How long to keep trying to reach NATS at start; `None` = forever.
    pub fn connect_timeout(&self) -> Option<Duration> {
        (self.connect_timeout_secs > 0).then(|| Duration::from_secs(self.connect_timeout_secs))
    }

    /// Window in which publishes with the same `Nats-Msg-Id` are dropped.
    pub fn duplicate_window(&self) -> Duration {
        Duration::from_secs(self.duplicate_window_secs.max(1))
    }

    /// How long the sent log remembers an alert.
    pub fn sent_retention(&self) -> Duration {
        Duration::from_secs(self.sent_retention_days.max(1) * 86_400)
    }
}
