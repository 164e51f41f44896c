//! Telegram's flood limits, kept before each request so that a 429 is
//! rare, and a 429 that still comes pauses only the chat it was for.
//!
//! Telegram publishes three limits: about 1 message per second to one
//! chat, 20 messages per minute to one group, 30 messages per second
//! overall. [`FloodControl::acquire`] waits for a chat's turn:
//! - **per chat**: 1 s after the previous request to that chat *ended*
//!   (so arrivals are at least 1 s apart however long requests take);
//! - **per group** (any negative chat id): at most 20 requests in any
//!   sliding minute. A sliding window, not a token bucket: a bucket that
//!   lets a group send 10 alerts at 1/s would also let a 21st through
//!   within the minute, which Telegram answers with a 429;
//! - **overall**: [`OVERALL_BUDGET_PER_SEC`] (28/s: Telegram's 30 less a
//!   margin for network jitter, which can bunch requests sent evenly
//!   spaced into one of Telegram's seconds), evenly spaced (a GCRA on the
//!   tokio clock, so tests can pause time), times this instance's
//!   [`Share`] of the bot: with several instances each holds some of the
//!   Telegram partitions ([`crate::deliver::partitions`]) and sends at
//!   most 28/s × held / partitions, so the bot as a whole never exceeds
//!   28/s;
//! - **after a 429** for a chat ([`FloodControl::pause`]), that chat only
//!   waits out `retry_after`; every other chat goes on at its normal rate.
//!
//! Short waits (the per-chat second, the overall spacing) are slept here;
//! long ones (a 429 pause, a full group minute) are returned as a [`Wait`]
//! so that the caller hands them to the retry policy, which waits them out
//! and stays responsive to shutdown.
//!
//! One [`FloodControl`] per instance serves both its alert sends and the
//! bot's replies ([`FloodControl::wait_turn`]). Alert sends to one chat
//! are sequential (the delivery worker holds a lock per target); a bot
//! reply may ask for the same chat at the same moment, so a chat's turn
//! is taken (its next slot reserved) when [`FloodControl::acquire`]
//! grants it, not only when the request ends.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// Telegram's limit for one chat: one message per this interval.
pub const PER_CHAT_INTERVAL: Duration = Duration::from_secs(1);
/// Telegram's limit for one group (basic group, supergroup or channel).
pub const GROUP_MESSAGES_PER_MIN: usize = 20;
/// Telegram's limit for a bot across all chats.
pub const OVERALL_MESSAGES_PER_SEC: u32 = 30;
/// What the bot sends at most across all chats and instances: the limit
/// less a margin: requests sent evenly spaced can arrive bunched. Two
/// instances at 15/s each, on a machine at a load of 9, once got two
/// refusals from the fake Bot API (which counts arrivals in 0.9 s).
pub const OVERALL_BUDGET_PER_SEC: u32 = OVERALL_MESSAGES_PER_SEC - 2;
const MINUTE: Duration = Duration::from_secs(60);

/// A chat must wait longer than is worth sleeping in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    pub duration: Duration,
    pub reason: &'static str,
}

/// This instance's share of the bot's overall budget: `held` of `of`
/// partitions. Cloned handles share the count.
#[derive(Debug, Clone)]
pub struct Share {
    held: Arc<AtomicU32>,
    of: u32,
}

impl Share {
    /// A share of `held` out of `of` partitions.
    pub fn new(held: u32, of: u32) -> Self {
        Share {
            held: Arc::new(AtomicU32::new(held)),
            of: of.max(1),
        }
    }

    /// The whole budget (a single instance).
    pub fn whole() -> Self {
        Share::new(1, 1)
    }

    /// This instance took one more partition (call before serving it).
    pub fn gained(&self) {
        self.held.fetch_add(1, Ordering::SeqCst);
    }

    /// This instance gave up a partition (call once it stopped serving).
    pub fn lost(&self) {
        let _ = (self.held).fetch_update(Ordering::SeqCst, Ordering::SeqCst, |h| h.checked_sub(1));
    }

    /// Partitions held now.
    pub fn held(&self) -> u32 {
        self.held.load(Ordering::SeqCst)
    }

    /// The spacing between two requests of this instance: 1 s / 28 ×
    /// partitions / held (as if one partition were held when none is).
    pub fn spacing(&self) -> Duration {
        let held = self.held().clamp(1, self.of);
        Duration::from_secs(1) * self.of / (OVERALL_BUDGET_PER_SEC * held)
    }
}

/// What one chat's next request waits for.
#[derive(Debug, Default)]
struct ChatState {
    /// Not before this: [`PER_CHAT_INTERVAL`] after the last request ended.
    next: Option<Instant>,
    /// Not before this: the end of a 429's `retry_after`.
    paused_until: Option<Instant>,
    /// Ends of this group's requests in the last minute (groups only).
    recent: VecDeque<Instant>,
}

impl ChatState {
    fn idle(&self, now: Instant) -> bool {
        self.next.is_none_or(|t| t <= now)
            && self.paused_until.is_none_or(|t| t <= now)
            && self.recent.back().is_none_or(|t| now - *t >= MINUTE)
    }

    /// How long the group's minute is still full, if it is.
    fn group_full(&mut self, now: Instant) -> Option<Duration> {
        while self.recent.front().is_some_and(|t| now - *t >= MINUTE) {
            self.recent.pop_front();
        }
        (self.recent.len() >= GROUP_MESSAGES_PER_MIN).then(|| MINUTE - (now - self.recent[0]))
    }
}

/// Telegram's flood limits for one bot (this instance's share of them).
pub struct FloodControl {
    share: Share,
    /// The overall limit's theoretical arrival time (GCRA, no burst): the
    /// next request may start at this instant, not before.
    overall_next: Mutex<Option<Instant>>,
    chats: Mutex<HashMap<i64, ChatState>>,
}

impl Default for FloodControl {
    fn default() -> Self {
        FloodControl::with_share(Share::whole())
    }
}

impl FloodControl {
    /// The limits for an instance with `share` of the bot's budget.
    pub fn with_share(share: Share) -> Self {
        FloodControl {
            share,
            overall_next: Mutex::new(None),
            chats: Mutex::new(HashMap::new()),
        }
    }

    /// Take the next overall slot if it has come, else say how long to
    /// wait. The spacing is read at each request, so a changed share
    /// applies from the next request on, without a burst.
    fn overall_slot(&self, now: Instant) -> Result<(), Duration> {
        let mut next = self.overall_next.lock().unwrap_or_else(|e| e.into_inner());
        match *next {
            Some(t) if t > now => Err(t - now),
            _ => {
                *next = Some(now + self.share.spacing());
                Ok(())
            }
        }
    }

    /// Wait for `chat`'s turn to be sent a message (sleeping up to the
    /// per-chat interval and the overall spacing).
    ///
    /// # Errors
    /// The chat is paused after a 429 or its group's minute is full: wait
    /// the returned time, then call again.
    pub async fn acquire(&self, chat: i64) -> Result<(), Wait> {
        loop {
            let now = Instant::now();
            let next = {
                let mut chats = self.lock();
                let state = chats.entry(chat).or_default();
                if let Some(until) = state.paused_until.filter(|t| *t > now) {
                    return Err(Wait {
                        duration: until - now,
                        reason: "telegram: chat paused after a 429",
                    });
                }
                if let Some(duration) = state.group_full(now) {
                    return Err(Wait {
                        duration,
                        reason: "telegram: group at 20 messages/min",
                    });
                }
                state.next.filter(|t| *t > now)
            };
            if let Some(next) = next {
                tokio::time::sleep_until(next).await;
                continue;
            }
            match self.overall_slot(Instant::now()) {
                Ok(()) => {
                    // Take the chat's turn, unless another request to it
                    // took it while this one waited for the overall slot.
                    let now = Instant::now();
                    let mut chats = self.lock();
                    let state = chats.entry(chat).or_default();
                    if state.next.is_some_and(|t| t > now) {
                        continue;
                    }
                    state.next = Some(now + PER_CHAT_INTERVAL);
                    return Ok(());
                }
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// [`FloodControl::acquire`], waiting out long waits too, up to `max`
    /// in all (for the bot's replies, which have no retry policy to hand
    /// them to). `false`: the chat's turn is further away than `max`.
    pub async fn wait_turn(&self, chat: i64, max: Duration) -> bool {
        let deadline = Instant::now() + max;
        loop {
            match self.acquire(chat).await {
                Ok(()) => return true,
                Err(wait) if Instant::now() + wait.duration <= deadline => {
                    tokio::time::sleep(wait.duration).await;
                }
                Err(_) => return false,
            }
        }
    }

    /// A request to `chat` ended at `at` (whatever its answer): it counts
    /// towards the chat's and its group's limits.
    pub fn sent(&self, chat: i64, at: Instant) {
        let mut chats = self.lock();
        if chats.len() > 10_000 {
            chats.retain(|_, s| !s.idle(at));
        }
        let state = chats.entry(chat).or_default();
        state.next = state.next.max(Some(at + PER_CHAT_INTERVAL));
        if chat < 0 {
            state.recent.push_back(at);
        }
    }

    /// Telegram answered 429 for `chat`: no request to it before
    /// `retry_after` from now. Other chats are not affected.
    pub fn pause(&self, chat: i64, retry_after: Duration) {
        let mut chats = self.lock();
        let state = chats.entry(chat).or_default();
        state.paused_until = state.paused_until.max(Some(Instant::now() + retry_after));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, ChatState>> {
        self.chats.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);
    const B: u32 = OVERALL_BUDGET_PER_SEC;

    /// Acquire and record a request that takes no time.
    async fn send(flood: &FloodControl, chat: i64) -> Result<Instant, Wait> {
        flood.acquire(chat).await?;
        let at = Instant::now();
        flood.sent(chat, at);
        Ok(at)
    }

    #[tokio::test(start_paused = true)]
    async fn one_message_per_second_per_chat_counted_from_the_request_end() {
        let flood = FloodControl::default();
        let t0 = Instant::now();
        assert_eq!(send(&flood, 7).await, Ok(t0));
        assert_eq!(send(&flood, 7).await, Ok(t0 + S));
        let other = send(&flood, 8).await.unwrap();
        assert!(other - t0 < 2 * S, "other chats do not wait for chat 7");
        // A slow request: the next one waits a second after it ended.
        flood.acquire(7).await.unwrap();
        tokio::time::sleep(3 * S / 2).await;
        let ended = Instant::now();
        flood.sent(7, ended);
        assert_eq!(send(&flood, 7).await, Ok(ended + S));
    }

    #[tokio::test(start_paused = true)]
    async fn a_reply_racing_an_alert_for_one_chat_waits_its_turn() {
        let flood = Arc::new(FloodControl::default());
        // Another chat took the overall slot: both requests for chat 5
        // pass its own check, then wait for the overall slot together.
        let t0 = send(&flood, 9).await.unwrap();
        let (a, b) = tokio::join!(send(&flood, 5), async {
            flood.wait_turn(5, 30 * S).await.then(Instant::now)
        });
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(
            a.min(b) > t0 && a.min(b) - t0 < S / 10,
            "the next overall slot"
        );
        assert_eq!(
            a.max(b) - a.min(b),
            S,
            "a second apart, whichever went first"
        );
        // A reply waits out a 429's pause, up to its limit.
        flood.pause(5, 10 * S);
        let paused = Instant::now();
        assert!(
            !flood.wait_turn(5, 5 * S).await,
            "too long: refused at once"
        );
        assert!(Instant::now() - paused < S);
        assert!(flood.wait_turn(5, 30 * S).await);
        assert_eq!(Instant::now() - paused, 10 * S);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_pauses_only_its_chat() {
        let flood = FloodControl::default();
        send(&flood, 1).await.unwrap();
        tokio::time::sleep(S).await;
        flood.pause(1, 20 * S);
        let paused = Instant::now();
        let wait = flood.acquire(1).await.unwrap_err();
        assert_eq!(wait.duration, 20 * S);
        for chat in 2..=10 {
            send(&flood, chat).await.unwrap();
        }
        assert!(Instant::now() - paused < S, "other chats go on");
        tokio::time::sleep_until(paused + 5 * S).await;
        assert_eq!(flood.acquire(1).await.unwrap_err().duration, 15 * S);
        tokio::time::sleep_until(paused + 20 * S).await;
        assert_eq!(flood.acquire(1).await, Ok(()), "resumes after retry_after");
    }

    #[tokio::test(start_paused = true)]
    async fn twenty_messages_per_sliding_minute_per_group() {
        let flood = FloodControl::default();
        let t0 = Instant::now();
        for i in 0..20 {
            assert_eq!(send(&flood, -42).await, Ok(t0 + i * S));
        }
        tokio::time::sleep(S).await; // t0 + 20 s
        let wait = flood.acquire(-42).await.unwrap_err();
        assert_eq!(wait.duration, 40 * S, "until the first leaves the minute");
        assert_eq!(send(&flood, -43).await, Ok(t0 + 20 * S), "per group");
        assert!(
            send(&flood, 42).await.is_ok(),
            "private chats have no minute"
        );
        tokio::time::sleep_until(t0 + 60 * S).await;
        assert_eq!(send(&flood, -42).await, Ok(t0 + 60 * S));
        assert!(
            flood.acquire(-42).await.is_err(),
            "the second's turn at 61 s"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_overall_budget_evenly_spaced() {
        let flood = FloodControl::default();
        let t0 = Instant::now();
        let mut times = Vec::new();
        let n = 3 * B as usize;
        for chat in 0..=n as i64 {
            times.push(send(&flood, chat).await.unwrap() - t0);
        }
        let ms = times[n].as_millis();
        assert!(
            (2990..=3100).contains(&ms),
            "evenly spaced at {B}/s: {ms} ms"
        );
        let in_one_second = times.iter().filter(|t| **t < S).count();
        assert_eq!(in_one_second, B as usize);
    }

    /// Holding 4 of 16 partitions: a quarter of the budget; the share changes
    /// from the next request on, without a burst.
    #[tokio::test(start_paused = true)]
    async fn an_instance_sends_its_share_of_the_overall_budget() {
        // Paused tokio sleeps end on whole milliseconds, never early: each
        // wait may be up to 1 ms longer (the rate only lower).
        let near =
            |got: Duration, want: Duration| got >= want && got - want <= Duration::from_millis(10);
        let share = Share::new(4, 16);
        let flood = FloodControl::with_share(share.clone());
        assert_eq!(share.spacing(), 4 * S / B);
        let t0 = Instant::now();
        for chat in 0..8 {
            let at = send(&flood, chat).await.unwrap() - t0;
            assert!(near(at, chat as u32 * 4 * S / B), "{chat}: {at:?}");
        }
        let last = Instant::now() - t0;
        for _ in 0..12 {
            share.gained();
        }
        assert_eq!(share.held(), 16);
        let at = send(&flood, 100).await.unwrap() - t0;
        assert!(
            near(at, last + 4 * S / B),
            "{at:?}: the slot taken at 4/B s"
        );
        let at = send(&flood, 101).await.unwrap() - t0;
        assert!(near(at, last + 5 * S / B), "{at:?}: then 1/B s");
        for _ in 0..20 {
            share.lost();
        }
        assert_eq!(share.held(), 0, "never below zero");
        assert_eq!(share.spacing(), 16 * S / B, "as if one were held");
    }
}
