//! # newsalert
//!
//! An event-driven news-alert service. Producers publish new-article events
//! to NATS JetStream; newsalert cleans each article, matches it against
//! every subscriber's keyword, phrase, boolean and region rules, and alerts
//! the subscribers on Telegram and by email.
//!
//! ```text
//!  NATS JetStream          pure, synchronous core                   edges
//! ┌──────────────┐   ┌───────┐   ┌───────┐   ┌───────┐   ┌───────┐   ┌──────────┐
//! │ ARTICLES     │──▶│decode │──▶│ clean │──▶│ match │──▶│ route │──▶│ deliver  │──▶ Telegram
//! │ news.articles│   │article│   │ text  │   │ rules │   │pipeline│  │ retry    │──▶ SMTP
//! └──────────────┘   └───┬───┘   └───────┘   └───────┘   └───────┘   └──────────┘──▶ console
//!                        │ invalid
//!                        ▼
//!                  NEWSALERT_DLQ (reason in headers)
//! ```
//!
//! [`app::App`] wires the stages; [`cli`] is the command line.

pub mod alert;
pub mod app;
pub mod article;
pub mod cli;
pub mod consume;
pub mod deliver;
pub mod dlq;
pub mod ingest;
pub mod input;
pub mod nats;
pub mod pipeline;
pub mod regions;
pub mod reload;
pub mod rulebook;
pub mod rules;
pub mod settings;
pub mod snippet;
pub mod subscriber;
pub mod text;
