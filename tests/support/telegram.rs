//! A fake Telegram Bot API on a random loopback port, for teloxide's
//! `Bot::set_api_url(fake.api_url())`.
//!
//! It answers `POST {api_url}/bot<TOKEN>/<Method>` like the real API:
//! records every `sendMessage`, validates Telegram HTML and the 4096-char
//! limit, and can be scripted to fail (`push_fault`) or to enforce flood
//! limits (`enable_flood_limits`). For bots: serves `getUpdates` from a
//! queue the test fills (`push_text`), answers 409 to overlapping polls,
//! and records polls and `setMyCommands` (`polls`, `my_commands`). Runs on its own runtime thread, so it is
//! independent of the test's runtime.

mod html;
mod state;
mod updates;

pub use html::parse_html;
pub use state::{Attempt, Fault, FloodLimits, SentMessage};
pub use updates::Poll;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::BackgroundRuntime;
use state::{Answer, State};

pub struct FakeTelegram {
    port: u16,
    state: Arc<Mutex<State>>,
    _runtime: BackgroundRuntime,
}

impl FakeTelegram {
    /// Starts the server and returns once it accepts connections.
    pub async fn start() -> Self {
        let runtime = BackgroundRuntime::start("fake-telegram");
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind fake telegram");
        listener.set_nonblocking(true).expect("set_nonblocking");
        let port = listener.local_addr().expect("local_addr").port();
        let state = Arc::new(Mutex::new(State::default()));
        let app = Router::new().fallback({
            let state = state.clone();
            move |uri: Uri, body: Bytes| {
                let state = state.clone();
                async move { handle(&state, &uri, &body).await }
            }
        });
        runtime.handle().spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            axum::serve(listener, app)
                .await
                .expect("fake telegram server");
        });
        Self {
            port,
            state,
            _runtime: runtime,
        }
    }

    /// Base URL for `Bot::set_api_url`, e.g. `http://127.0.0.1:PORT/`.
    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Messages accepted so far (answered 200), in arrival order.
    pub fn sent(&self) -> Vec<SentMessage> {
        self.lock().sent.clone()
    }

    /// Messages accepted for one chat.
    pub fn sent_to(&self, chat_id: i64) -> Vec<SentMessage> {
        self.sent()
            .into_iter()
            .filter(|m| m.chat_id == chat_id)
            .collect()
    }

    /// Every `sendMessage` request with the status it was answered with.
    pub fn attempts(&self) -> Vec<Attempt> {
        self.lock().attempts.clone()
    }

    /// Number of API requests of any method, failed ones included.
    pub fn requests(&self) -> usize {
        self.lock().requests
    }

    /// Waits until at least `n` messages were accepted; returns all of them.
    ///
    /// # Panics
    /// On timeout, listing what arrived.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<SentMessage> {
        if !super::wait_until(timeout, || self.lock().sent.len() >= n).await {
            panic!(
                "fake telegram: expected {n} sent messages within {timeout:?}, got {}; attempts: {:#?}",
                self.lock().sent.len(),
                self.attempts()
            );
        }
        self.sent()
    }

    /// Scripts the answer to a coming `sendMessage`: for `Some(chat_id)`
    /// the next request to that chat, for `None` the next request to any
    /// chat (per-chat faults are used first). Each fault is used once.
    pub fn push_fault(&self, chat_id: Option<i64>, fault: Fault) {
        let mut state = self.lock();
        match chat_id {
            Some(chat) => state.chat_faults.entry(chat).or_default().push_back(fault),
            None => state.global_faults.push_back(fault),
        }
    }

    /// Answers 429 like Telegram when a chat, group or the bot as a whole
    /// sends faster than `limits` allow.
    pub fn enable_flood_limits(&self, limits: FloodLimits) {
        self.lock().flood = Some(limits);
    }

    pub fn disable_flood_limits(&self) {
        self.lock().flood = None;
    }

    /// Forgets recorded messages, attempts, request count and queued faults
    /// (flood limits stay as they are).
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Queue a text message from `first_name` in `chat_id` for
    /// `getUpdates`; returns its update id.
    pub fn push_text(&self, chat_id: i64, first_name: &str, text: &str) -> i64 {
        self.lock().updates.push_text(chat_id, first_name, text)
    }

    /// Every `getUpdates` request so far.
    pub fn polls(&self) -> Vec<Poll> {
        self.lock().updates.polls.clone()
    }

    /// Queued updates not yet confirmed by a poll's offset.
    pub fn pending_updates(&self) -> usize {
        self.lock().updates.pending()
    }

    /// Every `setMyCommands` body so far.
    pub fn my_commands(&self) -> Vec<serde_json::Value> {
        self.lock().updates.commands.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn handle(state: &Mutex<State>, uri: &Uri, body: &[u8]) -> Response {
    state.lock().unwrap_or_else(|e| e.into_inner()).requests += 1;
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let Some((token, method)) = (match segments.as_slice() {
        [.., bot, method] if bot.len() > 3 && bot.starts_with("bot") => Some((&bot[3..], *method)),
        _ => None,
    }) else {
        return reply(Answer::error(404, "Not Found", None));
    };
    let body: serde_json::Value = if body.is_empty() {
        serde_json::json!({})
    } else {
        match serde_json::from_slice(body) {
            Ok(value) => value,
            Err(_) => return reply(Answer::error(400, "Bad Request: can't parse JSON", None)),
        }
    };
    let answer = {
        let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
        if method.eq_ignore_ascii_case("getUpdates") {
            None
        } else {
            Some(state.answer(token, method, &body))
        }
    };
    match answer {
        Some(answer) => reply(answer),
        None => get_updates(state, &body).await,
    }
}

/// Long polling: updates at or above `offset` as soon as there are some,
/// else `[]` after `timeout` (at most 1 s); 409 while another poll is in
/// flight.
async fn get_updates(state: &Mutex<State>, body: &serde_json::Value) -> Response {
    let get = |k: &str| body.get(k).and_then(serde_json::Value::as_i64);
    let offset = get("offset").unwrap_or(0);
    let limit = get("limit").map_or(100, |l| l.clamp(1, 100) as usize);
    let timeout = Duration::from_secs(get("timeout").unwrap_or(0).clamp(0, 1) as u64);
    let lock = || state.lock().unwrap_or_else(|e| e.into_inner());
    if !lock().updates.begin(offset) {
        let why = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";
        return reply(Answer::error(409, why, None));
    }
    // Ends the poll even if the client goes away mid-poll.
    struct InFlight<'a>(&'a Mutex<State>);
    impl Drop for InFlight<'_> {
        fn drop(&mut self) {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .updates
                .end();
        }
    }
    let _in_flight = InFlight(state);
    let deadline = tokio::time::Instant::now() + timeout;
    let ready = loop {
        let ready = lock().updates.take(offset, limit);
        if !ready.is_empty() || tokio::time::Instant::now() >= deadline {
            break ready;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    reply(Answer::ok(serde_json::Value::Array(ready)))
}

fn reply(answer: Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        answer.body,
    )
        .into_response()
}
