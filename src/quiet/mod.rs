//! Quiet hours and the per-hour Telegram cap: Telegram alerts held by
//! [`crate::pending`] come out as one plain-text message ([`summary`])
//! when the quiet hours or the clock hour end; never dropped.

pub mod summary;
