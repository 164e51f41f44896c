//! What the fake Telegram remembers and how it decides each answer:
//! scripted faults first, then flood limits, then validation, then success.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// Longest message text Telegram accepts, after entity parsing.
pub const MAX_TEXT_LEN: usize = 4096;

/// A `sendMessage` call as the fake received it.
#[derive(Clone, Debug)]
pub struct SentMessage {
    pub token: String,
    pub chat_id: i64,
    pub text: String,
    pub parse_mode: Option<String>,
    /// The whole JSON body (disable_notification, link_preview_options, ...).
    pub body: Value,
    pub at: Instant,
}

/// A `sendMessage` request and the HTTP status it was answered with.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub message: SentMessage,
    pub status: u16,
    /// Telegram's `description` for failures.
    pub description: Option<String>,
}

/// A scripted answer to one `sendMessage` request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// 429 "Too Many Requests" with `parameters.retry_after` seconds.
    RetryAfter(u32),
    /// 403 "Forbidden: bot was blocked by the user".
    Forbidden,
    /// 400 "Bad Request: chat not found".
    ChatNotFound,
    /// 400 with `parameters.migrate_to_chat_id` (group became a supergroup).
    Migrate(i64),
    /// That HTTP status with a Telegram-style JSON error body.
    Status(u16),
    /// Any status and raw body, e.g. a proxy's HTML error page.
    Response { status: u16, body: String },
}

/// Telegram's documented broadcast limits. A message is refused when the
/// window before it (shortened by `slack`, to absorb network jitter)
/// already holds the limit.
#[derive(Clone, Debug)]
pub struct FloodLimits {
    pub per_chat_per_sec: usize,
    pub per_group_per_min: usize,
    pub global_per_sec: usize,
    pub slack: Duration,
}

impl Default for FloodLimits {
    fn default() -> Self {
        Self {
            per_chat_per_sec: 1,
            per_group_per_min: 20,
            global_per_sec: 30,
            slack: Duration::from_millis(100),
        }
    }
}

#[derive(Default)]
pub(super) struct State {
    pub(super) sent: Vec<SentMessage>,
    pub(super) attempts: Vec<Attempt>,
    pub(super) requests: usize,
    pub(super) chat_faults: HashMap<i64, VecDeque<Fault>>,
    pub(super) global_faults: VecDeque<Fault>,
    pub(super) flood: Option<FloodLimits>,
    pub(super) updates: super::updates::Updates,
    next_message_id: i64,
}

impl State {
    pub(super) fn clear(&mut self) {
        self.sent.clear();
        self.attempts.clear();
        self.requests = 0;
        self.chat_faults.clear();
        self.global_faults.clear();
    }

    /// Answers one API call.
    pub(super) fn answer(&mut self, token: &str, method: &str, body: &Value) -> Answer {
        // Telegram matches method names case-insensitively; teloxide sends
        // them capitalised ("SendMessage").
        match method.to_ascii_lowercase().as_str() {
            "sendmessage" => self.send_message(token, body),
            "getme" => {
                let mut me = bot_user();
                for flag in ["can_join_groups", "can_read_all_group_messages"] {
                    me[flag] = json!(true);
                }
                for flag in [
                    "supports_inline_queries",
                    "can_connect_to_business",
                    "has_main_web_app",
                ] {
                    me[flag] = json!(false);
                }
                Answer::ok(me)
            }
            "setmycommands" => {
                self.updates.commands.push(body.clone());
                Answer::ok(json!(true))
            }
            "deletewebhook" | "setwebhook" | "deletemycommands" | "setmydescription" | "close"
            | "logout" => Answer::ok(json!(true)),
            _ => Answer::error(404, "Not Found: method not found", None),
        }
    }

    fn send_message(&mut self, token: &str, body: &Value) -> Answer {
        let message = SentMessage {
            token: token.to_owned(),
            chat_id: chat_id(body.get("chat_id")).unwrap_or(0),
            text: body
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            parse_mode: body
                .get("parse_mode")
                .and_then(Value::as_str)
                .map(str::to_owned),
            body: body.clone(),
            at: Instant::now(),
        };
        let answer = match self.decide(&message) {
            Ok(plain_text) => {
                self.next_message_id += 1;
                self.sent.push(message.clone());
                Answer::ok(message_json(
                    self.next_message_id,
                    message.chat_id,
                    &plain_text,
                ))
            }
            Err(answer) => answer,
        };
        let (status, description) = (answer.status, answer.description.clone());
        self.attempts.push(Attempt {
            message,
            status,
            description,
        });
        answer
    }

    /// The message's plain text if it is accepted, else the error answer.
    fn decide(&mut self, message: &SentMessage) -> Result<String, Answer> {
        if chat_id(message.body.get("chat_id")).is_none() {
            return Err(Answer::error(400, "Bad Request: chat_id is empty", None));
        }
        if let Some(fault) = self.next_fault(message.chat_id) {
            return Err(fault_answer(fault));
        }
        if let Some(retry_after) = self.flood_wait(message) {
            return Err(fault_answer(Fault::RetryAfter(retry_after)));
        }
        let plain = match message.parse_mode.as_deref() {
            Some(mode) if mode.eq_ignore_ascii_case("html") => {
                super::html::parse_html(&message.text).map_err(|why| {
                    let text = format!("Bad Request: can't parse entities: {why}");
                    Answer::error(400, &text, None)
                })?
            }
            _ => message.text.clone(),
        };
        if plain.trim().is_empty() {
            return Err(Answer::error(
                400,
                "Bad Request: message text is empty",
                None,
            ));
        }
        // Telegram counts UTF-16 code units.
        if plain.encode_utf16().count() > MAX_TEXT_LEN {
            return Err(Answer::error(400, "Bad Request: message is too long", None));
        }
        Ok(plain)
    }

    fn next_fault(&mut self, chat_id: i64) -> Option<Fault> {
        self.chat_faults
            .get_mut(&chat_id)
            .and_then(VecDeque::pop_front)
            .or_else(|| self.global_faults.pop_front())
    }

    /// Seconds to wait if sending `message` now would exceed a flood limit.
    fn flood_wait(&self, message: &SentMessage) -> Option<u32> {
        let limits = self.flood.as_ref()?;
        let now = message.at;
        let second = Duration::from_secs(1).saturating_sub(limits.slack);
        let minute = Duration::from_secs(60).saturating_sub(limits.slack);
        let chat = message.chat_id;
        let mut checks = vec![
            (second, limits.global_per_sec, None),
            (second, limits.per_chat_per_sec, Some(chat)),
        ];
        if chat < 0 {
            checks.push((minute, limits.per_group_per_min, Some(chat)));
        }
        checks.into_iter().find_map(|(window, limit, only_chat)| {
            let in_window: Vec<Instant> = self
                .sent
                .iter()
                .filter(|m| only_chat.is_none_or(|c| m.chat_id == c))
                .map(|m| m.at)
                .filter(|at| now.duration_since(*at) < window)
                .collect();
            (in_window.len() >= limit).then(|| {
                let oldest = in_window.iter().min().copied().unwrap_or(now);
                let free_in = window.saturating_sub(now.duration_since(oldest));
                free_in.as_secs_f64().ceil().max(1.0) as u32
            })
        })
    }
}

fn fault_answer(fault: Fault) -> Answer {
    match fault {
        Fault::RetryAfter(secs) => Answer::error(
            429,
            &format!("Too Many Requests: retry after {secs}"),
            Some(json!({"retry_after": secs})),
        ),
        Fault::Forbidden => Answer::error(403, "Forbidden: bot was blocked by the user", None),
        Fault::ChatNotFound => Answer::error(400, "Bad Request: chat not found", None),
        Fault::Migrate(to) => Answer::error(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            Some(json!({"migrate_to_chat_id": to})),
        ),
        Fault::Status(status) => Answer::error(status, &status_text(status), None),
        Fault::Response { status, body } => Answer {
            status,
            body,
            description: None,
        },
    }
}

/// An HTTP answer: status, body text and, for errors, Telegram's description.
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) body: String,
    pub(super) description: Option<String>,
}

impl Answer {
    pub(super) fn ok(result: Value) -> Self {
        Self {
            status: 200,
            body: json!({"ok": true, "result": result}).to_string(),
            description: None,
        }
    }

    pub(super) fn error(code: u16, description: &str, parameters: Option<Value>) -> Self {
        let mut error = json!({"ok": false, "error_code": code, "description": description});
        if let Some(parameters) = parameters {
            error["parameters"] = parameters;
        }
        Self {
            status: code,
            body: error.to_string(),
            description: Some(description.to_owned()),
        }
    }
}

fn status_text(status: u16) -> String {
    match status {
        500 => "Internal Server Error".to_owned(),
        502 => "Bad Gateway".to_owned(),
        503 => "Service Unavailable".to_owned(),
        504 => "Gateway Timeout".to_owned(),
        other => format!("HTTP {other}"),
    }
}

/// `chat_id` as Telegram takes it: an integer or a numeric string.
fn chat_id(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn bot_user() -> Value {
    json!({"id": 1, "is_bot": true, "first_name": "Test Bot", "username": "test_bot"})
}

/// A `Message` as Telegram returns it for a sent text; the chat's type
/// follows Telegram's id ranges (supergroups and channels are -100…).
fn message_json(message_id: i64, chat_id: i64, text: &str) -> Value {
    let chat = if chat_id > 0 {
        json!({"id": chat_id, "type": "private", "first_name": "Test"})
    } else if chat_id <= -1_000_000_000_000 {
        json!({"id": chat_id, "type": "supergroup", "title": "Test supergroup"})
    } else {
        json!({"id": chat_id, "type": "group", "title": "Test group"})
    };
    let date = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    json!({
        "message_id": message_id,
        "from": bot_user(),
        "chat": chat,
        "date": date,
        "text": text,
    })
}
