//! # newsalert
//!
//! An event-driven news-alert service. Producers publish new-article events
//! to NATS JetStream; newsalert cleans each article, matches it against
//! every subscriber's keyword, phrase, boolean and region rules, and alerts
//! the subscribers on Telegram and by email.
//!
//! ```text
//!  ARTICLES ──▶ decode ─▶ clean ─▶ match ─▶ route ──▶ NEWSALERT_ALERTS ──▶ deliver ──▶ Telegram / SMTP / console
//!  (JetStream)   │        text/    rules/   pipeline  (one msg per article,   worker: sent log, retry,
//!                │ invalid                            subscriber, channel)    per-target order
//!                ▼                                                             │ permanent failure
//!          NEWSALERT_DLQ ◀─────────────────────────────────────────────────────┘
//! ```
//!
//! The core (`text`, `rules`, `regions`, `pipeline`, `snippet`) is pure and
//! synchronous; NATS, Telegram and SMTP live at the edges (`nats`, `dlq`,
//! `consume`, `ingest`, `deliver`).
//!
//! [`app::App`] wires the stages; [`cli`] is the command line;
//! [`observe`] holds the metrics and readiness the stages report, served
//! by [`http`] on `http.listen` (`/healthz`, `/readyz`, `/metrics`).
//! [`story`] gives one alert per story (copies from several outlets are
//! recognised between routing and the alerts stream); [`bot`] answers
//! chats' Telegram commands (`/start`, `/status`, `/pause`, `/stop`) and
//! keeps their preferences, which delivery honours.
//! [`feeds`] is a producer of its own (`newsalert feeds`, a separate
//! process): RSS, Atom and JSON Feed items → article events.
//! [`stats`] counts what every rule does (matched, alerted, suppressed,
//! failed) in a key-value bucket shared by the instances; [`backtest`]
//! replays the articles stream through a candidate rules file (both for
//! admins: `newsalert rules stats`, `newsalert backtest`).

/// jemalloc settings for the binary and the benchmarks: a background
/// thread returns freed pages to the OS within about a second, so a large
/// rules file's short-lived parse tree (~1.4 KB per rule) does not stay
/// resident after a (re)load. With glibc malloc a 100k-rule book kept
/// ~150 MiB resident; with this, ~57 MiB (`cargo bench --bench memory`).
pub const MALLOC_CONF: &[u8] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:1000\0";

#[doc(hidden)]
pub use tikv_jemallocator;

/// Makes the calling crate run on the binary's allocator: jemalloc with
/// [`MALLOC_CONF`]. Called once by `src/main.rs` and by each benchmark, so
/// a benchmark measures the service as the binary runs it.
#[macro_export]
macro_rules! use_binary_allocator {
    () => {
        #[global_allocator]
        static GLOBAL: $crate::tikv_jemallocator::Jemalloc = $crate::tikv_jemallocator::Jemalloc;

        #[allow(non_upper_case_globals)]
        #[unsafe(export_name = "_rjem_malloc_conf")]
        pub static malloc_conf: &[u8] = $crate::MALLOC_CONF;
    };
}

pub mod alert;
pub mod app;
pub mod article;
pub mod backtest;
pub mod bot;
pub mod cli;
pub mod clock;
pub mod consume;
pub mod deliver;
pub mod digest;
pub mod dkim;
pub mod dlq;
pub mod duration;
pub mod feeds;
pub mod http;
pub mod ingest;
pub mod input;
pub mod kvwatch;
pub mod lease;
pub mod location;
pub mod nats;
pub mod observe;
pub mod pending;
pub mod pipeline;
pub mod quiet;
pub mod regions;
pub mod reload;
pub mod retry;
pub mod rulebook;
pub mod rules;
pub mod schedule;
pub mod settings;
pub mod shutdown;
pub mod snippet;
pub mod stats;
pub mod story;
pub mod subscriber;
pub mod text;
pub mod unsubscribe;
