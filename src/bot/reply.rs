//! The bot's replies, rendered without I/O as Telegram HTML: everything
//! that comes from outside (a user's first name, rule ids and queries
//! from the rules file) is escaped and cut to a bounded length, so a reply
//! always parses and stays under Telegram's 4096 characters. Pinned by
//! snapshot tests (`reply/tests.rs`), hostile names included.

use super::command::COMMANDS;
use super::prefs::ChatPref;
use crate::deliver::render::escape_html;
use crate::rulebook::{Rule, RuleBook};
use crate::subscriber::{Channel, Subscriber};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Rules listed by `/status`; more are counted.
const MAX_RULES_LISTED: usize = 20;
const MAX_QUERY_CHARS: usize = 60;
const MAX_NAME_CHARS: usize = 48;

/// What the rules file says about one chat.
pub struct ChatView<'a> {
    pub chat: i64,
    /// Subscribers whose `telegram_chat_id` is this chat.
    pub subscribers: Vec<&'a Subscriber>,
    /// Rules that send this chat Telegram alerts, in file order.
    pub rules: Vec<&'a Rule>,
}

impl<'a> ChatView<'a> {
    pub fn of(book: &'a RuleBook, chat: i64) -> Self {
        let mine: Vec<usize> = (0..book.subscribers.len())
            .filter(|&i| book.subscribers[i].telegram_chat_id == Some(chat))
            .collect();
        let rules = book
            .rules
            .iter()
            .filter(|r| r.notify.iter().any(|s| mine.contains(s)))
            .filter(|r| {
                r.channels
                    .as_ref()
                    .is_none_or(|c| c.contains(&Channel::Telegram))
            })
            .collect();
        ChatView {
            chat,
            subscribers: mine.iter().map(|&i| &book.subscribers[i]).collect(),
            rules,
        }
    }

    /// The time zone times are shown in: the first subscriber's, else UTC.
    fn timezone(&self) -> Tz {
        self.subscribers.first().map_or(Tz::UTC, |s| s.timezone)
    }
}

/// A subscriber's quiet hours as written (`None`: none).
pub fn quiet_hours(subscriber: &Subscriber) -> Option<String> {
    subscriber.quiet_hours.map(|q| q.to_string())
}

fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

fn time(ms: i64, tz: Tz) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).map_or_else(
        || "?".into(),
        |t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string(),
    )
}

fn subscribe_hint(chat: i64) -> String {
    format!(
        "To receive alerts here, ask your newsalert admin to add\n\
         <code>telegram_chat_id = {chat}</code>\nto a subscriber in rules.toml."
    )
}

/// `/start`: greeting, the chat id, and whether / how it is subscribed.
pub fn start(view: &ChatView<'_>, first_name: Option<&str>, was_stopped: bool) -> String {
    let who = first_name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| format!(", {}", escape_html(&cut(n, MAX_NAME_CHARS))))
        .unwrap_or_default();
    let mut out = format!(
        "Hello{who}! I send news alerts.\nThis chat's id: <code>{}</code>\n\n",
        view.chat
    );
    if was_stopped {
        out.push_str("Alerts are on again (you had sent /stop).\n\n");
    }
    if view.subscribers.is_empty() {
        out.push_str(&subscribe_hint(view.chat));
    } else {
        out.push_str(&format!(
            "This chat receives alerts from {} rule(s). /status lists them.",
            view.rules.len()
        ));
    }
    out.push_str("\n\n");
    out.push_str(&help());
    out
}

/// `/status`: rules, quiet hours, paused or not.
pub fn status(view: &ChatView<'_>, pref: Option<&ChatPref>, now_ms: i64) -> String {
    let tz = view.timezone();
    let mut out = format!("<b>Status of chat</b> <code>{}</code>\n", view.chat);
    let state = match pref {
        None => "active".to_string(),
        Some(p @ ChatPref::Paused { until_ms }) => match (p.delivery(now_ms), until_ms) {
            (super::prefs::Delivery::Send, _) => "active (a pause ended)".to_string(),
            (_, Some(t)) => format!("paused until {} (/resume ends it)", time(*t, tz)),
            (_, None) => "paused until /resume".to_string(),
        },
        Some(ChatPref::Stopped { since_ms }) => {
            format!(
                "stopped since {} (/start turns alerts on)",
                time(*since_ms, tz)
            )
        }
    };
    out.push_str(&format!("Alerts: {state}\n"));
    let quiet: Vec<String> = view
        .subscribers
        .iter()
        .filter_map(|s| quiet_hours(s))
        .collect();
    let quiet = if quiet.is_empty() {
        "none".to_string()
    } else {
        escape_html(&quiet.join(", "))
    };
    out.push_str(&format!("Quiet hours: {quiet}\n"));
    if view.subscribers.is_empty() {
        out.push_str("\nNo subscriber of the rules file uses this chat.\n");
        out.push_str(&subscribe_hint(view.chat));
        return out;
    }
    let ids: Vec<String> = view
        .subscribers
        .iter()
        .map(|s| escape_html(&cut(&s.id, MAX_NAME_CHARS)))
        .collect();
    out.push_str(&format!("Subscriber: {}\n", ids.join(", ")));
    out.push_str(&format!("\n<b>Rules ({})</b>\n", view.rules.len()));
    for r in view.rules.iter().take(MAX_RULES_LISTED) {
        out.push_str(&format!(
            "• {}: <code>{}</code>\n",
            escape_html(&cut(&r.id, MAX_NAME_CHARS)),
            escape_html(&cut(&r.query, MAX_QUERY_CHARS))
        ));
    }
    if view.rules.len() > MAX_RULES_LISTED {
        out.push_str(&format!(
            "… and {} more\n",
            view.rules.len() - MAX_RULES_LISTED
        ));
    }
    if view.rules.is_empty() {
        out.push_str("none\n");
    }
    out
}

/// `/pause`: until when.
pub fn paused(view: &ChatView<'_>, until_ms: Option<i64>) -> String {
    match until_ms {
        Some(t) => format!(
            "Alerts paused until {}. Alerts meanwhile are skipped, not saved. /resume ends the pause sooner.",
            time(t, view.timezone())
        ),
        None => "Alerts paused until /resume. Alerts meanwhile are skipped, not saved.".into(),
    }
}

/// `/resume`.
pub fn resumed(was: Option<&ChatPref>) -> String {
    match was {
        Some(ChatPref::Stopped { .. }) => {
            "Alerts are stopped here: send /start to turn them on.".into()
        }
        Some(ChatPref::Paused { .. }) => "Alerts resumed.".into(),
        None => "Alerts were not paused.".into(),
    }
}

/// `/stop`.
pub fn stopped() -> String {
    "Stopped: this chat receives nothing until you send /start.".into()
}

/// `/help`: the commands.
pub fn help() -> String {
    let lines: Vec<String> = COMMANDS
        .iter()
        .map(|(name, about)| format!("/{name} — {}", escape_html(about)))
        .collect();
    lines.join("\n")
}

/// A command the bot does not know.
pub fn unknown(name: &str) -> String {
    format!("I don't know /{}.\n\n{}", escape_html(name), help())
}

/// `/pause` with a bad duration.
pub fn bad_argument(why: &str) -> String {
    format!(
        "{}\nExamples: <code>/pause 30m</code>, <code>/pause 2h</code>, <code>/pause 1d</code>, or <code>/pause</code> until /resume.",
        escape_html(why)
    )
}

#[cfg(test)]
mod tests;
